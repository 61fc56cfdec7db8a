"""skmem searches and samplers under other joblib backends: a Dask cluster, Ray."""

import os
import signal
import socket

import numpy as np
import optuna
import pytest
from joblib import parallel_config
from optuna.trial import TrialState
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import FrameSampler, TemporalPooling, spearman_scorer
from skmem.tuning import tune

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def dask_client():
    """A two-worker LocalCluster (threads, to keep the test quick) and its client."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4, 5)).astype(np.float32)
    return X, X[:, :, 1].mean(axis=1) + 0.2 * rng.normal(size=60)


def scheduler_transitions(client):
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def grid_search(X, y, n_jobs):
    pipe = make_pipeline(TemporalPooling(), StandardScaler(), Ridge())
    grid = {"temporalpooling__method": ["mean", "max", "meanstd"], "ridge__alpha": [0.1, 10.0, 1000.0]}
    return GridSearchCV(pipe, grid, cv=KFold(3, shuffle=True, random_state=0), scoring=spearman_scorer, n_jobs=n_jobs).fit(X, y)


def test_grid_search_on_dask_matches_the_default_backend(dask_client, data):
    X, y = data
    local = grid_search(X, y, n_jobs=1)
    before = scheduler_transitions(dask_client)
    with parallel_config(backend="dask"):
        remote = grid_search(X, y, n_jobs=2)
    assert scheduler_transitions(dask_client) > before  # the fits ran as cluster tasks
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])


def test_cross_val_score_on_dask_matches(dask_client, data):
    X, y = data
    pipe = make_pipeline(TemporalPooling("meanstd"), StandardScaler(), Ridge())
    local = cross_val_score(pipe, X, y, cv=4, scoring=spearman_scorer)
    with parallel_config(backend="dask"):
        remote = cross_val_score(pipe, X, y, cv=4, scoring=spearman_scorer, n_jobs=2)
    np.testing.assert_allclose(remote, local)


@pytest.mark.parametrize("storage", [None, "study.log"])
def test_tune_with_several_jobs_on_dask(dask_client, data, tmp_path, storage):
    X, y = data
    storage = None if storage is None else tmp_path / storage
    pipe = make_pipeline(TemporalPooling(), StandardScaler(), Ridge())
    with parallel_config(backend="dask"):
        best, study = tune(pipe, X, y, n_trials=6, cv=3, n_jobs=2, storage=storage, random_state=0)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 6
    assert best.get_params()["ridge__alpha"] == study.best_params["ridge__alpha"]


def test_frame_sampler_on_dask_matches(dask_client, generated_clips):
    paths = generated_clips[0][:6]
    local = np.asarray(FrameSampler(n_frames=3, size=32).fit_transform(paths))
    with parallel_config(backend="dask"):
        remote = np.asarray(FrameSampler(n_frames=3, size=32, n_jobs=2).fit_transform(paths))
    np.testing.assert_array_equal(remote, local)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-CPU Ray instance registered as a joblib backend (no dashboard, no usage report).

    ``ray.init`` installs its own SIGTERM handler and ``ray.shutdown`` leaves it: the handlers found are put back.
    """
    ray = pytest.importorskip("ray")
    ray_joblib = pytest.importorskip("ray.util.joblib")
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray_joblib.register_ray()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)


def test_grid_search_on_ray_matches_the_default_backend(ray_cluster, data):
    X, y = data
    local = grid_search(X, y, n_jobs=1)
    with parallel_config(backend="ray"):
        remote = grid_search(X, y, n_jobs=2)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])


def test_tune_workers_run_as_ray_tasks(ray_cluster, data, tmp_path):
    X, y = data
    pipe = make_pipeline(TemporalPooling(), StandardScaler(), Ridge())
    with parallel_config(backend="ray"):
        best, study = tune(pipe, X, y, n_trials=6, cv=3, n_jobs=2, storage=tmp_path / "study.log", random_state=0)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 6
    here = f"{socket.gethostname()}:{os.getpid()}"
    assert here not in {t.user_attrs["worker"] for t in finished}  # every trial ran in a Ray worker process
    assert best.get_params()["ridge__alpha"] == study.best_params["ridge__alpha"]


def test_sharded_extract_on_ray_with_default_decoding_matches_one_process(ray_cluster, generated_clips, tmp_path):
    from _extract_worker import featurizer

    clips = [str(p) for p in generated_clips[0][:4]]
    expected = [np.load(f) for f in featurizer(tmp_path / "single").extract(clips)]
    model = featurizer(tmp_path / "sharded", n_workers="auto")  # the featurizer's default decode workers
    with parallel_config(backend="ray"):
        files = model.extract(clips, n_shards=2)
    assert (model.report_.misses, model.report_.failures) == (len(clips), [])
    for path, reference in zip(files, expected):
        np.testing.assert_allclose(np.load(path), reference, rtol=1e-4, atol=1e-5)
