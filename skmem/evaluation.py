"""The evaluation protocol: one fold rule, one metric registry, one out-of-fold routine.

Everything in skmem that estimates performance on held-out clips goes through
this module: :func:`cross_validation_table` (and ``skmem cv``), the
out-of-fold predictions of :class:`~skmem.RankFusionRegressor` and the
objective of :func:`skmem.tuning.tune`. Changing the protocol (how folds are
drawn, what a metric means) is a change to this file alone.

- **Folds** (:func:`make_folds`): an int ``k`` means ``KFold(k, shuffle=True)``
  seeded by ``random_state``. Folds are always reproducible: ``None`` means
  the default seed :data:`DEFAULT_SEED`, and a ``RandomState`` gives the seed
  it draws. A splitter is used as given (it must return the same folds on
  every call to ``split``).
- **Metrics** (:data:`METRICS`, :func:`get_metric`): each knows whether higher
  is better and gives the scikit-learn scorer and the tuning objective
  (maximised) derived from it.
- **Out-of-fold predictions** (:func:`out_of_fold`): one clone per fold,
  fitted on the other folds (with their rows of any sample-aligned fit
  parameters, e.g. an auxiliary target); an optional per-fold callback sees
  the predictions as they come (pruning, progress).
"""

import numbers
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import make_scorer
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import check_random_state

from skmem.metrics import mse_score, pearson_score, spearman_score

__all__ = [
    "DEFAULT_SEED",
    "METRICS",
    "SCORING_NAMES",
    "CrossValidationResult",
    "Metric",
    "check_params",
    "cross_validation_table",
    "fit_predict",
    "fold_params",
    "get_metric",
    "make_folds",
    "out_of_fold",
    "shuffled_folds",
    "take_rows",
]

#: Seed of the folds when ``random_state`` is None.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Metric:
    """A metric of ``(y_true, y_pred)`` and the direction in which it improves.

    Attributes
    ----------
    name : str
    function : callable
        ``function(y_true, y_pred) -> float``.
    greater_is_better : bool
    """

    name: str
    function: object
    greater_is_better: bool = True

    def __call__(self, y_true, y_pred):
        return float(self.function(y_true, y_pred))

    def objective(self, y_true, y_pred):
        """The value to maximise: the metric, negated when lower is better."""
        value = self(y_true, y_pred)
        return value if self.greater_is_better else -value

    def scorer(self):
        """The scikit-learn scorer (``scoring=`` of searches and ``cross_val_score``)."""
        return make_scorer(self.function, greater_is_better=self.greater_is_better)


#: The metrics by name. Spearman's rho is the official metric of the MediaEval task.
METRICS = {
    "spearman": Metric("spearman", spearman_score),
    "pearson": Metric("pearson", pearson_score),
    "mse": Metric("mse", mse_score, greater_is_better=False),
}
_ALIASES = {"neg_mean_squared_error": "mse"}
#: Every name :func:`get_metric` takes.
SCORING_NAMES = tuple(sorted([*METRICS, *_ALIASES]))


def get_metric(scoring):
    """The :class:`Metric` named ``scoring`` (or ``"neg_mean_squared_error"``), or wrapping a callable.

    A callable ``metric(y_true, y_pred)`` is taken as higher-is-better.
    """
    if isinstance(scoring, Metric):
        return scoring
    if callable(scoring):
        return Metric(getattr(scoring, "__name__", "metric"), scoring)
    name = _ALIASES.get(scoring, scoring) if isinstance(scoring, str) else None
    if name not in METRICS:
        raise ValueError(
            f"scoring must be one of {list(SCORING_NAMES)} or a function metric(y_true, y_pred), "
            f"got {scoring!r}"
        )
    return METRICS[name]


