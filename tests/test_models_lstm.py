"""LSTMRegressor: learning order, tuning, pipelines and the scikit-learn contract."""

import warnings

import numpy as np
import pytest
import torch
from _models_data import one_torch_thread, order_task, shuffled  # noqa: F401
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from skmem.datasets import make_memorability_videos
from skmem import CNNFeaturizer, FrameSampler, LSTMRegressor, TemporalPooling, spearman_score, spearman_scorer

TINY = dict(hidden_size=16, dropout=0.0, lr=1e-2, batch_size=32, device="cpu", random_state=0)


def test_lstm_learns_an_order_that_mean_pooling_cannot_see():
    X, y = order_task(n=450)
    train, test = slice(0, 300), slice(300, None)
    lstm = LSTMRegressor(max_epochs=30, **TINY).fit(X[train], y[train])
    rho_lstm = spearman_score(y[test], lstm.predict(X[test]))
    pooled = make_pipeline(TemporalPooling("mean"), Ridge()).fit(X[train], y[train])
    rho_pooled = spearman_score(y[test], pooled.predict(X[test]))
    control = LSTMRegressor(max_epochs=30, **TINY).fit(X[train], shuffled(y[train]))
    rho_control = spearman_score(y[test], control.predict(X[test]))
    assert rho_lstm > 0.7
    assert rho_lstm > rho_pooled + 0.5
    assert rho_lstm > rho_control + 0.5


def test_history_records_validation_spearman_and_restores_the_best_epoch():
    X, y = order_task(n=300)
    lstm = LSTMRegressor(max_epochs=8, patience=3, **TINY).fit(X, y)
    scores = lstm.history_[:, "valid_spearman"]
    assert len(scores) >= 4
    best = int(np.argmax(scores))
    # The weights kept are those of the best epoch: rescoring the validation
    # rows reproduces the best recorded score.
    split = lstm.net_.train_split
    _, valid = split(lstm.net_.get_dataset(X, y))
    idx = valid.indices
    assert spearman_score(y[idx], lstm.predict(X[idx])) == pytest.approx(scores[best], abs=1e-6)


@pytest.mark.parametrize("head", ["last", "mean"])
@pytest.mark.parametrize("state_init", ["learned", "zeros"])
def test_options_change_the_model(head, state_init):
    X, y = order_task(n=120)
    lstm = LSTMRegressor(max_epochs=2, head=head, state_init=state_init, **TINY).fit(X, y)
    module = lstm.net_.module_
    assert module.head == head and hasattr(module, "init_h") == (state_init == "learned")
    assert lstm.predict(X).shape == (120,)


def test_two_dimensional_input_is_one_step():
    X, y = order_task(n=120)
    flat = X[:, 0, :]
    lstm = LSTMRegressor(max_epochs=2, **TINY).fit(flat, y)
    assert lstm.n_features_in_ == 4
    np.testing.assert_array_equal(lstm.predict(flat), lstm.predict(flat[:, None, :]))


def test_grid_search_over_hidden_size_and_lr_with_spearman():
    X, y = order_task(n=240)
    grid = GridSearchCV(
        LSTMRegressor(max_epochs=6, valid_size=None, **{k: v for k, v in TINY.items() if k not in ("hidden_size", "lr")}),
        {"hidden_size": [4, 16], "lr": [1e-4, 1e-2]},
        scoring=spearman_scorer,
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    best = grid.best_estimator_
    assert best.net_.module_.lstm.hidden_size == grid.best_params_["hidden_size"]
    # A learning rate of 1e-4 barely moves in 6 epochs: 1e-2 wins.
    assert grid.best_params_["lr"] == 1e-2


def test_grid_search_over_the_number_of_layers():
    X, y = order_task(n=120)
    grid = GridSearchCV(
        LSTMRegressor(max_epochs=2, valid_size=None, **TINY),
        {"num_layers": [1, 2]},
        scoring=spearman_scorer,
        cv=2,
    ).fit(X, y)
    chosen = grid.best_params_["num_layers"]
    assert grid.best_estimator_.net_.module_.lstm.num_layers == chosen


def test_cross_val_score_of_a_full_video_pipeline(tmp_path):
    paths, scores = make_memorability_videos(6, tmp_path, n_seconds=1, size=(32, 32), fps=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random CNN weights
        pipeline = make_pipeline(
            FrameSampler(n_frames=2, size=32),
            CNNFeaturizer("resnet18", weights=None, random_state=0, batch_size=8, device="cpu"),
            LSTMRegressor(max_epochs=3, valid_size=None, **TINY),
        )
        result = cross_validate(
            pipeline,
            paths,
            scores,
            cv=KFold(2, shuffle=True, random_state=0),
            scoring=spearman_scorer,
            return_estimator=True,
            error_score="raise",
        )
    assert result["test_score"].shape == (2,) and np.all(np.isfinite(result["test_score"]))
    lstm = result["estimator"][0][-1]
    assert lstm.n_features_in_ == 512
    assert lstm.net_.module_.lstm.input_size == 512


class ForwardDtypes(Callback):
    """Record the dtype of every LSTM output seen while training and predicting."""

    def __init__(self):
        self.dtypes = set()

    def on_train_begin(self, net, **kwargs):
        net.module_.lstm.register_forward_hook(lambda module, args, output: self.dtypes.add(output[0].dtype))


@pytest.mark.parametrize("autocast, expected", [(True, {torch.bfloat16}), (False, {torch.float32})])
def test_autocast_runs_the_forward_pass_in_bfloat16_on_cpu(autocast, expected):
    X, y = order_task(n=120)
    probe = ForwardDtypes()
    lstm = LSTMRegressor(max_epochs=2, autocast=autocast, callbacks=[probe], **TINY).fit(X, y)
    prediction = lstm.predict(X)
    assert probe.dtypes == expected
    assert prediction.dtype == np.float64 and np.all(np.isfinite(prediction))
