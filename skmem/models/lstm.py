"""LSTM sequence regressor over per-frame features (the 2018 MediaEval design)."""

import torch

from skmem._validation import check_choice, check_positive_int
from skmem.models._base import DeepRegressorBase, check_real
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
    max_epochs : int, default=50
    lr : float, default=1e-3
    batch_size : int, default=128
    optimizer : torch.optim.Optimizer subclass, default=torch.optim.Adam
    weight_decay : float, default=0.0
    early_stopping : bool, default=True
        Stop when the validation Spearman has not improved for ``patience``
        epochs and restore the best epoch's weights.
    patience : int, default=10
    valid_size : float or None, default=0.1
        Fraction of the training data held out for the per-epoch
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
    **skorch_kwargs
        Passed to :class:`skorch.NeuralNetRegressor` (e.g.
        ``module__hidden_size``, ``iterator_train__num_workers``);
        ``module__*`` entries override the matching parameters above.

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
        **skorch_kwargs,
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
        self._skorch_kwargs = skorch_kwargs

    def _check_model_params(self):
        check_positive_int(self.hidden_size, "hidden_size")
        check_positive_int(self.num_layers, "num_layers")
        check_real(self.dropout, "dropout", low=0.0, high=1.0, include_high=False)
        check_choice(self.state_init, "state_init", ("learned", "zeros"))
        check_choice(self.head, "head", ("last", "mean"))

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
