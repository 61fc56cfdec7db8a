"""Parameter constraints, declared once per estimator class.

skmem estimators declare ``_parameter_constraints`` the way scikit-learn's
do and call :meth:`sklearn.base.BaseEstimator._validate_params` at the start
of ``fit``: an invalid value raises :class:`InvalidParameterError` (a
``ValueError``) naming the parameter, the class and what was expected.

The constraint types and the validator live in a private scikit-learn module;
this is the one place skmem imports them from, so a change there touches one
file (``tests/test_params.py`` checks them against the installed version).
The same goes for :class:`BaseComposition`, scikit-learn's base of estimators
whose parameters include a list of named estimators (``Pipeline``,
``VotingRegressor``), which routes ``<member>__<param>`` names, and for
``safe_indexing`` and ``num_samples`` (rows or columns of any input, as
scikit-learn's cross-validation takes them, and their count).
"""

from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition
from sklearn.utils.validation import _num_samples as num_samples

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "check_constraints",
    "num_samples",
    "safe_indexing",
]


def check_constraints(constraints, params, owner):
    """Validate ``params`` (a dict) against ``constraints``, naming ``owner`` in errors.

    For parameters that are not an estimator's own (a nested settings dict, a
    function's arguments); estimators use ``self._validate_params()``.
    """
    validate_parameter_constraints(constraints, params, caller_name=owner)
