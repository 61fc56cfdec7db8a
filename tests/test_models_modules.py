"""Plain torch modules: shapes, options and the algebra they rely on."""

import pytest
import torch
from _models_data import one_torch_thread  # noqa: F401

from skmem.models.modules import AMNet, PairComparator, PairScorer, SequenceRegressor


def test_sequence_regressor_shapes_and_single_step_input():
    torch.manual_seed(0)
    module = SequenceRegressor(5, hidden_size=7).eval()
    X = torch.randn(3, 4, 5)
    assert module(X).shape == (3,)
    assert module.step_scores(X).shape == (3, 4)
    single = torch.randn(3, 5)
    torch.testing.assert_close(module(single), module(single[:, None, :]))


def test_sequence_regressor_heads_read_the_steps():
    torch.manual_seed(0)
    last = SequenceRegressor(5, hidden_size=7, head="last").eval()
    mean = SequenceRegressor(5, hidden_size=7, head="mean").eval()
    mean.load_state_dict(last.state_dict())
    X = torch.randn(3, 4, 5)
    steps = last.step_scores(X)
    torch.testing.assert_close(last(X), steps[:, -1])
    torch.testing.assert_close(mean(X), steps.mean(dim=1))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_learned_initial_state_is_a_map_of_the_mean_input(num_layers):
    torch.manual_seed(0)
    module = SequenceRegressor(5, hidden_size=7, num_layers=num_layers).eval()
    X = torch.randn(3, 4, 5)
    h0, c0 = module.initial_state(X)
    assert h0.shape == c0.shape == (num_layers, 3, 7)
    # A map of the clip's mean feature: reordering the steps keeps it, another mean changes it.
    reordered_h0, reordered_c0 = module.initial_state(X[:, [2, 0, 3, 1]])
    torch.testing.assert_close(reordered_h0, h0)
    torch.testing.assert_close(reordered_c0, c0)
    shifted_h0, _ = module.initial_state(X + 1.0)
    assert not torch.allclose(shifted_h0, h0)
    module(X).sum().backward()
    assert module.init_h.weight.grad.abs().sum() > 0


def test_zero_initial_state_has_no_parameters():
    module = SequenceRegressor(5, hidden_size=7, state_init="zeros")
    assert not hasattr(module, "init_h")
    h0, c0 = module.initial_state(torch.randn(3, 4, 5))
    assert torch.count_nonzero(h0) == 0 and torch.count_nonzero(c0) == 0


@pytest.mark.parametrize("aggregate", ["mean", "last"])
def test_amnet_outputs_a_score_and_a_distribution_per_step(aggregate):
    torch.manual_seed(0)
    module = AMNet(6, n_locations=9, hidden_size=8, n_steps=3, head_size=4, aggregate=aggregate).eval()
    prediction, alpha = module(torch.randn(2, 9, 6))
    assert prediction.shape == (2,)
    assert alpha.shape == (2, 3, 9)
    torch.testing.assert_close(alpha.sum(dim=-1), torch.ones(2, 3))


def test_amnet_rejects_another_number_of_locations():
    module = AMNet(6, n_locations=9, hidden_size=8, head_size=4).eval()
    with pytest.raises(ValueError, match="4 locations.*9"):
        module(torch.randn(2, 4, 6))


def test_pair_scorer_scores_each_item_independently():
    torch.manual_seed(0)
    module = PairScorer(6, hidden_sizes=(8, 4), dropout=0.0).eval()
    X = torch.randn(5, 6)
    scores = module(X)
    assert scores.shape == (5,)
    torch.testing.assert_close(module(X[2:3]), scores[2:3])


def test_pair_comparator_equals_an_mlp_on_concatenated_pairs():
    torch.manual_seed(0)
    module = PairComparator(6, hidden_sizes=(8, 4), dropout=0.0).eval()
    A, B = torch.randn(3, 6), torch.randn(4, 6)
    logits = module.compare(A, B)
    assert logits.shape == (3, 4)
    pairs = torch.cat([A[:, None, :].expand(3, 4, 6), B[None, :, :].expand(3, 4, 6)], dim=-1)
    explicit = module.tail(module.first(pairs)).squeeze(-1)
    torch.testing.assert_close(logits, explicit)
    torch.testing.assert_close(module(A), module.compare(A, A))
