"""Shared skorch engine and scikit-learn wrapper of the skmem deep regressors.

:class:`MemorabilityNet` is the skorch engine (small overridable hooks:
``infer`` for autocast, ``get_loss`` for extra loss terms, ``rank_scores``
for the validation Spearman; prediction batches are padded to one size so
that a sample's prediction does not depend on its batch). :class:`DeepRegressorBase` is the
scikit-learn estimator around it: it validates parameters and data in
``fit``, seeds numpy, torch and the data order, builds the engine and keeps
it as ``net_``.
"""

import contextlib
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping, EpochScoring, ProgressBar
from skorch.dataset import ValidSplit, unpack_data

from skmem._params import Interval
from skmem._signals import raised_interrupts
from skmem._validation import check_array_nd, check_target, resolve_device
from skmem.metrics import spearman_score

__all__ = [
    "MemorabilityNet",
    "DeepRegressorBase",
    "TRAINING_PARAMETER_CONSTRAINTS",
    "VALID_SCORE",
    "first_rows",
    "read_only_arrays_allowed",
]

#: History key of the per-epoch validation Spearman correlation.
VALID_SCORE = "valid_spearman"


def _as_float32(output):
    if isinstance(output, tuple):
        return tuple(_as_float32(o) for o in output)
    return output.float() if torch.is_floating_point(output) else output


def _valid_spearman(net, X, y):
    """EpochScoring function: Spearman ρ of the net's ranking scores on validation data."""
    return spearman_score(np.asarray(y).reshape(-1), net.rank_scores(X))


class _Interrupted(BaseException):
    """Carries a ``KeyboardInterrupt`` past skorch's ``partial_fit``, which would swallow it."""

    def __init__(self, interrupt):
        super().__init__()
        self.interrupt = interrupt


class MemorabilityNet(NeuralNetRegressor):
    """skorch regressor engine shared by the skmem deep models.

    Interrupts are honoured: skorch's ``partial_fit`` (and so ``fit``)
    catches a ``KeyboardInterrupt`` raised during training and returns as
    if training had ended; when it comes from a signal (Ctrl-C's SIGINT, or
    SIGTERM where a handler turns it into ``KeyboardInterrupt``), this
    engine lets it propagate instead, so an interrupted fit never passes for
    a finished one, even when the signal's exception was lost on the way
    (Python can raise it inside a garbage-collector callback, which only
    prints it). The network keeps the weights of the epochs done so
    far. A ``KeyboardInterrupt`` that a callback raises itself, skorch's way
    of ending training (as ``EarlyStopping`` does), still ends it normally.

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

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        with raised_interrupts() as signals:
            try:
                net = super().fit_loop(X, y, epochs=epochs, **fit_params)
            except KeyboardInterrupt as interrupt:
                if not signals:  # raised by a callback to end training (EarlyStopping does): a normal end
                    raise
                raise _Interrupted(interrupt) from None
        if signals:  # the signal's exception was lost (raised in a gc callback, or caught) and training went on
            raise _Interrupted(KeyboardInterrupt(signals[0]))
        return net

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        except _Interrupted as carrier:
            interrupt = carrier.interrupt
        raise interrupt

    def infer(self, x, **fit_params):
        if not self.autocast:
            return super().infer(x, **fit_params)
        with torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16):
            output = super().infer(x, **fit_params)
        return _as_float32(output)

    def prediction_batch_size(self):
        """Rows of every forward pass at prediction time (``iterator_valid`` batch size)."""
        return self.get_params_for("iterator_valid").get("batch_size", self.batch_size)

    def evaluation_step(self, batch, training=False):
        """Forward one prediction batch, padded to :meth:`prediction_batch_size` rows.

        float32 kernels may round a row differently when the batch has another
        number of rows; with every forward pass the same shape, a sample's
        prediction does not depend on the other samples predicted with it.
        """
        Xi, yi = unpack_data(batch)
        size = self.prediction_batch_size()
        if training or len(Xi) >= size:
            return super().evaluation_step(batch, training=training)
        n = len(Xi)
        padded = torch.cat([Xi, Xi[-1:].expand(size - n, *Xi.shape[1:])])
        return first_rows(super().evaluation_step((padded, yi), training=training), n)

    def rank_scores(self, X):
        """Scores whose order is the predicted memorability order, shape ``(n,)``."""
        return self.predict(X).reshape(-1)


def first_rows(output, n):
    """The first ``n`` rows of a module output (a tensor or a tuple of tensors)."""
    if isinstance(output, tuple):
        return tuple(first_rows(o, n) for o in output)
    return output[:n]


TRAINING_PARAMETERS_DOC = """\
    max_epochs : int, default={max_epochs!r}
        Training epochs (fewer with early stopping).
    lr : float, default={lr!r}
        Learning rate.
    batch_size : int, default={batch_size!r}
        Samples per training batch.
    optimizer : torch.optim.Optimizer class, default={optimizer_name}
        Called as ``optimizer(parameters, lr=lr, weight_decay=weight_decay)``.
    weight_decay : float, default={weight_decay!r}
    early_stopping : bool, default={early_stopping!r}
        Stop when the validation Spearman has not improved for ``patience``
        epochs and restore the best epoch's weights.
    patience : int, default={patience!r}
    valid_size : float in (0, 1) or None, default={valid_size!r}
        Fraction of the training data (at least 2 rows) held out for the per-epoch
        ``valid_spearman`` score; ``None`` trains on everything (no
        validation score, no early stopping).
    callbacks : list of skorch callbacks or None, default=None
        Appended to the built-in ones (validation Spearman, early
        stopping, progress bar).
    warm_start : bool, default=False
        When True, ``fit`` continues from the current weights.
    autocast : bool, default=False
        Mixed precision (bfloat16) forward passes, meant for CUDA.
    device : str, default="auto"
        ``"auto"`` picks CUDA when available, else CPU.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, dropout, the validation split and the
        batch order; two CPU fits with the same seed are identical.
    verbose : int, default=0
        Above 0, print the epoch log and show a progress bar.
    net_params : dict or None, default=None
        Other :class:`skorch.NeuralNetRegressor` settings, e.g.
        ``{{"iterator_train__num_workers": 2}}``: its own arguments or names
        with a ``module__``, ``criterion__``, ``optimizer__``,
        ``iterator_train__``, ``iterator_valid__``, ``dataset__`` or
        ``callbacks__`` prefix. Checked at ``fit``; a key that a parameter
        above already sets (``module__dropout`` for ``dropout``,
        ``optimizer__lr`` for ``lr``) is an error.
