"""Tests of skmem.tuning: search spaces, persistent and resumable studies, pruning."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.storages import JournalStorage, RDBStorage
from optuna.trial import TrialState
from optuna_integration import OptunaSearchCV
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skmem import AMNetRegressor, LSTMRegressor, PairwiseRanker, TemporalPooling, spearman_scorer
from skmem.metrics import spearman_score
from skmem.tuning import make_storage, search_space, study_summary, tune

optuna.logging.set_verbosity(optuna.logging.WARNING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sequences(n=80, seed=0):
    """(n, 4, 6) features whose target is the mean of feature 0 over time, plus noise."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4, 6)).astype(np.float32)
    return X, X[:, :, 0].mean(axis=1) + 0.1 * rng.normal(size=n)


def ridge_pipeline():
    return make_pipeline(TemporalPooling(), StandardScaler(), Ridge())


def finished(study):
    return study.get_trials(states=FINISHED)


# -- search_space ---------------------------------------------------------------


def test_search_space_keys_follow_pipeline_step_names():
    space = search_space(make_pipeline(TemporalPooling(), StandardScaler(), SVR()))
    assert set(space) == {"temporalpooling__method", "svr__C", "svr__epsilon", "svr__gamma"}
    assert space["svr__C"].log
    lstm = search_space(make_pipeline(StandardScaler(), LSTMRegressor()))
    assert lstm["lstmregressor__lr"].log and "lstmregressor__hidden_size" in lstm
    assert 0 <= lstm["lstmregressor__dropout"].low < lstm["lstmregressor__dropout"].high < 1


@pytest.mark.parametrize("estimator", [Ridge(), SVR(), LSTMRegressor(), AMNetRegressor(), PairwiseRanker()])
def test_every_distribution_is_valid_for_its_estimator(estimator):
    space = search_space(estimator)
    study = optuna.create_study()
    trial = study.ask(space)
    estimator.set_params(**trial.params)  # every key is a parameter
    if "lr" in space:
        assert space["lr"].log
    if "alpha" in space:
        assert space["alpha"].log


def test_search_space_overrides_replace_add_and_remove():
    pipe = ridge_pipeline()
    alpha = FloatDistribution(0.1, 10.0, log=True)
    space = search_space(pipe, overrides={"ridge__alpha": alpha, "ridge__fit_intercept": CategoricalDistribution((True, False)), "temporalpooling__method": None})
    assert space == {"ridge__alpha": alpha, "ridge__fit_intercept": CategoricalDistribution((True, False))}


def test_search_space_errors_name_the_culprit():
    with pytest.raises(ValueError, match="ridge__alfa"):
        search_space(ridge_pipeline(), overrides={"ridge__alfa": FloatDistribution(1, 2)})
    with pytest.raises(ValueError, match="ridge__alpha"):
        search_space(ridge_pipeline(), overrides={"ridge__alpha": (1, 2)})
    with pytest.raises(ValueError, match="KNeighborsRegressor"):
        search_space(KNeighborsRegressor())


# -- tune -----------------------------------------------------------------------


def test_tune_returns_fitted_best_model_and_beats_shuffled_labels():
    X, y = sequences()
    best, study = tune(ridge_pipeline(), X, y, n_trials=8, cv=3, random_state=0)
    assert len(finished(study)) == 8
    assert best.get_params()["ridge__alpha"] == study.best_params["ridge__alpha"]
    assert len(study.best_trial.user_attrs["fold_scores"]) == 3
    np.testing.assert_allclose(study.best_value, np.mean(study.best_trial.user_attrs["fold_scores"]))
    held_out, y_held = sequences(40, seed=1)
    assert spearman_score(y_held, best.predict(held_out)) > 0.8
    _, shuffled = tune(ridge_pipeline(), X, np.random.RandomState(0).permutation(y), n_trials=8, cv=3, random_state=0)
    assert study.best_value > shuffled.best_value + 0.5


