"""Fit-free steps of composite members, computed once per clip and served by row.

A transformer that learns nothing (its scikit-learn tags say
``requires_fit=False``: a featurizer with fixed weights, a file loader, a
fixed function) gives every row the same output whatever rows it was fitted
on. When several members of a fusion, and every fold of its cross-validation,
run the same such step on the same columns, its outputs on all rows can be
computed once and each fit or prediction served the rows it is given.

:func:`share_fit_free` wraps such steps of an unfitted member in
:class:`SharedStep`; :func:`compute_shared` computes their outputs on ``X``;
inside :func:`serving`, a :class:`SharedStep` returns the outputs of the rows
it is given instead of calling its transformer.
"""

from contextlib import contextmanager
from contextvars import ContextVar

import joblib
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from skmem._params import num_samples, safe_indexing

__all__ = ["SharedStep", "compute_shared", "serving", "share_fit_free", "transform_shared"]

# key -> outputs of the rows of the fit or prediction in progress (this thread or task only)
_SERVED = ContextVar("skmem_served_outputs", default=None)


def _is_fit_free(step):
    if isinstance(step, (str, SharedStep)) or step is None or not hasattr(step, "transform"):
        return False
    try:
        return get_tags(step).requires_fit is False
    except (TypeError, AttributeError, ValueError):
        return False


class SharedStep(TransformerMixin, BaseEstimator):
    """A fit-free transformer whose outputs a composite computes once and serves by row.

    Outside :func:`serving` (or for a ``key`` not served) it is its
    transformer: ``transform`` calls the fitted ``transformer_``.

    Parameters
    ----------
    transformer : transformer
        A transformer whose tags say ``requires_fit=False``.
    key : str
        Identity of the work: the hash of the unfitted transformer and of the
        column selections that lead to it. Equal keys compute equal outputs.

    Attributes
    ----------
    transformer_ : transformer
        ``transformer`` fitted (it learns nothing) on the input of ``fit``.
    """

    def __init__(self, transformer, key):
        self.transformer = transformer
        self.key = key

    def fit(self, X, y=None):
        """Fit a clone of ``transformer`` (which reads no data)."""
        self.transformer_ = clone(self.transformer).fit(X, y)
        return self

    def transform(self, X):
        """The served outputs of the rows of ``X``, or the transformer's own."""
        check_is_fitted(self, "transformer_")
        served = _SERVED.get()
        if served is None or self.key not in served:
            return self.transformer_.transform(X)
        outputs = served[self.key]
        if num_samples(outputs) != num_samples(X):
            raise ValueError(
                f"{type(self.transformer).__name__}: {num_samples(X)} rows given where the "
                f"fit or prediction in progress serves {num_samples(outputs)}"
            )
        return outputs

    def get_feature_names_out(self, input_features=None):
        """Feature names of the fitted transformer."""
        check_is_fitted(self, "transformer_")
        return self.transformer_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.transformer).input_tags
        return tags


def _wrap(step, chain, found):
    """``step`` with its reachable fit-free steps wrapped (in place for compositions)."""
    if isinstance(step, Pipeline) and step.steps:
        name, first = step.steps[0]
        wrapped = _wrap(first, chain, found)
        if wrapped is not first:
            step.set_params(**{name: wrapped})
        return step
    if isinstance(step, ColumnTransformer):
        for name, transformer, columns in list(step.transformers):
            wrapped = _wrap(transformer, chain + (columns,), found)
            if wrapped is not transformer:
                step.set_params(**{name: wrapped})
        return step
    if _is_fit_free(step):
        key = joblib.hash((chain, clone(step)))
        found.setdefault(key, (chain, step))
        return SharedStep(step, key)
    return step


def share_fit_free(estimator):
    """A clone of ``estimator`` whose fit-free steps are :class:`SharedStep`.

    Fit-free steps are found where the input of ``estimator`` reaches them
    through column selections only: the first step of a Pipeline, each
    transformer of a ColumnTransformer, recursively.

    Returns
    -------
    estimator : estimator
        The clone.
    found : dict
        key -> ``(column selections, unfitted transformer)``.
    """
    found = {}
    return _wrap(clone(estimator), (), found), found


def _select(X, chain):
    for columns in chain:
        X = safe_indexing(X, columns(X) if callable(columns) else columns, axis=1)
    return X


def compute_shared(specs, X):
    """Outputs on ``X`` of each ``key -> (column selections, transformer)``, fitted once each.

    Returns
    -------
    outputs : dict
        key -> outputs of every row of ``X``.
    fitted : dict
        key -> ``(column selections, fitted transformer)``, for :func:`transform_shared`.
    """
    outputs, fitted = {}, {}
    for key, (chain, transformer) in specs.items():
        data = _select(X, chain)
        transformer = clone(transformer).fit(data)
        outputs[key] = transformer.transform(data)
        fitted[key] = (chain, transformer)
    return outputs, fitted


def transform_shared(fitted, X):
    """Outputs on ``X`` of the fitted transformers of :func:`compute_shared`."""
    return {key: transformer.transform(_select(X, chain)) for key, (chain, transformer) in fitted.items()}


@contextmanager
def serving(outputs, rows=None):
    """Serve ``outputs`` (of every row) restricted to ``rows`` to the :class:`SharedStep` run inside."""
    if rows is not None:
        outputs = {key: safe_indexing(values, rows) for key, values in outputs.items()}
    token = _SERVED.set(outputs)
    try:
        yield
    finally:
        _SERVED.reset(token)