"""

#: Constraints of the training parameters every deep regressor shares.
TRAINING_PARAMETER_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [callable],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "valid_size": [Interval(Real, 0, 1, closed="neither"), None],
    "callbacks": [list, tuple, None],
    "warm_start": ["boolean"],
    "autocast": ["boolean"],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "net_params": [dict, None],
}

# Prefixes skorch routes to a component (module__hidden_size, ...).
_NET_PREFIXES = ("module", "criterion", "optimizer", *NeuralNetRegressor.prefixes_)
# Engine settings derived from the estimator's parameters and the data.
_DERIVED = {"module", "train_split", "module__input_size", "module__n_locations"}


class DeepRegressorBase(RegressorMixin, BaseEstimator):
    """scikit-learn estimator around a :class:`MemorabilityNet` (not public).

    Subclasses define ``__init__`` (their own parameters, then the training
    parameters of :data:`TRAINING_PARAMETER_CONSTRAINTS`), extend
    ``_parameter_constraints`` with their own, write
    ``{training_parameters}`` in their docstring's parameter list (filled
    from :data:`TRAINING_PARAMETERS_DOC` with the subclass's defaults) and
    define the hooks ``_input_ndims``, ``_module_class``,
    ``_module_params`` and, if needed, ``_prepare_X``, ``_engine_class``,
    ``_engine_params``, ``_uses_target_scaling`` and ``_after_fit``.

    ``fit`` and ``partial_fit`` raise ``KeyboardInterrupt`` when training is
    interrupted (Ctrl-C), unlike a bare skorch net, which returns normally;
    ``_after_fit`` is then skipped and the estimator keeps the partly
    trained ``net_``.
    """

    _parameter_constraints = dict(TRAINING_PARAMETER_CONSTRAINTS)
    _input_ndims = (3,)
    _engine_class = MemorabilityNet
    # Whether EpochScoring may reuse the validation step's forward outputs.
    _cache_validation = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__doc__ and "{training_parameters}" in cls.__doc__:
            defaults = {
                name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            }
            optimizer = defaults["optimizer"]
            fragment = TRAINING_PARAMETERS_DOC.format(
                optimizer_name=f"{optimizer.__module__}.{optimizer.__qualname__}", **defaults
            )
            cls.__doc__ = cls.__doc__.replace("    {training_parameters}\n", fragment)

    # -- parameters ---------------------------------------------------------

    def _checked_net_params(self, built):
        """``net_params``, checked against skorch's arguments and the ``built`` engine settings."""
        extra = dict(self.net_params or {})
        engine = type(self)._engine_class
        arguments = {
            name for cls in engine.__mro__ if "__init__" in vars(cls)
            for name in inspect.signature(cls.__init__).parameters
        } - {"self", "args", "kwargs"}
        own = self._get_param_names()
        for key in extra:
            prefix, _, name = key.partition("__")
            if key not in arguments and not (name and prefix in _NET_PREFIXES):
                raise ValueError(
                    f"net_params[{key!r}] of {type(self).__name__} is neither a "
                    f"skorch.NeuralNetRegressor argument nor prefixed by one of "
                    f"{', '.join(p + '__' for p in _NET_PREFIXES)}"
                )
            twin = key if key in own else name if name in own else None
            if twin is not None:
                raise ValueError(
                    f"net_params[{key!r}] duplicates the parameter {twin!r} of "
                    f"{type(self).__name__}; set {twin}= instead"
                )
            if key in _DERIVED or key in built:
                raise ValueError(
                    f"net_params[{key!r}] cannot be set: {type(self).__name__} derives it from "
                    "its parameters and the data (valid_size sets the split)"
                )
        return extra

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
        self._validate_params()
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
        with _seeded_torch(seed, self.device_), read_only_arrays_allowed():
            if reset:
                self.net_ = self._build_net(seed, len(X) - n_valid, n_valid)
                self.net_.initialize()
            else:
                self.net_.set_params(**self._net_runtime_params(seed, len(X) - n_valid, n_valid))
            self.net_.partial_fit(X, y_train, epochs=epochs)
            self._after_fit(X, y)
        return self

    def _n_valid(self, n_samples):
        """Validation rows: ``valid_size`` of the samples, at least 2 (a Spearman needs 2)."""
        if self.valid_size is None:
            return 0
        n_valid = max(2, math.ceil(self.valid_size * n_samples))
        if n_samples - n_valid < 1:
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

    def _net_runtime_params(self, seed, n_train, n_valid):
        """Engine parameters that may change between warm-started fits."""
        split = None
        if n_valid:
            # A fraction that rounds up to exactly n_valid rows.
            fraction = (n_valid - 0.5) / (n_train + n_valid)
            split = ValidSplit(fraction, stratified=False, random_state=seed)
        return {"train_split": split, "max_epochs": self.max_epochs, **self._engine_params(n_train)}

    def _engine_params(self, n_train):
        """Hook: extra keyword arguments of ``_engine_class``."""
        return {}

    def _build_net(self, seed, n_train, n_valid):
        module_params = {f"module__{k}": v for k, v in self._module_params().items()}
        iterator_params = {"iterator_train__shuffle": True}
        if self.device_.startswith("cuda"):
            iterator_params.update(iterator_train__pin_memory=True, iterator_valid__pin_memory=True)
        params = {
            **module_params,
            "optimizer": self.optimizer,
            "optimizer__weight_decay": self.weight_decay,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "callbacks": self._callbacks(),
            "device": self.device_,
            "autocast": self.autocast,
            "verbose": int(self.verbose),
            **self._net_runtime_params(seed, n_train, n_valid),
        }
        extra = self._checked_net_params(params)
        return self._engine_class(self._module_class(), **{**iterator_params, **params, **extra})

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
        with torch.no_grad(), read_only_arrays_allowed():
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

    def __skmem_epoch_score__(self):
        """The score ``history_`` records every epoch (pruning reads it); None without a validation split."""
        return VALID_SCORE if self.valid_size is not None else None

    def __setstate__(self, state):
        device = state.get("device_")
        if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
            state["device_"] = "cpu"
        self.__dict__.update(state)

@contextlib.contextmanager
def read_only_arrays_allowed():
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
