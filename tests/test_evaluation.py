"""Cross-validation tables: shared seeded folds, pooled out-of-fold rho."""

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from skmem.evaluation import cross_validation_table
from skmem.metrics import spearman_score


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X @ [1.0, 0.5, 0.0, 0.0, -0.5] + rng.normal(scale=0.3, size=60)
    return X, y


def test_a_learning_model_beats_a_shuffled_label_control(data):
    X, y = data
    models = {"ridge": Ridge(), "dummy": DummyRegressor()}
    result = cross_validation_table(models, X, y, cv=5, random_state=0)
    control = cross_validation_table({"ridge": Ridge()}, X, np.random.default_rng(1).permutation(y), cv=5)
    assert list(result.table.index) == ["ridge", "dummy"]
    assert result.table.loc["ridge", "spearman_pooled"] > 0.8
    assert control.table.loc["ridge", "spearman_pooled"] < 0.4
    assert result.table.loc["ridge", "mse_mean"] < result.table.loc["dummy", "mse_mean"] / 2
    with pytest.raises(NotFittedError):
        check_is_fitted(models["ridge"])  # models are cloned, never fitted in place


def test_predictions_are_out_of_fold(data):
    X, y = data
    result = cross_validation_table({"ridge": Ridge()}, X, y, cv=3)
    in_sample = Ridge().fit(X, y).predict(X)
    assert not np.allclose(result.predictions["ridge"], in_sample)
    assert result.table.loc["ridge", "spearman_pooled"] == pytest.approx(spearman_score(y, result.predictions["ridge"]))
    assert len(result.fold_scores["ridge"]["spearman"]) == 3


def test_int_folds_are_shuffled_and_seeded(data):
    X, y = data
    default = cross_validation_table({"ridge": Ridge()}, X, y, cv=4, random_state=3)
    explicit = cross_validation_table({"ridge": Ridge()}, X, y, cv=KFold(4, shuffle=True, random_state=3))
    other_seed = cross_validation_table({"ridge": Ridge()}, X, y, cv=4, random_state=4)
    unshuffled = cross_validation_table({"ridge": Ridge()}, X, y, cv=KFold(4))
    assert default.fold_scores == explicit.fold_scores
    assert default.fold_scores != other_seed.fold_scores
    assert default.fold_scores != unshuffled.fold_scores
