"""The contract every public skmem estimator passes, for skmem and for estimators built on it.

scikit-learn's :func:`~sklearn.utils.estimator_checks.check_estimator` feeds
2-D numeric arrays, while most skmem estimators take clip paths, frames,
feature sequences, captions or descriptor ids. This module runs
scikit-learn's checks where an estimator accepts 2-D arrays and skmem's own
checks on small data of the estimator's input kind: cloning,
``get_params``/``set_params``, unknown parameter names, invalid parameter
values, ``NotFittedError``, pickling, fit idempotence, ``n_features_in_``,
``random_state``, batch invariance, and ``transform``/``predict`` leaving the
estimator unchanged but for its per-call ``report_``.

Check a subclass of your own::

    from skmem.utils.estimator_checks import check_skmem_estimator

    check_skmem_estimator(MyLSTM(hidden_size=8, max_epochs=2), "sequences")

or one pytest test per check (expected failures are strict ``xfail``)::

    from skmem.utils.estimator_checks import parametrize_skmem_checks

    @parametrize_skmem_checks([(MyLSTM(hidden_size=8, max_epochs=2), "sequences")])
    def test_contract(estimator, check):
        check(estimator)

Input kinds (:data:`DATA_KINDS`) and what :func:`make_contract_data` writes
or builds for them:

``"clip_paths"``
    3 short VP9 clips of 32x32 frames, written to a folder; ``X`` a list of paths.
``"frames"``
    uint8 clips ``(3, 2, 32, 32, 3)``.
``"table"``
    float64 ``(30, 4)``.
``"auxiliary_table"``
    a DataFrame of 30 rows: 4 float columns and a ``short_term`` column
    holding a second target (what :class:`~skmem.models.targets.AuxiliaryTargetRegressor` reads).
``"sequences"``
    float32 ``(24, 3, 4)``: ``(n, T, D)`` frame features.
``"locations"``, ``"clip_locations"``
    float32 ``(24, 4, 5)`` and ``(24, 2, 4, 5)``: ``(n, L, C)`` and ``(n, T, L, C)``.
``"captions"``
    12 short captions.
``"descriptor_ids"``
    8 clip ids, each with a ``<id>.npy`` descriptor of 6 values in the data folder.

The data, the table of public estimators (:func:`skmem_estimators`) and
their discovery (:func:`all_estimators`) live in :mod:`skmem.utils._instances`;
this module runs the checks and exports those names.
"""

import functools
import inspect
import pickle
import warnings
from unittest import SkipTest

import joblib
import numpy as np
from scipy import sparse
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import estimator_checks_generator, set_random_state

from skmem._params import Interval, InvalidParameterError, StrOptions, check_constraints
from skmem.utils._instances import (
    DATA_KINDS,
    _data,
    all_estimators,
    make_contract_data,
    skmem_estimators,
)

__all__ = [
    "DATA_KINDS",
    "all_estimators",
    "check_skmem_estimator",
    "make_contract_data",
    "parametrize_skmem_checks",
    "skmem_checks",
    "skmem_estimators",
    "uses_sklearn_checks",
]

#: Tolerances of the comparisons between two computations that should agree
#: (float32 networks may round differently by batch size or thread count).
RTOL, ATOL = 1e-5, 1e-6


# -- helpers ---------------------------------------------------------------


def _take(X, indices):
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


def _method(estimator):
    return "predict" if hasattr(estimator, "predict") else "transform"


def _output(estimator, X):
    out = getattr(estimator, _method(estimator))(X)
    return out.toarray() if sparse.issparse(out) else np.asarray(out)


def _seeded(estimator):
    estimator = clone(estimator)
    set_random_state(estimator, 0)
    return estimator


def _fitted(estimator, data):
    estimator = _seeded(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return estimator.fit(data.X, data.y)


def _assert_close(actual, expected, message):
    if np.issubdtype(np.asarray(expected).dtype, np.floating):
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=message)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=message)


