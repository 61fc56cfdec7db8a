import warnings

import numpy as np
import pytest

from skmem.datasets import load_memento10k

from _mediaeval_files import write_memento_csvs, write_text


@pytest.mark.parametrize("wide", [True, False])
def test_loads_scores_captions_and_paths(tmp_path, wide):
    ids, truth, captions = write_memento_csvs(
        tmp_path / "training_set", np.random.default_rng(0), wide=wide
    )
    with pytest.warns(UserWarning, match=r"1 of 6 clips are absent from .*training_set.Videos"):
        data = load_memento10k(tmp_path, subset="train")
    frame = data.frame
    assert list(frame["video_id"]) == [str(i) for i in ids]
    np.testing.assert_allclose(data.short_term, [truth[i]["norm"] for i in ids])
    np.testing.assert_allclose(data.short_term_raw, [truth[i]["raw"] for i in ids])
    np.testing.assert_allclose(data.decay_alpha, [truth[i]["alpha"] for i in ids])
    np.testing.assert_allclose(data.n_short_annotations, [truth[i]["n"] for i in ids])
    assert [list(c) for c in data.captions] == [captions[i] for i in ids]
    assert list(frame["caption"]) == ["\n".join(captions[i]) for i in ids]  # one text column
    # The quoted caption with a newline, a comma and escaped quotes survives intact.
    assert data.captions[0][1] == 'a man says "hello"\nthen walks, slowly'
    # Zero-padded file names are found; the absent clip keeps its expected path.
    assert data.paths[0].endswith("00001.mp4") and data.n_present == len(ids) - 1
    assert not frame["present"].iloc[-1] and data.paths[-1].endswith(f"{ids[-1]:05d}.mp4")


def test_subset_folder_itself_and_test_set_without_scores(tmp_path):
    rng = np.random.default_rng(1)
    write_memento_csvs(tmp_path / "dev_set", rng, prefix="dev")
    ids, _, captions = write_memento_csvs(tmp_path / "testing_set", rng, prefix="test", with_scores=False)
    with pytest.warns(UserWarning, match="absent"):
        dev = load_memento10k(tmp_path / "dev_set", subset="dev")
    assert np.isfinite(dev.short_term).all()
    with pytest.warns(UserWarning, match="absent"):
        test = load_memento10k(tmp_path, subset="test")
    assert np.isnan(test.short_term).all() and len(test.frame) == len(ids)
    assert list(test.captions[2]) == captions[ids[2]]


def test_non_numeric_score_names_file_and_video(tmp_path):
    folder = tmp_path / "training_set"
    write_memento_csvs(folder, np.random.default_rng(2))
    path = folder / "train_scores.csv"
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    fields = lines[3].split(",")
    fields[4] = "high"
    lines[3] = ",".join(fields)
    write_text(path, lines)
    message = r"train_scores\.csv, line 4: scores_normalized_short_term 'high' is not a number"
    with pytest.raises(ValueError, match=message):
        load_memento10k(tmp_path)


def test_missing_column_and_folder_are_named(tmp_path):
    folder = tmp_path / "training_set"
    write_text(folder / "train_scores.csv", ["video_id,video_url", "1,x"])
    with pytest.raises(ValueError, match=r"train_scores\.csv: missing column"):
        load_memento10k(tmp_path)
    with pytest.raises(FileNotFoundError, match="dev"):
        load_memento10k(tmp_path, subset="dev")
    with pytest.raises(ValueError, match="subset"):
        load_memento10k(tmp_path, subset="validation")
    header = ("video_id,video_url,annotations_short_term,scores_raw_short_term,"
              "scores_normalized_short_term,decay_alpha")
    write_text(folder / "train_scores.csv", [header, "1,u,90,0.9,0.9,-0.1", "1,u,90,0.8,0.8,-0.1"])
    with pytest.raises(ValueError, match=r"train_scores\.csv, line 3: video_id '1' already listed on line 2"):
        load_memento10k(tmp_path)


def test_csvs_side_by_side_and_explicit_files(tmp_path):
    rng = np.random.default_rng(3)
    train_ids, truth, _ = write_memento_csvs(tmp_path, rng)
    dev_ids, _, dev_captions = write_memento_csvs(tmp_path, rng, prefix="dev", n_videos=8)
    with pytest.warns(UserWarning, match="absent"):
        dev = load_memento10k(tmp_path, subset="dev")
    assert list(dev.frame["video_id"]) == [str(i) for i in dev_ids]
    assert list(dev.frame["captions"].iloc[1]) == dev_captions[dev_ids[1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the dev clips written last complete the train set
        train = load_memento10k(scores=tmp_path / "train_scores.csv", videos=tmp_path / "Videos")
    np.testing.assert_allclose(train.short_term, [truth[i]["norm"] for i in train_ids])
    assert all(c == () for c in train.captions) and train.n_present == len(train_ids)
    with pytest.raises(ValueError, match="pass root"):
        load_memento10k()
