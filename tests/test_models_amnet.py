"""AMNetRegressor: attention finds the planted location; grids, penalty, scaling."""

import numpy as np
import pytest
import torch
from _models_data import one_torch_thread, planted_location_task, shuffled  # noqa: F401

from skmem import AMNetRegressor, spearman_score

TINY = dict(
    hidden_size=16,
    adaptor_dropout=0.1,
    dropout=0.1,
    lr=3e-3,
    batch_size=50,
    device="cpu",
    random_state=0,
    head_size=16,
)


def test_attention_concentrates_on_the_planted_location():
    X, y = planted_location_task(location=5)
    train, test = slice(0, 400), slice(400, None)
    model = AMNetRegressor(max_epochs=30, **TINY).fit(X[train], y[train])
    rho = spearman_score(y[test], model.predict(X[test]))
    control = AMNetRegressor(max_epochs=30, **TINY).fit(X[train], shuffled(y[train]))
    rho_control = spearman_score(y[test], control.predict(X[test]))
    assert rho > 0.7 and rho > rho_control + 0.5
    alpha = model.attention_maps(X[test])
    assert alpha.shape == (100, 3, 16)
    uniform_share = 1 / 16
    assert alpha[:, :, 5].mean() > 4 * uniform_share


def test_attention_maps_follow_the_input_grid():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2, 9, 5)).astype(np.float32)  # (n, T, L, D) clips
    y = X[:, 1, 4, 0]
    model = AMNetRegressor(max_epochs=2, n_steps=2, valid_size=None, **TINY).fit(X, y)
    assert model.grid_shape_ == (2, 9) and model.n_features_in_ == 5
    assert model.net_.module_.n_locations == 18
    alpha = model.attention_maps(X[:3])
    assert alpha.shape == (3, 2, 2, 9)
    np.testing.assert_allclose(alpha.sum(axis=(2, 3)), 1.0, rtol=1e-5)
    assert model.attention_maps(X[:3], spatial_shape=(3, 3)).shape == (3, 2, 2, 3, 3)
    with pytest.raises(ValueError, match="spatial_shape"):
        model.attention_maps(X[:3], spatial_shape=(2, 4))
    with pytest.raises(ValueError, match=r"\(2, 9\)"):
        model.predict(X[:, :, :4])


def test_attention_penalty_is_zero_for_even_coverage_and_grows_with_concentration():
    X, y = planted_location_task(n=60)
    net = AMNetRegressor(max_epochs=1, valid_size=None, **TINY).fit(X, y).net_
    prediction, target = torch.zeros(2), torch.ones(2)
    even = torch.full((2, 3, 16), 1 / 16)  # every location gets its share over 3 steps
    focused = torch.zeros(2, 3, 16)
    focused[:, :, 0] = 1.0  # every step on location 0
    mse = net.get_loss((prediction, even), target)
    torch.testing.assert_close(mse, torch.tensor(1.0))  # the squared error alone
    # Coverage of location 0 is 3 instead of 3/16, of the 15 others 0 instead
    # of 3/16: (45/16)² + 15 (3/16)² = 8.4375 per clip, weighted by 1e-5.
    penalty = net.get_loss((prediction, focused), target) - mse
    torch.testing.assert_close(penalty, torch.tensor(8.4375e-5))
    net.set_params(attention_penalty=0.0)
    torch.testing.assert_close(net.get_loss((prediction, focused), target), mse)


def test_targets_are_scaled_for_training_and_mapped_back():
    X, y = planted_location_task(n=120)
    y = 0.75 + 0.05 * y
    model = AMNetRegressor(max_epochs=3, **TINY).fit(X, y)
    assert model.target_offset_ == pytest.approx(y.mean())
    assert model.target_scale_ == pytest.approx(y.std())
    # Trained on standardised targets, predictions come back on the targets' scale.
    assert abs(model.predict(X).mean() - y.mean()) < y.std()
    unscaled = AMNetRegressor(max_epochs=1, target_scaling=False, **TINY).fit(X, y)
    assert (unscaled.target_offset_, unscaled.target_scale_) == (0.0, 1.0)


def test_pooled_frame_sequences_attend_over_frames():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8, 6)).astype(np.float32)  # (n, T, D): attention over T frames
    model = AMNetRegressor(max_epochs=2, **TINY).fit(X, X[:, 2, 0])
    assert model.attention_maps(X[:4]).shape == (4, 3, 8)


def test_two_dimensional_input_is_rejected_with_its_shape():
    with pytest.raises(ValueError, match=r"X must be 3-D or 4-D, got shape \(10, 4\)"):
        AMNetRegressor(**TINY).fit(np.zeros((10, 4)), np.arange(10.0))
