"""The evaluation protocol: one fold and seed rule, the metric registry, out-of-fold predictions, CV tables."""

import contextlib

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from skmem.evaluation import DEFAULT_SEED, cross_validation_table, get_metric, make_folds, out_of_fold
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


def test_one_seed_rule_none_means_the_default_seed():
    X = np.arange(20.0).reshape(10, 2)
    folds = [list(make_folds(5, random_state=seed).split(X)) for seed in (None, DEFAULT_SEED, np.random.RandomState(1))]
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds[0], folds[1]))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds[0], folds[2]))


@pytest.mark.parametrize("cv, message", [(1, "cv must be at least 2 folds"), (11, "cv=11 folds need at least 11 samples, got n_samples=10")])
def test_impossible_folds_name_the_option(cv, message):
    with pytest.raises(ValueError, match=message):
        make_folds(cv, n_samples=10)
    with pytest.raises(ValueError, match=message.replace("cv", "--folds", 1)):
        make_folds(cv, n_samples=10, name="--folds")


def test_metric_registry_gives_objectives_and_scorers(data):
    X, y = data
    mse = get_metric("neg_mean_squared_error")
    assert mse is get_metric("mse") and not mse.greater_is_better
    model = Ridge().fit(X, y)
    assert mse.objective(y, model.predict(X)) == pytest.approx(-np.mean((y - model.predict(X)) ** 2))
    assert mse.scorer()(model, X, y) == pytest.approx(mse.objective(y, model.predict(X)))
    assert get_metric("spearman").scorer()(model, X, y) == pytest.approx(spearman_score(y, model.predict(X)))
    with pytest.raises(ValueError, match="scoring must be one of"):
        get_metric("accuracy")


def test_out_of_fold_matches_cross_val_predict_and_reports_each_fold(data):
    X, y = data
    folds = list(make_folds(4).split(X, y))
    seen = []
    predictions = out_of_fold(Ridge(), X, y, folds, on_fold=lambda fold, test, p: seen.append((fold, np.isnan(p).sum())))
    np.testing.assert_allclose(predictions, cross_val_predict(Ridge(), X, y, cv=folds))
    np.testing.assert_allclose(out_of_fold(Ridge(), X, y, folds, n_jobs=2), predictions)
    assert [fold for fold, _ in seen] == [0, 1, 2, 3] and seen[-1][1] == 0 and seen[0][1] == len(y) - len(folds[0][1])


def test_out_of_fold_stops_when_the_callback_raises(data):
    X, y = data
    fitted = []

    def prepare(fold, model):
        fitted.append(fold)
        return model.set_params(alpha=10.0) if fold == 0 else model

    def stop(fold, test, predictions):
        raise StopIteration(fold)

    with pytest.raises(StopIteration):
        out_of_fold(Ridge(), X, y, list(make_folds(3).split(X)), prepare=prepare, on_fold=stop)
    assert fitted == [0]


class _RecordingRegressor(Ridge):
    """A ridge that records the rows of its ``weights`` fit parameter and the rows it is served."""

    def fit(self, X, y, weights=None):
        self.weights_seen_ = None if weights is None else np.asarray(weights).copy()
        return super().fit(X, y, sample_weight=weights)


def test_out_of_fold_gives_each_fold_its_rows_of_the_fit_parameters(data):
    X, y = data
    folds = list(make_folds(3).split(X, y))
    weights = np.arange(1.0, len(y) + 1)
    seen = []

    def prepare(fold, model):
        seen.append(model)
        return model

    out_of_fold(_RecordingRegressor(), X, y, folds, params={"weights": weights}, prepare=prepare)
    for model, (train, _) in zip(seen, folds):
        np.testing.assert_array_equal(model.weights_seen_, weights[train])
    expected = cross_val_predict(Ridge(), X, y, cv=folds, params={"sample_weight": weights})
    parallel = out_of_fold(_RecordingRegressor(), X, y, folds, params={"weights": weights}, n_jobs=2)
    np.testing.assert_allclose(parallel, expected)
    with pytest.raises(ValueError, match="fit parameter 'weights' has 3 values for 60 samples"):
        out_of_fold(Ridge(), X, y, folds, params={"weights": weights[:3]})


def test_out_of_fold_enters_the_row_context_around_each_fit_and_prediction(data):
    X, y = data
    folds = list(make_folds(3).split(X, y))
    entered = []

    def rows(indices):
        entered.append(np.sort(indices))
        return contextlib.nullcontext()

    out_of_fold(Ridge(), X, y, folds, rows=rows)
    expected = [np.sort(part) for train, test in folds for part in (train, test)]
    assert len(entered) == len(expected)
    for got, want in zip(entered, expected):
        np.testing.assert_array_equal(got, want)


def test_cross_validation_table_passes_fit_parameters(data):
    X, y = data
    weights = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    weighted = cross_validation_table({"ridge": Ridge()}, X, y, cv=3, params={"sample_weight": weights})
    plain = cross_validation_table({"ridge": Ridge()}, X, y, cv=3)
    folds = list(make_folds(3).split(X, y))
    expected = cross_val_predict(Ridge(), X, y, cv=folds, params={"sample_weight": weights})
    np.testing.assert_allclose(weighted.predictions["ridge"], expected)
    assert not np.allclose(weighted.predictions["ridge"], plain.predictions["ridge"])
