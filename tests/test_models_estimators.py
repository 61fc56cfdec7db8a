"""Behaviour shared by the three deep regressors: determinism, persistence,
training controls and input errors."""

import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from _models_data import one_torch_thread  # noqa: F401
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from skorch.callbacks import Callback
from skorch.exceptions import DeviceWarning

from skmem import AMNetRegressor, LSTMRegressor, PairwiseRanker

SMALL = {
    "lstm": (LSTMRegressor, dict(hidden_size=8), (60, 4, 5)),
    "amnet": (AMNetRegressor, dict(hidden_size=8, head_size=8), (60, 4, 5)),
    "ranknet": (PairwiseRanker, dict(hidden_sizes=(8,)), (60, 5)),
    "comparator": (PairwiseRanker, dict(method="comparator", hidden_sizes=(8,)), (60, 5)),
}


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=shape)
    y = X.reshape(len(X), -1)[:, 0] + 0.1 * rng.normal(size=len(X))
    return X, y


@pytest.fixture(params=list(SMALL))
def case(request):
    cls, params, shape = SMALL[request.param]

    def make(**overrides):
        settings = dict(max_epochs=3, batch_size=16, device="cpu", random_state=0, **params)
        return cls(**{**settings, **overrides})

    X, y = _data(shape)
    return make, X, y


def test_same_seed_same_model_other_seed_other_model(case):
    make, X, y = case
    first = make().fit(X, y).predict(X)
    np.testing.assert_array_equal(first, make().fit(X, y).predict(X))
    assert not np.allclose(first, make(random_state=1).fit(X, y).predict(X))


def test_fit_leaves_the_global_torch_generator_alone(case):
    make, X, y = case
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make().fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_float64_and_float32_input_and_column_targets_agree(case):
    make, X, y = case
    reference = make().fit(X, y).predict(X)
    prediction = make().fit(X.astype(np.float32), y).predict(X.astype(np.float32))
    np.testing.assert_array_equal(prediction, reference)
    assert prediction.shape == (len(X),) and prediction.dtype == np.float64
    with pytest.warns(DataConversionWarning):
        column = make().fit(X, y[:, None])
    np.testing.assert_array_equal(column.predict(X), reference)


def test_pickle_joblib_and_clone_round_trips(case, tmp_path):
    make, X, y = case
    model = make(dropout=0.25).fit(X, y)
    expected = model.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)
    fresh = clone(model)
    assert fresh.get_params()["dropout"] == 0.25
    assert not hasattr(fresh, "net_")
    np.testing.assert_array_equal(fresh.fit(X, y).predict(X), expected)
    assert model.n_features_in_ == X.shape[-1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks loading on a machine without CUDA")
def test_model_saved_as_trained_on_cuda_loads_on_cpu(case):
    make, X, y = case
    model = make().fit(X, y)
    expected = model.predict(X)
    # What a CUDA-trained model records; its tensors are mapped to the CPU on load.
    model.device_ = "cuda"
    model.net_.device = "cuda"
    payload = pickle.dumps(model)
    with pytest.warns(DeviceWarning) as caught:
        loaded = pickle.loads(payload)
    assert any("cpu" in str(w.message) for w in caught)
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), expected)


def test_predict_before_fit_raises_not_fitted(case):
    make, X, _ = case
    with pytest.raises(NotFittedError):
        make().predict(X)


def test_set_params_reach_the_module_and_the_optimizer(case):
    make, X, y = case
    model = make().set_params(dropout=0.3, lr=0.02)
    model.fit(X, y)
    rates = {m.p for m in model.net_.module_.modules() if isinstance(m, torch.nn.Dropout)}
    assert 0.3 in rates and type(model)().dropout not in rates
    assert model.net_.optimizer_.param_groups[0]["lr"] == 0.02


def test_validation_spearman_is_recorded_and_feeds_early_stopping(case):
    make, X, y = case
    model = make(max_epochs=4, valid_size=0.25).fit(X, y)
    scores = model.history_[:, "valid_spearman"]
    assert len(scores) == 4 and np.all(np.isfinite(scores))
    stopped = make(max_epochs=60, patience=2, valid_size=0.25).fit(X, np.random.default_rng(0).permutation(y))
    assert len(stopped.history_) < 60


def test_no_validation_trains_every_epoch_on_all_rows(case):
    make, X, y = case
    model = make(max_epochs=3, valid_size=None).fit(X, y)
    assert len(model.history_) == 3
    assert "valid_spearman" not in model.history_[-1]
    assert model.history_[-1, "train_batch_count"] == int(np.ceil(len(X) / 16))


class EpochCounter(Callback):
    def initialize(self):
        self.epochs = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1
        assert "valid_spearman" in net.history[-1]


def test_user_callbacks_run_after_the_built_in_ones(case):
    make, X, y = case
    counter = EpochCounter()
    model = make(max_epochs=3, early_stopping=False, callbacks=[counter]).fit(X, y)
    names = [name for name, _ in model.net_.callbacks_]
    assert names.index("valid_spearman") < names.index("EpochCounter")
    assert dict(model.net_.callbacks_)["EpochCounter"].epochs == 3


def test_warm_start_and_partial_fit_continue_training(case):
    make, X, y = case
    model = make(max_epochs=2, warm_start=True, early_stopping=False).fit(X, y)
    weights = [p.detach().clone() for p in model.net_.module_.parameters()]
    model.fit(X, y)
    assert len(model.history_) == 4
    assert any(not torch.equal(a, b) for a, b in zip(weights, model.net_.module_.parameters()))
    cold = make(max_epochs=2).fit(X, y).fit(X, y)
    assert len(cold.history_) == 2
    partial = make().partial_fit(X, y).partial_fit(X, y)
    assert len(partial.history_) == 2


