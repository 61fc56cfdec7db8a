"""Clip ids: the forms a user may give, matched by the canonical id of :mod:`skmem.ids`."""

import numbers
import os

import numpy as np

from skmem.ids import clip_id

__all__ = ["ClipIndex", "as_ids", "clip_key"]


def _file_name(item, row):
    """The file name part of an id (``10`` for the number 10)."""
    if isinstance(item, (bool, np.bool_)):
        raise TypeError(f"X row {row}: expected a clip id or path, got {item!r}")
    if isinstance(item, numbers.Integral):
        return str(int(item))
    if isinstance(item, numbers.Real) and float(item).is_integer():
        return str(int(item))
    if isinstance(item, (str, os.PathLike)):
        name = os.path.basename(os.fspath(item).rstrip("/\\"))
        if name:
            return name
    raise TypeError(f"X row {row}: expected a clip id or path, got {item!r}")


def clip_key(item, row=0):
    """The canonical id a clip is matched by (:func:`skmem.ids.clip_id`), naming ``row`` in errors.

    ``video10``, ``video10.webm``, ``10``, ``"0010"`` and ``/data/video10.webm``
    all give ``"video10"``.

    Parameters
    ----------
    item : str, path-like or int
    row : int
        Position of ``item`` in ``X``, named in the error.

    Raises
    ------
    TypeError
        When ``item`` is not a clip id or path.
    """
    try:
        return clip_id(item)
    except (TypeError, ValueError):
        raise TypeError(f"X row {row}: expected a clip id or path, got {item!r}") from None


def as_ids(X):
    """A list of ids from a 1-D sequence or a one-column 2-D array / DataFrame."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"X must have one column of clip ids, got {X.shape[1]} columns")
        X = X.iloc[:, 0]
    if isinstance(X, (str, os.PathLike)):
        raise TypeError("X must be a sequence of clip ids or paths, not a single string")
    values = np.asarray(X, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"X must be 1-D (one id per clip), got shape {values.shape}")
    if values.size == 0:
        raise ValueError("X is empty: no clip ids given")
    return list(values)


class ClipIndex:
    """Entries of a feature source, found by any form of a clip id.

    An id is looked up by its file name first (``video10.webm``), then by
    :func:`clip_key`; a key shared by several names (``a.mp4`` and
    ``a.webm``) must be asked for by file name.

    Parameters
    ----------
    entries : iterable of (str, object)
        ``(clip name, value)`` pairs; names are unique.
    source : str
        What holds the entries, named in errors.
    """

    def __init__(self, entries, source):
        self.source = source
        self._by_name = dict(entries)
        self._by_key = {}
        for name in self._by_name:
            self._by_key.setdefault(clip_key(name), []).append(name)

    def __len__(self):
        return len(self._by_name)

    def find(self, item, row):
        """The value of clip ``item`` (row ``row`` of ``X``), or None when absent."""
        name = _file_name(item, row)
        if name in self._by_name:
            return self._by_name[name]
        names = self._by_key.get(clip_key(item, row), [])
        if len(names) > 1:
            raise ValueError(
                f"X row {row}: {item!r} matches {len(names)} clips in {self.source} "
                f"({', '.join(sorted(names))}); give the clip's file name"
            )
        return self._by_name[names[0]] if names else None
