import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmem import CNNFeaturizer, FrameSampler
from skmem.features.text.tags import label_words, read_labels
from skmem.text import CaptionVectorizer, TagCaptioner
from skmem.video import write_video

N_PLACES = 365
PLACE_WORDS = ["airfield", "beach", "bakery", "canyon", "forest", "kitchen", "office", "river", "street"]


def _place_name(k):
    return f"/{PLACE_WORDS[k % 9][0]}/{PLACE_WORDS[k % 9]}_{k}/outdoor"


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A Places365-format resnet18 checkpoint (random weights) with its category file."""
    folder = tmp_path_factory.mktemp("places")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        network = torchvision.models.resnet18(num_classes=N_PLACES)
    checkpoint = folder / "resnet18_places365.pth.tar"
    torch.save({"epoch": 90, "state_dict": {"module." + k: v for k, v in network.state_dict().items()}}, checkpoint)
    order = np.random.default_rng(0).permutation(N_PLACES)  # lines in any order: the index decides
    categories = folder / "categories_places365.txt"
    categories.write_text("".join(f"{_place_name(k)} {k}\n" for k in order))
    return checkpoint, categories


def _places_network(checkpoint, **params):
    return CNNFeaturizer("resnet18", weights=checkpoint, layer="logits", device="cpu", **params)


def _random_network(**params):
    """resnet18 class scores from seeded random weights (warns when fitted)."""
    return CNNFeaturizer("resnet18", weights=None, layer="logits", random_state=0, device="cpu", **params)


@pytest.fixture(scope="module")
def frames():
    return np.random.default_rng(0).integers(0, 256, size=(3, 2, 64, 64, 3), dtype=np.uint8)


def test_label_files(tmp_path):
    assert label_words("/a/apartment_building/outdoor") == "apartment building outdoor"
    assert label_words("Egyptian cat") == "egyptian cat"
    plain = tmp_path / "names.txt"
    plain.write_text("sailing/boating\n\nno horizon\nman-made\n")
    assert read_labels(plain) == ["sailing boating", "no horizon", "man-made"]
    indexed = tmp_path / "indexed.txt"
    indexed.write_text("/b/beach 1\n/a/airfield 0\n")
    assert read_labels(indexed) == ["airfield", "beach"]
    indexed.write_text("/b/beach 1\n/a/airfield 2\n")
    with pytest.raises(ValueError, match="indexed.txt.*0 .. 1"):
        read_labels(indexed)
    with pytest.raises(FileNotFoundError, match="no_such_labels.txt"):
        read_labels(tmp_path / "no_such_labels.txt")


def test_places365_checkpoint_takes_its_labels_from_the_category_file(places, frames):
    checkpoint, categories = places
    tagger = TagCaptioner(_places_network(checkpoint), categories, top_k=3).fit()
    assert tagger.labels_[7] == label_words(_place_name(7)) == "river 7 outdoor"
    captions = tagger.transform(frames)
    probabilities = tagger.tag_probabilities(frames)
    assert captions.shape == (3,) and probabilities.shape == (3, N_PLACES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    for caption, p in zip(captions, probabilities):
        expected = [tagger.labels_[k] for k in np.argsort(-p)[:3]]
        assert caption.split(", ") == expected
    # one image per sample (n, H, W, 3) is a one-frame clip
    np.testing.assert_array_equal(tagger.transform(frames[:, 0]), tagger.transform(frames[:, :1]))


def test_bad_label_files_are_named(places, tmp_path):
    checkpoint, categories = places
    short = tmp_path / "short_categories.txt"
    short.write_text("".join(f"/a/place_{k} {k}\n" for k in range(N_PLACES - 1)))
    with pytest.raises(ValueError, match=r"short_categories.txt: 364 labels for 365 classes"):
        TagCaptioner(_places_network(checkpoint), short).fit()
    with pytest.raises(FileNotFoundError, match="missing_categories.txt"):
        TagCaptioner(_places_network(checkpoint), tmp_path / "missing_categories.txt").fit()
    with pytest.raises(ValueError, match=r"resnet18_places365.pth.tar.*365-class.*labels="):
        TagCaptioner(_places_network(checkpoint)).fit()


def test_scene_attributes_follow_the_categories(places, frames, tmp_path):
    checkpoint, categories = places
    rng = np.random.default_rng(1)
    matrix, names = tmp_path / "W_sceneattribute.npy", tmp_path / "labels_sunattribute.txt"
    # pooled ResNet features are non-negative: responses rank +1 > +0.5 > 0 > -1 for any frame
    np.save(matrix, np.outer([-1.0, 0.0, 1.0, 0.5], np.ones(512)).astype(np.float32))
    names.write_text("sailing/boating\nno horizon\nman-made\nnatural light\n")
    network = _places_network(checkpoint, extra_outputs=("pooled",))
    tagger = TagCaptioner(network, categories, top_k=2, attribute_weights=matrix, attribute_labels=names).fit()
    plain = clone(tagger).set_params(attribute_weights=None, attribute_labels=None).fit().transform(frames)
    for caption, classes in zip(tagger.transform(frames), plain):
        assert caption == classes + ", man-made, natural light"
    np.save(matrix, rng.normal(size=(4, 100)).astype(np.float32))
    with pytest.raises(ValueError, match=r"W_sceneattribute.npy.*\(n_attributes, 512\)"):
        clone(tagger).fit()
    np.save(matrix, rng.normal(size=(3, 512)).astype(np.float32))
    with pytest.raises(ValueError, match="labels_sunattribute.txt: 4 labels for 3 attribute"):
        clone(tagger).fit()
    with pytest.raises(ValueError, match="attribute_weights and attribute_labels"):
        clone(tagger).set_params(attribute_labels=None).fit()
    with pytest.raises(ValueError, match=r"not \['pooled'\]: give it extra_outputs=\('pooled',\)"):
        clone(tagger).set_params(featurizer__extra_outputs=()).fit()


def test_repeat_and_floor_shape_the_caption(places, frames):
    checkpoint, categories = places
    tagger = TagCaptioner(_places_network(checkpoint), categories, top_k=4)
    plain = tagger.fit().transform(frames)[0].split(", ")
    network = tagger.featurizer_.network_
    ranked = tagger.set_params(repeat="rank").fit().transform(frames)[0].split(", ")
    assert ranked == [w for w, n in zip(plain, [4, 3, 2, 1]) for _ in range(n)]
    weighted = tagger.set_params(repeat="probability").fit().transform(frames)[0].split(", ")
    assert weighted[:4] == [plain[0]] * 4 and set(weighted) == set(plain)
    assert list(tagger.set_params(min_probability=0.5).fit().transform(frames)) == ["", "", ""]
    assert tagger.featurizer_.network_ is network  # refits keep the network
    assert tagger.set_params(featurizer__batch_size=2).fit().featurizer_.network_ is network
    assert tagger.featurizer is not tagger.featurizer_ and tagger.featurizer.batch_size == 2


def test_the_default_network_is_an_imagenet_resnet50():
    tagger = TagCaptioner().fit()
    featurizer = tagger.featurizer_
    assert (featurizer.backbone, featurizer.weights, featurizer.outputs_) == ("resnet50", "DEFAULT", ["logits"])
    assert len(tagger.labels_) == 1000 and tagger.labels_[285] == "egyptian cat"
    assert tagger.get_params()["featurizer"] is None  # the default is made in fit


def test_imagenet_names_with_random_weights(frames):
    with pytest.warns(UserWarning, match="random weights"):
        tagger = TagCaptioner(_random_network(), top_k=5).fit()
    assert len(tagger.labels_) == 1000 and tagger.labels_[285] == "egyptian cat"
    captions = tagger.transform(frames[:1])
    assert all(word in tagger.labels_ for word in captions[0].split(", "))
    again = pickle.loads(pickle.dumps(tagger))
    np.testing.assert_array_equal(again.transform(frames[:1]), captions)


@pytest.mark.parametrize(
    "params, name",
    [({"top_k": 0}, "top_k"), ({"repeat": "bold"}, "repeat"), ({"min_probability": 2.0}, "min_probability")],
)
def test_bad_parameters_are_named(params, name):
    with pytest.raises(ValueError, match=f"'{name}' parameter of TagCaptioner"):
        TagCaptioner(_random_network(), **params).fit()
    with pytest.raises(ValueError, match="top_kk"):
        TagCaptioner().set_params(top_kk=3)
    with pytest.raises(ValueError, match="'featurizer' parameter of TagCaptioner"):
        TagCaptioner("resnet18").fit()  # a backbone is named by the featurizer
    with pytest.raises(ValueError, match="no classifier"):
        TagCaptioner(CNNFeaturizer("resmem", weights=None, layer="logits")).fit()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Six short clips: three dark, three bright."""
    folder = tmp_path_factory.mktemp("tag_clips")
    rng = np.random.default_rng(0)
    paths = []
    for k in range(6):
        level = 40 if k < 3 else 200
        frames = np.clip(level + rng.normal(0, 30, size=(6, 64, 64, 3)), 0, 255).astype(np.uint8)
        path = folder / f"clip{k}.mp4"
        write_video(path, frames, fps=6, codec="h264")
        paths.append(str(path))
    return paths


