"""Bad ground truth, captions and score files: an error (or a warning) naming file and line."""

import csv
import io
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skmem.datasets import load_memento10k
from skmem.datasets.mediaeval import read_captions, read_ground_truth

from _mediaeval_files import write_text

HEADER = "video,short-term_memorability,nb_short-term_annotations,long-term_memorability,nb_long-term_annotations"
GOOD = ["video1.webm,0.950,34,0.900,10", "video2.webm,0.704,38,0.500,12"]
MEMENTO_HEADER = (
    "video_id,video_url,annotations_short_term,scores_raw_short_term,scores_normalized_short_term,decay_alpha"
)


@pytest.mark.parametrize(
    "row, message",
    [
        ("video1.webm,0.8,30,0.7,9", "line 4: video 'video1.webm' already listed on line 2"),
        (",0.8,30,0.7,9", "line 4: empty video"),
        ("  ,0.8,30,0.7,9", "line 4: empty video"),
        ("video3.webm,nan,30,0.7,9", "line 4: short-term_memorability 'nan' is not finite"),
        ("video3.webm,0.8,30,inf,9", "line 4: long-term_memorability 'inf' is not finite"),
        ("video3.webm,1.2,30,0.7,9", "line 4: short-term_memorability '1.2' lies outside [0, 1]"),
        ("video3.webm,0.8,30,-0.1,9", "line 4: long-term_memorability '-0.1' lies outside [0, 1]"),
        ("video3.webm,,30,0.7,9", "line 4: short-term_memorability '' is not a number"),
        ("video3.webm,0.8,-3,0.7,9", "line 4: nb_short-term_annotations '-3' lies outside [0, inf]"),
        ("video3.webm,0.8,30,0.7,9.5", "line 4: nb_long-term_annotations '9.5' is not a whole number"),
        ("video3.webm,0.8,30,0.7", "line 4: 4 field(s) where the header has 5"),
    ],
)
def test_invalid_ground_truth_rows_name_file_and_line(tmp_path, row, message):
    path = write_text(tmp_path / "truth.csv", [HEADER, *GOOD, row])
    with pytest.raises(ValueError, match="truth.csv") as info:
        read_ground_truth(path)
    assert message in str(info.value)


def test_warn_policy_drops_bad_ids_and_blanks_bad_values(tmp_path):
    rows = [*GOOD, "video1.webm,0.1,30,0.1,9", ",0.8,30,0.7,9", "video3.webm,1.5,30,0.6,-2"]
    path = write_text(tmp_path / "truth.csv", [HEADER, *rows])
    with pytest.warns(UserWarning, match=r"truth\.csv: 4 invalid value\(s\) \(line 4: video 'video1.webm'"):
        frame = read_ground_truth(path, on_invalid="warn")
    assert list(frame["video"]) == ["video1.webm", "video2.webm", "video3.webm"]
    assert frame["short_term"].iloc[0] == 0.95  # the first of the repeated ids is kept
    assert np.isnan(frame["short_term"].iloc[2]) and frame["long_term"].iloc[2] == 0.6
    assert np.isnan(frame["n_long_annotations"].iloc[2])
    with pytest.raises(ValueError, match="on_invalid"):
        read_ground_truth(path, on_invalid="ignore")