def _fold_seed(random_state):
    if random_state is None:
        return DEFAULT_SEED
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def make_folds(cv=5, *, random_state=DEFAULT_SEED, n_samples=None, name="cv"):
    """The cross-validation splitter of the protocol.

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test), default=5
        An int ``k >= 2``: ``KFold(k, shuffle=True)`` seeded by ``random_state``.
    random_state : int, RandomState or None, default=0
        Seed of the shuffled folds (None: :data:`DEFAULT_SEED`).
    n_samples : int, optional
        When given, ``k`` folds need at least ``k`` samples (and 2 per fold
        to train on the others): an error names the option otherwise.
    name : str, default="cv"
        The option named in errors (``"--folds"`` on the command line).
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"{name} must be at least 2 folds, got {cv}")
        if n_samples is not None and cv > n_samples:
            raise ValueError(f"{name}={cv} folds need at least {cv} samples, got n_samples={n_samples}")
        return KFold(int(cv), shuffle=True, random_state=_fold_seed(random_state))
    return check_cv(cv, classifier=False)


def shuffled_folds(n_splits=5, random_state=DEFAULT_SEED):
    """Shuffled, seeded ``KFold``: :func:`make_folds` of an int."""
    return make_folds(n_splits, random_state=random_state)


def take_rows(data, indices):
    """Rows ``indices`` of an array, sparse matrix, DataFrame, Series or list."""
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    if hasattr(data, "shape"):
        return data[indices]
    return [data[i] for i in indices]


def fold_params(params, indices):
    """The rows ``indices`` of each sample-aligned fit parameter in ``params``."""
    return {name: take_rows(value, indices) for name, value in (params or {}).items()}


def check_params(params, n_samples):
    """``params`` as a dict of sample-aligned values, each of length ``n_samples`` (an error names the one that is not)."""
    params = dict(params or {})
    for name, value in params.items():
        if len(value) != n_samples:
            raise ValueError(f"fit parameter {name!r} has {len(value)} values for {n_samples} samples")
    return params


def _all_rows(indices):
    return nullcontext()


def fit_predict(model, X, y, train, test, params=None, rows=_all_rows):
    """Fit ``model`` on the rows ``train``; its predictions of the rows ``test`` as a 1-D float array."""
    with rows(train):
        model.fit(take_rows(X, train), take_rows(y, train), **fold_params(params, train))
    with rows(test):
        predicted = model.predict(take_rows(X, test))
    return np.asarray(predicted, dtype=np.float64).reshape(len(test), -1)[:, 0]


def out_of_fold(estimator, X, y, folds, *, params=None, rows=None, prepare=None, on_fold=None, n_jobs=None):
    """Predict every sample with a clone of ``estimator`` fitted on the other folds.

    Parameters
    ----------
    estimator : estimator
        Cloned for each fold, never fitted in place.
    X, y : array-like, DataFrame or list
    folds : list of (train, test) index arrays
        E.g. ``list(make_folds(5).split(X, y))``; every sample in at most one test fold.
    params : dict, optional
        Fit parameters, each sample-aligned (one value per row of ``X``, e.g.
        ``{"auxiliary": short_term}``): each fold's fit gets its rows.
    rows : callable, optional
        ``rows(indices)`` returns a context manager entered around each fit
        and prediction with the row indices it is given (a composite uses it
        to serve work computed once on every row).
    prepare : callable, optional
        ``prepare(fold, model) -> model``, applied to each fold's clone before
        it is fitted (e.g. to attach a pruning callback to the first fold).
    on_fold : callable, optional
        ``on_fold(fold, test, predictions)`` after each fold, in order, with
        the predictions of the folds done so far (NaN elsewhere); it may
        raise to stop (e.g. ``optuna.TrialPruned``).
    n_jobs : int, optional
        Folds fitted in parallel (joblib) when neither callback is given.

    Returns
    -------
    predictions : ndarray of shape (n_samples,), float64
        NaN for samples in no test fold.
    """
    y = np.asarray(y)
    params = check_params(params, len(y))
    rows = _all_rows if rows is None else rows
    predictions = np.full(len(y), np.nan)
    if prepare is None and on_fold is None and n_jobs not in (None, 1):
        results = Parallel(n_jobs=n_jobs)(
            delayed(fit_predict)(clone(estimator), X, y, train, test, params, rows) for train, test in folds
        )
        for (_, test), predicted in zip(folds, results):
            predictions[test] = predicted
        return predictions
    for fold, (train, test) in enumerate(folds):
        model = clone(estimator)
        if prepare is not None:
            model = prepare(fold, model)
        predictions[test] = fit_predict(model, X, y, train, test, params, rows)
        if on_fold is not None:
            on_fold(fold, test, predictions)
    return predictions


@dataclass
class CrossValidationResult:
    """What :func:`cross_validation_table` measured.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``): ``<metric>_mean`` and
        ``<metric>_std`` over folds for every metric of :data:`METRICS`, and
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


def cross_validation_table(models, X, y, *, cv=5, random_state=DEFAULT_SEED, params=None, n_jobs=None):
    """Cross-validate several models on the same folds.

    Each model is fitted once per fold (:func:`out_of_fold`); per-fold scores
    and the pooled score are computed from the same out-of-fold predictions.

    Parameters
    ----------
    models : dict
        ``name -> estimator`` (cloned, never fitted in place).
    X : array-like or DataFrame
        Inputs of every model.
    y : array-like of shape (n,)
        Targets.
    cv : int or cross-validation splitter, default=5
        See :func:`make_folds`.
    random_state : int, default=0
        Seed of the folds when ``cv`` is an int.
    params : dict, optional
        Sample-aligned fit parameters of every model (see :func:`out_of_fold`).
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).

    Returns
    -------
    result : CrossValidationResult
    """
    y = np.asarray(y, dtype=float)
    folds = list(make_folds(cv, random_state=random_state, n_samples=len(y)).split(X, y))
    rows, fold_scores, predictions = {}, {}, {}
    for name, model in models.items():
        predicted = out_of_fold(model, X, y, folds, params=params, n_jobs=n_jobs)
        scores = {
            metric: np.array([METRICS[metric](y[test], predicted[test]) for _, test in folds]) for metric in METRICS
        }
        row = {f"{metric}_{stat}": float(getattr(np, stat)(values)) for metric, values in scores.items() for stat in ("mean", "std")}
        row["spearman_pooled"] = METRICS["spearman"](y, predicted)
        rows[name] = row
        fold_scores[name] = {metric: values.tolist() for metric, values in scores.items()}
        predictions[name] = predicted
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    return CrossValidationResult(table, fold_scores, predictions)
