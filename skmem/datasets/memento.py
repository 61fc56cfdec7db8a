"""Memento10k loader (MediaEval 2021 CSV distribution)."""

import glob
import os
import warnings

import numpy as np
import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._checks import InvalidRows, check_ids, check_numbers, texts_by_clip
from skmem.datasets._features import join_features
from skmem.datasets._files import csv_columns, file_bunch, read_csv_records
from skmem.ids import clip_id

__all__ = ["load_memento10k"]

_SUBSET_FOLDERS = {
    "train": ("training_set", "train_set", "train"),
    "dev": ("dev_set", "development_set", "validation_set", "val_set", "dev"),
    "test": ("testing_set", "test_set", "test"),
}
_SCORE_COLUMNS = {
    "scores_normalized_short_term": "short_term",
    "scores_raw_short_term": "short_term_raw",
    "annotations_short_term": "n_short_annotations",
    "decay_alpha": "decay_alpha",
}
# Raw scores are hit rates; normalised ones are extrapolated to an 80 s delay
# along the clip's decay line, so only their finiteness is checked.
_SCORE_RANGES = {
    "scores_raw_short_term": {"low": 0, "high": 1},
    "annotations_short_term": {"low": 0, "integer": True},
}
_PREFIXES = {"train": ("train",), "dev": ("dev", "val"), "test": ("test",)}


def _subset_folder(root, subset):
    names = _SUBSET_FOLDERS[subset]
    if os.path.basename(os.path.normpath(root)) in names:
        return root
    for name in names:
        candidate = os.path.join(root, name)
        if os.path.isdir(candidate):
            return candidate
    if _find_csv(root, ["*.csv"], subset):
        return root
    raise FileNotFoundError(
        f"{root}: no {subset} folder ({', '.join(names)}) and no {subset} CSV; pass the dataset "
        "folder, the subset folder itself, or scores= / descriptions="
    )


def _find_csv(folder, patterns, subset):
    """The first file matching ``patterns`` whose name does not start with another subset's name."""
    others = tuple(p for s, prefixes in _PREFIXES.items() if s != subset for p in prefixes)
    for pattern in patterns:
        hits = sorted(glob.glob(os.path.join(folder, pattern)))
        hits = [h for h in hits if not os.path.basename(h).lower().startswith(others)]
        if hits:
            return hits[0]
    return None


def _read_scores(path, on_invalid):
    header, records = read_csv_records(path)
    cells = csv_columns(path, header, records, ("video_id", *_SCORE_COLUMNS))
    lines = [line for line, _ in records]
    invalid = InvalidRows(path, on_invalid)
    ids, keep = check_ids(cells["video_id"], lines, "video_id", invalid)
    frame = pd.DataFrame({"video_id": pd.Series(ids, dtype=object)})
    for name, column in _SCORE_COLUMNS.items():
        frame[column] = check_numbers(cells[name], lines, name, invalid, **_SCORE_RANGES.get(name, {}))
    frame["video_url"] = [row[header.index("video_url")] for _, row in records] if "video_url" in header else ""
    invalid.warn("rows with an empty or repeated video_id were dropped (the first kept); bad values are NaN")
    return frame[keep].reset_index(drop=True)


def _read_descriptions(path, on_invalid):
    """Captions per canonical clip id, from wide (``description_<k>``) or long (``description``) CSVs."""
    header, records = read_csv_records(path)
    lines = [line for line, _ in records]
    invalid = InvalidRows(path, on_invalid)
    wide = sorted(
        (c for c in header if c.startswith("description_") and c[12:].isdigit()),
        key=lambda c: int(c[12:]),
    )
    if wide:
        cells = csv_columns(path, header, records, ("video_id", *wide))
        ids, keep = check_ids(cells["video_id"], lines, "video_id", invalid)
        rows = zip(*(cells[c] for c in wide))
        captions = {
            clip_id(video): tuple(c.strip() for c in row if c.strip())
            for video, row, kept in zip(ids, rows, keep)
            if kept
        }
    elif "description" in header:
        cells = csv_columns(path, header, records, ("video_id", "description"))
        grouped = texts_by_clip(cells["video_id"], cells["description"], lines, "video_id", invalid)
        captions = {video: tuple(texts) for video, texts in grouped.items()}
    else:
        raise ValueError(f"{path}: no 'description' or 'description_<k>' column; found {header}")
    invalid.warn("those rows were dropped (the first of repeated ids kept)")
    return captions


def _video_index(folder, names=("Videos", "videos")):
    """The clips folder and ``{canonical clip id: path}`` for its files (:func:`skmem.ids.clip_id`)."""
    for name in names:
        videos = os.path.join(folder, name)
        if os.path.isdir(videos):
            files = {}
            for entry in sorted(os.listdir(videos)):
                files.setdefault(clip_id(entry), os.path.join(videos, entry))
            return videos, files
    return os.path.join(folder, "Videos"), {}


