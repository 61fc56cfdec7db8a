"""Input checks shared by skmem estimators."""

import numbers

import numpy as np
from scipy import sparse


def check_array_nd(X, *, ndims, name="X", dtype=np.float32, allow_nan=False):
    """Return ``X`` as an ndarray whose rank is one of ``ndims``.

    Parameters
    ----------
    X : array-like
    ndims : tuple of int
        Accepted ranks, e.g. ``(2, 3)``.
    name : str
        Name used in error messages.
    dtype : numpy dtype or None
        Cast to this dtype (``None`` keeps the input dtype).
    allow_nan : bool
        When False, NaN or infinity raise ``ValueError``.
    """
    if sparse.issparse(X):
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported in {name}")
    if dtype is not None:
        try:
            X = X.astype(dtype, copy=False)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name} could not be converted to a numeric array: {exc}") from exc
    if X.ndim not in ndims:
        expected = ", ".join(f"{d}-D" for d in ndims[:-1]) + (" or " if len(ndims) > 1 else "") + f"{ndims[-1]}-D"
        hint = " Reshape your data: one row per sample." if X.ndim < min(ndims) else ""
        raise ValueError(f"{name} must be {expected}, got shape {X.shape}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if X.shape[-1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if not allow_nan and np.issubdtype(X.dtype, np.floating) and not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X.reshape(len(X), -1)))[0, 0]
        raise ValueError(f"{name} contains NaN or infinity (first in row {bad})")
    return X


def check_target(y, n_samples, *, name="y", dtype=np.float32):
    """Return ``y`` as a finite 1-D array of length ``n_samples``.

    ``y`` of shape ``(n, 1)`` is accepted and flattened.
    """
    y = np.asarray(y, dtype=dtype)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D or of shape (n, 1), got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(
            f"X and {name} have different lengths: {n_samples} samples in X, {len(y)} in {name}"
        )
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{name} contains NaN or infinity (first at row {bad})")
    return y


def check_positive_int(value, name, *, allow_none=False, minimum=1):
    """Raise ``ValueError`` unless ``value`` is an int >= ``minimum``."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value, name, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``."""
    import torch

    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)
