"""Captions as the estimators read them: one or several per sample, slugs split into words, missing ones skipped."""

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp


__all__ = ["caption_text"]

_SLUG_SEPARATORS = re.compile(r"[-_\s]+")
_MISSING = {"#NAME?"}


def caption_text(caption):
    """Plain words of a caption: slug separators become spaces; missing gives ``""``.

    >>> caption_text("blonde-woman-is-massaged-tilt-down")
    'blonde woman is massaged tilt down'
    """
    if caption is None or (
        not isinstance(caption, str) and pd.api.types.is_scalar(caption) and pd.isna(caption)
    ):
        return ""
    text = str(caption).strip()
    if text in _MISSING:
        return ""
    return _SLUG_SEPARATORS.sub(" ", text).strip()


def _fitted_captions(estimator, X):
    """Captions of ``X``, checked against the caption columns ``estimator`` was fitted on."""
    captions, n_columns = _captions_per_sample(X)
    if n_columns != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_columns} caption columns, but {type(estimator).__name__} was fitted "
            f"with {estimator.n_features_in_}"
        )
    return captions


def _captions_per_sample(X):
    """Return ``(captions, n_columns)``: one list of caption strings per sample."""
    if isinstance(X, str):
        raise TypeError("X must be a sequence of captions (one per sample), not a single string")
    if hasattr(X, "iloc"):
        values = X.to_numpy(dtype=object)
    elif isinstance(X, np.ndarray):
        values = X
    else:
        items = list(X)
        values = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            values[i] = item
    if values.ndim == 1:
        n_columns = 1
        rows = [
            list(item) if isinstance(item, (list, tuple, np.ndarray)) else [item]
            for item in values
        ]
    elif values.ndim == 2:
        n_columns = values.shape[1]
        rows = [list(row) for row in values]
    else:
        raise ValueError(f"X must be 1-D or 2-D (captions per sample), got shape {values.shape}")
    if not rows:
        raise ValueError("X is empty: no captions given")
    captions = [[text for text in map(caption_text, row) if text] for row in rows]
    return captions, n_columns


def _mean_rows(matrix, counts):
    """Average consecutive blocks of ``counts[i]`` rows of a sparse or dense matrix."""
    n = len(counts)
    owners = np.repeat(np.arange(n), counts)
    scale = 1.0 / np.repeat(np.maximum(counts, 1), counts)
    averaging = sp.csr_matrix((scale, (owners, np.arange(owners.size))), shape=(n, owners.size))
    return averaging @ matrix
