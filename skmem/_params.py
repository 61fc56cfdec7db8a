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
:func:`final_step` finds the estimator that ends a composition, and the
``set_params`` prefix that reaches it.
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
    "final_step",
    "num_samples",
    "safe_indexing",
]


def check_constraints(constraints, params, owner):
    """Validate ``params`` (a dict) against ``constraints``, naming ``owner`` in errors.

    For parameters that are not an estimator's own (a nested settings dict, a
    function's arguments); estimators use ``self._validate_params()``.
    """
    validate_parameter_constraints(constraints, params, caller_name=owner)


#: Parameters through which a single-child wrapper (``AuxiliaryTargetRegressor``,
#: ``TransformedTargetRegressor``) holds the estimator it fits.
_WRAPPED = ("estimator", "regressor")


def final_step(estimator):
    """``(prefix, step)``: the estimator that ends ``estimator``, and the ``set_params`` prefix that reaches it.

    Goes down the last step of a ``Pipeline`` and into the ``estimator`` or
    ``regressor`` of a single-child wrapper, until neither applies.

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import Ridge
    >>> final_step(make_pipeline(StandardScaler(), Ridge()))
    ('ridge__', Ridge())
    """
    prefix = ""
    while True:
        steps = getattr(estimator, "steps", None)
        if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
            name, estimator = steps[-1]
            prefix += f"{name}__"
            continue
        params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
        wrapped = [name for name in _WRAPPED if hasattr(params.get(name), "get_params")]
        if len(wrapped) != 1:
            return prefix, estimator
        prefix += f"{wrapped[0]}__"
        estimator = params[wrapped[0]]
