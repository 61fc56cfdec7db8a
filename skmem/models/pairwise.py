"""Pairwise ranking: learn "A is more memorable than B" and turn it into scores."""

from numbers import Integral, Real

import numpy as np
import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from skmem._params import Interval, StrOptions
from skmem.models._base import DeepRegressorBase, MemorabilityNet
from skmem.models.modules import PairComparator, PairScorer

__all__ = ["PairwiseRanker"]

# Upper bound on the hidden activations held at once when comparing item chunks
# with the reference set (floats).
_COMPARE_BUDGET = 2**25


class PairNet(MemorabilityNet):
    """Engine that trains on the ordered pairs inside each batch.

    Every pair ``(i, j)`` of a batch with ``y_i - y_j > min_margin`` gives two
    examples: the logit of "i beats j" with target 1 and of "j beats i" with
    target 0 (for a scorer the logit is ``s_i - s_j``, the RankNet loss).

    Parameters
    ----------
    min_margin : float
        Target gap a pair needs to count; ties never count.
    pairs_per_batch : int or None
        Train on a random subset of this many pairs per batch (all when None).
    vote : {"borda", "copeland"}
        How a comparator's pairwise probabilities become scores: mean
        probability of winning (Borda) or fraction of comparisons won
        (Copeland, a draw counts half).
    """

    def __init__(
        self,
        module,
        *args,
        criterion=torch.nn.BCEWithLogitsLoss,
        predict_nonlinearity=None,
        min_margin=0.0,
        pairs_per_batch=None,
        vote="borda",
        **kwargs,
    ):
        super().__init__(
            module, *args, criterion=criterion, predict_nonlinearity=predict_nonlinearity, **kwargs
        )
        self.min_margin = min_margin
        self.pairs_per_batch = pairs_per_batch
        self.vote = vote

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y = to_tensor(y_true, device=self.device).reshape(-1)
        logits = y_pred if y_pred.dim() == 2 else y_pred[:, None] - y_pred[None, :]
        winner, loser = torch.nonzero(y[:, None] - y[None, :] > self.min_margin, as_tuple=True)
        if training and self.pairs_per_batch is not None and len(winner) > self.pairs_per_batch:
            keep = torch.randperm(len(winner))[: self.pairs_per_batch].to(winner.device)
            winner, loser = winner[keep], loser[keep]
        if len(winner) == 0:
            return logits.sum() * 0.0
        both = torch.cat([logits[winner, loser], logits[loser, winner]])
        target = torch.cat([torch.ones_like(both[: len(winner)]), torch.zeros_like(both[len(winner) :])])
        return self.criterion_(both, target)

    def _features(self, X):
        batches = [unpack_data(b)[0] for b in self.get_iterator(self.get_dataset(X), training=False)]
        return torch.cat([to_tensor(b, device="cpu") for b in batches])

    def rank_scores(self, X, references=None):
        """Scores in the predicted order, shape ``(n,)``.

        A comparator scores each item by its votes against ``references``
        (a tournament among the items of ``X`` when None); a scorer returns
        ``s(x)`` and ignores ``references``.
        """
        if not isinstance(self.module_, PairComparator):
            return super().rank_scores(X)
        items = self._features(X)
        refs = items if references is None else to_tensor(references, device="cpu")
        refs = refs.to(self.device)
        # Every comparison pass has the same shape (the last chunk is padded), so
        # an item's score does not depend on the items predicted with it.
        budget = _COMPARE_BUDGET // (len(refs) * self.module_.first.out_features)
        chunk = max(1, min(budget, self.prediction_batch_size()))
        self._set_training(False)
        votes = []
        with torch.no_grad():
            for part in items.split(chunk):
                n = len(part)
                part = torch.cat([part, part[-1:].expand(chunk - n, -1)]).to(self.device)
                ahead = torch.sigmoid(self.module_.compare(part, refs))
                behind = torch.sigmoid(self.module_.compare(refs, part)).T
                p_win = (ahead + 1.0 - behind) / 2.0
                if self.vote == "copeland":
                    p_win = (p_win > 0.5).float() + 0.5 * (p_win == 0.5).float()
                votes.append(p_win.mean(dim=1)[:n].cpu())
        return torch.cat(votes).numpy()


