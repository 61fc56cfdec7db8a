"""AMNet: attention LSTM over spatial (and temporal) feature locations."""

from numbers import Integral, Real

import numpy as np
import torch

from skmem._params import Interval, StrOptions
from skmem._validation import check_positive_int
from skmem.models._base import DeepRegressorBase, MemorabilityNet, read_only_arrays_allowed
from skmem.models.modules import AMNet

__all__ = ["AMNetRegressor"]


class AttentionNet(MemorabilityNet):
    """Engine whose loss adds AMNet's doubly stochastic attention penalty.

    Parameters
    ----------
    attention_penalty : float
        Weight γ of ``mean_b Σ_i (n_steps / L − Σ_t α_{b,t,i})²``, which asks
        every location to receive, over the steps, its uniform share of
        attention (the location-count-aware form of the original constant
        target 0.2).
    """

    def __init__(self, module, *args, attention_penalty=1e-5, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.attention_penalty = attention_penalty

    def get_loss(self, y_pred, y_true, X=None, training=False):
        prediction, alpha = y_pred
        loss = super().get_loss(prediction, y_true, X=X, training=training)
        if self.attention_penalty:
            n_steps, n_locations = alpha.shape[1:]
            coverage = alpha.sum(dim=1)
            penalty = ((n_steps / n_locations - coverage) ** 2).sum(dim=1).mean()
            loss = loss + self.attention_penalty * penalty
        return loss


class AMNetRegressor(DeepRegressorBase):
    """AMNet (Fajtl et al. 2018): an attention LSTM over CNN feature locations.

    Parameters
    ----------
    hidden_size : int, default=1024
        LSTM state size.
    n_steps : int, default=3
        Attention steps; each gives a score and an attention map.
    attention_penalty : float, default=1e-5
        Weight of the attention coverage penalty added to the MSE loss.
    adaptor_dropout : float, default=0.8
        Dropout after the feature adaptor.
    dropout : float, default=0.5
        Dropout in the attention and the scoring head.
    head_size : int, default=512
        Hidden width of the scoring head.
    aggregate : {"mean", "last"}, default="mean"
        Predict with the mean of the per-step scores or the last step's.
    target_scaling : bool, default=True
        Train on targets standardised with the training mean and standard
        deviation; predictions are mapped back.
    {training_parameters}

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
    n_features_in_ : int
        Feature dimension (last axis of ``X``).
    grid_shape_ : tuple of int
        The non-feature axes of the training input: ``(L,)`` or ``(T, L)``.
    device_ : str

    Notes
    -----
    ``X`` has shape ``(n, L, D)`` (one image, ``L`` spatial locations; or a
    clip's ``T`` pooled frames, attended over frames) or ``(n, T, L, D)``
    (a clip, attended over frames x locations). As in the original, each
    location has its own learned link to the LSTM state, so ``predict`` needs
    the training grid.
    """

    _parameter_constraints = {
        **DeepRegressorBase._parameter_constraints,
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "attention_penalty": [Interval(Real, 0, None, closed="left")],
        "adaptor_dropout": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "head_size": [Interval(Integral, 1, None, closed="left")],
        "aggregate": [StrOptions({"mean", "last"})],
        "target_scaling": ["boolean"],
    }
    _input_ndims = (3, 4)
    _engine_class = AttentionNet

    def __init__(
        self,
        hidden_size=1024,
        n_steps=3,
        attention_penalty=1e-5,
        adaptor_dropout=0.8,
        dropout=0.5,
        head_size=512,
        aggregate="mean",
        target_scaling=True,
        max_epochs=50,
        lr=1e-4,
        batch_size=222,
        optimizer=torch.optim.Adam,
        weight_decay=1e-6,
        early_stopping=True,
        patience=10,
        valid_size=0.1,
        callbacks=None,
        warm_start=False,
        autocast=False,
        device="auto",
        random_state=None,
        verbose=0,
        net_params=None,
    ):
        self.hidden_size = hidden_size
        self.n_steps = n_steps
        self.attention_penalty = attention_penalty
        self.adaptor_dropout = adaptor_dropout
        self.dropout = dropout
        self.head_size = head_size
        self.aggregate = aggregate
        self.target_scaling = target_scaling
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.patience = patience
        self.valid_size = valid_size
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.autocast = autocast
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.net_params = net_params

    def __skmem_search_space__(self, X=None, y=None):
        """Optuna distributions of the parameters worth tuning (see :func:`skmem.tuning.search_space`)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution

        return {
            "hidden_size": CategoricalDistribution((128, 256, 512, 1024)),
            "lr": FloatDistribution(1e-5, 1e-3, log=True),
            "dropout": FloatDistribution(0.0, 0.7),
            "adaptor_dropout": FloatDistribution(0.0, 0.9),
        }

    def _uses_target_scaling(self):
        return self.target_scaling

    def _check_input_layout(self, X, *, reset):
        if reset:
            self.grid_shape_ = tuple(X.shape[1:-1])
        elif tuple(X.shape[1:-1]) != self.grid_shape_:
            raise ValueError(
                f"X has locations of shape {tuple(X.shape[1:-1])} (axes between samples and "
                f"features), but AMNetRegressor was fitted on {self.grid_shape_}"
            )

    def _prepare_X(self, X):
        return X.reshape(len(X), -1, X.shape[-1])

    def _module_class(self):
        return AMNet

    def _module_params(self):
        return {
            "input_size": self.n_features_in_,
            "n_locations": int(np.prod(self.grid_shape_)),
            "hidden_size": self.hidden_size,
            "n_steps": self.n_steps,
            "adaptor_dropout": self.adaptor_dropout,
            "dropout": self.dropout,
            "head_size": self.head_size,
            "aggregate": self.aggregate,
        }

    def _engine_params(self, n_train):
        return {"attention_penalty": self.attention_penalty}

    def attention_maps(self, X, spatial_shape=None):
        """Attention weights α of every step, on the input's grid.

        Parameters
        ----------
        X : array-like of shape (n, L, D) or (n, T, L, D)
        spatial_shape : tuple of int (h, w) or None
            Reshape the location axis ``L`` to ``(h, w)`` (``h * w == L``)
            for plotting.

        Returns
        -------
        alpha : ndarray of shape ``(n, n_steps, *grid)``
            ``grid`` is ``(L,)`` or ``(T, L)``, with ``L`` replaced by
            ``(h, w)`` when ``spatial_shape`` is given. Each step's weights
            sum to 1 over the grid.
        """
        X = self._checked_X(X)
        grid = self.grid_shape_
        if spatial_shape is not None:
            shape = tuple(check_positive_int(s, "spatial_shape") for s in spatial_shape)
            if len(shape) != 2:
                raise ValueError(f"spatial_shape must be (h, w), got {spatial_shape!r}")
            if shape[0] * shape[1] != grid[-1]:
                raise ValueError(
                    f"spatial_shape={shape} holds {shape[0] * shape[1]} locations, X has {grid[-1]}"
                )
            grid = grid[:-1] + shape
        with torch.no_grad(), read_only_arrays_allowed():
            _, alpha = self.net_.forward(X)
        return alpha.numpy().reshape((len(X), alpha.shape[1]) + grid)