def _forward_counter(tagger):
    calls = []
    tagger.featurizer_.extractor_.register_forward_hook(lambda module, args, output: calls.append(args[0].shape[0]))
    return calls


def test_tags_are_stable_and_cached_per_clip(clips, tmp_path):
    params = dict(sampler=FrameSampler(n_frames=2, size=64), cache_dir=tmp_path / "tags", n_workers=0)
    with pytest.warns(UserWarning, match="random weights"):
        first = TagCaptioner(_random_network(**params), top_k=5).fit()
    calls = _forward_counter(first)
    captions = first.transform(clips)
    assert sum(calls) == 2 * len(clips)  # every frame went through the network once
    with pytest.warns(UserWarning, match="random weights"):
        second = TagCaptioner(_random_network(**params), top_k=5).fit()
    calls = _forward_counter(second)
    np.testing.assert_array_equal(second.transform(clips), captions)
    assert calls == []  # all clips came from the cache
    with pytest.warns(UserWarning, match="random weights"):
        fresh = TagCaptioner(_random_network(**{**params, "cache_dir": None}), top_k=5).fit()
    np.testing.assert_array_equal(fresh.transform(clips), captions)


def test_a_clip_that_fails_is_captioned_empty_and_reported_with_its_error(clips, tmp_path):
    broken = tmp_path / "broken.webm"
    broken.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 100)
    sampler = FrameSampler(n_frames=2, size=64, on_error="warn")
    with pytest.warns(UserWarning, match="random weights"):
        tagger = TagCaptioner(_random_network(sampler=sampler, n_workers=0)).fit()
    with pytest.warns(UserWarning, match="broken.webm"):
        captions = tagger.transform([clips[0], str(broken)])
    assert captions[0] and captions[1] == ""
    (error,) = tagger.report_.failures
    assert error.path == str(broken) and str(error.cause)
    assert tagger.report_ is tagger.featurizer_.report_


