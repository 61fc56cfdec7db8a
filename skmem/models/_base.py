"""Shared skorch engine and scikit-learn wrapper of the skmem deep regressors.

:class:`MemorabilityNet` is the skorch engine (small overridable hooks:
``infer`` for autocast, ``get_loss`` for extra loss terms, ``rank_scores``
for the validation Spearman). :class:`DeepRegressorBase` is the
scikit-learn estimator around it: it validates parameters and data in
``fit``, seeds numpy, torch and the data order, builds the engine and keeps
it as ``net_``.
"""

import contextlib
import inspect
import math
import numbers
import warnings

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping, EpochScoring, ProgressBar
from skorch.dataset import ValidSplit

from skmem._validation import (
    check_array_nd,
    check_choice,
    check_positive_int,
    check_target,
    resolve_device,
)
from skmem.metrics import spearman_score

__all__ = ["MemorabilityNet", "DeepRegressorBase", "VALID_SCORE"]

#: History key of the per-epoch validation Spearman correlation.
VALID_SCORE = "valid_spearman"


def _as_float32(output):
    if isinstance(output, tuple):
        return tuple(_as_float32(o) for o in output)
    return output.float() if torch.is_floating_point(output) else output


def _valid_spearman(net, X, y):
    """EpochScoring function: Spearman ρ of the net's ranking scores on validation data."""
    return spearman_score(np.asarray(y).reshape(-1), net.rank_scores(X))


class MemorabilityNet(NeuralNetRegressor):
    """skorch regressor engine shared by the skmem deep models.

    Parameters
    ----------
    module : type
        A module class (never an instance); its parameters come as ``module__*``.
    autocast : bool
        Run forward passes under :func:`torch.autocast` (bfloat16) on the
        net's device; outputs are cast back to float32 before the loss.
    **kwargs
        Passed to :class:`skorch.NeuralNetRegressor`.
    """

    def __init__(self, module, *args, autocast=False, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.autocast = autocast

    def infer(self, x, **fit_params):
        if not self.autocast:
            return super().infer(x, **fit_params)
        with torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16):
            output = super().infer(x, **fit_params)
        return _as_float32(output)

    def rank_scores(self, X):
        """Scores whose order is the predicted memorability order, shape ``(n,)``."""
        return self.predict(X).reshape(-1)


