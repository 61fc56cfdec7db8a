import numpy as np
import pytest

from skmem.datasets import load_mediaeval2018
from skmem.datasets.mediaeval import read_captions, read_ground_truth

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
    with pytest.warns(UserWarning, match="#NAME"):
        bunch = load_mediaeval2018(dataset)
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
    bunch = load_mediaeval2018(dev)
    assert len(bunch.frame) == 2 and bunch.n_present == 0
    assert all(c is None for c in bunch.captions)


def test_test_subset_without_ground_truth(tmp_path):
    test = tmp_path / "test-set"
    write_real_format(test / "test-set_videos-captions.txt", ["video8001.webm\tman-walking-dog"])
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
    with pytest.raises(ValueError, match=r"bad.csv: row 3 .*short_term"):
        read_ground_truth(bad)
    wrong = tmp_path / "wrong.csv"
    write_real_format(wrong, ["video,score", "video1.webm,0.5"])
    with pytest.raises(ValueError, match="wrong.csv: missing column"):
        read_ground_truth(wrong)
    captions = tmp_path / "caps.txt"
    write_real_format(captions, ["video1.webm\tok", "video2.webm no-tab"])
    with pytest.raises(ValueError, match="caps.txt: line 2"):
        read_captions(captions)
    with pytest.raises(ValueError, match="subset"):
        load_mediaeval2018(tmp_path, subset="train")
