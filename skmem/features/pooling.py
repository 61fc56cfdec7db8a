"""Temporal pooling: per-frame features to one vector per clip."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from skmem._params import StrOptions
from skmem._validation import check_array_nd

__all__ = ["TemporalPooling"]

METHODS = ("mean", "max", "meanstd", "flatten")


class TemporalPooling(TransformerMixin, BaseEstimator):
    """Pool ``(n, T, D)`` frame features into ``(n, D')`` clip features.

    Lets Ridge, SVR or any scikit-learn regressor follow a
    :class:`~skmem.CNNFeaturizer` in one pipeline.

    Parameters
    ----------
    method : {"mean", "max", "meanstd", "flatten"}, default="mean"
        ``"mean"``/``"max"`` over time (and locations for 4-D input) give
        ``D`` columns; ``"meanstd"`` concatenates mean and standard deviation
        (``2 D``); ``"flatten"`` keeps every frame (``T * D``, or
        ``T * L * D``). 2-D input is treated as ``T = 1``.

    Attributes
    ----------
    n_features_in_ : int
        ``D``, the last axis of the input.
    input_shape_ : tuple
        Shape of one sample seen in ``fit``, without the sample axis.
    """

    _parameter_constraints = {"method": [StrOptions(set(METHODS))]}

    def __init__(self, method="mean"):
        self.method = method

    def fit(self, X, y=None):
        """Record the input shape."""
        self._validate_params()
        X = _as_float(X)
        self.input_shape_ = X.shape[1:]
        self.n_features_in_ = X.shape[-1]
        return self

    def transform(self, X):
        """Pool ``X`` of shape ``(n, D)``, ``(n, T, D)`` or ``(n, T, L, D)``."""
        check_is_fitted(self, "input_shape_")
        X = _as_float(X)
        if X.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[-1]} features, but TemporalPooling is expecting "
                f"{self.n_features_in_} features as input"
            )
        if self.method == "flatten" and X.shape[1:] != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but TemporalPooling was fitted "
                f"on {self.input_shape_}"
            )
        if self.method == "flatten":
            return X.reshape(len(X), -1)
        frames = X.reshape(len(X), -1, X.shape[-1])
        if self.method == "mean":
            return frames.mean(axis=1)
        if self.method == "max":
            return frames.max(axis=1)
        return np.concatenate([frames.mean(axis=1), frames.std(axis=1)], axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __skmem_search_space__(self, X=None, y=None):
        """Optuna distributions of the parameters worth tuning (see :func:`skmem.tuning.search_space`)."""
        from optuna.distributions import CategoricalDistribution

        return {"method": CategoricalDistribution(("mean", "max", "meanstd"))}

    def get_feature_names_out(self, input_features=None):
        """Names of the pooled columns."""
        check_is_fitted(self, "input_shape_")
        d = self.n_features_in_
        if self.method == "flatten":
            return np.asarray([f"x{i}" for i in range(int(np.prod(self.input_shape_)))], dtype=object)
        if self.method == "meanstd":
            return np.asarray([f"mean{i}" for i in range(d)] + [f"std{i}" for i in range(d)], dtype=object)
        return np.asarray([f"{self.method}{i}" for i in range(d)], dtype=object)


def _as_float(X):
    """Validate ``X``; float32/float64 are kept, other types become float64."""
    X = check_array_nd(X, ndims=(2, 3, 4), dtype=None)
    return X if X.dtype in (np.float32, np.float64) else check_array_nd(X, ndims=(2, 3, 4), dtype=np.float64)