def check_real(value, name, *, low, high=math.inf, include_low=True, include_high=True):
    """Raise ``ValueError`` unless ``value`` is a real number in the given interval."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value >= low if include_low else value > low) and (
            value <= high if include_high else value < high
        )
    if not ok:
        left, right = "[" if include_low else "(", "]" if include_high else ")"
        raise ValueError(f"{name} must be a real number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


class DeepRegressorBase(RegressorMixin, BaseEstimator):
    """scikit-learn estimator around a :class:`MemorabilityNet` (not public).

    Subclasses define ``__init__`` (storing every parameter and
    ``**skorch_kwargs``) and the hooks ``_input_ndims``, ``_module_class``,
    ``_module_params``, ``_check_model_params`` and, if needed,
    ``_prepare_X``, ``_engine_class``, ``_engine_params``,
    ``_uses_target_scaling`` and ``_after_fit``.

    Extra keyword arguments (``module__*``, ``optimizer__*``,
    ``iterator_train__*``, ``callbacks__*`` or any other
    :class:`skorch.NeuralNet` argument except ``module`` and
    ``train_split``) go to the engine unchanged and override what the
    estimator's own parameters would set.
    """

    _input_ndims = (3,)
    _engine_class = MemorabilityNet
    # Whether EpochScoring may reuse the validation step's forward outputs.
    _cache_validation = True

    # -- parameters ---------------------------------------------------------

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._skorch_kwargs)
        return params

    def set_params(self, **params):
        own = self._get_param_names()
        extra = {k: v for k, v in params.items() if "__" in k or k not in own}
        super().set_params(**{k: v for k, v in params.items() if k not in extra})
        self._skorch_kwargs = {**self._skorch_kwargs, **extra}
        return self

    def _check_common_params(self):
        for name in ("max_epochs", "batch_size", "patience"):
            check_positive_int(getattr(self, name), name)
        check_real(self.lr, "lr", low=0.0, include_low=False)
        check_real(self.weight_decay, "weight_decay", low=0.0)
        if self.valid_size is not None:
            check_real(self.valid_size, "valid_size", low=0.0, high=1.0, include_low=False, include_high=False)
        check_choice(self.early_stopping, "early_stopping", (True, False))
        check_choice(self.warm_start, "warm_start", (True, False))
        check_choice(self.autocast, "autocast", (True, False))
        if not (isinstance(self.optimizer, type) and issubclass(self.optimizer, torch.optim.Optimizer)):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer class, got {self.optimizer!r}")
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise ValueError(f"callbacks must be a list of skorch callbacks or None, got {self.callbacks!r}")
        engine_params = {
            name for cls in type(self)._engine_class.__mro__ if "__init__" in vars(cls)
            for name in inspect.signature(cls.__init__).parameters
        }
        unknown = sorted(k for k in self._skorch_kwargs if "__" not in k and k not in engine_params)
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unknown parameter(s) {unknown}: neither its own nor "
                "skorch.NeuralNetRegressor arguments"
            )
        bad = set(self._skorch_kwargs) & {"module", "train_split"}
        if bad:
            raise ValueError(
                f"{sorted(bad)} cannot be passed as extra arguments to {type(self).__name__}: "
                "they are set from its own parameters (valid_size sets the split)"
            )

    # -- data ---------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        if scipy.sparse.issparse(X):
            raise TypeError(f"{type(self).__name__} does not accept sparse X; pass a dense array")
        X = np.asarray(X)
        if np.iscomplexobj(X):
            raise ValueError("Complex data not supported in X")
        if X.dtype == object:
            X = X.astype(np.float64)  # a non-number raises NumPy's TypeError naming its type
        if X.ndim == 1:
            raise ValueError(
                f"X must be {' or '.join(f'{d}-D' for d in self._input_ndims)}, got a 1-D array of "
                f"shape {X.shape}. Reshape your data with X.reshape(-1, 1) if it holds a single "
                "feature or X.reshape(1, -1) if it holds a single sample"
            )
        X = check_array_nd(X, ndims=self._input_ndims, name="X")
        n_features = X.shape[-1]
        if n_features == 0:
            raise ValueError(f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if reset:
            self.n_features_in_ = n_features
            self._check_input_layout(X, reset=True)
        else:
            if n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input (last axis, n_features_in_)"
                )
            self._check_input_layout(X, reset=False)
        return self._prepare_X(X)

    def _check_input_layout(self, X, *, reset):
        """Hook: record (``reset``) or check the non-feature axes of ``X``."""

    def _prepare_X(self, X):
        """Hook: reshape validated ``X`` to what the module takes."""
        return X

    def _validate_y(self, y, n_samples):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"y must be numeric: {exc}") from exc
        return check_target(y, n_samples)

    # -- fitting ------------------------------------------------------------

    def _is_fitted(self):
        return hasattr(self, "net_")

    def fit(self, X, y):
        """Train on ``X``, ``y`` (from scratch unless ``warm_start`` and already fitted).

        Parameters
        ----------
        X : array-like, see the class docstring for accepted shapes
        y : array-like of shape (n,) or (n, 1)

        Returns
        -------
        self
        """
        return self._fit(X, y, epochs=None, reset=not (self.warm_start and self._is_fitted()))

    def partial_fit(self, X, y):
        """Train for one more epoch (initialising the model on the first call).

        Parameters
        ----------
        X : array-like
        y : array-like of shape (n,) or (n, 1)

        Returns
        -------
        self
        """
        return self._fit(X, y, epochs=1, reset=not self._is_fitted())

    def _fit(self, X, y, *, epochs, reset):
        self._check_common_params()
        self._check_model_params()
        X = self._validate_X(X, reset=reset)
        y = self._validate_y(y, len(X))
        n_valid = self._n_valid(len(X))
        if reset:
            self.device_ = resolve_device(self.device)
            self._fit_target_scaling(y)
        seed = None
        if self.random_state is not None:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        y_train = ((y - self.target_offset_) / self.target_scale_).astype(np.float32)
        with _seeded_torch(seed, self.device_), _read_only_arrays_allowed():
            if reset:
                self.net_ = self._build_net(seed, len(X) - n_valid)
                self.net_.initialize()
            else:
                self.net_.set_params(**self._net_runtime_params(seed, len(X) - n_valid))
            self.net_.partial_fit(X, y_train, epochs=epochs)
            self._after_fit(X, y)
        return self

    def _n_valid(self, n_samples):
        if self.valid_size is None:
            return 0
        n_valid = math.ceil(self.valid_size * n_samples)
        if n_valid < 2 or n_samples - n_valid < 1:
            raise ValueError(
                f"valid_size={self.valid_size} with {n_samples} sample(s) leaves {n_valid} "
                f"validation and {n_samples - n_valid} training samples; the validation Spearman "
                "needs at least 2 and training at least 1 (or set valid_size=None)"
            )
        return n_valid

    def _fit_target_scaling(self, y):
        self.target_offset_, self.target_scale_ = 0.0, 1.0
        if self._uses_target_scaling():
            std = float(np.std(y))
            self.target_offset_ = float(np.mean(y))
            self.target_scale_ = std if std > 0 else 1.0

    def _uses_target_scaling(self):
        return False

    def _callbacks(self):
        callbacks = []
        if self.valid_size is not None:
            scoring = EpochScoring(
                _valid_spearman,
                lower_is_better=False,
                name=VALID_SCORE,
                use_caching=self._cache_validation,
            )
            callbacks.append((VALID_SCORE, scoring))
            if self.early_stopping:
                stopper = EarlyStopping(
                    monitor=VALID_SCORE,
                    patience=self.patience,
                    threshold=0.0,
                    threshold_mode="abs",
                    lower_is_better=False,
                    load_best=True,
                )
                callbacks.append(("early_stopping", stopper))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks + list(self.callbacks or [])

    def _net_runtime_params(self, seed, n_train):
        """Engine parameters that may change between warm-started fits."""
        split = None
        if self.valid_size is not None:
            split = ValidSplit(self.valid_size, stratified=False, random_state=seed)
        return {"train_split": split, "max_epochs": self.max_epochs, **self._engine_params(n_train)}

    def _engine_params(self, n_train):
        """Hook: extra keyword arguments of ``_engine_class``."""
        return {}

    def _build_net(self, seed, n_train):
        module_params = {f"module__{k}": v for k, v in self._module_params().items()}
        iterator_params = {"iterator_train__shuffle": True}
        if self.device_.startswith("cuda"):
            iterator_params.update(iterator_train__pin_memory=True, iterator_valid__pin_memory=True)
        params = {
            **module_params,
            **iterator_params,
            "optimizer": self.optimizer,
            "optimizer__weight_decay": self.weight_decay,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "callbacks": self._callbacks(),
            "device": self.device_,
            "autocast": self.autocast,
            "verbose": int(self.verbose),
            **self._net_runtime_params(seed, n_train),
            **self._skorch_kwargs,
        }
        return self._engine_class(self._module_class(), **params)

    def _after_fit(self, X, y):
        """Hook: fitted state derived from the trained net (``X`` prepared, ``y`` float)."""

    # -- prediction ---------------------------------------------------------

    def _checked_X(self, X):
        check_is_fitted(self, "net_")
        return self._validate_X(X, reset=False)

    def _raw_predict(self, X):
        return self.net_.rank_scores(X)

    def predict(self, X):
        """Predict memorability scores.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        y_pred : ndarray of shape (n,), float64
        """
        X = self._checked_X(X)
        with torch.no_grad(), _read_only_arrays_allowed():
            raw = np.asarray(self._raw_predict(X), dtype=np.float64).reshape(-1)
        return raw * self.target_scale_ + self.target_offset_

    @property
    def history_(self):
        """The skorch training history (per-epoch losses and ``valid_spearman``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = 2 in self._input_ndims
        tags.input_tags.three_d_array = 3 in self._input_ndims
        return tags

    def __setstate__(self, state):
        device = state.get("device_")
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            state["device_"] = "cpu"
        self.__dict__.update(state)

@contextlib.contextmanager
def _read_only_arrays_allowed():
    """Silence torch's warning about read-only arrays (memory-mapped features):
    batches are only read, never written, so no copy is needed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        yield


@contextlib.contextmanager
def _seeded_torch(seed, device):
    """Seed torch (CPU and CUDA) inside the block and restore the global generators after.

    ``seed=None`` leaves the global generators alone.
    """
    if seed is None:
        yield
        return
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