def test_tune_is_repeatable_with_random_state():
    X, y = sequences()
    _, first = tune(ridge_pipeline(), X, y, n_trials=5, cv=3, random_state=3, pruning=False)
    _, second = tune(ridge_pipeline(), X, y, n_trials=5, cv=3, random_state=3, pruning=False)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def test_sqlite_study_resumes_instead_of_starting_over(tmp_path):
    X, y = sequences()
    path = tmp_path / "study.db"
    _, study = tune(ridge_pipeline(), X, y, n_trials=4, cv=3, storage=path, study_name="s", random_state=0)
    before = [(t.number, t.params, t.value) for t in finished(study)]
    _, resumed = tune(ridge_pipeline(), X, y, n_trials=7, cv=3, storage=f"sqlite:///{path}", study_name="s", random_state=0)
    after = finished(resumed)
    assert len(after) == 7
    assert [(t.number, t.params, t.value) for t in after[:4]] == before
    _, again = tune(ridge_pipeline(), X, y, n_trials=7, cv=3, storage=path, study_name="s")
    assert len(again.trials) == 7  # already complete: no new trial


def test_in_memory_study_with_two_thread_workers():
    X, y = sequences()
    _, study = tune(ridge_pipeline(), X, y, n_trials=6, cv=3, n_jobs=2, random_state=0)
    assert len(finished(study)) == 6
    assert len({t.params["ridge__alpha"] for t in study.trials}) == 6


def test_sklearn_models_are_pruned_per_fold():
    X, y = sequences()
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="folds", direction="maximize")
    for alpha in (1.0, 1.0, 1e6):  # the last one shrinks everything to a constant
        study.enqueue_trial({"ridge__alpha": alpha})
    space = {"ridge__alpha": FloatDistribution(1e-3, 1e6, log=True)}
    tune(ridge_pipeline(), X, y, n_trials=3, cv=4, storage=storage, study_name="folds", pruning=pruner, param_distributions=space)
    bad = study.trials[2]
    assert bad.state == TrialState.PRUNED
    assert len(bad.user_attrs["fold_scores"]) < 4


def test_pruning_stops_a_bad_skorch_configuration_early():
    X, y = sequences(72)
    max_epochs = 6
    lstm = LSTMRegressor(hidden_size=8, max_epochs=max_epochs, valid_size=0.25, early_stopping=False, batch_size=16, device="cpu", random_state=0)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="epochs", direction="maximize")
    for lr in (3e-2, 3e-2, 1e-7):  # the last learning rate cannot learn anything in 6 epochs
        study.enqueue_trial({"lr": lr})
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    space = {"lr": FloatDistribution(1e-7, 1e-1, log=True)}
    best, _ = tune(lstm, X, y, n_trials=3, cv=2, storage=storage, study_name="epochs", pruning=pruner, param_distributions=space)
    good, bad = study.trials[0], study.trials[2]
    assert good.state == TrialState.COMPLETE and len(good.intermediate_values) == 2 * max_epochs
    assert bad.state == TrialState.PRUNED
    assert len(bad.intermediate_values) < max_epochs  # pruned during its first fold
    assert max(bad.intermediate_values) < max_epochs
    assert best.lr == 3e-2 and not any(type(cb).__name__ == "EpochPruning" for cb in best.callbacks or [])


def test_tune_argument_errors_name_the_argument(tmp_path):
    X, y = sequences(20)
    with pytest.raises(ValueError, match="n_trials"):
        tune(ridge_pipeline(), X, y, n_trials=0)
    with pytest.raises(ValueError, match="pruning"):
        tune(ridge_pipeline(), X, y, n_trials=1, pruning="yes")
    with pytest.raises(ValueError, match="scoring"):
        tune(ridge_pipeline(), X, y, n_trials=1, scoring="no-such-score")
    with pytest.raises(ValueError, match="missing-folder"):
        tune(ridge_pipeline(), X, y, n_trials=1, storage=tmp_path / "missing-folder" / "s.db")
    with pytest.raises(ValueError, match="timeout"):
        tune(ridge_pipeline(), X, y, n_trials=1, timeout=-1)


def test_make_storage_kinds(tmp_path):
    with pytest.raises(ValueError, match="nodriver://x"):
        make_storage("nodriver://x")
    assert make_storage(None) is None
    assert isinstance(make_storage(tmp_path / "study.log"), JournalStorage)
    assert isinstance(make_storage(tmp_path / "study.db"), RDBStorage)
    assert isinstance(make_storage(f"sqlite:///{tmp_path / 'other.db'}"), RDBStorage)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore::FutureWarning")
