"""Seeded feature tensors with planted targets, for the deep regressor tests."""

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Run torch on one thread: tiny models on a shared 2-core machine spend
    most of their time in thread synchronisation otherwise."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def order_task(n=600, n_steps=6, n_features=4, seed=0):
    """Target ``x[last, 0] - x[first, 0]``: uncorrelated with the mean over steps."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_steps, n_features)).astype(np.float32)
    return X, X[:, -1, 0] - X[:, 0, 0]


def planted_location_task(n=500, grid=(4, 4), n_features=8, location=5, seed=0):
    """Target read from one spatial location; the other locations are noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, grid[0] * grid[1], n_features)).astype(np.float32)
    return X, X[:, location, 0].astype(np.float64)


def item_task(n=500, n_features=16, seed=0):
    """A smooth nonlinear target of two features plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    y = np.tanh(X[:, 0] + 0.5 * X[:, 1]) + 0.1 * rng.normal(size=n)
    return X, y


def shuffled(y, seed=0):
    return np.random.default_rng(seed).permutation(y)