def _param_id(value):
    """A comparable form of a parameter value (estimators compare by their repr)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    if any(hasattr(v, "get_params") or isinstance(v, (list, tuple)) for v in items):
        return repr(value)
    return joblib.hash(value)


def _assert_same_params(a, b, message):
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys(), f"{message}: parameters {sorted(pa)} != {sorted(pb)}"
    for name in pa:
        assert _param_id(pa[name]) == _param_id(pb[name]), f"{message}: {name}={pa[name]!r} != {pb[name]!r}"


class _Unlike:
    """A value that no type constraint accepts."""

    def __repr__(self):
        return "<a value of no accepted type>"


def _invalid_value(constraints):
    """A value the constraints refuse (None when they accept anything)."""
    candidates = []
    for c in constraints:
        if isinstance(c, StrOptions):
            candidates.append("not-an-option")
        elif isinstance(c, Interval):
            candidates.append(c.left - 1 if c.left is not None else c.right + 1)
    candidates.append(_Unlike())
    for value in candidates:
        try:
            check_constraints({"value": constraints}, {"value": value}, "probe")
        except InvalidParameterError:
            return value
    return None


# -- the checks --------------------------------------------------------------


def check_clone(estimator, data):
    """A clone has the same parameters, is another object and holds nothing fitted."""
    twin = clone(estimator)
    assert twin is not estimator and type(twin) is type(estimator)
    _assert_same_params(twin, estimator, "clone")
    attributes = {k for k in vars(twin) if not k.startswith("_")}
    # Parameters of a parent's __init__ may be stored too (as scikit-learn allows).
    names = {
        name for cls in type(twin).__mro__ if "__init__" in vars(cls)
        for name in inspect.signature(cls.__init__).parameters
    }
    assert attributes <= names, f"__init__ stores {sorted(attributes - names)} besides its parameters"


def check_get_set_params(estimator, data):
    """``set_params(**get_params())`` changes nothing, shallow and deep."""
    twin = clone(estimator).set_params(**estimator.get_params(deep=False))
    _assert_same_params(twin, estimator, "set_params(**get_params(deep=False))")
    deep = clone(estimator)
    deep.set_params(**deep.get_params(deep=True))
    _assert_same_params(deep, estimator, "set_params(**get_params(deep=True))")


def check_unknown_parameter(estimator, data):
    """A misspelt parameter name fails at ``set_params``, naming it."""
    first = sorted(estimator.get_params(deep=False))[0]
    for name in (first + "x", "not_a_parameter"):
        try:
            clone(estimator).set_params(**{name: 1})
        except ValueError as exc:
            assert name in str(exc), f"set_params({name}=1) raised without naming it: {exc}"
        else:
            raise AssertionError(f"set_params({name}=1) was accepted")


def check_parameter_constraints(estimator, data):
    """Every parameter has declared constraints, and only parameters do."""
    declared = set(getattr(estimator, "_parameter_constraints", {}))
    names = set(estimator.get_params(deep=False))
    assert declared == names, (
        f"{type(estimator).__name__}._parameter_constraints lacks {sorted(names - declared)} "
        f"and declares unknown {sorted(declared - names)}"
    )


def check_invalid_parameter_values(estimator, data):
    """An invalid value of each parameter fails at ``fit`` with a ValueError naming it."""
    constraints = getattr(estimator, "_parameter_constraints", {})
    tried = 0
    for name, rules in constraints.items():
        bad = _invalid_value(rules)
        if bad is None:
            continue
        tried += 1
        model = clone(estimator).set_params(**{name: bad})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                model.fit(data.X, data.y)
        except ValueError as exc:
            assert f"'{name}'" in str(exc) or f"{name}=" in str(exc), (
                f"{name}={bad!r} raised an error that does not name the parameter: {exc}"
            )
        else:
            raise AssertionError(f"fit accepted the invalid value {name}={bad!r}")
    if not tried:
        raise SkipTest("no parameter with checkable constraints")


def check_not_fitted(estimator, data):
    """``predict``/``transform`` before ``fit`` raise ``NotFittedError``."""
    model = clone(estimator)
    try:
        _output(model, data.X)
    except NotFittedError:
        return
    raise AssertionError(f"{_method(model)} before fit did not raise NotFittedError")


def check_fit_returns_self_and_rows(estimator, data):
    """``fit`` returns the estimator; the output has one row per sample (1-D for a regressor)."""
    model = _seeded(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert model.fit(data.X, data.y) is model, "fit did not return self"
    out = _output(model, data.X)
    assert len(out) == len(data.X), f"{len(out)} output rows for {len(data.X)} samples"
    if is_regressor(model):
        assert out.shape == (len(data.X),), f"predict returned shape {out.shape}"
        assert np.all(np.isfinite(out)), "predict returned NaN or infinity"


def check_pickle(estimator, data):
    """Pickling keeps the parameters, and a fitted estimator's output exactly."""
    _assert_same_params(pickle.loads(pickle.dumps(estimator)), estimator, "unpickled unfitted estimator")
    model = _fitted(estimator, data)
    expected = _output(model, data.X)
    np.testing.assert_array_equal(
        _output(pickle.loads(pickle.dumps(model)), data.X), expected, err_msg="unpickled fitted estimator"
    )


