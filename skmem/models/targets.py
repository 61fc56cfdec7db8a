"""Targets a model trains on: :class:`AuxiliaryTargetRegressor`."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from skmem._params import HasMethods, Interval, num_samples
from skmem._validation import check_target

__all__ = ["AuxiliaryTargetRegressor"]


class AuxiliaryTargetRegressor(RegressorMixin, BaseEstimator):
    """Fit on a blend of the target and a less noisy auxiliary target read from ``X``.

    Long-term memorability is measured with fewer annotations per clip than
    short-term memorability and is noisier; the two are correlated, and
    models trained on short-term scores rank long-term memorability about as
    well as models trained on the long-term scores themselves. This wrapper
    trains ``estimator`` on ``weight * z(aux) + (1 - weight) * z(y)``
    (``z``: standardised on the training data) and maps its predictions back
    to the scale of ``y``. The auxiliary target is used in ``fit`` only:
    predictions never read it. It is given to ``fit`` as ``auxiliary=`` (any
    input: arrays of frame features too; cross-validation and searches pass
    each fold its rows, as they do every sample-aligned fit parameter) or
    read from the column ``column`` of a DataFrame ``X``.

    Parameters
    ----------
    estimator : regressor
        Fitted on the blended target; receives ``X`` unchanged.
    column : str or None, default="short_term"
        Column of a DataFrame ``X`` holding the auxiliary target, read when
        ``fit`` is not given ``auxiliary``.
    weight : float in [0, 1], default=0.5
        0 trains on ``y`` alone, 1 on the auxiliary target alone.

    Attributes
    ----------
    estimator_ : regressor
        The fitted ``estimator``.
    target_mean_, target_std_ : float
        Mean and standard deviation of ``y``.
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "column": [str, None],
        "weight": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, estimator, *, column="short_term", weight=0.5):
        self.estimator = estimator
        self.column = column
        self.weight = weight

    def fit(self, X, y, auxiliary=None):
        """Fit ``estimator`` on the blended target.

        Parameters
        ----------
        X : array-like or DataFrame
        y : array-like of shape (n_samples,)
        auxiliary : array-like of shape (n_samples,), optional
            The auxiliary target; ``X[column]`` when not given.
        """
        self._validate_params()
        n_samples = num_samples(X)
        y = check_target(y, n_samples, dtype=np.float64)
        if auxiliary is not None:
            auxiliary = check_target(auxiliary, n_samples, name="auxiliary", dtype=np.float64)
        elif self.column is not None and hasattr(X, "columns") and self.column in X.columns:
            auxiliary = check_target(X[self.column].to_numpy(), n_samples, name=f"X[{self.column!r}]", dtype=np.float64)
        else:
            found = list(X.columns) if hasattr(X, "columns") else f"an array of shape {np.shape(X)}"
            raise ValueError(
                f"no auxiliary target: give fit(..., auxiliary=...) or a DataFrame X with the column "
                f"column={self.column!r}; got {found}"
            )
        self.target_mean_, self.target_std_ = float(y.mean()), float(y.std()) or 1.0
        blended = self.weight * _standardised(auxiliary) + (1 - self.weight) * _standardised(y)
        self.estimator_ = clone(self.estimator).fit(X, blended)
        return self

    def predict(self, X):
        """Predictions on the scale of ``y``."""
        check_is_fitted(self, "estimator_")
        return self.target_mean_ + self.target_std_ * np.asarray(self.estimator_.predict(X), dtype=np.float64)


def _standardised(values):
    std = values.std()
    return (values - values.mean()) / (std if std > 0 else 1.0)