class PairwiseRanker(DeepRegressorBase):
    """Learn which of two items is more memorable; predict consistent scores.

    Parameters
    ----------
    method : {"ranknet", "comparator"}, default="ranknet"
        ``"ranknet"``: a scorer ``s(x)`` trained with the logistic loss of
        ``s(A) - s(B)``, transitive by construction. ``"comparator"``: the
        2018 design, an MLP on the concatenated pair giving P(A > B); an
        item's score is its vote count against a reference set of training
        items (Borda or Copeland), which, unlike a topological sort, copes
        with cyclic preferences.
    hidden_sizes : tuple of int, default=(2048, 128)
        Hidden widths of the MLP.
    dropout : float, default=0.75
    pairs_per_epoch : int or None, default=None
        Pairs to train on per epoch, drawn at random inside the batches;
        None uses every ordered pair of every batch.
    min_margin : float, default=0.0
        Two items form a training pair only when their targets differ by
        more than this; ties never do.
    pooling : {"mean", "flatten"}, default="mean"
        How ``(n, T, D)`` input becomes one vector per item.
    vote : {"borda", "copeland"}, default="borda"
        Comparator only: mean win probability or fraction of wins.
    n_references : int, default=512
        Training items, evenly spread over the target's ranks, that
        comparator predictions are voted against and that fit the map from
        scores to the target's range.
    {training_parameters}

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
    n_features_in_ : int
        Feature dimension (last axis of ``X``).
    model_input_size_ : int
        Width of the vector the network sees (``T * D`` when flattening).
    reference_X_ : ndarray of shape (n_ref, ``model_input_size_``)
        Reference items.
    score_knots_, target_knots_ : ndarray of shape (n_ref,)
        Sorted reference scores and targets of the monotone output map.
    device_ : str

    Notes
    -----
    ``predict`` maps raw scores into the training target's range with a
    monotone quantile map (plus a vanishing strictly increasing term, so it
    never creates ties): the order, hence Spearman's ρ, is the raw scores'
    order, and the mean squared error stays meaningful. A prediction depends
    only on its own row. A batch of ``batch_size`` items gives up to
    ``batch_size ** 2`` ordered training pairs.
    """

    _parameter_constraints = {
        **DeepRegressorBase._parameter_constraints,
        "method": [StrOptions({"ranknet", "comparator"})],
        "hidden_sizes": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pairs_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "min_margin": [Interval(Real, 0, None, closed="left")],
        "pooling": [StrOptions({"mean", "flatten"})],
        "vote": [StrOptions({"borda", "copeland"})],
        "n_references": [Interval(Integral, 2, None, closed="left")],
    }
    _input_ndims = (2, 3)
    _engine_class = PairNet
    _cache_validation = False

    def __init__(
        self,
        method="ranknet",
        hidden_sizes=(2048, 128),
        dropout=0.75,
        pairs_per_epoch=None,
        min_margin=0.0,
        pooling="mean",
        vote="borda",
        n_references=512,
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
        self.method = method
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.pairs_per_epoch = pairs_per_epoch
        self.min_margin = min_margin
        self.pooling = pooling
        self.vote = vote
        self.n_references = n_references
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
        from optuna.distributions import FloatDistribution

        return {
            "lr": FloatDistribution(1e-5, 1e-2, log=True),
            "dropout": FloatDistribution(0.0, 0.8),
            "weight_decay": FloatDistribution(1e-8, 1e-3, log=True),
        }

    def _check_input_layout(self, X, *, reset):
        width = X.shape[-1]
        if X.ndim == 3 and self.pooling == "flatten":
            width *= X.shape[1]
        if reset:
            self.model_input_size_ = width
        elif width != self.model_input_size_:
            raise ValueError(
                f"X of shape {X.shape} gives {width} inputs with pooling={self.pooling!r}, but "
                f"PairwiseRanker was fitted on {self.model_input_size_} (flattened sequences "
                "need the training length)"
            )

    def _prepare_X(self, X):
        if X.ndim == 2:
            return X
        return X.reshape(len(X), -1) if self.pooling == "flatten" else X.mean(axis=1)

    def _validate_y(self, y, n_samples):
        y = super()._validate_y(y, n_samples)
        gaps = float(np.ptp(y))
        if n_samples < 2 or not gaps > self.min_margin:
            raise ValueError(
                f"PairwiseRanker needs targets that differ by more than min_margin={self.min_margin}; "
                f"got {n_samples} sample(s) with a target range of {gaps:g}, so no training pair"
            )
        return y

    def _module_class(self):
        return PairScorer if self.method == "ranknet" else PairComparator

    def _module_params(self):
        sizes = tuple(self.hidden_sizes)
        if not sizes or not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(
                f"The 'hidden_sizes' parameter of PairwiseRanker must be a non-empty tuple of "
                f"positive ints, got {self.hidden_sizes!r}"
            )
        return {
            "input_size": self.model_input_size_,
            "hidden_sizes": sizes,
            "dropout": self.dropout,
        }

    def _engine_params(self, n_train):
        per_batch = None
        if self.pairs_per_epoch is not None:
            n_batches = -(-n_train // self.batch_size)
            per_batch = max(1, -(-self.pairs_per_epoch // n_batches))
        return {"min_margin": self.min_margin, "pairs_per_batch": per_batch, "vote": self.vote}

    def _after_fit(self, X, y):
        n_ref = min(self.n_references, len(y))
        by_target = np.argsort(y, kind="stable")
        picks = by_target[np.unique(np.linspace(0, len(y) - 1, n_ref).round().astype(int))]
        self.reference_X_ = X[picks]
        raw = self._raw_predict(self.reference_X_)
        self.score_knots_ = np.sort(raw).astype(np.float64)
        self.target_knots_ = np.sort(y[picks]).astype(np.float64)

    def _raw_predict(self, X):
        return self.net_.rank_scores(X, references=self.reference_X_)

    def predict(self, X):
        """Predict memorability scores in the training target's range.

        Parameters
        ----------
        X : array-like of shape (n, D) or (n, T, D)

        Returns
        -------
        y_pred : ndarray of shape (n,), float64
        """
        raw = super().predict(X)
        knots = self.score_knots_
        spread = np.std(knots) or 1.0
        tie_breaker = np.tanh((raw - np.median(knots)) / spread)
        span = self.target_knots_[-1] - self.target_knots_[0]
        return np.interp(raw, knots, self.target_knots_) + 1e-6 * span * tie_breaker

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Trained for the order of the targets, not their squared error.
        tags.regressor_tags.poor_score = True
        return tags
