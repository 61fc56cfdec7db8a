import numpy as np
import pytest

from skmem.datasets import load_lamem

from _mediaeval_files import write_lamem, write_text


@pytest.fixture()
def lamem(tmp_path):
    names, scores = write_lamem(tmp_path / "lamem", np.random.default_rng(0))
    return tmp_path, names, scores


def test_one_split_paths_and_scores(lamem):
    root, names, scores = lamem
    data = load_lamem(root, split=1, subset="train")  # the parent of lamem/ works too
    expected = scores[(1, "train")]
    assert list(data.frame["image"]) == list(expected)
    np.testing.assert_allclose(data.scores, list(expected.values()))
    assert all(p.endswith(name) for p, name in zip(data.paths, expected))
    assert data.n_present == len(expected) and data.split == 1


def test_scores_differ_between_splits_and_are_never_pooled(lamem):
    root, _, scores = lamem
    one = load_lamem(root / "lamem", split=1, subset="all")
    two = load_lamem(root / "lamem", split=2, subset="all")
    assert len(one.frame) == len(two.frame) == 12
    assert set(one.frame["subset"]) == {"train", "val", "test"}
    by_image_1 = dict(zip(one.frame["image"], one.scores))
    by_image_2 = dict(zip(two.frame["image"], two.scores))
    assert any(by_image_1[k] != by_image_2[k] for k in by_image_1)
    for bad in (0, 6, [1, 2], "all", None, True, 1.5):
        with pytest.raises(ValueError, match="split"):
            load_lamem(root, split=bad)


def test_overlapping_subsets_are_refused(lamem):
    root, names, _ = lamem
    test_file = root / "lamem" / "splits" / "test_1.txt"
    train_image = load_lamem(root, split=1).frame["image"].iloc[0]
    write_text(test_file, [f"{train_image} 0.5"])
    with pytest.raises(ValueError, match=rf"test_1\.txt: {train_image} is also in .*train_1\.txt"):
        load_lamem(root, split=1, subset="all")


@pytest.mark.parametrize(
    "lines, message",
    [
        (["00000001.jpg 0.7", "00000002.jpg"], "line 2: expected '<image> <score>'"),
        (["00000001.jpg high"], "line 1: score 'high' is not a number"),
        (["00000001.jpg inf"], "line 1: score 'inf' is not finite"),
        (["00000001.jpg 0.7", "00000001.jpg 0.6"], "line 2: image '00000001.jpg' already listed on line 1"),
        (["00000001.jpg 0.7", "00000002.jpg 1.2"], "line 2: score '1.2' lies outside [0, 1]"),
        (["00000001.jpg 0.7", "00000002.jpg -0.1"], "line 2: score '-0.1' lies outside [0, 1]"),
        ([""], "no '<image> <score>' line"),
    ],
)
def test_malformed_split_file_names_file_and_line(lamem, lines, message):
    root, _, _ = lamem
    write_text(root / "lamem" / "splits" / "val_2.txt", lines)
    with pytest.raises(ValueError, match="val_2.txt") as info:
        load_lamem(root, split=2, subset="val")
    assert message in str(info.value)


def test_undecodable_split_file_names_byte_and_line(lamem):
    root, _, _ = lamem
    path = root / "lamem" / "splits" / "train_1.txt"
    path.write_bytes(b"00000001.jpg 0.7\r\n00000002.jpg 0.\xff8")
    with pytest.raises(ValueError, match=r"train_1\.txt: not UTF-8 text: byte 0xff at offset 33 \(line 2\)"):
        load_lamem(root, split=1)


def test_missing_images_and_folders(lamem, tmp_path):
    root, names, _ = lamem
    (root / "lamem" / "images" / names[0]).unlink()
    with pytest.warns(UserWarning, match=r"1 of 12 images are absent from .*images"):
        data = load_lamem(root, split=1, subset="all")
    assert data.n_present == 11 and not data.frame.set_index("image").loc[names[0], "present"]
    with pytest.raises(FileNotFoundError, match="splits"):
        load_lamem(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train_3.txt"):
        load_lamem(root, split=3)
    with pytest.raises(ValueError, match="subset"):
        load_lamem(root, subset="dev")


def test_warn_policy_keeps_the_valid_lines(lamem):
    root, _, _ = lamem
    lines = ["a.jpg 0.7", "a.jpg 0.2", "b.jpg 2", "c.jpg", "d.jpg 0.5"]
    write_text(root / "lamem" / "splits" / "val_2.txt", lines)
    with pytest.warns(UserWarning) as record:
        data = load_lamem(root, split=2, subset="val", on_invalid="warn")
    assert str(record[0].message).endswith(
        "val_2.txt: 3 invalid value(s) (line 2: image 'a.jpg' already listed on line 1; line 3: score '2' "
        "lies outside [0, 1]; line 4: expected '<image> <score>', got 'c.jpg'); lines with a bad or repeated "
        "image were dropped (the first kept); bad scores are NaN"
    )
    assert list(data.frame["image"]) == ["a.jpg", "b.jpg", "d.jpg"]
    np.testing.assert_array_equal(data.scores, [0.7, np.nan, 0.5])
    with pytest.raises(ValueError, match="on_invalid"):
        load_lamem(root, split=2, on_invalid="drop")