def test_optuna_search_cv_works_with_skmem_estimators():
    X, y = sequences(60)
    pipe = ridge_pipeline()
    search = OptunaSearchCV(pipe, search_space(pipe), cv=3, n_trials=4, scoring=spearman_scorer, random_state=0)
    search.fit(X, y)
    assert set(search.best_params_) == {"temporalpooling__method", "ridge__alpha"}
    assert search.predict(X).shape == (60,)
    # skmem deep regressors have partial_fit: OptunaSearchCV can prune them per epoch.
    lstm = LSTMRegressor(hidden_size=8, max_epochs=2, valid_size=None, device="cpu", random_state=0)
    search = OptunaSearchCV(lstm, {"lr": FloatDistribution(1e-3, 1e-1, log=True)}, cv=2, n_trials=2,
                            enable_pruning=True, max_iter=3, scoring=spearman_scorer, random_state=0)
    search.fit(X, y)
    assert all(len(t.intermediate_values) == 3 for t in search.study_.trials)
    assert study_summary(search.study_)["complete"] == 2


# -- several processes ------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time
    import numpy as np, optuna
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline, make_pipeline
    from skmem.tuning import tune

    class SlowRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            time.sleep(SLEEP)
            return super().fit(X, y, sample_weight)

    storage, n_trials, seed, barrier = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5)); y = X[:, 0] + 0.1 * rng.normal(size=60)
    if barrier:  # wait until every worker is ready, so that they run at the same time
        open(barrier[0], "w").close()
        while not all(__import__("os").path.exists(p) for p in barrier[1:]):
            time.sleep(0.05)
    tune(make_pipeline(SlowRidge()), X, y, n_trials=n_trials, cv=2, storage=storage, study_name="shared", random_state=seed)
    """
)


def worker(script, storage, n_trials, seed, *barrier):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen([sys.executable, str(script), str(storage), str(n_trials), str(seed), *map(str, barrier)],
                            env=env, stderr=subprocess.PIPE, text=True)


def test_killed_study_resumes_with_finished_trials_intact(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER.replace("SLEEP", "0.15"))
    storage = tmp_path / "study.db"
    process = worker(script, storage, 500, 0)
    deadline = time.monotonic() + 120
    count = 0
    while count < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if storage.exists():
            try:
                count = len(optuna.load_study(study_name="shared", storage=make_storage(storage)).get_trials(states=FINISHED))
            except KeyError:  # the study is not created yet
                pass
    process.kill()
    process.wait()
    assert count >= 3, process.stderr.read()
    study = optuna.load_study(study_name="shared", storage=make_storage(storage))
    done = [(t.number, t.params, t.value) for t in study.get_trials(states=FINISHED)]
    total = len(done) + 3
    X = np.random.RandomState(0).normal(size=(60, 5))
    same_steps = Pipeline([("slowridge", Ridge())])
    _, resumed = tune(same_steps, X, X[:, 0], n_trials=total, cv=2, storage=storage, study_name="shared")
    after = resumed.get_trials(states=FINISHED)
    assert len(after) == total
    assert [(t.number, t.params, t.value) for t in after[: len(done)]] == done


def test_two_worker_processes_share_one_study(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER.replace("SLEEP", "0.05"))
    storage = tmp_path / "study.log"
    ready = [tmp_path / "ready0", tmp_path / "ready1"]
    n_trials = 10
    processes = [worker(script, storage, n_trials, seed, ready[seed], *ready) for seed in (0, 1)]
    for process in processes:
        assert process.wait(timeout=150) == 0, process.stderr.read()
    study = optuna.load_study(study_name="shared", storage=make_storage(storage))
    trials = study.get_trials(states=FINISHED)
    # Each worker stops once the study holds n_trials; one may finish a trial it had started.
    assert n_trials <= len(trials) <= n_trials + 1
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2
    assert len({t.number for t in trials}) == len(trials)
    assert len({t.params["slowridge__alpha"] for t in trials}) == len(trials)
