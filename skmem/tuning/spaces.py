"""Search spaces: Optuna distributions for every known step of a (nested) estimator."""

import ast

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution
from scipy import sparse
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.svm import SVR


__all__ = ["search_space", "resolve_params"]


def _log_float(low, high):
    return FloatDistribution(low, high, log=True)


def _svr_space(X, y):
    """C; epsilon as a fraction of std(y); gamma as a multiple of ``"scale"`` of the SVR's input."""
    space = {"C": _log_float(1e-2, 1e2)}
    spread = float(np.std(np.asarray(y, dtype=np.float64))) if y is not None else 0.0
    space["epsilon"] = _log_float(1e-3 * spread, spread) if spread > 0 else _log_float(1e-4, 1e-1)
    return {**space, **_rbf_space(X, y)}


def _rbf_space(X, y):
    """RBF gamma (SVR, Nyström) as a multiple of ``"scale"``, ``1 / (n_features * X.var())``, of the input."""
    features = X() if X is not None else None
    if features is None:
        return {"gamma": _log_float(1e-5, 1e1)}
    if sparse.issparse(features):
        variance = features.multiply(features).mean() - features.mean() ** 2
    else:
        variance = np.asarray(features, dtype=np.float64).var()
    scale = 1.0 / (features.shape[1] * variance) if variance > 0 else 1.0
    return {"gamma": _log_float(1e-2 * scale, 1e2 * scale)}


# Spaces of estimators that do not describe their own (scikit-learn's), checked
# in order with isinstance, so subclasses get their parent's space. A value is a
# dict of distributions or a function of the lazily computed input features and
# the target that returns one. An estimator that describes itself defines
# ``__skmem_search_space__(X, y)`` with the same arguments (X: a function
# returning the features it receives, or None) and returns a dict.
_SPACES = (
    (Ridge, {"alpha": _log_float(1e-3, 1e4)}),
    (SVR, _svr_space),
    (Nystroem, _rbf_space),
)


def _own_space(estimator, X, y):
    describe = getattr(estimator, "__skmem_search_space__", None)
    if describe is not None and not isinstance(estimator, type):
        return dict(describe(X, y))
    for kind, space in _SPACES:
        if isinstance(estimator, kind):
            return space(X, y) if callable(space) else dict(space)
    return {}


def _is_estimator(value):
    return hasattr(value, "get_params") and not isinstance(value, type)


def _children(estimator, X, y):
    """``(set_params prefix, child, lazy input of the child, target of the child)`` of a meta-estimator.

    Children are estimator-valued parameters (``regressor=``) and the named
    members of compositions (``steps``, ``transformers``, ``transformer_list``,
    ``estimators``). The final step of a Pipeline sees the output of the steps
    before it; members of a ColumnTransformer see column subsets, so no data is
    passed to them; the regressor of a TransformedTargetRegressor sees the
    transformed target; any other child sees its parent's input and target.
    """
    if isinstance(estimator, Pipeline):
        *head, (name, last) = estimator.steps
        for step_name, step in head:
            yield step_name, step, None, None
        if X is not None and head:
            yield name, last, lambda: clone(estimator[:-1]).fit_transform(X(), y), y
        else:
            yield name, last, X, y
        return
    data = None if isinstance(estimator, ColumnTransformer) else X
    if isinstance(estimator, TransformedTargetRegressor) and y is not None:
        y = _transformed_target(estimator, y)
    for param, value in estimator.get_params(deep=False).items():
        if _is_estimator(value):
            yield param, value, data, y
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], str) and _is_estimator(item[1]):
                    yield item[0], item[1], data, y


def _transformed_target(estimator, y):
    """The target the regressor of a TransformedTargetRegressor is fitted on."""
    column = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    if estimator.transformer is not None:
        return clone(estimator.transformer).fit_transform(column).ravel()
    if estimator.func is not None:
        return np.asarray(estimator.func(column), dtype=np.float64).ravel()
    return column.ravel()


def _collect(estimator, prefix, X, y):
    if not _is_estimator(estimator):  # "passthrough", "drop", None
        return {}
    space = {prefix + name: dist for name, dist in _own_space(estimator, X, y).items()}
    for name, child, data, target in _children(estimator, X, y):
        space.update(_collect(child, f"{prefix}{name}__", data, target))
    return space


def search_space(estimator, overrides=None, *, X=None, y=None):
    """Optuna distributions for the hyper-parameters of ``estimator``.

    Parameters
    ----------
    estimator : estimator
        A skmem or scikit-learn estimator, or any composition of them:
        ``Pipeline``, ``ColumnTransformer``, ``FeatureUnion``,
        :class:`~skmem.models.fusion.RankFusionRegressor` and other
        meta-estimators are searched recursively. Keys are the full nested
        names :meth:`set_params` takes
        (``"preprocess__text__captionvectorizer__min_df"``); steps without a
        known space are left out. Known: scikit-learn's Ridge, SVR and
        Nystroem, and every estimator that describes its own space with
        ``__skmem_search_space__(X, y)`` (skmem's TemporalPooling,
        CaptionVectorizer, CaptionEmbedder, RankFusionRegressor and deep
        regressors, or one of yours).
    overrides : dict, optional
        Distributions that replace or extend the defaults, by the same
        names; a value of None removes that parameter from the space.
    X, y : array-like, optional
        Training data, to scale ranges to it. SVR ``epsilon`` then spans
        ``[1e-3, 1] * std(y)`` and ``gamma`` spans ``[1e-2, 1e2]`` times
        ``"scale"`` (``1 / (n_features * X.var())``) of the data the SVR
        receives, which fits the steps before it on ``X`` once, with their
        current parameters. Without data, fixed ranges that hold the usual
        values are used.

    Returns
    -------
    dict of str to optuna.distributions.BaseDistribution
        Tuple-valued parameters (``ngram_range``) are sampled as their text;
        :func:`resolve_params` turns sampled values into ``set_params``
        values.

    Raises
    ------
    ValueError
        When the space ends up empty, or an override names no parameter of
        ``estimator`` or is not an Optuna distribution.
    """
    features = None if X is None else (lambda: X)
    space = _collect(estimator, "", features, y)
    valid = estimator.get_params(deep=True)
    for name, dist in (overrides or {}).items():
        if name not in valid:
            raise ValueError(
                f"overrides: {name!r} is not a parameter of {type(estimator).__name__}; "
                f"valid names include {sorted(valid)[:12]}"
            )
        if dist is None:
            space.pop(name, None)
        elif isinstance(dist, BaseDistribution):
            space[name] = dist
        else:
            raise ValueError(f"overrides: {name!r} must be an optuna distribution or None, got {dist!r}")
    if not space:
        raise ValueError(
            f"no search space is known for {type(estimator).__name__}; pass its distributions "
            "as overrides (search_space) or param_distributions (tune)"
        )
    return space


def resolve_params(estimator, params):
    """Sampled values as :meth:`set_params` values for ``estimator``.

    A text value for a parameter whose current value is a tuple (such as
    ``"(1, 2)"`` for ``ngram_range``) is read back as that tuple; every other
    value is kept.
    """
    current = estimator.get_params(deep=True)
    return {
        name: ast.literal_eval(value) if isinstance(value, str) and isinstance(current.get(name), tuple) else value
        for name, value in params.items()
    }