def check_refit_forgets_previous_fit(estimator, data):
    """Refitting forgets the previous fit: fit(half) then fit(all) equals fit(all)."""
    expected = _output(_fitted(estimator, data), data.X)
    model = _seeded(estimator)
    half = list(range(len(data.X) // 2 + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(_take(data.X, half), data.y[half])
        model.fit(data.X, data.y)
    _assert_close(_output(model, data.X), expected, "fit(half) then fit(all) differs from fit(all)")


def check_feature_count(estimator, data):
    """``n_features_in_`` appears at ``fit``; other feature counts are refused."""
    assert not hasattr(clone(estimator), "n_features_in_"), "n_features_in_ exists before fit"
    model = _fitted(estimator, data)
    if data.n_features_in is None:
        return
    assert getattr(model, "n_features_in_", None) == data.n_features_in, (
        f"n_features_in_={getattr(model, 'n_features_in_', None)!r} after fit on {data.kind}, "
        f"expected {data.n_features_in}"
    )
    if isinstance(data.X, np.ndarray) and data.X.dtype.kind == "f":
        try:
            _output(model, data.X[..., :-1])
        except ValueError:
            return
        raise AssertionError(
            f"{_method(model)} accepted {data.n_features_in - 1} features after fit on {data.n_features_in}"
        )


def check_random_state(estimator, data):
    """Two fits with the same ``random_state`` (its own or a part's) give the same output."""
    if not any(name == "random_state" or name.endswith("__random_state") for name in estimator.get_params()):
        raise SkipTest("no random_state")
    first = _output(_fitted(estimator, data), data.X)
    _assert_close(_output(_fitted(estimator, data), data.X), first, "same random_state, other output")


def check_batch_invariance(estimator, data):
    """The output for a subset of the samples is that subset of the full output."""
    model = _fitted(estimator, data)
    full = _output(model, data.X)
    n = len(data.X)
    for name, rows in (("first half", list(range(n // 2))), ("reversed", list(range(n))[::-1]), ("one", [n - 1])):
        _assert_close(_output(model, _take(data.X, rows)), full[rows], f"{_method(model)} on {name} of the samples")


#: The one attribute ``transform``/``predict`` may set: the last call's report.
PER_CALL_ATTRIBUTES = frozenset({"report_"})


def _state(estimator):
    """``{name: (object id, digest)}`` of the estimator's attributes; plain data is digested."""
    state = {}
    for name, value in vars(estimator).items():
        plain = isinstance(value, (np.ndarray, list, tuple, dict, set, str, bytes, int, float, bool, type(None)))
        state[name] = (id(value), joblib.hash(value) if plain else None)
    return state


def check_transform_leaves_estimator_unchanged(estimator, data):
    """``transform``/``predict`` leave the fitted estimator as it was, but for ``report_``.

    A first call may build what is built on first use (a network); a second
    call must then neither add, remove, replace nor modify an attribute
    other than the per-call ``report_``.
    """
    model = _fitted(estimator, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _output(model, data.X)
        before = _state(model)
        _output(model, data.X)
    after = _state(model)
    changed = sorted(
        name for name in before.keys() | after.keys()
        if name not in PER_CALL_ATTRIBUTES and before.get(name) != after.get(name)
    )
    assert not changed, f"{_method(model)} changed the attributes {changed} (only {sorted(PER_CALL_ATTRIBUTES)} may change)"


#: skmem's checks, in the order they run.
SKMEM_CHECKS = (
    check_clone,
    check_get_set_params,
    check_unknown_parameter,
    check_parameter_constraints,
    check_invalid_parameter_values,
    check_not_fitted,
    check_fit_returns_self_and_rows,
    check_pickle,
    check_refit_forgets_previous_fit,
    check_feature_count,
    check_random_state,
    check_batch_invariance,
    check_transform_leaves_estimator_unchanged,
)


def uses_sklearn_checks(estimator):
    """Whether scikit-learn's own checks apply: the estimator takes 2-D numeric arrays."""
    tags = get_tags(estimator).input_tags
    return tags.two_d_array and not tags.string


def skmem_checks(estimator, data_kind):
    """The checks that apply to ``estimator`` fed ``data_kind``.

    Yields
    ------
    name, check : str, callable
        ``check(estimator)`` runs one check; scikit-learn's checks come first
        when the data are a ``"table"`` and :func:`uses_sklearn_checks`.
    """
    kind = data_kind if isinstance(data_kind, str) else data_kind.kind
    if kind == "table" and uses_sklearn_checks(estimator):
        for _, check in estimator_checks_generator(estimator, legacy=True):
            yield _check_name(check), check
    for check in SKMEM_CHECKS:
        if check is check_not_fitted and not get_tags(estimator).requires_fit:
            continue
        yield check.__name__, functools.partial(_run_on_data, check, data_kind)


def _run_on_data(check, data_kind, estimator):
    check(estimator, _data(data_kind))


def _check_name(check):
    while isinstance(check, functools.partial):
        check = check.func
    return check.__name__


def check_skmem_estimator(estimator, data_kind, *, expected_failed_checks=None):
    """Run every check that applies to ``estimator``; raise on the first unexpected outcome.

    Parameters
    ----------
    estimator : estimator instance
    data_kind : str or Bunch
        One of :data:`DATA_KINDS`, or data from :func:`make_contract_data`.
    expected_failed_checks : dict or None
        ``{check_name: reason}``. Such a check must fail; it is an error if it passes.

    Returns
    -------
    results : list of (check_name, outcome)
        ``outcome`` is ``"passed"``, ``"skipped"`` or ``"expected failure"``.
    """
    expected = dict(expected_failed_checks or {})
    results = []
    for name, check in skmem_checks(estimator, data_kind):
        try:
            check(estimator)
        except SkipTest:
            results.append((name, "skipped"))
            continue
        except Exception as exc:
            if name not in expected:
                raise AssertionError(f"{name} failed for {type(estimator).__name__}: {exc}") from exc
            results.append((name, "expected failure"))
            continue
        if name in expected:
            raise AssertionError(
                f"{name} passed for {type(estimator).__name__} but is expected to fail: {expected[name]}"
            )
        results.append((name, "passed"))
    return results


def parametrize_skmem_checks(cases, *, expected_failed_checks=None):
    """A ``pytest.mark.parametrize`` over every check of every case.

    Parameters
    ----------
    cases : list of (estimator, data_kind) or (label, estimator, data_kind)
        The label (by default the class name) starts the test ids.
    expected_failed_checks : dict, callable or None
        ``{label: {check_name: reason}}``, or ``expected_failed_checks(estimator)``
        returning ``{check_name: reason}``; those checks are marked
        ``xfail(strict=True)``: a check that passes fails the test.

    Returns
    -------
    decorator
        Parametrizes the test's ``estimator`` and ``check`` arguments; the
        test calls ``check(estimator)``.
    """
    import pytest

    params = []
    for case in cases:
        label, estimator, kind = case if len(case) == 3 else (type(case[0]).__name__, *case)
        if callable(expected_failed_checks):
            expected = expected_failed_checks(estimator)
        else:
            expected = (expected_failed_checks or {}).get(label, {})
        for name, check in skmem_checks(estimator, kind):
            marks = [pytest.mark.xfail(reason=expected[name], strict=True)] if name in expected else []
            params.append(pytest.param(estimator, check, id=f"{label}-{name}", marks=marks))
    return pytest.mark.parametrize("estimator, check", params)