def test_tags_reuse_the_class_scores_of_a_featurizer_and_its_store(clips, tmp_path, monkeypatch):
    settings = dict(weights=None, random_state=0, sampler=FrameSampler(n_frames=2, size=64), n_workers=0, device="cpu")
    with pytest.warns(UserWarning, match="random weights"):
        featurizer = CNNFeaturizer("resnet18", extra_outputs=("logits",), cache_dir=tmp_path, **settings).fit()
    featurizer.extract(clips)
    decoded = []
    decode = FrameSampler.decode
    monkeypatch.setattr(FrameSampler, "decode", lambda self, path: decoded.append(path) or decode(self, path))
    with pytest.warns(UserWarning, match="random weights"):
        tagger = TagCaptioner(featurizer, top_k=5).fit()
    calls = _forward_counter(tagger)
    captions = tagger.transform(clips)
    assert decoded == [] and calls == []  # tagged from the featurizer's store
    with pytest.warns(UserWarning, match="random weights"):
        own = TagCaptioner(CNNFeaturizer("resnet18", layer="logits", **settings), top_k=5).fit()
    np.testing.assert_array_equal(own.transform(clips), captions)
    with pytest.raises(ValueError, match=r"computes \['pooled'\], not \['logits'\].*extra_outputs=\('logits',\)"):
        TagCaptioner(CNNFeaturizer("resnet18", **settings)).fit()


def test_tag_captions_in_a_column_transformer(clips):
    frame = pd.DataFrame({"path": clips, "duration": np.arange(6.0)})
    tags = make_pipeline(
        TagCaptioner(_random_network(n_workers=0, sampler=FrameSampler(n_frames=2, size=64)), top_k=5),
        CaptionVectorizer(min_df=1),
    )
    model = make_pipeline(ColumnTransformer([("tags", tags, "path"), ("duration", "passthrough", ["duration"])]),
                          Ridge())
    params = model.get_params()
    assert params["columntransformer__tags__tagcaptioner__top_k"] == 5
    assert params["columntransformer__tags__tagcaptioner__featurizer__backbone"] == "resnet18"
    with pytest.warns(UserWarning, match="random weights"):
        model.fit(frame, np.linspace(0, 1, 6))
    words = model[0].named_transformers_["tags"][-1].vocabulary_
    n_columns = model[0].transform(frame).shape[1]
    assert n_columns == len(words) + 1 and model.predict(frame).shape == (6,)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("resmem") is None, reason="needs the resmem extra (real ImageNet weights)")
def test_real_weights_tag_a_cat_as_a_cat():
    from skimage.data import chelsea

    cats = {"tabby", "tiger cat", "persian cat", "siamese cat", "egyptian cat"}
    tagger = TagCaptioner(CNNFeaturizer("resmem_resnet152", layer="logits", device="cpu"), top_k=3).fit()
    image = chelsea()[None]
    captions = tagger.transform(image)
    assert cats & set(captions[0].split(", ")), captions
    dog = np.zeros_like(image)  # a black frame is no cat: the tags depend on the image
    assert not cats & set(tagger.transform(dog)[0].split(", "))
    np.testing.assert_array_equal(tagger.transform(image), captions)
