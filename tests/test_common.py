"""The estimator contract, run over every public skmem estimator.

scikit-learn's checks where an estimator takes 2-D arrays, skmem's own
(:mod:`skmem.utils.estimator_checks`) on data of its input kind for all.
"""

import numpy as np
import pytest
import torch
from sklearn.tree import DecisionTreeRegressor

from skmem.features.pooling import TemporalPooling
from skmem.models import AMNetRegressor
from skmem.utils.estimator_checks import (
    all_estimators,
    check_batch_invariance,
    check_skmem_estimator,
    check_transform_leaves_estimator_unchanged,
    make_contract_data,
    parametrize_skmem_checks,
    skmem_estimators,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights:UserWarning")

#: {case label: {check name: reason}}; each is an xfail(strict=True).
EXPECTED_FAILURES = {}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@parametrize_skmem_checks(skmem_estimators(), expected_failed_checks=EXPECTED_FAILURES)
def test_contract(estimator, check):
    check(estimator)


def test_every_public_estimator_found_by_discovery_has_a_contract_case():
    discovered = {name for name, _ in all_estimators()}
    covered = {type(estimator).__name__ for _, estimator, _ in skmem_estimators()}
    embedder_only = {"CaptionEmbedder"} - covered  # needs the optional text extra
    assert discovered - embedder_only == covered, (
        f"no contract case for {sorted(discovered - covered - embedder_only)}; "
        f"cases for classes discovery does not find: {sorted(covered - discovered)}"
    )
    assert {"TunedRegressor", "AuxiliaryTargetRegressor", "FrameSampler", "RankFusionRegressor"} <= discovered


class CentresEachBatch(AMNetRegressor):
    """Breaks the contract: scores are centred on the batch they come in."""

    def predict(self, X):
        scores = super().predict(X)
        return scores - scores.mean()


def small_centring_model():
    return CentresEachBatch(hidden_size=4, head_size=4, max_epochs=1, device="cpu", random_state=0)


def test_a_subclass_that_breaks_the_contract_is_caught():
    with pytest.raises(AssertionError, match="predict on first half of the samples"):
        check_batch_invariance(small_centring_model(), make_contract_data("locations"))


class RemembersItsInput(TemporalPooling):
    """Breaks the contract: ``transform`` records what it was given."""

    def transform(self, X):
        self.last_shape_ = X.shape
        return super().transform(X)


class AppendsToAFittedList(TemporalPooling):
    """Breaks the contract: ``transform`` grows a fitted attribute in place."""

    def fit(self, X, y=None):
        self.calls_ = []
        return super().fit(X, y)

    def transform(self, X):
        self.calls_.append(len(X))
        return super().transform(X)


@pytest.mark.parametrize("model,changed", [(RemembersItsInput(), "last_shape_"), (AppendsToAFittedList(), "calls_")])
def test_an_attribute_set_or_changed_by_transform_is_caught(model, changed):
    with pytest.raises(AssertionError, match=f"transform changed the attributes \\['{changed}'\\]"):
        check_transform_leaves_estimator_unchanged(model, make_contract_data("sequences"))
    check_transform_leaves_estimator_unchanged(TemporalPooling(), make_contract_data("sequences"))


def test_check_skmem_estimator_reports_outcomes_and_holds_expected_failures_to_them():
    model = small_centring_model()
    results = dict(
        check_skmem_estimator(model, "locations", expected_failed_checks={"check_batch_invariance": "centred"})
    )
    assert results["check_batch_invariance"] == "expected failure"
    assert results["check_feature_count"] == "passed"
    with pytest.raises(AssertionError, match="check_clone passed .* expected to fail"):
        check_skmem_estimator(model, "locations", expected_failed_checks={"check_clone": "no reason"})
    with pytest.raises(AssertionError, match="check_batch_invariance failed"):
        check_skmem_estimator(model, "locations")


def test_contract_data_kinds_have_the_documented_shapes(tmp_path):
    clips = make_contract_data("clip_paths", tmp_path)
    assert len(clips.X) == 3 and all((tmp_path / f"clip{i}.webm").is_file() for i in range(3))
    ids = make_contract_data("descriptor_ids", tmp_path)
    assert np.load(tmp_path / f"{ids.X[0]}.npy").shape == (6,)
    assert make_contract_data("clip_locations").X.shape == (24, 2, 4, 5)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_contract_data("pixels")


def test_an_estimator_of_2d_tables_also_gets_sklearn_checks():
    names = {name for name, _ in check_skmem_estimator(DecisionTreeRegressor(max_depth=3), "table")}
    assert {"check_estimators_dtypes", "check_clone", "check_batch_invariance"} <= names
