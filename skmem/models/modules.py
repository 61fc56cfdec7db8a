"""Plain :mod:`torch` modules behind the skmem deep regressors.

They hold no training logic: the skorch wrappers in :mod:`skmem.models`
build, train and persist them. Every module creates its recurrent state inside
``forward`` on the input's device, so a module moved to another device (or
loaded on a CPU-only machine) keeps working.
"""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SequenceRegressor", "AMNet", "PairScorer", "PairComparator"]


class SequenceRegressor(nn.Module):
    """LSTM over a sequence of frame features, one score per clip.

    The 2018 MediaEval design: dropout on the inputs, optional initial
    states mapped from the mean input feature, a time-distributed dense
    score per step, and the last step's score as the clip's score.

    Parameters
    ----------
    input_size : int
        Feature dimension ``D``.
    hidden_size : int
        LSTM state size.
    num_layers : int
        Stacked LSTM layers (dropout is applied between them too).
    dropout : float
        Dropout rate on the inputs.
    state_init : {"learned", "zeros"}
        ``"learned"``: two linear maps of the mean input give ``h0`` and
        ``c0``; ``"zeros"``: zero states.
    head : {"last", "mean"}
        Score of the last step, or the mean of the per-step scores.

    Shape
    -----
    ``(B, T, D)`` (or ``(B, D)``, read as ``T = 1``) to ``(B,)``.
    """

    def __init__(
        self, input_size, hidden_size=1024, num_layers=1, dropout=0.5, state_init="learned", head="last"
    ):
        super().__init__()
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.state_init = state_init
        self.head = head
        self.input_dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        if state_init == "learned":
            self.init_h = nn.Linear(input_size, num_layers * hidden_size)
            self.init_c = nn.Linear(input_size, num_layers * hidden_size)
        self.score = nn.Linear(hidden_size, 1)

    def initial_state(self, X):
        """Return ``(h0, c0)``, each ``(num_layers, B, hidden_size)``, on ``X``'s device."""
        shape = (len(X), self.num_layers, self.hidden_size)
        if self.state_init == "zeros":
            zeros = X.new_zeros(shape).transpose(0, 1).contiguous()
            return zeros, zeros.clone()
        mean = X.mean(dim=1)
        h0 = self.init_h(mean).view(shape).transpose(0, 1).contiguous()
        c0 = self.init_c(mean).view(shape).transpose(0, 1).contiguous()
        return h0, c0

    def step_scores(self, X):
        """Per-step scores ``(B, T)``."""
        if X.dim() == 2:
            X = X.unsqueeze(1)
        out, _ = self.lstm(self.input_dropout(X), self.initial_state(X))
        return self.score(out).squeeze(-1)

    def forward(self, X):
        steps = self.step_scores(X)
        return steps[:, -1] if self.head == "last" else steps.mean(dim=1)


