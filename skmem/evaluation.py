"""Comparing models by cross-validation: :func:`cross_validation_table`."""

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, check_cv, cross_val_predict

from skmem.metrics import mse_score, pearson_score, spearman_score

__all__ = ["CrossValidationResult", "cross_validation_table", "shuffled_folds"]

METRICS = {"spearman": spearman_score, "pearson": pearson_score, "mse": mse_score}


@dataclass
class CrossValidationResult:
    """What :func:`cross_validation_table` measured.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``): ``<metric>_mean`` and
        ``<metric>_std`` over folds for Spearman, Pearson and MSE, and
        ``spearman_pooled``, Spearman's rho of the out-of-fold predictions of
        every clip at once (the figure MediaEval reports).
    fold_scores : dict
        ``model -> metric -> list`` of per-fold values.
    predictions : dict
        ``model -> ndarray`` of out-of-fold predictions, in the order of ``y``.
    """

    table: pd.DataFrame
    fold_scores: dict
    predictions: dict


def shuffled_folds(n_splits=5, random_state=0):
    """The folds skmem uses by default: shuffled, seeded ``KFold``."""
    return KFold(n_splits, shuffle=True, random_state=random_state)


def cross_validation_table(models, X, y, *, cv=5, random_state=0, n_jobs=None):
    """Cross-validate several models on the same folds.

    Each model is fitted once per fold (:func:`~sklearn.model_selection.cross_val_predict`);
    per-fold scores and the pooled score are computed from the same
    out-of-fold predictions.

    Parameters
    ----------
    models : dict
        ``name -> estimator`` (cloned, never fitted in place).
    X : array-like or DataFrame
        Inputs of every model.
    y : array-like of shape (n,)
        Targets.
    cv : int or cross-validation splitter, default=5
        An int gives :func:`shuffled_folds` seeded with ``random_state``; a
        splitter must give the same folds on every call to ``split``.
    random_state : int, default=0
        Seed of the folds when ``cv`` is an int.
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).

    Returns
    -------
    result : CrossValidationResult
    """
    y = np.asarray(y, dtype=float)
    splitter = shuffled_folds(cv, random_state) if isinstance(cv, numbers.Integral) else check_cv(cv)
    folds = [test for _, test in splitter.split(X, y)]
    rows, fold_scores, predictions = {}, {}, {}
    for name, model in models.items():
        predicted = np.asarray(cross_val_predict(model, X, y, cv=splitter, n_jobs=n_jobs), dtype=float)
        scores = {metric: np.array([score(y[test], predicted[test]) for test in folds]) for metric, score in METRICS.items()}
        row = {f"{metric}_{stat}": float(getattr(np, stat)(values)) for metric, values in scores.items() for stat in ("mean", "std")}
        row["spearman_pooled"] = spearman_score(y, predicted)
        rows[name] = row
        fold_scores[name] = {metric: values.tolist() for metric, values in scores.items()}
        predictions[name] = predicted
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    return CrossValidationResult(table, fold_scores, predictions)
