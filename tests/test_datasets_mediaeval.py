
import numpy as np
import pytest

from skmem.datasets import load_mediaeval2018
from skmem.features.precomputed import PrecomputedFeatureLoader
from skmem.datasets.mediaeval import read_captions, read_ground_truth

from _mediaeval_files import write_mediaeval_features

HEADER = "video,short-term_memorability,nb_short-term_annotations,long-term_memorability,nb_long-term_annotations"
ROWS = ["video10.webm,0.950,34,0.900,10", "video11.webm,0.704,38,0.500,12", "video12.webm,0.891,33,0.444,9"]
CAPTIONS = [
    "video10.webm\tcouple-relaxing-on-picnic-crane-shot",
    "video11.webm\t#NAME?",
    "video12.webm\t-blonde-woman-is-massaged-tilt-down",
]


def write_real_format(path, lines):
    """UTF-8 BOM, CRLF line ends, no final newline: as the distributed files are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))


@pytest.fixture
def dataset(tmp_path):
    dev = tmp_path / "dev-set"
    write_real_format(dev / "ground-truth" / "ground-truth_dev-set.csv", [HEADER, *ROWS])
    write_real_format(dev / "dev-set_video-captions.txt", CAPTIONS)
    (dev / "sources").mkdir()
    (dev / "sources" / "video10.webm").write_bytes(b"x")
    return tmp_path


def test_loads_dataset_folder_and_subset_folder(dataset):
    with pytest.warns(UserWarning) as record:
        bunch = load_mediaeval2018(dataset)
    messages = [str(w.message) for w in record]
    assert any("#NAME" in m for m in messages)
    assert any(m.startswith("2 of 3 clips are absent from") and "sources" in m for m in messages)
    with pytest.warns(UserWarning):
        same = load_mediaeval2018(dataset / "dev-set")
    np.testing.assert_allclose(bunch.short_term, [0.95, 0.704, 0.891])
    np.testing.assert_allclose(bunch.long_term, same.long_term)
    np.testing.assert_array_equal(bunch.n_short_annotations, [34, 38, 33])
    assert list(bunch.frame["video"]) == ["video10.webm", "video11.webm", "video12.webm"]
    assert bunch.captions[0] == "couple-relaxing-on-picnic-crane-shot"
    assert bunch.captions[1] is None  # '#NAME?' is kept as missing
    assert bunch.captions[2] == "-blonde-woman-is-massaged-tilt-down"
    assert bunch.paths[1].endswith("sources/video11.webm")
    assert bunch.n_present == 1 and list(bunch.frame["present"]) == [True, False, False]


def test_other_ground_truth_file_name(tmp_path):
    dev = tmp_path / "dev-set"
    write_real_format(dev / "ground-truth" / "dev-set_ground-truth.csv", [HEADER, *ROWS[:2]])
    with pytest.warns(UserWarning, match="2 of 2 clips are absent"):
        bunch = load_mediaeval2018(dev)
    assert len(bunch.frame) == 2 and bunch.n_present == 0
    assert all(c is None for c in bunch.captions)


def test_test_subset_without_ground_truth(tmp_path):
    test = tmp_path / "test-set"
    write_real_format(test / "test-set_videos-captions.txt", ["video8001.webm\tman-walking-dog"])
    with pytest.warns(UserWarning, match="1 of 1 clips are absent"):
        bunch = load_mediaeval2018(tmp_path, subset="test")
    assert list(bunch.frame["video"]) == ["video8001.webm"]
    assert np.isnan(bunch.short_term).all() and bunch.captions[0] == "man-walking-dog"


def test_errors_name_files_and_rows(tmp_path):
    with pytest.raises(FileNotFoundError, match="dev-set"):
        load_mediaeval2018(tmp_path)
    (tmp_path / "dev-set").mkdir()
    with pytest.raises(FileNotFoundError, match="ground-truth"):
        load_mediaeval2018(tmp_path)
    bad = tmp_path / "bad.csv"
    write_real_format(bad, [HEADER, ROWS[0], "video11.webm,high,38,0.5,12"])
    with pytest.raises(ValueError, match=r"bad.csv, line 3: short-term_memorability 'high' is not a number"):
        read_ground_truth(bad)
    wrong = tmp_path / "wrong.csv"
    write_real_format(wrong, ["video,score", "video1.webm,0.5"])
    with pytest.raises(ValueError, match="wrong.csv: missing column"):
        read_ground_truth(wrong)
    captions = tmp_path / "caps.txt"
    write_real_format(captions, ["video1.webm\tok", "video2.webm no-tab"])
    with pytest.raises(ValueError, match="caps.txt, line 2: no TAB"):
        read_captions(captions)
    with pytest.raises(ValueError, match="subset"):
        load_mediaeval2018(tmp_path, subset="train")


def test_files_side_by_side_and_explicit_paths(tmp_path):
    """The two files as distributed, without a dev-set/ folder, with the clips beside them."""
    write_real_format(tmp_path / "ground-truth_dev-set.csv", [HEADER, *ROWS])
    write_real_format(tmp_path / "dev-set_video-captions.txt", [CAPTIONS[0], CAPTIONS[2]])
    write_real_format(tmp_path / "test-set_videos-captions.txt", ["video10.webm\twrong-subset"])
    for video in ("video10.webm", "video11.webm", "video12.webm"):
        (tmp_path / video).write_bytes(b"x")
    with pytest.warns(UserWarning, match=r"dev-set_video-captions\.txt: no caption for 1 of 3 clip\(s\) \('video11\.webm'\)") as caught:
        side = load_mediaeval2018(tmp_path)
    assert len(caught) == 1
    assert side.n_present == 3 and side.paths[2] == str(tmp_path / "video12.webm")
    assert list(side.captions) == ["couple-relaxing-on-picnic-crane-shot", None, "-blonde-woman-is-massaged-tilt-down"]
    with pytest.warns(UserWarning, match="no caption for 1 of 3"):
        explicit = load_mediaeval2018(
            ground_truth=tmp_path / "ground-truth_dev-set.csv",
            captions=tmp_path / "dev-set_video-captions.txt",
            sources=tmp_path,
        )
    assert explicit.frame.equals(side.frame)
    with pytest.raises(ValueError, match="pass root"):
        load_mediaeval2018()
    with pytest.raises(FileNotFoundError, match="nowhere: no such folder"):
        load_mediaeval2018(tmp_path / "nowhere")


def test_features_join_by_id_as_named_columns(dataset):
    rng = np.random.default_rng(0)
    truth = write_mediaeval_features(dataset / "dev-set" / "features", 11, rng=rng)
    with pytest.warns(UserWarning):
        data = load_mediaeval2018(dataset, features=["C3D", "LBP"])
    frame = data.frame
    assert data.feature_columns["C3D"] == [f"c3d_{j}" for j in range(101)]
    assert frame.shape[1] == 8 + 101 + 122
    np.testing.assert_allclose(frame.loc[0, data.feature_columns["C3D"]], truth["C3D"]["video10"], rtol=1e-5)
    np.testing.assert_allclose(data.features["LBP"][1], np.mean(truth["LBP"]["video11"], axis=0), rtol=1e-5)
    # video12 has no descriptor file: its row is NaN, the others are complete
    assert np.isnan(data.features["C3D"][2]).all() and np.isfinite(data.features["C3D"][:2]).all()
    loader = PrecomputedFeatureLoader("C3D", dataset / "dev-set" / "features", on_missing="zeros")
    with pytest.warns(UserWarning):
        named = load_mediaeval2018(dataset, features={"motion": loader})
    assert list(named.feature_columns) == ["motion"] and "motion_100" in named.frame
    assert not hasattr(loader, "dim_")  # the caller's transformer is cloned, never fitted in place
    np.testing.assert_array_equal(named.features["motion"][2], 0.0)
    with pytest.raises(ValueError, match="kind"), pytest.warns(UserWarning):
        load_mediaeval2018(dataset, features={"motion": dataset / "dev-set" / "features"})
    with pytest.raises(TypeError, match="features"), pytest.warns(UserWarning):
        load_mediaeval2018(dataset, features="C3D")


def test_feature_matrix_with_an_id_list(dataset, tmp_path):
    matrix = np.arange(12.0).reshape(3, 4)
    np.save(tmp_path / "emb.npy", matrix)
    (tmp_path / "ids.txt").write_text("video12\nvideo10\nvideo99\n")
    with pytest.warns(UserWarning) as record:
        data = load_mediaeval2018(dataset, features={"emb": (tmp_path / "emb.npy", tmp_path / "ids.txt")})
    assert data.feature_columns["emb"] == ["emb_0", "emb_1", "emb_2", "emb_3"]
    np.testing.assert_array_equal(data.frame.loc[0, data.feature_columns["emb"]], matrix[1])  # video10
    np.testing.assert_array_equal(data.features["emb"][2], matrix[0])  # video12
    assert np.isnan(data.features["emb"][1]).all()  # video11 is not listed
    assert any("video11" in str(w.message) for w in record)
