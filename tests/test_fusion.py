import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline

from skmem import RankFusionRegressor
from skmem.metrics import spearman_score, spearman_scorer


def _member(columns, regressor=None):
    """A pipeline that sees only ``columns`` of X (one modality)."""
    select = ColumnTransformer([("keep", "passthrough", columns)])
    return Pipeline([("select", select), ("model", regressor if regressor is not None else Ridge(alpha=1.0))])


def _two_modalities(n, seed):
    """Modality A (columns 0-3) and B (4-7) each carry half of the signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    signal_a = X[:, :4] @ np.array([1.0, -0.5, 0.5, 0.25])
    signal_b = np.tanh(X[:, 4:] @ np.array([0.75, 0.75, -0.5, 0.5]))
    y = 0.8 + 0.05 * (signal_a / signal_a.std() + signal_b / signal_b.std()) + rng.normal(0, 0.03, n)
    return X, y


def test_fused_model_beats_each_member_on_held_out_data():
    X, y = _two_modalities(500, seed=0)
    train, test = slice(0, 350), slice(350, None)
    a, b = _member([0, 1, 2, 3]), _member([4, 5, 6, 7])
    fused = RankFusionRegressor([("a", a), ("b", b)], random_state=0).fit(X[train], y[train])
    rho_fused = spearman_score(y[test], fused.predict(X[test]))
    rho_a = spearman_score(y[test], clone(a).fit(X[train], y[train]).predict(X[test]))
    rho_b = spearman_score(y[test], clone(b).fit(X[train], y[train]).predict(X[test]))
    assert rho_fused > max(rho_a, rho_b) + 0.1, (rho_fused, rho_a, rho_b)
    assert 0.25 < fused.weights_[0] < 0.75 and fused.weights_.sum() == pytest.approx(1.0)
    # Predictions read as scores: inside the training targets' range.
    pred = fused.predict(X[test])
    assert y[train].min() <= pred.min() and pred.max() <= y[train].max()


def test_weights_come_from_out_of_fold_predictions():
    """A member that memorises its training set is perfect in sample and useless
    out of sample; weights learned on in-sample predictions would favour it."""
    rng = np.random.default_rng(1)
    n = 300
    X = np.column_stack([rng.normal(size=(n, 2)), rng.normal(size=(n, 3))])
    y = X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.5, n)
    memoriser = _member([2, 3, 4], KNeighborsRegressor(n_neighbors=1))
    honest = _member([0, 1])
    fused = RankFusionRegressor([("memoriser", memoriser), ("honest", honest)], random_state=0).fit(X, y)
    in_sample = fused.named_estimators_["memoriser"].predict(X)
    assert spearman_score(y, in_sample) == pytest.approx(1.0)
    assert abs(fused.member_scores_[0]) < 0.2  # its out-of-fold predictions carry no signal
    assert fused.weights_[0] < 0.1 and fused.weights_[1] > 0.9
    # The out-of-fold predictions of sample i never come from a model that saw y[i].
    assert not np.allclose(fused.oof_predictions_[:, 0], in_sample)


def test_weights_ignore_held_out_targets_and_are_repeatable():
    X, y = _two_modalities(300, seed=2)
    train = slice(0, 200)
    members = [("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))]
    first = RankFusionRegressor(members, random_state=0).fit(X[train], y[train])
    y_changed = y.copy()
    y_changed[200:] = np.random.default_rng(9).permutation(y_changed[200:])
    second = RankFusionRegressor(members, random_state=0).fit(X[train], y_changed[train])
    np.testing.assert_array_equal(first.weights_, second.weights_)
    np.testing.assert_array_equal(first.predict(X[200:]), second.predict(X[200:]))


def test_default_folds_are_shuffled_and_seeded():
    X, y = _two_modalities(100, seed=10)
    order = np.argsort(y)  # sorted targets: unshuffled folds would each hold one slice of their range
    X, y = X[order], y[order]
    members = [("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))]
    first = RankFusionRegressor(members).fit(X, y)
    again = RankFusionRegressor(members).fit(X, y)
    np.testing.assert_array_equal(first.oof_predictions_, again.oof_predictions_)
    np.testing.assert_array_equal(first.weights_, again.weights_)
    a = clone(members[0][1])
    unshuffled = cross_val_predict(a, X, y, cv=KFold(5))
    assert not np.allclose(first.oof_predictions_[:, 0], unshuffled)
    seeded = cross_val_predict(a, X, y, cv=KFold(5, shuffle=True, random_state=0))
    np.testing.assert_allclose(first.oof_predictions_[:, 0], seeded)
    other_seed = RankFusionRegressor(members, random_state=1).fit(X, y)
    assert not np.allclose(other_seed.oof_predictions_, first.oof_predictions_)


def test_fixed_and_equal_weights():
    X, y = _two_modalities(120, seed=3)
    members = [("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))]
    fixed = RankFusionRegressor(members, weights=[3, 1], cv=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(fixed.weights_, [0.75, 0.25])
    equal = RankFusionRegressor(members, weights="equal", cv=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(equal.weights_, [0.5, 0.5])


def test_prediction_of_one_sample_does_not_depend_on_the_batch():
    X, y = _two_modalities(150, seed=4)
    fused = RankFusionRegressor([("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))], cv=3).fit(X, y)
    batch = fused.predict(X[:20])
    alone = np.array([fused.predict(X[i : i + 1])[0] for i in range(20)])
    np.testing.assert_allclose(alone, batch)


def test_grid_search_reaches_member_parameters():
    X, y = _two_modalities(120, seed=5)
    fused = RankFusionRegressor([("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))], cv=3)
    assert "a__model__alpha" in fused.get_params()
    search = GridSearchCV(fused, {"a__model__alpha": [0.1, 1000.0]}, scoring=spearman_scorer, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"a__model__alpha": 0.1}
    assert search.best_estimator_.named_estimators_["a"].named_steps["model"].alpha == 0.1


def test_clone_pickle_and_not_fitted():
    X, y = _two_modalities(80, seed=6)
    fused = RankFusionRegressor([("a", _member([0, 1, 2, 3])), ("b", _member([4, 5, 6, 7]))], cv=3)
    with pytest.raises(NotFittedError):
        fused.predict(X)
    fused.fit(X, y)
    again = pickle.loads(pickle.dumps(fused))
    np.testing.assert_array_equal(again.predict(X), fused.predict(X))
    assert not hasattr(clone(fused), "weights_")


@pytest.mark.parametrize(
    "params, name",
    [
        ({"estimators": []}, "estimators"),
        ({"estimators": [("a", Ridge), ("b", Ridge())]}, "Ridge"),
        ({"estimators": [("a", Ridge()), ("a", Ridge())]}, "not unique"),
        ({"estimators": [("a", "not an estimator")]}, "estimators"),
        ({"weights": [1.0]}, "weights"),
        ({"weights": [1.0, -1.0]}, "weights"),
        ({"weights": "best"}, "weights"),
        ({"cv": 1}, "'cv' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_bad_parameters_are_named(params, name):
    X, y = _two_modalities(40, seed=7)
    args = {"estimators": [("a", Ridge()), ("b", Ridge())], **params}
    with pytest.raises((ValueError, TypeError), match=name):
        RankFusionRegressor(**args).fit(X, y)


def test_mismatched_lengths_are_reported():
    X, y = _two_modalities(40, seed=8)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[40, 39\]"):
        RankFusionRegressor([("a", Ridge())]).fit(X, y[:-1])
