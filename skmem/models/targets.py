"""Targets a model trains on: :class:`AuxiliaryTargetRegressor`."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from skmem._params import HasMethods, Interval
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
    to the scale of ``y``. The auxiliary column is used in ``fit`` only:
    predictions never read it.

    Parameters
    ----------
    estimator : regressor
        Fitted on the blended target; receives ``X`` unchanged.
    column : str, default="short_term"
        Column of the ``X`` DataFrame holding the auxiliary target.
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
        "column": [str],
        "weight": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, estimator, *, column="short_term", weight=0.5):
        self.estimator = estimator
        self.column = column
        self.weight = weight

    def fit(self, X, y):
        """Fit ``estimator`` on the blended target."""
        self._validate_params()
        if not hasattr(X, "columns") or self.column not in X.columns:
            found = list(X.columns) if hasattr(X, "columns") else f"an array of shape {np.shape(X)}"
            raise ValueError(f"column={self.column!r}: X must be a DataFrame with that column; got {found}")
        y = check_target(y, len(X), dtype=np.float64)
        auxiliary = check_target(X[self.column].to_numpy(), len(X), name=f"X[{self.column!r}]", dtype=np.float64)
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