def load_memento10k(
    root=None,
    subset="train",
    *,
    scores=None,
    descriptions=None,
    videos=None,
    features=None,
    on_invalid="raise",
):
    """Load Memento10k as distributed for MediaEval 2021, as one model-ready frame.

    Parameters
    ----------
    root : str or path-like, optional
        The dataset folder (holding ``training_set/``, ``dev_set/``,
        ``testing_set/``), one subset folder, or a folder holding the subset's
        CSVs side by side. A subset folder holds ``<subset>_scores.csv``
        (``video_id, video_url, annotations_short_term, scores_raw_short_term,
        scores_normalized_short_term, decay_alpha``),
        ``<subset>_text_descriptions.csv`` (``video_id, description_0 ...
        description_4``, or one ``video_id, description`` row per caption;
        quoted fields may span lines) and ``Videos/``. Optional when
        ``scores`` or ``descriptions`` is given.
    subset : {"train", "dev", "test"}, default="train"
    scores, descriptions : str or path-like, optional
        Explicit CSV files, used instead of searching ``root``.
    videos : str or path-like, optional
        Folder of the clips (default: ``Videos/`` beside the CSVs). Absent
        clips give one warning naming the folder and how many are missing.
    features : dict or list, optional
        Descriptors joined by ``video_id``, one block of named columns per
        source, as in :func:`skmem.datasets.load_mediaeval2018`.
    on_invalid : {"raise", "warn"}, default="raise"
        What an empty or repeated ``video_id``, a non-numeric or non-finite
        score, a raw score outside [0, 1] or an annotation count that is not
        a non-negative whole number does: ``ValueError`` naming the file and
        line, or one warning, the row dropped (bad id; the first of repeated
        ids kept) or the value set to NaN.

    Returns
    -------
    Bunch
        ``frame`` (one row per clip: video_id, path, present, caption (the
        clip's captions joined, one per line), captions (a tuple of them),
        short_term (normalised score, the official target), short_term_raw,
        n_short_annotations, decay_alpha, then the feature columns; scores
        are NaN where the subset has none; this distribution has no long-term
        target), ``paths`` (where each clip is expected, found or not),
        ``n_present``, ``captions``, ``short_term``, ``short_term_raw``,
        ``n_short_annotations``, ``decay_alpha``, ``features`` and
        ``feature_columns`` (dicts by source name) and ``root``.
    """
    check_choice(subset, "subset", tuple(_SUBSET_FOLDERS))
    if root is None and scores is None and descriptions is None:
        raise ValueError("pass root (the dataset folder) or the scores / descriptions files")
    if scores is None and descriptions is None:
        folder = _subset_folder(os.path.expanduser(os.fspath(root)), subset)
        scores = _find_csv(folder, [f"{subset}_scores.csv", "*scores*.csv"], subset)
        descriptions = _find_csv(
            folder, [f"{subset}_text_descriptions.csv", "*descriptions*.csv", "*captions*.csv"], subset
        )
        if scores is None and descriptions is None:
            raise FileNotFoundError(f"{folder}: found neither a *scores*.csv nor a *descriptions*.csv file")
    elif root is not None:
        folder = os.path.expanduser(os.fspath(root))
    else:
        folder = os.path.dirname(os.path.abspath(os.fspath(scores or descriptions)))
    captions = _read_descriptions(descriptions, on_invalid) if descriptions else {}
    if scores is not None:
        frame = _read_scores(scores, on_invalid)
    else:
        frame = pd.DataFrame({"video_id": pd.Series(list(captions), dtype=object), "video_url": ""})
        frame = frame.assign(**{c: np.nan for c in _SCORE_COLUMNS.values()})
    keys = [clip_id(v) for v in frame["video_id"]]
    absent = [v for v, key in zip(frame["video_id"], keys) if key not in captions]
    if descriptions and absent:
        shown = ", ".join(repr(v) for v in absent[:3]) + (", ..." if len(absent) > 3 else "")
        warnings.warn(
            f"{descriptions}: no description for {len(absent)} of {len(keys)} clip(s) ({shown}); their captions are empty",
            stacklevel=2,
        )
    frame["captions"] = pd.Series([captions.get(key, ()) for key in keys], dtype=object)
    frame["caption"] = ["\n".join(c) for c in frame["captions"]]
    if videos is None:
        videos, index = _video_index(folder)
    else:
        videos = os.path.expanduser(os.fspath(videos))
        index = _video_index(videos, names=("",))[1]
    paths = []
    for video, url in zip(frame["video_id"], frame["video_url"]):
        found = index.get(clip_id(video))
        expected = os.path.basename(url.strip()) or f"{video}.mp4"
        paths.append(found or os.path.join(videos, expected))
    frame["path"] = paths
    columns = ["video_id", "path", "present", "caption", "captions", *_SCORE_COLUMNS.values()]
    arrays = {"captions": ("captions", object), **{c: (c, float) for c in _SCORE_COLUMNS.values()}}
    bunch = file_bunch(frame, columns, folder, arrays, what="clips")
    bunch.frame, bunch.features, bunch.feature_columns = join_features(
        bunch.frame, bunch.frame["video_id"], features, os.path.join(folder, "features")
    )
    return bunch
