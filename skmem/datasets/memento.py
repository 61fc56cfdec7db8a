"""Memento10k loader (MediaEval 2021 CSV distribution)."""

import glob
import io
import os

import numpy as np
import pandas as pd

from skmem._validation import check_choice
from skmem.datasets._files import file_bunch

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


def _subset_folder(root, subset):
    names = _SUBSET_FOLDERS[subset]
    if os.path.basename(os.path.normpath(root)) in names:
        return root
    for name in names:
        candidate = os.path.join(root, name)
        if os.path.isdir(candidate):
            return candidate
    if glob.glob(os.path.join(root, f"{subset}_*.csv")):
        return root
    raise FileNotFoundError(
        f"{root}: no {subset} folder ({', '.join(names)}); pass the dataset folder or the "
        "subset folder itself"
    )


def _find_csv(folder, patterns):
    for pattern in patterns:
        hits = sorted(glob.glob(os.path.join(folder, pattern)))
        if hits:
            return hits[0]
    return None


def _read_csv(path):
    """Read a CSV with quoted (possibly multi-line) fields; BOM and CRLF allowed."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "video_id" not in frame.columns:
        raise ValueError(f"{path}: no 'video_id' column; found {list(frame.columns)}")
    frame["video_id"] = frame["video_id"].str.strip()
    return frame


def _read_scores(path):
    frame = _read_csv(path)
    missing = [c for c in _SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    duplicated = frame["video_id"].duplicated()
    if duplicated.any():
        raise ValueError(f"{path}: video_id {frame['video_id'][duplicated].iloc[0]!r} appears twice")
    for column in _SCORE_COLUMNS:
        text = frame[column].str.strip()
        values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: record {row + 1} (video_id {frame['video_id'].iloc[row]!r}) has a "
                f"non-numeric {column}: {frame[column].iloc[row]!r}"
            )
        frame[column] = values.astype(float)
    return frame.rename(columns=_SCORE_COLUMNS)


def _read_descriptions(path):
    """Captions per video id, from wide (``description_<k>``) or long (``description``) CSVs."""
    frame = _read_csv(path)
    wide = sorted(
        (c for c in frame.columns if c.startswith("description_") and c[12:].isdigit()),
        key=lambda c: int(c[12:]),
    )
    if wide:
        cells = frame[wide].to_numpy(dtype=object)
        captions = [tuple(c.strip() for c in row if c.strip()) for row in cells]
        duplicated = frame["video_id"].duplicated()
        if duplicated.any():
            raise ValueError(f"{path}: video_id {frame['video_id'][duplicated].iloc[0]!r} appears twice")
        return dict(zip(frame["video_id"], captions))
    if "description" not in frame.columns:
        raise ValueError(
            f"{path}: no 'description' or 'description_<k>' column; found {list(frame.columns)}"
        )
    captions = {}
    for video, text in zip(frame["video_id"], frame["description"]):
        captions.setdefault(video, [])
        if text.strip():
            captions[video].append(text.strip())
    return {video: tuple(texts) for video, texts in captions.items()}


def _video_index(folder):
    for name in ("Videos", "videos"):
        videos = os.path.join(folder, name)
        if os.path.isdir(videos):
            files = {}
            for entry in sorted(os.listdir(videos)):
                stem = os.path.splitext(entry)[0]
                files[stem] = os.path.join(videos, entry)
                if stem.isdigit():
                    files.setdefault(str(int(stem)), os.path.join(videos, entry))
            return videos, files
    return os.path.join(folder, "Videos"), {}


def load_memento10k(root, subset="train"):
    """Load Memento10k as distributed for MediaEval 2021.

    Parameters
    ----------
    root : str or path-like
        The dataset folder (holding ``training_set/``, ``dev_set/``,
        ``testing_set/``) or one subset folder. A subset folder holds
        ``<subset>_scores.csv`` (``video_id, video_url, annotations_short_term,
        scores_raw_short_term, scores_normalized_short_term, decay_alpha``),
        ``<subset>_text_descriptions.csv`` (``video_id, description_0 ...
        description_4``, or one ``video_id, description`` row per caption;
        quoted fields may span lines) and ``Videos/``.
    subset : {"train", "dev", "test"}, default="train"

    Returns
    -------
    Bunch
        ``frame`` (one row per clip: video_id, path, present, caption (a tuple
        of the clip's captions), short_term (normalised score, the official
        target), short_term_raw, n_short_annotations, decay_alpha; scores are
        NaN where the subset has none), ``paths`` (where each clip is expected,
        found or not), ``n_present``, ``captions``, ``short_term``,
        ``short_term_raw``, ``n_short_annotations``, ``decay_alpha`` and
        ``root`` (the subset folder).
    """
    check_choice(subset, "subset", tuple(_SUBSET_FOLDERS))
    folder = _subset_folder(os.fspath(root), subset)
    scores_path = _find_csv(folder, [f"{subset}_scores.csv", "*scores*.csv"])
    text_path = _find_csv(
        folder, [f"{subset}_text_descriptions.csv", "*descriptions*.csv", "*captions*.csv"]
    )
    if scores_path is None and text_path is None:
        raise FileNotFoundError(f"{folder}: found neither a *scores*.csv nor a *descriptions*.csv file")
    captions = _read_descriptions(text_path) if text_path else {}
    if scores_path is not None:
        frame = _read_scores(scores_path)
    else:
        frame = pd.DataFrame({"video_id": list(captions)})
        for column in _SCORE_COLUMNS.values():
            frame[column] = np.nan
    frame["caption"] = [captions.get(v, ()) for v in frame["video_id"]]
    videos, index = _video_index(folder)
    urls = frame["video_url"] if "video_url" in frame.columns else [""] * len(frame)
    paths = []
    for video, url in zip(frame["video_id"], urls):
        found = index.get(video) or (index.get(str(int(video))) if video.isdigit() else None)
        expected = os.path.basename(url.strip()) or f"{video}.mp4"
        paths.append(found or os.path.join(videos, expected))
    frame["path"] = paths
    columns = ["video_id", "path", "present", "caption", *_SCORE_COLUMNS.values()]
    arrays = {"captions": ("caption", object), **{c: (c, float) for c in _SCORE_COLUMNS.values()}}
    return file_bunch(frame, columns, folder, arrays)
