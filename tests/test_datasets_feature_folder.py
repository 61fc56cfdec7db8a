"""load_feature_folder: a feature store written by CNNFeaturizer joined to ground truth and captions."""

import numpy as np
import pandas as pd
import pytest

from skmem import CNNFeaturizer, FrameSampler
from skmem.datasets import (
    MissingClipsError,
    load_feature_folder,
    make_memorability_videos,
)
from skmem.features.store import read_config

N_CLIPS = 4
pytestmark = pytest.mark.filterwarnings("ignore:.*random weights:UserWarning")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Four generated clips, their ground truth, and a feature store of them (resnet18, random weights)."""
    clips = tmp_path_factory.mktemp("clips")
    make_memorability_videos(N_CLIPS, clips, n_seconds=1, size=(32, 32), fps=4, random_state=0)
    features = tmp_path_factory.mktemp("features")
    featurizer = CNNFeaturizer(
        backbone="resnet18", weights=None, sampler=FrameSampler(n_frames=2, size=32), cache_dir=features,
        device="cpu", verbose=0,
    )
    truth = pd.read_csv(clips / "ground-truth.csv")
    expected = featurizer.fit_transform([str(clips / video) for video in truth["video"]])
    return {"clips": clips, "features": features, "truth": truth, "expected": expected}


def write_labels(path, truth, videos=None):
    truth = truth.assign(video=truth["video"] if videos is None else videos)
    truth.to_csv(path, index=False)
    return path


def test_round_trip_keeps_the_ground_truth_order_and_the_recorded_configuration(store, tmp_path):
    truth = store["truth"].iloc[::-1].reset_index(drop=True)
    labels = write_labels(tmp_path / "gt.csv", truth)
    data = load_feature_folder(store["features"], labels)
    assert list(data.frame.columns) == ["video", "short_term", "long_term"]
    assert list(data.frame["video"]) == list(truth["video"])
    np.testing.assert_allclose(data.features, store["expected"][::-1], rtol=1e-6)
    assert data.features.shape == (N_CLIPS, 2, 512)
    np.testing.assert_allclose(data.short_term, truth["short-term_memorability"])
    np.testing.assert_allclose(data.long_term, truth["long-term_memorability"])
    assert list(data.ids) == [v.removesuffix(".webm") for v in truth["video"]]
    assert data.feature_config == {**read_config(store["features"]), "extra_outputs": []}
    assert data.feature_columns == {} and data.captions is None


def test_captions_and_pooled_columns(store, tmp_path):
    labels = write_labels(tmp_path / "gt.csv", store["truth"])
    captions = tmp_path / "captions.csv"
    videos = list(store["truth"]["video"])
    rows = [(v, f"clip {i}") for i, v in enumerate(videos)] + [(videos[0], "again")]
    pd.DataFrame(rows, columns=["video", "caption"]).to_csv(captions, index=False)
    data = load_feature_folder(store["features"], labels, captions=captions, pool=True)
    assert list(data.frame["caption"]) == ["clip 0 again", "clip 1", "clip 2", "clip 3"]
    assert list(data.captions) == list(data.frame["caption"])
    visual = data.feature_columns["visual"]
    assert visual == [f"visual_{i}" for i in range(512)]
    np.testing.assert_allclose(data.frame[visual].to_numpy(), data.features.mean(axis=1), rtol=1e-6)

    text = tmp_path / "captions.txt"
    text.write_text("".join(f"{v}\tslug-{i}\n" for i, v in enumerate(videos)))
    data = load_feature_folder(store["features"], labels, captions=text)
    assert list(data.frame.columns) == ["video", "short_term", "long_term", "caption"]
    assert list(data.frame["caption"]) == [f"slug-{i}" for i in range(N_CLIPS)]


@pytest.mark.parametrize(
    "spell", [lambda v: v.removesuffix(".webm"), lambda v: f"/elsewhere/{v}", lambda v: v.removesuffix(".webm")[5:].zfill(4)]
)
def test_any_spelling_of_a_clip_id_finds_its_features_and_caption(store, tmp_path, spell):
    videos = [spell(v) for v in store["truth"]["video"]]
    labels = write_labels(tmp_path / "gt.csv", store["truth"], videos)
    captions = tmp_path / "captions.txt"
    captions.write_text("".join(f"{v}\tslug-{i}\n" for i, v in enumerate(store["truth"]["video"])))
    data = load_feature_folder(store["features"], labels, captions=captions)
    assert list(data.frame["video"]) == videos
    assert list(data.frame["caption"]) == [f"slug-{i}" for i in range(N_CLIPS)]
    np.testing.assert_allclose(data.features, store["expected"], rtol=1e-6)


def test_clips_missing_from_the_store_are_counted_and_named(store, tmp_path):
    truth = pd.concat([store["truth"]] + [store["truth"].iloc[:1].assign(video=f"video{i}.webm") for i in (98, 99)])
    labels = write_labels(tmp_path / "gt.csv", truth.reset_index(drop=True))
    with pytest.raises(MissingClipsError, match=r"no features for 2 of 6 clip\(s\), e.g. video98.webm, video99.webm") as error:
        load_feature_folder(store["features"], labels)
    assert error.value.source == "features" and error.value.missing == ["video98.webm", "video99.webm"]
    assert str(error.value).startswith(f"{store['features']}: ")


def test_clips_without_a_caption_are_counted_and_named(store, tmp_path):
    labels = write_labels(tmp_path / "gt.csv", store["truth"])
    captions = tmp_path / "captions.txt"
    videos = list(store["truth"]["video"])
    captions.write_text(f"{videos[0]}\tfirst-clip\n{videos[1]}\t#NAME?\n")
    with pytest.warns(UserWarning, match="#NAME"), pytest.raises(MissingClipsError) as error:
        load_feature_folder(store["features"], labels, captions=captions)
    assert str(error.value) == f"{captions}: no caption for 3 of 4 clip(s), e.g. {', '.join(videos[1:])}"
    assert error.value.source == "captions"


def test_a_clip_listed_twice_is_refused_naming_both_lines(store, tmp_path):
    truth = store["truth"]
    videos = list(truth["video"])
    videos[2] = videos[0].removesuffix(".webm")
    labels = write_labels(tmp_path / "gt.csv", truth, videos)
    with pytest.raises(ValueError, match=rf"gt.csv, line 4: video '{videos[2]}' is the clip '{videos[0]}' already listed on line 2"):
        load_feature_folder(store["features"], labels)


def test_captions_spelling_one_clip_two_ways_are_refused_naming_both_lines(store, tmp_path):
    labels = write_labels(tmp_path / "gt.csv", store["truth"])
    first = store["truth"]["video"][0]
    captions = tmp_path / "captions.csv"
    pd.DataFrame({"video": [first, first.removesuffix(".webm")], "caption": ["a", "b"]}).to_csv(captions, index=False)
    with pytest.raises(ValueError, match=rf"captions.csv, line 3: video '{first.removesuffix('.webm')}' is the clip '{first}' of line 2"):
        load_feature_folder(store["features"], labels, captions=captions)
    pd.DataFrame({"clip": [first], "caption": ["a"]}).to_csv(captions, index=False)
    with pytest.raises(ValueError, match=r"captions.csv: missing column\(s\) \['video'\]"):
        load_feature_folder(store["features"], labels, captions=captions)
