import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score

from skmem.metrics import mse_score, pearson_score, rank, spearman_score, spearman_scorer

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, st.integers(0, 5)), min_size=3, max_size=40))
def test_spearman_matches_scipy_with_ties(pairs):
    y, p = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs], dtype=float)
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        assert spearman_score(y, p) == 0.0
    else:
        assert spearman_score(y, p) == pytest.approx(stats.spearmanr(y, p).statistic, abs=1e-12)


def test_pearson_and_mse_match_references():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=50), rng.normal(size=50)
    assert pearson_score(y, p) == pytest.approx(stats.pearsonr(y, p).statistic)
    assert mse_score(y, p) == pytest.approx(np.mean((y - p) ** 2))


@pytest.mark.parametrize("method", ["average", "min", "max", "dense", "ordinal"])
def test_rank_methods_match_scipy(method):
    values = [3.0, 1.0, 3.0, 2.0, 3.0]
    np.testing.assert_array_equal(rank(values, method), stats.rankdata(values, method=method))


def test_constant_prediction_scores_zero_and_does_not_break_a_search():
    y = np.linspace(0, 1, 30)
    assert spearman_score(y, np.full(30, 0.5)) == 0.0
    assert pearson_score(y, np.full(30, 0.5)) == 0.0
    X = y[:, None] + np.random.default_rng(0).normal(0, 0.1, (30, 1))
    scores = cross_val_score(DummyRegressor(), X, y, scoring=spearman_scorer, cv=3)
    np.testing.assert_array_equal(scores, 0.0)
    search = GridSearchCV(Ridge(), {"alpha": [1e-3, 1e9]}, scoring=spearman_scorer, cv=3).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ == {"alpha": 1e-3}


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="different lengths"):
        spearman_score([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        spearman_score([1, 2, 3], [1, np.nan, 2])
    with pytest.raises(ValueError, match="method"):
        rank([1, 2], "first")
    with pytest.raises(ValueError, match="at least 2"):
        spearman_score([1], [1])
