"""LSTM sequence regressor over per-frame features (the 2018 MediaEval design)."""

from numbers import Integral, Real

import torch

from skmem._params import Interval, StrOptions
from skmem.models._base import DeepRegressorBase
from skmem.models.modules import SequenceRegressor

__all__ = ["LSTMRegressor"]


class LSTMRegressor(DeepRegressorBase):
    """LSTM over a clip's frame features, trained with MSE, selected by validation ρ.

    Parameters
    ----------
    hidden_size : int, default=1024
        LSTM state size.
    num_layers : int, default=1
        Stacked LSTM layers.
    dropout : float, default=0.5
        Dropout on the inputs (and between stacked layers).
    state_init : {"learned", "zeros"}, default="learned"
        ``"learned"``: ``h0`` and ``c0`` are linear maps of the clip's mean
        feature; ``"zeros"``: zero initial states.
    head : {"last", "mean"}, default="last"
        Predict with the last step's score (the 2018 design) or the mean of
        the per-step scores.
    {training_parameters}

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained engine; ``net_.history`` holds ``valid_spearman``.
    n_features_in_ : int
        Feature dimension (last axis of ``X``).
    device_ : str
        Device the model was trained on.

    Notes
    -----
    ``X`` has shape ``(n, T, D)``; ``(n, D)`` is read as ``T = 1``.
    """

    _parameter_constraints = {
        **DeepRegressorBase._parameter_constraints,
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "state_init": [StrOptions({"learned", "zeros"})],
        "head": [StrOptions({"last", "mean"})],
    }
    _input_ndims = (2, 3)

    def __init__(
        self,
        hidden_size=1024,
        num_layers=1,
        dropout=0.5,
        state_init="learned",
        head="last",
        max_epochs=50,
        lr=1e-3,
        batch_size=128,
        optimizer=torch.optim.Adam,
        weight_decay=0.0,
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
        self.num_layers = num_layers
        self.dropout = dropout
        self.state_init = state_init
        self.head = head
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
            "hidden_size": CategoricalDistribution((64, 128, 256, 512, 1024)),
            "lr": FloatDistribution(1e-5, 1e-2, log=True),
            "dropout": FloatDistribution(0.0, 0.7),
        }

    def _prepare_X(self, X):
        return X[:, None, :] if X.ndim == 2 else X

    def _module_class(self):
        return SequenceRegressor

    def _module_params(self):
        return {
            "input_size": self.n_features_in_,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "state_init": self.state_init,
            "head": self.head,
        }
