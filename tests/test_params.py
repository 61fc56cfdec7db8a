"""The parameter-constraint helpers against the installed scikit-learn."""

from numbers import Integral, Real

import pytest
from sklearn.base import BaseEstimator

from skmem._params import Interval, InvalidParameterError, StrOptions, check_constraints


class _Toy(BaseEstimator):
    _parameter_constraints = {
        "n": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"a", "b"})],
        "rate": [Interval(Real, 0, 1, closed="neither"), None],
    }

    def __init__(self, n=1, mode="a", rate=None):
        self.n, self.mode, self.rate = n, mode, rate

    def fit(self, X=None, y=None):
        self._validate_params()
        return self


@pytest.mark.parametrize(
    "params, name",
    [({"n": 0}, "n"), ({"n": 1.5}, "n"), ({"mode": "c"}, "mode"), ({"rate": 1.0}, "rate")],
)
def test_invalid_value_fails_at_fit_naming_the_parameter(params, name):
    toy = _Toy(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of _Toy"):
        toy.fit()
    assert issubclass(InvalidParameterError, ValueError)


def test_valid_values_pass():
    assert _Toy(n=3, mode="b", rate=0.5).fit().n == 3


def test_check_constraints_names_the_owner():
    with pytest.raises(InvalidParameterError, match="'k' parameter of settings"):
        check_constraints({"k": [Interval(Integral, 0, None, closed="left")]}, {"k": -1}, "settings")


def test_base_composition_routes_member_parameters():
    from sklearn.linear_model import Ridge

    from skmem._params import BaseComposition

    class _Members(BaseComposition):
        def __init__(self, estimators):
            self.estimators = estimators

        def get_params(self, deep=True):
            return self._get_params("estimators", deep=deep)

        def set_params(self, **params):
            self._set_params("estimators", **params)
            return self

    members = _Members([("a", Ridge()), ("b", Ridge())]).set_params(b__alpha=3.0)
    assert members.get_params()["b__alpha"] == 3.0
    assert members.get_params()["a__alpha"] == 1.0


def test_final_step_goes_through_pipelines_and_single_child_wrappers():
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmem._params import final_step
    from skmem.models.targets import AuxiliaryTargetRegressor

    ridge = Ridge()
    nested = AuxiliaryTargetRegressor(
        make_pipeline(StandardScaler(), TransformedTargetRegressor(regressor=make_pipeline(ridge)))
    )
    prefix, step = final_step(nested)
    assert step is ridge
    assert prefix == "estimator__transformedtargetregressor__regressor__ridge__"
    nested.set_params(**{prefix + "alpha": 3.0})
    assert ridge.alpha == 3.0
    assert final_step(ridge) == ("", ridge)
