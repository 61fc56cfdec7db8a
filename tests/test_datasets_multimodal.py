"""The generated multimodal data: realistic marginals, planted signal in both modalities, MediaEval layout."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skmem.datasets import load_mediaeval2018, make_multimodal_memorability, write_mediaeval_layout
from skmem.text import CaptionVectorizer


@pytest.fixture(scope="module")
def data():
    return make_multimodal_memorability(600, random_state=0)


def test_marginals_look_like_mediaeval_2018():
    data = make_multimodal_memorability(2000, random_state=1)
    frame = data.frame
    assert list(frame.columns[:3]) == ["video", "caption", "obj_0"] and frame.shape == (2000, 86)
    short, long = frame["short_term"], frame["long_term"]
    assert 0.84 < short.mean() < 0.88 and 0.06 < short.std() < 0.10
    assert short.min() >= 0.39 and short.max() <= 0.99
    assert 0.75 < long.mean() < 0.81 and 0.12 < long.std() < 0.17 and long.between(0, 1).all()
    assert 0.15 < spearmanr(short, long)[0] < 0.5  # related, but far from the same ranking
    assert (frame["n_long_annotations"] < frame["n_short_annotations"]).all()
    objects = data.objects
    assert (objects >= 0).all() and (objects <= 1).all()
    assert np.median(objects) < 0.01 and 0.01 < (objects > 0.5).mean() < 0.1  # detector skew
    assert data.object_names[0] == "person" and data.object_names[16] == "dog"
    words = {w for caption in data.captions for w in caption.strip("-").split("-")}
    assert {"woman", "dog", "sky", "aerial", "shot", "time", "lapse"} <= words
    assert all(" " not in c and "\t" not in c for c in data.captions)
    assert any(c.startswith("-") for c in data.captions)  # as a few real slugs do


def test_planted_words_and_objects_move_the_score(data):
    frame = data.frame
    has = lambda word: frame["caption"].str.contains(rf"(?:^|-){word}(?:-|$)")  # noqa: E731
    faces, skies = has("face") | has("portrait"), has("sky") | has("clouds")
    assert frame.loc[faces, "short_term"].mean() > frame.loc[skies, "short_term"].mean() + 0.03
    person = frame["obj_0"] > 0.5
    assert frame.loc[person, "short_term"].mean() > frame.loc[~person, "short_term"].mean() + 0.01


def test_same_seed_same_data_and_bad_parameters():
    a = make_multimodal_memorability(50, n_objects=90, random_state=3)
    b = make_multimodal_memorability(50, n_objects=90, random_state=3)
    assert a.frame.equals(b.frame) and a.objects.shape == (50, 90) and a.object_names[85] == "object_85"
    assert not a.frame.equals(make_multimodal_memorability(50, n_objects=90, random_state=4).frame)
    assert make_multimodal_memorability(20, n_objects=5, random_state=0).objects.shape == (20, 5)
    with pytest.raises(ValueError, match="n_samples"):
        make_multimodal_memorability(0)
    with pytest.raises(ValueError, match="n_objects"):
        make_multimodal_memorability(10, n_objects=0)


def _pooled_rho(data, target, blocks, *, shuffle=False):
    y = data.frame[target].to_numpy()
    if shuffle:
        y = np.random.default_rng(0).permutation(y)
    model = make_pipeline(ColumnTransformer(blocks, sparse_threshold=0), RidgeCV(np.logspace(-2, 3, 11)))
    with threadpool_limits(1):
        predicted = cross_val_predict(model, data.frame, y, cv=KFold(5, shuffle=True, random_state=0))
    return spearmanr(predicted, y)[0]


@pytest.mark.parametrize("target", ["short_term", "long_term"])
def test_each_modality_learns_and_both_together_learn_more(data, target):
    captions = [("text", CaptionVectorizer(), "caption")]
    objects = [("objects", "passthrough", data.feature_columns["objects"])]
    rho = {
        "captions": _pooled_rho(data, target, captions),
        "objects": _pooled_rho(data, target, objects),
        "both": _pooled_rho(data, target, captions + objects),
        "shuffled": max(
            _pooled_rho(data, target, captions, shuffle=True), _pooled_rho(data, target, objects, shuffle=True)
        ),
    }
    assert rho["captions"] > rho["shuffled"] + 0.2 and rho["objects"] > rho["shuffled"] + 0.2, rho
    assert rho["both"] > max(rho["captions"], rho["objects"]) + 0.03, rho


def test_mediaeval_layout_reads_back(tmp_path):
    data = make_multimodal_memorability(12, random_state=2)
    folder = write_mediaeval_layout(data, tmp_path, random_state=0)
    truth = (tmp_path / "dev-set" / "ground-truth" / "ground-truth_dev-set.csv").read_bytes()
    assert truth.startswith(b"\xef\xbb\xbfvideo,short-term_memorability,") and b"\r\n" in truth
    assert not truth.endswith(b"\n")
    with pytest.warns(UserWarning, match=r"12 of 12 clips are absent from .*dev-set.sources"):
        loaded = load_mediaeval2018(tmp_path, features=["C3D", "HMP", "LBP"])
    assert loaded.root == folder
    frame, expected = loaded.frame, data.frame
    assert list(frame["video"]) == list(expected["video"]) and list(frame["caption"]) == list(expected["caption"])
    np.testing.assert_allclose(frame["short_term"], expected["short_term"], atol=5e-4)
    np.testing.assert_array_equal(frame["n_long_annotations"], expected["n_long_annotations"])
    c3d, hmp, lbp = (loaded.features[k] for k in ("C3D", "HMP", "LBP"))
    assert c3d.shape == (12, 101) and hmp.shape == (12, 6075) and lbp.shape == (12, 122)
    np.testing.assert_allclose(c3d.sum(axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(hmp.sum(axis=1), 1, atol=1e-4)
    assert (hmp > 0).sum(axis=1).max() < 1000  # sparse, as the real files are
    with pytest.raises(ValueError, match="descriptors"):
        write_mediaeval_layout(data, tmp_path, descriptors=("ORB",))
