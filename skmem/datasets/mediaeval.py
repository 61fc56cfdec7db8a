"""MediaEval 2018 Predicting Media Memorability (VideoMem) loader."""

import contextlib
import glob
import os
import warnings

import numpy as np
import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._checks import InvalidRows, check_ids, check_numbers
from skmem.datasets._features import join_features
from skmem.datasets._files import csv_columns, file_bunch, read_csv_records, text_lines
from skmem.ids import clip_id

__all__ = ["load_mediaeval2018", "read_ground_truth", "read_captions"]

_SUBSETS = ("dev", "test")
_COLUMNS = {
    "short-term_memorability": "short_term",
    "nb_short-term_annotations": "n_short_annotations",
    "long-term_memorability": "long_term",
    "nb_long-term_annotations": "n_long_annotations",
}
_BROKEN_CAPTIONS = {"#NAME?", "#VALUE!", "#REF!"}


def read_ground_truth(path, *, on_invalid="raise"):
    """Read a MediaEval 2018 ground-truth CSV (BOM, CRLF, no final newline all fine).

    Parameters
    ----------
    path : str or path-like
    on_invalid : {"raise", "warn"}, default="raise"
        What an invalid row does: an empty or repeated ``video`` id, a score
        that is not a finite number in [0, 1], an annotation count that is not
        a non-negative whole number. ``"raise"``: ``ValueError`` naming the
        file and line. ``"warn"``: one warning naming the file and lines; rows
        with a bad id are dropped (the first of repeated ids is kept) and bad
        values become NaN.

    Returns
    -------
    DataFrame
        Columns ``video, short_term, n_short_annotations, long_term,
        n_long_annotations``, in file order.
    """
    header, records = read_csv_records(path)
    cells = csv_columns(path, header, records, ("video", *_COLUMNS))
    invalid = InvalidRows(path, on_invalid)
    lines = [line for line, _ in records]
    ids, keep = check_ids(cells["video"], lines, "video", invalid)
    frame = pd.DataFrame({"video": pd.Series(ids, dtype=object)})
    for name, column in _COLUMNS.items():
        counts = column.startswith("n_")
        frame[column] = check_numbers(
            cells[name], lines, name, invalid, low=0, high=np.inf if counts else 1, integer=counts
        )
    invalid.warn("rows with an empty or repeated video id were dropped (the first kept); bad values are NaN")
    return frame[keep].reset_index(drop=True)


def read_captions(path, *, on_invalid="raise"):
    """Read a MediaEval captions file: ``video<TAB>caption-slug`` per line, no header.

    The caption is everything after the first TAB: a line holding further
    TABs keeps them in its caption, so no text is lost. Spreadsheet-damaged
    captions (``#NAME?``) and empty ones become missing values, with a warning
    naming the file and how many there were. Blank lines are skipped.

    Parameters
    ----------
    path : str or path-like
    on_invalid : {"raise", "warn"}, default="raise"
        What a line with no TAB, an empty video id or a repeated video id does:
        ``ValueError`` naming the file and line, or one warning and the line
        dropped (the first of repeated ids is kept).

    Returns
    -------
    Series
        Captions (str, or None where missing) indexed by video file name.
    """
    invalid = InvalidRows(path, on_invalid)
    videos, captions, lines = [], [], []
    for number, line in text_lines(path):
        if not line.strip():
            continue
        if "\t" not in line:
            invalid.report(number, f"no TAB between video and caption: {line.strip()!r}")
            continue
        video, caption = line.split("\t", 1)
        videos.append(video)
        captions.append(caption.strip())
        lines.append(number)
    videos, keep = check_ids(videos, lines, "video", invalid)
    invalid.warn("those lines were dropped (the first of repeated ids kept)")
    series = pd.Series(captions, index=pd.Index(videos, name="video", dtype=object), name="caption", dtype=object)
    series = series[keep]
    broken = series.isin(_BROKEN_CAPTIONS) | (series == "")
    if broken.any():
        warnings.warn(
            f"{path}: {int(broken.sum())} caption(s) are empty or spreadsheet errors such as "
            "'#NAME?'; kept as missing",
            stacklevel=2,
        )
        series[broken] = None
    return series


def join_captions(videos, captions, path):
    """The caption of each clip of ``videos``, matched by canonical id (:func:`skmem.ids.clip_id`).

    ``captions`` is indexed by the ids the captions file spells
    (:func:`read_captions` refuses two spellings of one clip). Clips without
    a caption line get None, with one warning naming ``path`` and how many.
    """
    by_id = {clip_id(video): caption for video, caption in captions.items()}
    keys = [clip_id(video) for video in videos]
    absent = [video for video, key in zip(videos, keys) if key not in by_id]
    if absent:
        shown = ", ".join(repr(v) for v in absent[:3]) + (", ..." if len(absent) > 3 else "")
        warnings.warn(
            f"{path}: no caption for {len(absent)} of {len(keys)} clip(s) ({shown}); their caption is missing",
            stacklevel=3,
        )
    return pd.Series([by_id.get(key) for key in keys], index=videos.index, dtype=object)


def _clip_paths(sources, videos):
    """Where each clip is: the file of ``sources`` with its canonical id, else ``sources/<id as spelt>``."""
    files = {}
    if os.path.isdir(sources):
        for entry in sorted(os.listdir(sources)):
            with contextlib.suppress(ValueError):
                files.setdefault(clip_id(entry), os.path.join(sources, entry))
    return [files.get(clip_id(video), os.path.join(sources, video)) for video in videos]


