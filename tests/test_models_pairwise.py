"""PairwiseRanker: both methods learn the order; pairs, votes, output map, contract."""

import numpy as np
import pytest
import torch
from _models_data import item_task, one_torch_thread, shuffled  # noqa: F401

from skmem import PairwiseRanker, spearman_score
from skmem.models.modules import PairComparator

TINY = dict(hidden_sizes=(32, 16), dropout=0.1, batch_size=64, device="cpu", random_state=0)


@pytest.mark.parametrize("method", ["ranknet", "comparator"])
def test_both_methods_rank_well_above_a_shuffled_control(method):
    X, y = item_task()
    train, test = slice(0, 350), slice(350, None)
    model = PairwiseRanker(method=method, max_epochs=15, **TINY).fit(X[train], y[train])
    rho = spearman_score(y[test], model.predict(X[test]))
    control = PairwiseRanker(method=method, max_epochs=15, **TINY).fit(X[train], shuffled(y[train]))
    rho_control = spearman_score(y[test], control.predict(X[test]))
    assert rho > 0.7 and rho > rho_control + 0.5


@pytest.mark.parametrize("method", ["ranknet", "comparator"])
def test_predictions_lie_in_the_target_range_in_the_raw_order(method):
    X, y = item_task(n=200)
    y = 0.6 + 0.1 * y
    model = PairwiseRanker(method=method, max_epochs=3, n_references=50, **TINY).fit(X, y)
    prediction = model.predict(X)
    slack = 1e-5 * np.ptp(y)
    assert prediction.min() >= y.min() - slack and prediction.max() <= y.max() + slack
    raw = model.net_.rank_scores(X, references=model.reference_X_)
    assert spearman_score(raw, prediction) == pytest.approx(1.0)
    assert len(np.unique(prediction)) == len(np.unique(raw))
    assert model.reference_X_.shape == (50, 16)
    # References are spread over the whole target range.
    assert model.target_knots_[[0, -1]] == pytest.approx([y.min(), y.max()], rel=1e-6)


def _batch_loss(net, scores, y):
    return net.get_loss(torch.as_tensor(scores), torch.as_tensor(y), training=False)


def test_ties_and_close_pairs_give_no_training_pair():
    X, y = item_task(n=40)
    model = PairwiseRanker(max_epochs=1, valid_size=None, min_margin=0.5, **TINY).fit(X, y)
    net = model.net_
    scores = np.array([0.3, -1.0, 2.0], dtype=np.float32)
    # Gaps 0.3, 0.3 and 0.6: only "2 beats 0" clears the margin.
    y_batch = np.array([0.0, 0.3, 0.6], dtype=np.float32)
    expected = torch.nn.functional.softplus(-torch.tensor(2.0 - 0.3))
    torch.testing.assert_close(_batch_loss(net, scores, y_batch), expected)
    # Ties never pair, even without a margin: zero loss.
    net.set_params(min_margin=0.0)
    assert _batch_loss(net, scores, np.full(3, 0.4, dtype=np.float32)).item() == 0.0


def test_pairs_per_epoch_limits_the_pairs_per_batch():
    X, y = item_task(n=256)
    model = PairwiseRanker(max_epochs=1, pairs_per_epoch=100, valid_size=None, **TINY).fit(X, y)
    assert model.net_.pairs_per_batch == 25  # 100 pairs over 4 batches of 64


def test_constant_targets_are_rejected():
    X, _ = item_task(n=30)
    with pytest.raises(ValueError, match="min_margin"):
        PairwiseRanker(**TINY).fit(X, np.full(30, 0.8))


@pytest.mark.parametrize("vote", ["borda", "copeland"])
def test_comparator_votes_survive_cyclic_preferences(vote):
    X, y = item_task(n=60)
    model = PairwiseRanker(method="comparator", vote=vote, max_epochs=1, valid_size=None, **TINY).fit(X, y)
    net = model.net_
    with torch.no_grad():
        # A rock-paper-scissors comparator: item k beats item k + 1 (mod 3).
        cyclic = PairComparator(1, hidden_sizes=(1,), dropout=0.0)
        net.module_ = cyclic
        wins = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        cyclic.compare = lambda A, B: torch.as_tensor(
            10 * (wins[A[:, 0].long()][:, B[:, 0].long()] - 0.5), dtype=torch.float32
        )
        scores = net.rank_scores(np.arange(3, dtype=np.float32)[:, None])
    # Every item wins one duel and loses one: a three-way draw, no crash.
    np.testing.assert_allclose(scores, scores[0], atol=1e-4)


@pytest.mark.parametrize("pooling, width", [("mean", 16), ("flatten", 48)])
def test_sequences_are_pooled_or_flattened(pooling, width):
    X, y = item_task(n=90, n_features=48)
    X3 = X.reshape(90, 3, 16)
    model = PairwiseRanker(pooling=pooling, max_epochs=1, **TINY).fit(X3, y)
    assert model.n_features_in_ == 16 and model.model_input_size_ == width
    assert model.predict(X3).shape == (90,)
    if pooling == "flatten":
        with pytest.raises(ValueError, match="training length"):
            model.predict(X3[:, :2])