def test_undecodable_files_name_byte_offset_and_line(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_bytes(("\r\n".join([HEADER, *GOOD]) + "\r\nvideo3.webm,0.5").encode() + b"\xe9,30,0.7,9")
    offset = truth.read_bytes().index(b"\xe9")
    with pytest.raises(ValueError, match=rf"truth\.csv: not UTF-8 text: byte 0xe9 at offset {offset} \(line 4\)"):
        read_ground_truth(truth)
    captions = tmp_path / "captions.txt"
    captions.write_bytes(b"video1.webm\tman-walking\r\nvideo2.webm\tcaf\xe9-terrace")
    with pytest.raises(ValueError, match=r"captions\.txt: not UTF-8 text: byte 0xe9 at offset 40 \(line 2\)"):
        read_captions(captions)


def test_caption_with_extra_tabs_keeps_all_its_text(tmp_path):
    path = write_text(tmp_path / "captions.txt", ["video1.webm\tman-walking\tdog-on-beach", "video2.webm\tcat"])
    captions = read_captions(path)
    assert captions["video1.webm"] == "man-walking\tdog-on-beach" and captions["video2.webm"] == "cat"


@pytest.mark.parametrize(
    "line, message",
    [
        ("video1.webm\tagain", "line 3: video 'video1.webm' already listed on line 1"),
        ("\tno-video", "line 3: empty video"),
        ("video3.webm caption-without-tab", "line 3: no TAB between video and caption"),
    ],
)
def test_malformed_caption_lines(tmp_path, line, message):
    path = write_text(tmp_path / "captions.txt", ["video1.webm\tman-walking", "video2.webm\tcat", line])
    with pytest.raises(ValueError, match="captions.txt") as info:
        read_captions(path)
    assert message in str(info.value)
    with pytest.warns(UserWarning, match=r"captions\.txt: 1 invalid value\(s\) \(line 3"):
        kept = read_captions(path, on_invalid="warn")
    assert dict(kept) == {"video1.webm": "man-walking", "video2.webm": "cat"}


@pytest.mark.parametrize(
    "row, message",
    [
        ("1,u,90,0.8,0.8,-0.1", "line 3: video_id '1' already listed on line 2"),
        (",u,90,0.8,0.8,-0.1", "line 3: empty video_id"),
        ("2,u,90,1.3,0.8,-0.1", "line 3: scores_raw_short_term '1.3' lies outside [0, 1]"),
        ("2,u,90,0.8,nan,-0.1", "line 3: scores_normalized_short_term 'nan' is not finite"),
        ("2,u,-1,0.8,0.8,-0.1", "line 3: annotations_short_term '-1' lies outside [0, inf]"),
        ("2,u,90,0.8,0.8,x", "line 3: decay_alpha 'x' is not a number"),
    ],
)
def test_invalid_memento_scores(tmp_path, row, message):
    path = write_text(tmp_path / "train_scores.csv", [MEMENTO_HEADER, "1,u,90,0.9,0.9,-0.1", row])
    with pytest.raises(ValueError, match="train_scores.csv") as info:
        load_memento10k(scores=path)
    assert message in str(info.value)


def test_memento_descriptions_after_a_multiline_caption_keep_true_line_numbers(tmp_path):
    header = "video_id," + ",".join(f"description_{k}" for k in range(5))
    lines = [header, '1,"a man\nwalks",b,c,d,e', '2,"f\n\ng",h,i,j,k', '1,x,y,z,w,v']
    path = write_text(tmp_path / "train_text_descriptions.csv", lines)
    with pytest.raises(ValueError, match=r"descriptions\.csv, line 7: video_id '1' already listed on line 2"):
        load_memento10k(descriptions=path)
    long = write_text(tmp_path / "long.csv", ["video_id,description", '1,"a\nb"', ',"orphan"'])
    with pytest.raises(ValueError, match=r"long\.csv, line 4: empty video_id"):
        load_memento10k(descriptions=long)


# -- property tests: any bytes or rows give a valid frame or a ValueError naming the file --


def _valid_truth(frame):
    assert frame["video"].map(lambda v: isinstance(v, str) and v != "").all()
    assert not frame["video"].duplicated().any()
    for column in ("short_term", "long_term"):
        assert frame[column].between(0, 1).all()
    for column in ("n_short_annotations", "n_long_annotations"):
        values = frame[column].to_numpy()
        assert (values >= 0).all() and np.all(values == np.round(values))


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CELLS = st.one_of(
    st.sampled_from(["0.5", "1", "0", "1.01", "-0.2", "nan", "inf", "", " ", "12", "3.5", "video1.webm", "#NAME?"]),
    st.text(max_size=6),
)


@PROPERTY
@given(data=st.binary(max_size=300), header=st.booleans())
def test_random_bytes_in_ground_truth_and_captions(tmp_path, data, header):
    path = tmp_path / "random.csv"
    path.write_bytes((HEADER.encode() + b"\r\n" if header else b"") + data)
    try:
        _valid_truth(read_ground_truth(path))
    except ValueError as exc:
        assert str(path) in str(exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            captions = read_captions(path, on_invalid="warn")
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        assert captions.index.is_unique and (captions.index != "").all()


@PROPERTY
@given(rows=st.lists(st.tuples(st.sampled_from(["video1.webm", "video2.webm", "", "v3"]), *[CELLS] * 4), max_size=6))
def test_random_ground_truth_rows(tmp_path, rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER.split(","), *rows])
    path = tmp_path / "rows.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    try:
        frame = read_ground_truth(path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        _valid_truth(frame)
        assert len(frame) == sum(bool("".join(row).strip()) for row in rows)  # rows of empty cells are skipped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lenient = read_ground_truth(path, on_invalid="warn")
    assert not lenient["video"].duplicated().any() and (lenient["video"] != "").all()
    for column in ("short_term", "long_term"):
        finite = lenient[column].dropna()
        assert finite.between(0, 1).all() and all(math.isfinite(v) for v in finite)


@PROPERTY
@given(data=st.binary(max_size=300))
def test_random_bytes_in_memento_csvs(tmp_path, data):
    path = tmp_path / "train_scores.csv"
    path.write_bytes(MEMENTO_HEADER.encode() + b"\n" + data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the clips are absent
            bunch = load_memento10k(scores=path, videos=tmp_path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        assert bunch.frame["video_id"].is_unique and (bunch.frame["video_id"] != "").all()
        assert bunch.frame["short_term_raw"].between(0, 1).all()
