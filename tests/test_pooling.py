import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmem import TemporalPooling


def test_methods_on_3d_input():
    X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(TemporalPooling("mean").fit_transform(X), X.mean(axis=1))
    np.testing.assert_allclose(TemporalPooling("max").fit_transform(X), X.max(axis=1))
    np.testing.assert_allclose(TemporalPooling("meanstd").fit_transform(X), np.hstack([X.mean(1), X.std(1)]))
    np.testing.assert_allclose(TemporalPooling("flatten").fit_transform(X), X.reshape(2, 12))


def test_spatial_input_pools_frames_and_locations():
    X = np.random.default_rng(0).normal(size=(3, 2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(TemporalPooling().fit_transform(X), X.mean(axis=(1, 2)), rtol=1e-5)


def test_feature_names_and_pipeline():
    X = np.random.default_rng(0).normal(size=(20, 3, 4))
    pool = TemporalPooling("meanstd").fit(X)
    assert list(pool.get_feature_names_out()[:2]) == ["mean0", "mean1"] and len(pool.get_feature_names_out()) == 8
    make_pipeline(TemporalPooling(), Ridge()).fit(X, X[:, 0, 0]).predict(X)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="'method' parameter of TemporalPooling must be a str among"):
        TemporalPooling("median").fit(np.zeros((2, 3, 4)))
    pool = TemporalPooling("flatten").fit(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="fitted on"):
        pool.transform(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        TemporalPooling().fit(np.full((2, 3, 4), np.nan))
