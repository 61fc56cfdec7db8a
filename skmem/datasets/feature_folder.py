"""A feature folder written by ``skmem extract`` joined to its ground truth (and captions)."""

import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skmem.datasets._checks import InvalidRows, texts_by_clip
from skmem.datasets._files import csv_columns, read_csv_records
from skmem.datasets.mediaeval import read_captions, read_ground_truth
from skmem.features.precomputed import PrecomputedFeatureLoader, feature_index
from skmem.ids import clip_id

__all__ = ["MissingClipsError", "caption_column", "load_feature_folder", "pooled_columns", "read_feature_folder"]

_TARGETS = ("short_term", "long_term")


class MissingClipsError(ValueError):
    """Clips that a feature folder or a captions file lacks.

    The message names the file, how many clips are missing and the first
    few of them.

    Parameters
    ----------
    source : {"features", "captions"}
        The argument of :func:`load_feature_folder` whose file lacks the clips.
    path : str or path-like
        That file or folder.
    missing : list of str
        The missing clips, as the caller spelt them, in the caller's order.
    n_clips : int
        How many clips were asked for.
    what : str
        What each missing clip lacks ("features", "caption").
    """

    def __init__(self, source, path, missing, n_clips, what):
        self.source = source
        self.path = path
        self.missing = list(missing)
        shown = ", ".join(str(m) for m in self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
        super().__init__(f"{path}: no {what} for {len(self.missing)} of {n_clips} clip(s), e.g. {shown}")


def read_feature_folder(features, videos):
    """The feature arrays of the clips ``videos`` in a feature folder, in that order.

    Parameters
    ----------
    features : str or path-like
        A feature store written by ``skmem extract`` (or
        :class:`skmem.CNNFeaturizer`'s ``cache_dir``), or a folder of one
        ``<clip>.npy`` per clip.
    videos : sequence of str
        Clips in any spelling of :func:`skmem.ids.clip_id`.

    Returns
    -------
    features : ndarray of float32, shape (n, T, D) or (n, T, L, C)
    config : dict or None
        The feature configuration the folder records (None for a plain folder).

    Raises
    ------
    MissingClipsError
        When some clips have no features in the folder (``source="features"``).
    FileNotFoundError
        When ``features`` is not a folder.
    """
    videos = list(videos)
    stored = {clip_id(name) for name in feature_index(features)}
    missing = [video for video in videos if clip_id(video) not in stored]
    if missing:
        raise MissingClipsError("features", features, missing, len(videos), "features")
    loader = PrecomputedFeatureLoader(kind="npy", root=features, aggregate="stack")
    return loader.fit_transform(videos), loader.feature_config_


def _read_caption_csv(path, on_invalid):
    """``{clip id: caption}`` of a CSV with ``video`` and ``caption`` columns (a clip's rows joined)."""
    header, records = read_csv_records(path)
    cells = csv_columns(path, header, records, ("video", "caption"))
    invalid = InvalidRows(path, on_invalid)
    lines = [line for line, _ in records]
    grouped = texts_by_clip(cells["video"], cells["caption"], lines, "video", invalid)
    invalid.warn("those rows were dropped")
    return {key: " ".join(texts) for key, texts in grouped.items()}


def _read_caption_file(path, on_invalid):
    """``{clip id: caption}`` of a MediaEval captions ``.txt`` or a ``video,caption`` CSV."""
    if os.fspath(path).lower().endswith(".csv"):
        return _read_caption_csv(path, on_invalid)
    captions = read_captions(path, on_invalid=on_invalid).dropna()
    return {clip_id(video): caption for video, caption in captions.items()}


def caption_column(captions, videos, *, on_invalid="raise"):
    """The caption of each clip of ``videos``, in that order, matched by canonical clip id.

    Parameters
    ----------
    captions : str or path-like
        A MediaEval captions file (``video<TAB>caption`` lines, read by
        :func:`skmem.datasets.read_captions`) or a CSV with ``video`` and
        ``caption`` columns, where a clip may have several rows (spelt alike;
        their captions are joined with a space).
    videos : sequence of str
        Clips in any spelling of :func:`skmem.ids.clip_id`.
    on_invalid : {"raise", "warn"}, default="raise"
        What an empty, unreadable or repeated video id of the captions file
        does: ``ValueError`` naming the file and line(s), or one warning and
        the row dropped.

    Returns
    -------
    ndarray of object, shape (n,)

    Raises
    ------
    MissingClipsError
        When some clips have no caption, or only a damaged one such as
        ``#NAME?`` (``source="captions"``).
    """
    videos = list(videos)
    by_id = _read_caption_file(captions, on_invalid)
    missing = [video for video in videos if clip_id(video) not in by_id]
    if missing:
        raise MissingClipsError("captions", captions, missing, len(videos), "caption")
    return pd.Series([by_id[clip_id(video)] for video in videos], dtype=object).to_numpy()


def pooled_columns(features, prefix="visual"):
    """Features averaged over frames (and locations), as columns ``<prefix>_0 ... <prefix>_<C-1>``.

    Parameters
    ----------
    features : ndarray of shape (n, T, D) or (n, T, L, C)
    prefix : str, default="visual"

    Returns
    -------
    DataFrame of shape (n, C)
    """
    pooled = features.reshape(len(features), -1, features.shape[-1]).mean(axis=1)
    return pd.DataFrame(pooled, columns=[f"{prefix}_{i}" for i in range(pooled.shape[1])])


def load_feature_folder(features, labels, *, captions=None, pool=False, on_invalid="raise"):
    """Load a feature folder with the ground truth of its clips (and their captions).

    The ground truth decides which clips are loaded and in which order; the
    features and the captions are matched to it by canonical clip id
    (:func:`skmem.ids.clip_id`), so ``video1.webm``, ``video1`` and ``0001``
    name one clip.

    Parameters
    ----------
    features : str or path-like
        The folder written by ``skmem extract`` (a feature store, see
        :mod:`skmem.features.store`), or a folder of one ``<clip>.npy`` per clip.
    labels : str or path-like
        A MediaEval ground-truth CSV, read by
        :func:`skmem.datasets.read_ground_truth` (errors name the line; a
        clip listed twice, in any two spellings, names both lines).
    captions : str or path-like, optional
        The clips' captions: a MediaEval ``video<TAB>caption`` file or a CSV
        with ``video`` and ``caption`` columns (see :func:`caption_column`).
        Every labelled clip needs one.
    pool : bool, default=False
        Also add the features averaged over frames (and locations) to
        ``frame``, as columns ``visual_0 ... visual_<C-1>``, listed in
        ``feature_columns["visual"]``.
    on_invalid : {"raise", "warn"}, default="raise"
        Passed to the ground-truth and caption readers.

    Returns
    -------
    Bunch
        ``frame`` (one row per labelled clip, in the ground truth's order:
        ``video`` as spelt there, ``short_term``, ``long_term``, then
        ``caption`` when ``captions`` is given, then the pooled columns),
        ``features`` (ndarray ``(n, T, D)`` or ``(n, T, L, C)``, rows in the
        frame's order), ``feature_columns`` (``{"visual": [...]}`` with
        ``pool``, else empty), ``feature_config`` (the configuration the
        folder records, None for a plain folder), ``ids`` (canonical clip
        ids), ``short_term``, ``long_term`` and ``captions`` (None without
        ``captions``).

    Raises
    ------
    MissingClipsError
        When labelled clips have no features (``source="features"``) or no
        caption (``source="captions"``), naming the file, how many and which.
    ValueError
        When the ground truth or captions file is invalid, naming the file and line.
    FileNotFoundError
        When a file or the folder does not exist.
    """
    truth = read_ground_truth(labels, on_invalid=on_invalid)
    frame = truth[["video", *_TARGETS]].copy()
    videos = frame["video"].tolist()
    array, config = read_feature_folder(features, videos)
    caption_values = None
    if captions is not None:
        caption_values = caption_column(captions, videos, on_invalid=on_invalid)
        frame["caption"] = caption_values
    feature_columns = {}
    if pool:
        visual = pooled_columns(array)
        frame = pd.concat([frame, visual], axis=1)
        feature_columns["visual"] = list(visual.columns)
    return Bunch(
        frame=frame,
        features=array,
        feature_columns=feature_columns,
        feature_config=config,
        ids=np.asarray([clip_id(video) for video in videos], dtype=object),
        short_term=frame["short_term"].to_numpy(dtype=float),
        long_term=frame["long_term"].to_numpy(dtype=float),
        captions=caption_values,
    )