def test_verbose_prints_the_epoch_log(case, capsys):
    make, X, y = case
    make(max_epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "valid_spearman" in out and "epoch" in out


def test_bad_inputs_name_the_culprit(case):
    make, X, y = case
    model = make()
    with pytest.raises(ValueError, match=r"X must be .*got shape \(60, 2, 3, 4, 5\)"):
        model.fit(np.zeros((60, 2, 3, 4, 5)), y)
    with pytest.raises(ValueError, match="60 samples in X, 59 in y"):
        model.fit(X, y[:-1])
    bad = X.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity.*row 7"):
        model.fit(bad, y)
    bad[7] = np.inf
    with pytest.raises(ValueError, match="X contains NaN or infinity.*row 7"):
        model.fit(bad, y)
    bad_y = y.copy()
    bad_y[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or infinity.*row 3"):
        model.fit(X, bad_y)
    model.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 5"):
        model.predict(X[..., :3])


@pytest.mark.parametrize(
    "param, value",
    [("max_epochs", 0), ("lr", -1.0), ("valid_size", 1.5), ("batch_size", 2.5), ("patience", None)],
)
def test_bad_training_params_are_named(case, param, value):
    make, X, y = case
    with pytest.raises(ValueError, match=param):
        make(**{param: value}).fit(X, y)


def test_a_misspelt_parameter_fails_at_set_params(case):
    make, _, _ = case
    with pytest.raises(ValueError, match="Invalid parameter 'hiden_size'"):
        make().set_params(hiden_size=3)
    with pytest.raises(TypeError, match="hiden_size"):
        type(make())(hiden_size=3)


def test_net_params_reach_skorch(case):
    make, X, y = case
    model = make(max_epochs=1, net_params={"predict_nonlinearity": None, "iterator_valid__num_workers": 0})
    model.fit(X, y)
    assert model.net_.predict_nonlinearity is None and model.net_.iterator_valid__num_workers == 0
    assert clone(model).net_params == model.net_params


@pytest.mark.parametrize(
    "key, message",
    [
        ("hiden_size", r"net_params\['hiden_size'\] .* neither a skorch.NeuralNetRegressor argument"),
        ("module__dropout", r"net_params\['module__dropout'\] duplicates the parameter 'dropout'"),
        ("optimizer__lr", r"net_params\['optimizer__lr'\] duplicates the parameter 'lr'"),
        ("max_epochs", r"net_params\['max_epochs'\] duplicates the parameter 'max_epochs'"),
        ("train_split", r"net_params\['train_split'\] cannot be set.*valid_size"),
        ("module__input_size", r"net_params\['module__input_size'\] cannot be set"),
    ],
)
def test_net_params_refuse_unknown_and_duplicated_settings(case, key, message):
    make, X, y = case
    with pytest.raises(ValueError, match=message):
        make(net_params={key: 1}).fit(X, y)


def test_too_few_rows_for_a_validation_split_is_explained(case):
    make, X, y = case
    with pytest.raises(ValueError, match="valid_size=0.1 with 2 sample"):
        make(valid_size=0.1).fit(X[:2], y[:2])


def test_the_validation_split_holds_at_least_two_rows(case):
    make, X, y = case
    model = make(valid_size=0.1, max_epochs=1, early_stopping=False).fit(X[:10], y[:10])
    _, valid = model.net_.train_split(model.net_.get_dataset(X[:10], y[:10]))
    assert len(valid) == 2


def test_optuna_pruning_callback_reads_valid_spearman():
    optuna = pytest.importorskip("optuna")
    integration = pytest.importorskip("optuna_integration")
    X, y = _data((60, 4, 5))

    def objective(trial):
        pruning = integration.SkorchPruningCallback(trial, "valid_spearman")
        model = LSTMRegressor(
            hidden_size=8, max_epochs=3, device="cpu", random_state=0, callbacks=[pruning]
        ).fit(X, y)
        return model.history_[-1, "valid_spearman"]

    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2)
    assert all(len(t.intermediate_values) == 3 for t in study.trials)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_trained_model_predicts_in_a_cpu_only_process(tmp_path):
    X, y = _data((200, 8, 16))
    model = LSTMRegressor(hidden_size=32, max_epochs=3, autocast=True, random_state=0).fit(X, y)
    assert model.device_ == "cuda" and next(model.net_.module_.parameters()).is_cuda
    expected = model.predict(X)
    np.save(tmp_path / "X.npy", X)
    joblib.dump(model, tmp_path / "model.joblib")
    script = textwrap.dedent(
        f"""
        import joblib, numpy as np, sys, warnings
        warnings.simplefilter("ignore")
        model = joblib.load({str(tmp_path / "model.joblib")!r})
        np.save({str(tmp_path / "pred.npy")!r}, model.predict(np.load({str(tmp_path / "X.npy")!r})))
        print(model.device_, model.net_.device)
        """
    )
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["cpu", "cpu"]
    np.testing.assert_allclose(np.load(tmp_path / "pred.npy"), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [LSTMRegressor, AMNetRegressor, PairwiseRanker])
def test_every_parameter_is_documented_with_the_class_default(cls):
    params = cls().get_params()
    assert set(cls._parameter_constraints) == set(params)
    for name in params:
        assert f"\n    {name} : " in cls.__doc__, name
    assert f"    lr : float, default={params['lr']!r}\n" in cls.__doc__


def test_history_is_a_fitted_attribute():
    with pytest.raises(NotFittedError):
        LSTMRegressor().history_  # noqa: B018
