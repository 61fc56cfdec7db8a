"""Rank and regression metrics for memorability prediction.

Spearman's rank correlation is the official metric of the MediaEval
"Predicting Media Memorability" task. Ties are ranked by their average rank,
as :func:`scipy.stats.spearmanr` does.

A constant prediction (or constant targets) has no rank order; its
correlation is undefined. :func:`spearman_score` and :func:`pearson_score`
return ``0.0`` in that case, with no warning, so that a degenerate candidate in
a grid search scores as "no better than chance" instead of crashing the search
or winning it with ``nan``.
"""

import numpy as np
from scipy import stats
from sklearn.metrics import make_scorer, mean_squared_error

from skmem._params import StrOptions, check_constraints

__all__ = [
    "rank",
    "spearman_score",
    "pearson_score",
    "mse_score",
    "spearman_scorer",
    "pearson_scorer",
]

_RANK_CONSTRAINTS = {"method": [StrOptions({"average", "min", "max", "dense", "ordinal"})]}


def rank(values, method="average"):
    """Rank values, 1 for the smallest.

    Parameters
    ----------
    values : array-like of shape (n,)
    method : {"average", "min", "max", "dense", "ordinal"}
        How ties are ranked (see :func:`scipy.stats.rankdata`).

    Returns
    -------
    ranks : ndarray of shape (n,), float64
    """
    check_constraints(_RANK_CONSTRAINTS, {"method": method}, "rank")
    values = _as_1d(values, "values")
    return stats.rankdata(values, method=method).astype(np.float64)


def _as_1d(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity")
    return a


def _pair(y_true, y_pred):
    y_true = _as_1d(y_true, "y_true")
    y_pred = _as_1d(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(y_true)} != {len(y_pred)}"
        )
    return y_true, y_pred


def _correlation(statistic, y_true, y_pred):
    """``statistic(y_true, y_pred).statistic``, or 0.0 when either side is constant."""
    y_true, y_pred = _pair(y_true, y_pred)
    if len(y_true) < 2:
        raise ValueError("a correlation needs at least 2 samples")
    if np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return 0.0
    return float(statistic(y_true, y_pred).statistic)


def spearman_score(y_true, y_pred):
    """Spearman's rank correlation ρ (average ranks for ties).

    Returns 0.0 when either input is constant (ρ is undefined there).
    """
    return _correlation(stats.spearmanr, y_true, y_pred)


def pearson_score(y_true, y_pred):
    """Pearson's linear correlation r. Returns 0.0 when either input is constant."""
    return _correlation(stats.pearsonr, y_true, y_pred)


def mse_score(y_true, y_pred):
    """Mean squared error (lower is better)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(mean_squared_error(y_true, y_pred))


spearman_scorer = make_scorer(spearman_score)
pearson_scorer = make_scorer(pearson_score)