def _other_subset(path, subset):
    """Whether a file's name says it belongs to the other subset."""
    name, other = os.path.basename(path), _SUBSETS[1 - _SUBSETS.index(subset)]
    return f"{other}-set" in name or name.startswith(other)


def _find(folder, patterns, subset):
    for pattern in patterns:
        hits = [h for h in sorted(glob.glob(os.path.join(folder, pattern))) if not _other_subset(h, subset)]
        if hits:
            return hits[0]
    return None


def _truth_patterns(subset):
    names = [f"ground-truth_{subset}-set.csv", f"{subset}-set_ground-truth.csv"]
    specific = [os.path.join("ground-truth", n) for n in names] + names
    return specific + [os.path.join("ground-truth", "*.csv"), "*ground-truth*.csv", "*ground_truth*.csv"]


def _sources(folder, videos):
    """``folder/sources`` or, when the clips lie beside the ground truth, ``folder``."""
    nested = os.path.join(folder, "sources")
    if os.path.isdir(nested) or not any(os.path.isfile(os.path.join(folder, v)) for v in videos):
        return nested
    return folder


def load_mediaeval2018(
    root=None,
    subset="dev",
    *,
    ground_truth=None,
    captions=None,
    sources=None,
    features=None,
    on_invalid="raise",
):
    """Load the MediaEval 2018 memorability data (VideoMem) as one model-ready frame.

    Parameters
    ----------
    root : str or path-like, optional
        The dataset folder (holding ``dev-set/``), the ``dev-set/`` (or
        ``test-set/``) folder itself, or any folder holding the ground-truth
        CSV and the captions file side by side. Optional when ``ground_truth``
        or ``captions`` is given (then their folder is used).
    subset : {"dev", "test"}, default="dev"
    ground_truth, captions : str or path-like, optional
        Explicit files, used instead of searching ``root``.
    sources : str or path-like, optional
        Folder of the clips; by default ``<folder>/sources``, or the folder
        itself when the clips lie beside the ground truth. Absent clips give
        one warning naming the folder and how many are missing.
    features : dict or list, optional
        Descriptors joined by clip id, one block of named columns per source:
        ``{"C3D": "path/to/C3D"}`` reads that folder with
        :class:`~skmem.features.precomputed.PrecomputedFeatureLoader`
        (``kind`` = the key, absent files give NaN rows and a warning),
        ``{"name": ("features.npy", "ids.txt")}`` reads a feature matrix
        shipped as one array plus the ids of its rows (``kind="matrix"``),
        ``{"name": transformer}`` uses the transformer's ``fit_transform`` on
        the ids, and a list of kinds such as ``["C3D", "HMP"]`` reads
        ``<folder>/features/<kind>``. Columns are ``c3d_0 ... c3d_100``:
        select one modality in a ``ColumnTransformer`` with
        ``data.feature_columns["C3D"]``.
    on_invalid : {"raise", "warn"}, default="raise"
        Passed to :func:`read_ground_truth` and :func:`read_captions`.

    Returns
    -------
    Bunch
        ``frame`` (one row per clip: video, path, present, caption,
        short_term, n_short_annotations, long_term, n_long_annotations, then
        the feature columns), ``paths`` (where each clip is expected, found
        or not), ``n_present``, ``captions``, ``short_term``, ``long_term``,
        ``n_short_annotations``, ``n_long_annotations`` (NaN where the subset
        has no ground truth), ``features`` and ``feature_columns`` (dicts by
        source name, empty without ``features``) and ``root`` (the folder).
    """
    check_choice(subset, "subset", _SUBSETS)
    if root is None and ground_truth is None and captions is None:
        raise ValueError("pass root (the dataset folder) or the ground_truth / captions files")
    if root is not None:
        root = os.path.expanduser(os.fspath(root))
        nested = os.path.join(root, f"{subset}-set")
        folder = nested if os.path.isdir(nested) else root
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{root}: no such folder (expected the dataset or {subset}-set folder)")
    else:
        folder = os.path.dirname(os.path.abspath(os.fspath(ground_truth or captions)))
    if ground_truth is None and captions is None:
        truth_path = _find(folder, _truth_patterns(subset), subset)
        captions_path = _find(folder, [f"{subset}-set_video*-captions.txt", "*captions*.txt"], subset)
        if truth_path is None and captions_path is None:
            raise FileNotFoundError(
                f"{folder}: found neither a ground-truth CSV (ground-truth_{subset}-set.csv, "
                f"{subset}-set_ground-truth.csv) nor a captions file ({subset}-set_video*-captions.txt); "
                "pass ground_truth= or captions="
            )
    else:
        truth_path, captions_path = ground_truth, captions
    caption_series = None if captions_path is None else read_captions(captions_path, on_invalid=on_invalid)
    if truth_path is not None:
        frame = read_ground_truth(truth_path, on_invalid=on_invalid)
    else:
        frame = pd.DataFrame({"video": pd.Series(caption_series.index, dtype=object)})
        frame = frame.assign(**{c: np.nan for c in _COLUMNS.values()})
    frame["caption"] = None if caption_series is None else join_captions(frame["video"], caption_series, captions_path)
    sources = _sources(folder, frame["video"]) if sources is None else os.path.expanduser(os.fspath(sources))
    frame["path"] = _clip_paths(sources, frame["video"])
    columns = ["video", "path", "present", "caption", *_COLUMNS.values()]
    arrays = {"captions": ("caption", object), **{c: (c, float) for c in _COLUMNS.values()}}
    bunch = file_bunch(frame, columns, folder, arrays, what="clips")
    bunch.frame, bunch.features, bunch.feature_columns = join_features(
        bunch.frame, bunch.frame["video"], features, os.path.join(folder, "features")
    )
    return bunch
