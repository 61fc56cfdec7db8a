"""One canonical clip id, used by every reader and join."""

import warnings

import numpy as np
import pytest

from skmem.datasets import load_mediaeval2018, load_memento10k
from skmem.datasets.mediaeval import read_captions, read_ground_truth
from skmem.features.precomputed import PrecomputedFeatureLoader
from skmem.features.precomputed.matrix import read_id_list
from skmem.ids import clip_id, repeated_ids, same_clip

from _mediaeval_files import write_text

HEADER = "video,short-term_memorability,nb_short-term_annotations,long-term_memorability,nb_long-term_annotations"


@pytest.mark.parametrize(
    "spelling", ["video1", "video1.webm", "video1.mp4", "/data/clips/video1.webm", "../x/video1.webm", " video1 ",
                 "1", "0001", "1.webm", 1, np.int64(1), 1.0, "C:\\clips\\video1.webm", "clips/video1.webm/"],
)
def test_spellings_of_one_clip(spelling):
    assert clip_id(spelling) == "video1"
    assert same_clip(spelling, "video1.webm")


@pytest.mark.parametrize("a, b", [("video1", "video01"), ("video1", "Video1"), ("a.b.webm", "a.webm"), ("video1", "video10")])
def test_different_clips(a, b):
    assert not same_clip(a, b)


def test_unicode_forms_are_one_clip():
    assert same_clip("cafe\u0301.webm", "caf\u00e9")


@pytest.mark.parametrize("item, error", [(True, TypeError), (None, TypeError), (1.5, TypeError), ("", ValueError),
                                         ("  ", ValueError), ("/", ValueError)])
def test_no_clip_id(item, error):
    with pytest.raises(error):
        clip_id(item)


def test_repeated_ids_name_the_first_spelling():
    assert repeated_ids(["video1", "video2", "0001", "x/video2.webm", "video3"]) == [(0, 2), (1, 3)]


@pytest.mark.parametrize("spelling", ["video1", "1", "0001", "../x/video1.webm"])
def test_ground_truth_refuses_two_spellings_naming_both_lines(tmp_path, spelling):
    path = write_text(tmp_path / "gt.csv", [HEADER, "video1.webm,0.9,30,0.8,9", "video2.webm,0.7,30,0.6,9",
                                            f"{spelling},0.5,30,0.4,9"])
    with pytest.raises(ValueError, match=rf"gt\.csv, line 4: video '{spelling}' is the clip 'video1\.webm' already listed on line 2"):
        read_ground_truth(path)
    with pytest.warns(UserWarning, match="1 invalid value"):
        assert list(read_ground_truth(path, on_invalid="warn")["video"]) == ["video1.webm", "video2.webm"]


def test_captions_refuse_two_spellings(tmp_path):
    path = write_text(tmp_path / "captions.txt", ["video1\tone", "video1.webm\tagain"])
    with pytest.raises(ValueError, match=r"captions\.txt, line 2: video 'video1\.webm' is the clip 'video1' already listed on line 1"):
        read_captions(path)


def test_id_list_refuses_two_spellings(tmp_path):
    path = write_text(tmp_path / "ids.txt", ["video1.webm", "video2.webm", "0001"])
    with pytest.raises(ValueError, match=r"ids\.txt.*line 3.*'0001' repeats 'video1\.webm' of line 1"):
        read_id_list(path)


def _mediaeval(tmp_path, captions):
    truth = write_text(tmp_path / "ground-truth_dev-set.csv",
                       [HEADER, *(f"video{i}.webm,0.{i},30,0.{i},9" for i in range(1, 5))])
    write_text(tmp_path / "dev-set_video-captions.txt", captions)
    for i in range(1, 5):
        (tmp_path / f"video{i}.webm").write_bytes(b"x")
    return truth


def test_mediaeval_joins_captions_by_canonical_id(tmp_path):
    _mediaeval(tmp_path, ["video1\tone", "2\ttwo", "0003\tthree", "clips/video4.mp4\tfour"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_mediaeval2018(tmp_path, sources=tmp_path)
    assert list(data.captions) == ["one", "two", "three", "four"]
    assert list(data.frame["video"]) == [f"video{i}.webm" for i in range(1, 5)]


def test_mediaeval_counts_clips_without_a_caption(tmp_path):
    _mediaeval(tmp_path, ["video1\tone", "video3\tthree", "video9\tother"])
    with pytest.warns(UserWarning, match=r"dev-set_video-captions\.txt: no caption for 2 of 4 clip\(s\) \('video2\.webm', 'video4\.webm'\)"):
        data = load_mediaeval2018(tmp_path, sources=tmp_path)
    assert list(data.captions) == ["one", None, "three", None]


def test_memento_joins_descriptions_by_canonical_id(tmp_path):
    scores = write_text(tmp_path / "train_scores.csv", [
        "video_id,video_url,annotations_short_term,scores_raw_short_term,scores_normalized_short_term,decay_alpha",
        "00001,,90,0.8,0.8,-0.01", "00002,,90,0.7,0.7,-0.01", "00003,,90,0.6,0.6,-0.01",
    ])
    descriptions = write_text(tmp_path / "train_text_descriptions.csv",
                              ["video_id,description", "1,a dog", "2,a cat", "1,a brown dog"])
    for i in range(1, 4):
        (tmp_path / f"0000{i}.mp4").write_bytes(b"x")
    with pytest.warns(UserWarning, match=r"no description for 1 of 3 clip\(s\) \('00003'\)"):
        data = load_memento10k(scores=scores, descriptions=descriptions, videos=tmp_path)
    assert list(data.frame["captions"]) == [("a dog", "a brown dog"), ("a cat",), ()]
    write_text(descriptions, ["video_id,description", "1,a dog", "0001,a brown dog"])
    with pytest.raises(ValueError, match=r"line 3: video_id '0001' is the clip '1' of line 2"):
        load_memento10k(scores=scores, descriptions=descriptions, videos=tmp_path)


def test_descriptor_folder_found_by_any_spelling(tmp_path):
    for i in (1, 2):
        np.save(tmp_path / f"video{i}.npy", np.full(3, float(i)))
    loader = PrecomputedFeatureLoader(kind="npy", root=tmp_path)
    X = loader.fit_transform(["0002", "clips/video1.webm", 2])
    assert X[:, 0].tolist() == [2.0, 1.0, 2.0]


def test_mediaeval_finds_clips_by_canonical_id(tmp_path):
    write_text(tmp_path / "ground-truth_dev-set.csv", [HEADER, "video1,0.5,30,0.5,9", "0002,0.6,30,0.6,9"])
    for name in ("video1.webm", "video2.mp4"):
        (tmp_path / name).write_bytes(b"x")
    data = load_mediaeval2018(ground_truth=tmp_path / "ground-truth_dev-set.csv", sources=tmp_path)
    assert list(data.paths) == [str(tmp_path / "video1.webm"), str(tmp_path / "video2.mp4")] and data.n_present == 2
