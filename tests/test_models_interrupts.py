"""An interrupt (Ctrl-C) during training stops every skmem deep model: skorch's swallowing of it is not inherited."""

import os
import signal

import numpy as np
import pytest
from _models_data import one_torch_thread  # noqa: F401
from skorch.callbacks import Callback

from skmem import AMNetRegressor, LSTMRegressor, PairwiseRanker

pytestmark = pytest.mark.usefixtures("python_signal_handlers")

MODELS = {
    "lstm": (LSTMRegressor, dict(hidden_size=8), (40, 4, 5)),
    "amnet": (AMNetRegressor, dict(hidden_size=8, head_size=8), (40, 4, 5)),
    "ranknet": (PairwiseRanker, dict(hidden_sizes=(8,)), (40, 5)),
}


class InterruptAt(Callback):
    """Send SIGINT to this process at the end of epoch ``epoch``, as Ctrl-C in a terminal does."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def make(name, **overrides):
    cls, params, shape = MODELS[name]
    X = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    y = X.reshape(len(X), -1)[:, 0]
    settings = dict(max_epochs=6, batch_size=16, device="cpu", random_state=0, **params)
    return cls(**{**settings, **overrides}), X, y


@pytest.mark.parametrize("name", list(MODELS))
def test_ctrl_c_during_fit_raises_and_stops_training_at_that_epoch(name):
    model, X, y = make(name, callbacks=[InterruptAt(2)])
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert len(model.net_.history) == 2  # the epochs after the interrupt never ran


def test_ctrl_c_during_partial_fit_and_warm_start_raises_too():
    model, X, y = make("lstm", callbacks=[InterruptAt(1)])
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, y)
    model, X, y = make("lstm", warm_start=True, max_epochs=2, callbacks=[InterruptAt(3)])
    model.fit(X, y)  # epochs 1 and 2
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert len(model.net_.history) == 3


def test_other_errors_still_propagate_unchanged():
    class Fails(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom at epoch end")

    model, X, y = make("lstm", callbacks=[Fails()])
    with pytest.raises(RuntimeError, match="boom at epoch end"):
        model.fit(X, y)


def test_a_callback_ending_training_the_skorch_way_is_not_an_interrupt():
    class Enough(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt  # skorch's idiom, used by its EarlyStopping

    model, X, y = make("lstm", callbacks=[Enough()])
    model.fit(X, y)
    assert len(model.net_.history) == 2
    early, X, y = make("ranknet", max_epochs=40, valid_size=0.25, early_stopping=True, patience=2)
    early.fit(X, y)
    assert len(early.net_.history) < 40


def test_ctrl_c_whose_exception_was_lost_still_fails_the_fit():
    class Swallows(Callback):  # the interrupt's exception never reaches skorch (as when raised in a gc callback)
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                except KeyboardInterrupt:
                    pass

    model, X, y = make("lstm", callbacks=[Swallows()])
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        model.fit(X, y)
