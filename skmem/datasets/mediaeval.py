"""MediaEval 2018 Predicting Media Memorability (VideoMem) loader."""

import csv
import glob
import io
import os
import warnings

import numpy as np
import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._files import file_bunch

__all__ = ["load_mediaeval2018", "read_ground_truth", "read_captions"]

_GROUND_TRUTH_NAMES = ("ground-truth_{s}-set.csv", "{s}-set_ground-truth.csv")
_COLUMNS = {
    "short-term_memorability": "short_term",
    "nb_short-term_annotations": "n_short_annotations",
    "long-term_memorability": "long_term",
    "nb_long-term_annotations": "n_long_annotations",
}
_BROKEN_CAPTIONS = {"#NAME?", "#VALUE!", "#REF!"}


def _read_text(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return fh.read()


def read_ground_truth(path):
    """Read a MediaEval 2018 ground-truth CSV (BOM, CRLF, no final newline all fine).

    Returns a DataFrame with columns ``video, short_term, n_short_annotations,
    long_term, n_long_annotations``.
    """
    try:
        frame = pd.read_csv(io.StringIO(_read_text(path)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable ground-truth CSV ({exc})") from exc
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in ("video", *_COLUMNS) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    frame = frame.rename(columns=_COLUMNS)
    for column in _COLUMNS.values():
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: row {row + 2} has a non-numeric {column}: {frame[column].iloc[row]!r}"
            )
        frame[column] = values
    frame["video"] = frame["video"].astype(str).str.strip()
    return frame


def read_captions(path):
    """Read a MediaEval captions file: ``video<TAB>caption-slug`` per line, no header.

    Spreadsheet-damaged captions (``#NAME?``) become missing values, with a
    warning naming the file and how many there were.

    Returns a Series of captions indexed by video file name.
    """
    videos, captions = [], []
    reader = csv.reader(io.StringIO(_read_text(path)), delimiter="\t", quoting=csv.QUOTE_NONE)
    for line_number, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise ValueError(f"{path}: line {line_number} has no TAB-separated caption: {row[0]!r}")
        videos.append(row[0].strip())
        captions.append(row[1].strip())
    series = pd.Series(captions, index=pd.Index(videos, name="video"), name="caption", dtype=object)
    broken = series.isin(_BROKEN_CAPTIONS)
    if broken.any():
        warnings.warn(
            f"{path}: {int(broken.sum())} caption(s) are spreadsheet errors such as '#NAME?'; kept as missing",
            stacklevel=2,
        )
        series[broken] = None
    return series


def _subset_dir(root, subset):
    name = f"{subset}-set"
    for candidate in (os.path.join(root, name), root):
        if os.path.basename(os.path.normpath(candidate)) == name and os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(f"{root}: no '{name}' folder (pass the dataset folder or the {name} folder itself)")


def _find(folder, patterns):
    for pattern in patterns:
        hits = sorted(glob.glob(os.path.join(folder, pattern)))
        if hits:
            return hits[0]
    return None


def load_mediaeval2018(root, subset="dev"):
    """Load the MediaEval 2018 memorability data (VideoMem).

    Parameters
    ----------
    root : str or path-like
        The dataset folder (holding ``dev-set/``) or the ``dev-set/`` (or
        ``test-set/``) folder itself.
    subset : {"dev", "test"}, default="dev"

    Returns
    -------
    Bunch
        ``frame`` (one row per clip: video, path, present, caption, scores and
        annotation counts), ``paths`` (where each clip is expected under
        ``sources/``, whether or not it is there), ``n_present``, ``captions``,
        ``short_term``, ``long_term``, ``n_short_annotations``,
        ``n_long_annotations`` (NaN where the subset has no ground truth) and
        ``root`` (the subset folder).
    """
    check_choice(subset, "subset", ("dev", "test"))
    folder = _subset_dir(os.fspath(root), subset)
    names = [n.format(s=subset) for n in _GROUND_TRUTH_NAMES]
    truth_path = _find(folder, [os.path.join("ground-truth", n) for n in names] + names)
    captions_path = _find(folder, [f"{subset}-set_video*-captions.txt", "*captions*.txt"])
    if truth_path is None and captions_path is None:
        raise FileNotFoundError(
            f"{folder}: found neither a ground-truth CSV ({' or '.join(names)}) nor a captions file"
        )
    if truth_path is not None:
        frame = read_ground_truth(truth_path)
    else:
        frame = pd.DataFrame({"video": []}).astype({"video": object})
        for column in _COLUMNS.values():
            frame[column] = np.nan
    if captions_path is not None:
        captions = read_captions(captions_path)
        if truth_path is None:
            frame = pd.DataFrame({"video": captions.index}).assign(**{c: np.nan for c in _COLUMNS.values()})
        mapped = frame["video"].map(captions).astype(object)
        frame["caption"] = mapped.where(mapped.notna(), None)
    else:
        frame["caption"] = None
    sources = os.path.join(folder, "sources")
    frame["path"] = [os.path.join(sources, v) for v in frame["video"]]
    columns = ["video", "path", "present", "caption", *_COLUMNS.values()]
    arrays = {"captions": ("caption", object), **{c: (c, float) for c in _COLUMNS.values()}}
    return file_bunch(frame, columns, folder, arrays)