class AMNet(nn.Module):
    """Attention LSTM of Fajtl et al. (2018) over ``L`` feature locations.

    An adaptor (a 1x1 convolution, written as a linear map per location,
    then batch norm, ReLU and dropout) turns the frozen CNN features into
    annotations ``a``. For ``n_steps`` steps the LSTM state ``h`` shifts
    each location's attention logit (one value per location, as in the
    original), a softmax over locations gives ``alpha``, the
    attention-weighted annotation feeds one LSTM step and a small head
    scores the new state.

    Parameters
    ----------
    input_size : int
        Feature dimension ``D``.
    n_locations : int
        Number of locations ``L`` (``h * w``, frames, or frames x ``h * w``).
    hidden_size : int
        LSTM state size.
    n_steps : int
        Attention steps.
    adaptor_dropout, dropout : float
        Dropout after the adaptor, and everywhere else.
    head_size : int
        Hidden width of the per-step scoring head.
    aggregate : {"mean", "last"}
        Mean of the per-step scores, or the last step's.

    Shape
    -----
    ``(B, L, D)`` to ``(prediction (B,), alpha (B, n_steps, L))``.
    """

    def __init__(
        self,
        input_size,
        n_locations,
        hidden_size=1024,
        n_steps=3,
        adaptor_dropout=0.8,
        dropout=0.5,
        head_size=512,
        aggregate="mean",
    ):
        super().__init__()
        self.n_locations = n_locations
        self.n_steps = n_steps
        self.aggregate = aggregate
        self.adaptor = nn.Linear(input_size, input_size)
        self.adaptor_norm = nn.BatchNorm1d(input_size)
        self.adaptor_dropout = nn.Dropout(adaptor_dropout)
        self.init_h = nn.Linear(input_size, hidden_size)
        self.init_c = nn.Linear(input_size, hidden_size)
        self.embed = nn.Linear(input_size, input_size, bias=False)
        self.hidden_to_locations = nn.Linear(hidden_size, n_locations)
        self.attend = nn.Linear(input_size, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.cell = nn.LSTMCell(input_size, hidden_size)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden_size, head_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_size, 1),
        )

    def annotations(self, X):
        """Adapted features ``a`` of shape ``(B, L, D)``."""
        a = self.adaptor(X)
        a = self.adaptor_norm(a.transpose(1, 2)).transpose(1, 2)
        return self.adaptor_dropout(F.relu(a))

    def forward(self, X):
        if X.shape[1] != self.n_locations:
            raise ValueError(
                f"input has {X.shape[1]} locations, the module was built for {self.n_locations}"
            )
        a = self.annotations(X)
        mean = a.mean(dim=1)
        h = torch.tanh(self.init_h(mean))
        c = torch.tanh(self.init_c(mean))
        e = self.dropout(F.relu(self.embed(a)))
        scores, alphas = [], []
        for _ in range(self.n_steps):
            shifted = e + self.hidden_to_locations(h).unsqueeze(-1)
            logits = self.attend(self.dropout(F.relu(shifted))).squeeze(-1)
            alpha = torch.softmax(logits, dim=1)
            z = torch.bmm(alpha.unsqueeze(1), a).squeeze(1)
            h, c = self.cell(z, (h, c))
            scores.append(self.head(h).squeeze(-1))
            alphas.append(alpha)
        scores = torch.stack(scores, dim=1)
        prediction = scores.mean(dim=1) if self.aggregate == "mean" else scores[:, -1]
        return prediction, torch.stack(alphas, dim=1)


def _mlp_tail(sizes, dropout):
    """ReLU, dropout and linear layers from ``sizes[0]`` down to one output."""
    layers = []
    for n_in, n_out in zip(sizes, list(sizes[1:]) + [1]):
        layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(n_in, n_out)]
    return nn.Sequential(*layers)


class PairScorer(nn.Module):
    """Scoring MLP ``s(x)`` for RankNet training on pairs.

    Parameters
    ----------
    input_size : int
    hidden_sizes : tuple of int
        Widths of the hidden layers.
    dropout : float

    Shape
    -----
    ``(B, D)`` to scores ``(B,)``.
    """

    def __init__(self, input_size, hidden_sizes=(2048, 128), dropout=0.75):
        super().__init__()
        sizes = list(hidden_sizes)
        self.first = nn.Linear(input_size, sizes[0])
        self.tail = _mlp_tail(sizes, dropout)

    def forward(self, X):
        return self.tail(self.first(X)).squeeze(-1)


class PairComparator(nn.Module):
    """MLP on a concatenated pair ``[A, B]`` giving the logit of "A more memorable than B".

    The first layer on ``[A, B]`` equals ``W_A A + W_B B + b``, so the
    module projects every item once and adds projections pairwise instead of
    materialising ``B * B`` concatenated vectors.

    Parameters
    ----------
    input_size : int
        Feature dimension of one item (the pair has twice that).
    hidden_sizes : tuple of int
    dropout : float

    Shape
    -----
    ``forward``: ``(B, D)`` to the logit matrix ``(B, B)`` of every ordered pair.
    ``compare``: ``(n, D)``, ``(m, D)`` to ``(n, m)``.
    """

    def __init__(self, input_size, hidden_sizes=(2048, 128), dropout=0.75):
        super().__init__()
        sizes = list(hidden_sizes)
        self.first = nn.Linear(2 * input_size, sizes[0])
        self.tail = _mlp_tail(sizes, dropout)

    def compare(self, A, B):
        """Logits of ``A[i]`` more memorable than ``B[j]``, shape ``(len(A), len(B))``."""
        d = A.shape[-1]
        proj_a = F.linear(A, self.first.weight[:, :d], self.first.bias)
        proj_b = F.linear(B, self.first.weight[:, d:])
        return self.tail(proj_a.unsqueeze(1) + proj_b.unsqueeze(0)).squeeze(-1)

    def forward(self, X):
        return self.compare(X, X)
