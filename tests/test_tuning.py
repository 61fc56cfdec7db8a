"""Tests of skmem.tuning: search spaces, pooled objectives, studies that survive faults, nested tuning."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import traceback

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.storages import JournalStorage, RDBStorage
from optuna.trial import TrialState
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import SVR

from skmem import AMNetRegressor, LSTMRegressor, PairwiseRanker, TemporalPooling, spearman_scorer
from skmem.metrics import spearman_score
from skmem.models.fusion import RankFusionRegressor
from skmem.text import CaptionEmbedder, CaptionVectorizer
from skmem.tuning import (
    TunedRegressor,
    make_storage,
    plot_history,
    plot_importances,
    resolve_params,
    search_space,
    study_summary,
    tune,
)
from skmem.tuning.identity import StudyMismatchError, content_digest
from skmem.tuning.storage import redact

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


def sample(space, estimator):
    """Values drawn from ``space`` by a real Optuna trial, ready for set_params."""
    return resolve_params(estimator, optuna.create_study().ask(space).params)


# -- search_space ---------------------------------------------------------------


def test_search_space_keys_follow_pipeline_step_names():
    space = search_space(make_pipeline(TemporalPooling(), StandardScaler(), SVR()))
    assert set(space) == {"temporalpooling__method", "svr__C", "svr__epsilon", "svr__gamma"}
    assert space["svr__C"].log
    lstm = search_space(make_pipeline(StandardScaler(), LSTMRegressor()))
    assert lstm["lstmregressor__lr"].log and "lstmregressor__hidden_size" in lstm
    assert 0 <= lstm["lstmregressor__dropout"].low < lstm["lstmregressor__dropout"].high < 1


def caption_fusion():
    """A fusion of a caption/feature ColumnTransformer pipeline and a FeatureUnion pipeline."""
    preprocess = ColumnTransformer([
        ("text", make_pipeline(CaptionVectorizer()), "caption"),
        ("objects", StandardScaler(), ["o1", "o2"]),
    ])
    union = FeatureUnion([("scaled", StandardScaler()), ("pooled", TemporalPooling())])
    return RankFusionRegressor([
        ("captions", Pipeline([("preprocess", preprocess), ("svr", SVR())])),
        ("visual", make_pipeline(union, Ridge())),
    ])


def test_search_space_walks_column_transformers_unions_and_fusion():
    fused = caption_fusion()
    space = search_space(fused)
    assert set(space) == {
        "weights",
        "captions__preprocess__text__captionvectorizer__ngram_range",
        "captions__preprocess__text__captionvectorizer__min_df",
        "captions__preprocess__text__captionvectorizer__sublinear_tf",
        "captions__svr__C", "captions__svr__epsilon", "captions__svr__gamma",
        "visual__featureunion__pooled__method",
        "visual__ridge__alpha",
    }
    params = sample(space, fused)
    fused.set_params(**params)  # every key is a parameter, every value accepted
    assert fused.get_params()["captions__preprocess__text__captionvectorizer__ngram_range"] in {(1, 1), (1, 2)}


@pytest.mark.parametrize("estimator", [
    Ridge(), SVR(), TemporalPooling(), CaptionVectorizer(), CaptionEmbedder(), LSTMRegressor(),
    AMNetRegressor(), PairwiseRanker(), RankFusionRegressor([("ridge", Ridge())]),
])
def test_every_distribution_is_valid_for_its_estimator(estimator):
    space = search_space(estimator)
    estimator.set_params(**sample(space, estimator))
    for name in ("lr", "alpha", "C"):
        if name in space:
            assert space[name].log


def test_caption_vectorizer_space_survives_persistent_storage(tmp_path):
    """Tuple choices cannot be stored by Optuna; the sampled text is turned back into a tuple."""
    vectorizer = CaptionVectorizer()
    storage = make_storage(tmp_path / "study.log")
    study = optuna.create_study(storage=storage, study_name="captions")
    trial = study.ask(search_space(vectorizer))
    study.tell(trial, 0.0)
    stored = optuna.load_study(study_name="captions", storage=storage).trials[-1].params
    params = resolve_params(vectorizer, stored)
    assert params["ngram_range"] in {(1, 1), (1, 2)}
    vectorizer.set_params(**params).fit(["a-red-dog", "a-blue-cat", "red-cat", "dog-and-cat", "a-cat"] * 2)


def test_svr_ranges_follow_the_data_the_svr_receives():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 8))
    y = rng.normal(size=50)
    base = search_space(SVR(), X=X, y=y)
    wide = search_space(SVR(), X=10 * X, y=10 * y)
    np.testing.assert_allclose([wide["epsilon"].low, wide["epsilon"].high], [10 * base["epsilon"].low, 10 * base["epsilon"].high])
    np.testing.assert_allclose([wide["gamma"].low, wide["gamma"].high], [base["gamma"].low / 100, base["gamma"].high / 100])
    # Behind a scaler the SVR sees the same data whatever the scale of X.
    scaled = search_space(make_pipeline(StandardScaler(), SVR()), X=10 * X, y=y)["svr__gamma"]
    np.testing.assert_allclose([scaled.low, scaled.high], [base["gamma"].low, base["gamma"].high], rtol=0.2)
    # Unit-length rows (sentence embeddings): "scale" is about 1, inside the range.
    gamma = search_space(make_pipeline(Normalizer(), SVR()), X=X, y=y)["svr__gamma"]
    assert gamma.low < 1.0 < gamma.high


def test_search_space_of_the_multimodal_preset_reaches_every_member():
    pd = pytest.importorskip("pandas")
    from skmem.pipelines import memorability_pipeline

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"caption": ["a-red-dog", "blue-cat", "a-car-at-sea", "red-sky"] * 10,
                          "o1": rng.gamma(0.5, size=40), "o2": rng.gamma(0.5, size=40)})
    y = rng.uniform(0.6, 0.9, size=40)
    preset = memorability_pipeline("caption", {"objects": ["o1", "o2"]}, embeddings=False)
    space = search_space(preset, X=frame, y=y)
    assert {"weights", "early__features__words__min_df", "text__features__words__ngram_range",
            "text__nystroem__gamma", "objects__nystroem__gamma"} <= set(space)
    # The kernel members' RBF width: the range holds the preset's own value.
    gamma = space["objects__nystroem__gamma"]
    assert gamma.low < preset.get_params()["objects__nystroem__gamma"] < gamma.high
    preset.set_params(**sample(space, preset))


class DescribedKNN(KNeighborsRegressor):
    """A user's estimator that carries its own search space and per-epoch score."""

    def __skmem_search_space__(self, X=None, y=None):
        return {"n_neighbors": optuna.distributions.IntDistribution(1, min(10, len(y)) if y is not None else 10)}


def test_an_estimator_that_describes_its_space_is_searched_without_a_central_table():
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30.0)
    space = search_space(make_pipeline(StandardScaler(), DescribedKNN()), X=X, y=y)
    assert space == {"describedknn__n_neighbors": optuna.distributions.IntDistribution(1, 10)}
    assert set(search_space(LSTMRegressor())) == {"hidden_size", "lr", "dropout"}
    assert LSTMRegressor().__skmem_epoch_score__() == "valid_spearman"
    assert LSTMRegressor(valid_size=None).__skmem_epoch_score__() is None


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


def test_tune_scores_pooled_out_of_fold_predictions_on_shuffled_seeded_folds():
    X, y = sequences()
    best, study = tune(ridge_pipeline(), X, y, n_trials=8, cv=3)
    assert len(finished(study)) == 8
    assert best.get_params()["ridge__alpha"] == study.best_params["ridge__alpha"]
    folds = KFold(3, shuffle=True, random_state=0)
    pooled = cross_val_predict(ridge_pipeline().set_params(**study.best_params), X, y, cv=folds)
    assert study.best_value == pytest.approx(spearman_score(y, pooled))
    assert len(study.best_trial.user_attrs["fold_scores"]) == 3
    held_out, y_held = sequences(40, seed=1)
    assert spearman_score(y_held, best.predict(held_out)) > 0.8
    _, shuffled = tune(ridge_pipeline(), X, np.random.RandomState(0).permutation(y), n_trials=8, cv=3)
    assert study.best_value > shuffled.best_value + 0.5


def test_tune_is_repeatable_with_random_state():
    X, y = sequences()
    _, first = tune(ridge_pipeline(), X, y, n_trials=5, cv=3, random_state=3, pruning=False)
    _, second = tune(ridge_pipeline(), X, y, n_trials=5, cv=3, random_state=3, pruning=False)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [t.value for t in first.trials] == [t.value for t in second.trials]


def test_tune_over_a_caption_column_transformer():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    words = np.array(["dog", "cat", "red", "blue", "car", "sea", "man", "sky"])
    strong = rng.randint(0, 3, size=90)
    captions = ["-".join(rng.choice(words, 3)) + "-dog" * s for s in strong]
    frame = pd.DataFrame({"caption": captions})
    y = strong + 0.3 * rng.normal(size=90)
    pipe = Pipeline([("preprocess", ColumnTransformer([("text", CaptionVectorizer(), "caption")])), ("ridge", Ridge())])
    best, study = tune(pipe, frame, y, n_trials=6, cv=3)
    assert "preprocess__text__min_df" in study.best_params
    assert isinstance(best.get_params()["preprocess__text__ngram_range"], tuple)
    assert study.best_value > 0.6


def test_a_failing_trial_is_recorded_and_the_study_goes_on():
    X, y = sequences(40)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="bad", direction="maximize")
    study.enqueue_trial({"ridge__alpha": 1.0})
    study.enqueue_trial({"ridge__alpha": -1.0})  # Ridge refuses a negative alpha
    space = {"ridge__alpha": FloatDistribution(-1.0, 10.0)}
    best, study = tune(ridge_pipeline(), X, y, n_trials=4, cv=2, storage=storage, study_name="bad",
                       param_distributions=space, pruning=False)
    summary = study_summary(study)
    assert (summary["complete"], summary["fail"]) == (3, 1)
    assert study.trials[1].state == TrialState.FAIL
    assert "alpha" in study.trials[1].user_attrs["fail_reason"] and "alpha" in summary["first_failure"]
    assert best.get_params()["ridge__alpha"] >= 0


def test_a_study_where_every_trial_fails_names_the_study_and_the_reason():
    X, y = sequences(40)
    space = {"ridge__alpha": FloatDistribution(-2.0, -1.0)}
    with pytest.raises(RuntimeError, match=r"'doomed'.*alpha"):
        tune(ridge_pipeline(), X, y, n_trials=2, cv=2, study_name="doomed", param_distributions=space)


def test_in_memory_study_with_two_thread_workers():
    X, y = sequences()
    _, study = tune(ridge_pipeline(), X, y, n_trials=6, cv=3, n_jobs=2, random_state=0)
    assert len(finished(study)) == 6
    assert len({t.params["ridge__alpha"] for t in study.trials}) == 6


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


def test_pruning_stops_a_bad_skorch_configuration_in_its_first_fold():
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
    assert good.state == TrialState.COMPLETE and sorted(good.intermediate_values) == list(range(max_epochs))
    assert len(good.user_attrs["fold_scores"]) == 2
    assert bad.state == TrialState.PRUNED
    assert len(bad.intermediate_values) < max_epochs and "fold_scores" not in bad.user_attrs
    assert best.lr == 3e-2 and not best.callbacks


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
    with pytest.raises(ValueError, match="cv"):
        tune(ridge_pipeline(), X, y, n_trials=1, cv=1)


def test_make_storage_kinds(tmp_path):
    with pytest.raises(ValueError, match="nodriver://x"):
        make_storage("nodriver://x")
    assert make_storage(None) is None
    assert isinstance(make_storage(tmp_path / "study.log"), JournalStorage)
    database = make_storage(tmp_path / "study.db")
    assert isinstance(database, RDBStorage) and database.get_heartbeat_interval() == 60
    assert make_storage(f"sqlite:///{tmp_path / 'other.db'}", heartbeat_interval=None).get_heartbeat_interval() is None


def test_verbose_shows_progress_and_zero_is_silent(capfd):
    X, y = sequences(40)
    tune(ridge_pipeline(), X, y, n_trials=3, cv=2, verbose=0)
    quiet = capfd.readouterr()
    assert quiet.out == quiet.err == ""
    tune(ridge_pipeline(), X, y, n_trials=3, cv=2, verbose=1)
    assert "3/3" in capfd.readouterr().err  # Optuna's progress bar


# -- nested evaluation and plots --------------------------------------------------


def test_tuned_regressor_gives_nested_evaluation_in_one_line():
    X, y = sequences(90)
    tuned = TunedRegressor(ridge_pipeline(), n_trials=4, cv=3)
    scores = cross_val_score(tuned, X, y, cv=KFold(3, shuffle=True, random_state=0), scoring=spearman_scorer)
    shuffled = cross_val_score(tuned, X, np.random.RandomState(0).permutation(y), cv=KFold(3, shuffle=True, random_state=0), scoring=spearman_scorer)
    assert scores.mean() > 0.5 and scores.mean() > shuffled.mean() + 0.4
    fitted = clone(tuned).fit(X, y)
    assert set(fitted.best_params_) == {"temporalpooling__method", "ridge__alpha"}
    assert len(fitted.study_.trials) == 4 and fitted.best_score_ == fitted.study_.best_value
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_tuned_regressor_takes_an_auxiliary_target_inside_cross_validation():
    from skmem.pipelines import InputDescription, make_model

    X, y = sequences(90)
    auxiliary = np.random.RandomState(1).permutation(y)
    model = make_model("ridge", InputDescription(rank=3, auxiliary="short_term"), auxiliary_weight=1.0)
    tuned = TunedRegressor(model, n_trials=2, cv=3)
    folds = KFold(3, shuffle=True, random_state=0)
    on_auxiliary = cross_val_score(tuned, X, y, cv=folds, scoring=spearman_scorer, params={"auxiliary": auxiliary})
    on_y = cross_val_score(tuned, X, y, cv=folds, scoring=spearman_scorer, params={"auxiliary": y})
    assert on_y.mean() > 0.5 and on_y.mean() > on_auxiliary.mean() + 0.4  # each inner fold trained on the target given


def test_tuned_regressor_contract():
    X, y = sequences(30)
    with pytest.raises(NotFittedError):
        TunedRegressor(Ridge()).predict(X[:, 0])
    with pytest.raises(ValueError, match="n_trials"):
        TunedRegressor(Ridge(), n_trials=0).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="n_trail"):
        TunedRegressor(Ridge()).set_params(n_trail=3)
    tuned = TunedRegressor(Ridge(), n_trials=2, cv=2).fit(X[:, 0], y)
    assert tuned.n_features_in_ == 6
    assert tuned.get_params()["estimator__alpha"] == 1.0  # the template is left untouched


def test_plots_draw_the_study(tmp_path):
    X, y = sequences(40)
    _, study = tune(ridge_pipeline(), X, y, n_trials=6, cv=2, pruning=False)
    ax = plot_history(study, tmp_path / "history.png")
    values = sorted(t.value for t in study.trials)
    drawn = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if len(c.get_offsets())])
    np.testing.assert_allclose(sorted(drawn), values)
    best_line = next(line for line in ax.lines if "Best" in line.get_label())
    assert max(best_line.get_ydata()) == pytest.approx(study.best_value)
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = plot_importances(study)
    assert {label.get_text() for label in ax.get_yticklabels()} == {"ridge__alpha", "temporalpooling__method"}


# -- several processes ------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from test_tuning import worker_data
    import numpy as np, optuna
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from sklearn.pipeline import Pipeline
    from skmem.tuning import make_storage, tune

    FOLDS = KFold(2, shuffle=True, random_state=0)

    storage, n_trials, seed, hang, barrier = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]

    class HangingRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            if os.path.exists(hang):  # the test asks this worker to stop in the middle of a trial
                open(hang + ".reached", "w").close()
                time.sleep(600)
            return super().fit(X, y, sample_weight)

    X, y = worker_data()
    if barrier:  # wait until every worker is ready, so that they run at the same time
        open(barrier[0], "w").close()
        while not all(os.path.exists(p) for p in barrier[1:]):
            time.sleep(0.02)
    # the step is named "ridge" like the plain Ridge the test resumes with, so that the
    # best parameters of either run apply to both
    # the folds are fixed, so workers with their own sampler seeds share one study
    tune(Pipeline([("ridge", HangingRidge())]), X, y, n_trials=n_trials, cv=FOLDS, study_name="shared", random_state=seed,
         storage=make_storage(storage, heartbeat_interval=1))
    """
)


def worker_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5))
    return X, X[:, 0] + 0.1 * rng.normal(size=30)


def worker(script, storage, n_trials, seed, hang, *barrier):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([REPO, os.path.join(REPO, "tests")])}
    return subprocess.Popen([sys.executable, str(script), str(storage), str(n_trials), str(seed), str(hang), *map(str, barrier)],
                            env=env, stderr=subprocess.PIPE, text=True)


def load(storage):
    return optuna.load_study(study_name="shared", storage=make_storage(storage, heartbeat_interval=1))


@pytest.mark.parametrize("suffix", [".db", ".log"])
def test_a_killed_worker_leaves_a_trial_that_a_resumed_run_fails_and_replaces(tmp_path, suffix):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    storage, hang = tmp_path / f"study{suffix}", tmp_path / "hang"
    process = worker(script, storage, 500, 0, hang)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            if len(load(storage).get_trials(states=FINISHED)) >= 3:
                break
        except KeyError:  # the study is not created yet
            pass
    hang.touch()
    while process.poll() is None and not (tmp_path / "hang.reached").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGKILL)
    process.wait()
    hang.unlink()
    study = load(storage)
    (stale,) = study.get_trials(states=(TrialState.RUNNING,))
    done = [(t.number, t.params, t.value) for t in study.get_trials(states=FINISHED)]
    if suffix == ".db":
        # past the grace period (twice the 1 s heartbeat interval), with a margin for
        # SQLite's timestamps, which have a resolution of one second
        time.sleep(4.0)
    X, y = worker_data()
    total = len(done) + 2
    _, resumed = tune(make_pipeline(Ridge()), X, y, n_trials=total, cv=KFold(2, shuffle=True, random_state=0),
                      storage=make_storage(storage, heartbeat_interval=1), study_name="shared")
    assert resumed.trials[stale.number].state == TrialState.FAIL
    after = resumed.get_trials(states=FINISHED)
    assert len(after) == total
    assert [(t.number, t.params, t.value) for t in after[: len(done)]] == done


def test_two_journal_workers_finish_exactly_n_trials(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    storage = tmp_path / "study.log"
    ready = [tmp_path / "ready0", tmp_path / "ready1"]
    n_trials = 20
    processes = [worker(script, storage, n_trials, seed, tmp_path / "never", ready[seed], *ready) for seed in (0, 1)]
    for process in processes:
        assert process.wait(timeout=150) == 0, process.stderr.read()
    study = load(storage)
    trials = study.get_trials(states=FINISHED)
    assert len(trials) == n_trials
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert study_summary(study)["fail"] == 0


# -- what a study was made from --------------------------------------------------


def stored_study(tmp_path, X, y, **params):
    """A 3-trial SQLite study "s" of ``ridge_pipeline`` on ``X, y``; returns the storage path."""
    path = tmp_path / "study.db"
    tune(ridge_pipeline(), X, y, n_trials=3, cv=3, storage=path, study_name="s", **params)
    return path


def refused(path, X, y, **params):
    """The error of resuming study "s" with other inputs; checks that no trial ran."""
    before = len(optuna.load_study(study_name="s", storage=make_storage(path)).trials)
    with pytest.raises(StudyMismatchError) as info:
        tune(ridge_pipeline(), X, y, n_trials=6, cv=params.pop("cv", 3), storage=path, study_name="s", **params)
    assert len(optuna.load_study(study_name="s", storage=make_storage(path)).trials) == before
    message = str(info.value)
    assert "'s'" in message and "study.db" in message and "overwrite" in message
    return message


def test_resuming_with_other_data_folds_metric_or_space_is_refused_naming_both_sides(tmp_path):
    X, y = sequences()
    path = stored_study(tmp_path, X, y)
    identity = optuna.load_study(study_name="s", storage=make_storage(path)).user_attrs["skmem_identity"]
    old_y, old_X = identity["data"]["y"][:12], identity["data"]["X"][:12]
    permuted = np.random.RandomState(0).permutation(y)
    message = refused(path, X, permuted)
    assert f"targets (y) differ: 80 rows, digest {old_y} (stored) vs 80 rows, digest " in message
    assert "features" not in message and "folds" not in message
    message = refused(path, X[::-1].copy(), y)
    assert f"features (X) differ: 80 rows, digest {old_X} (stored)" in message
    message = refused(path, X[:60], y[:60])
    assert "60 rows" in message and "folds differ: 3 folds" in message
    assert "seed 0" in refused(path, X, y, random_state=1) and "seed 1" in refused(path, X, y, random_state=1)
    assert "folds differ: 3 folds, seed 0" in refused(path, X, y, cv=4) and "4 folds" in refused(path, X, y, cv=4)
    assert "metric differs: 'spearman' (stored) vs 'pearson' (this run)" in refused(path, X, y, scoring="pearson")
    space = {"ridge__alpha": FloatDistribution(0.5, 5.0, log=True)}
    message = refused(path, X, y, param_distributions=space)
    assert "search space differs at ridge__alpha: FloatDistribution(" in message and "high=5.0" in message
    assert "search space differs at temporalpooling__method: CategoricalDistribution(" in message
    assert "absent (this run)" in message
    # the same inputs resume it, a memory map or a list of the same values included
    np.save(tmp_path / "X.npy", X)
    _, study = tune(ridge_pipeline(), np.load(tmp_path / "X.npy", mmap_mode="r"), list(y), n_trials=4, cv=3,
                    storage=path, study_name="s")
    assert len(finished(study)) == 4


def test_overwrite_starts_the_study_again(tmp_path):
    X, y = sequences()
    path = stored_study(tmp_path, X, y)
    permuted = np.random.RandomState(0).permutation(y)
    best, study = tune(ridge_pipeline(), X, permuted, n_trials=2, cv=3, storage=path, study_name="s", overwrite=True)
    assert len(study.trials) == 2
    pooled = cross_val_predict(ridge_pipeline().set_params(**study.best_params), X, permuted, cv=KFold(3, shuffle=True, random_state=0))
    assert study.best_value == pytest.approx(spearman_score(permuted, pooled))
    assert len(tune(ridge_pipeline(), X, permuted, n_trials=3, cv=3, storage=path, study_name="s")[1].trials) == 3


def test_clip_ids_of_a_dataframe_are_part_of_the_data(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = sequences(40)
    frame = pd.DataFrame({"path": [f"clips/video{i}.webm" for i in range(40)], "f0": X[:, 0, 0], "f1": X[:, 1, 0]})
    pipe = make_pipeline(ColumnTransformer([("f", StandardScaler(), ["f0", "f1"])]), Ridge())
    tune(pipe, frame, y, n_trials=2, cv=2, storage=tmp_path / "study.db", study_name="s")
    renamed = frame.assign(path=[f"other/video{i}.webm" for i in range(40)])
    with pytest.raises(StudyMismatchError, match=r"clip ids differ: 40 rows, digest \w+ \(stored\) vs 40 rows"):
        tune(pipe, renamed, y, n_trials=3, cv=2, storage=tmp_path / "study.db", study_name="s")


def test_a_stored_study_that_records_nothing_is_resumed_with_a_warning(tmp_path):
    X, y = sequences(40)
    storage = make_storage(tmp_path / "study.db")
    legacy = optuna.create_study(storage=storage, study_name="old", direction="maximize")
    legacy.enqueue_trial({"ridge__alpha": 1.0, "temporalpooling__method": "mean"})
    legacy.optimize(lambda trial: trial.suggest_float("ridge__alpha", 1e-3, 1e3, log=True) and 0.0, n_trials=1)
    with pytest.warns(UserWarning, match="'old' in storage .*study.db.* records nothing about the data"):
        _, study = tune(ridge_pipeline(), X, y, n_trials=2, cv=2, storage=storage, study_name="old")
    assert study.user_attrs["skmem_identity"]["data"]["n_samples"] == 40


def test_content_digest_follows_values_not_layout():
    X = np.arange(12.0).reshape(3, 4)
    assert content_digest(X) == content_digest(np.asfortranarray(X)) == content_digest(X.tolist())
    assert content_digest(X) != content_digest(X.astype(np.float32))
    assert content_digest(X) != content_digest(X.reshape(4, 3))
    assert content_digest(["a", "b"]) != content_digest(["b", "a"])


# -- interrupts -------------------------------------------------------------------


class InterruptingRidge(Ridge):
    """Sends ``signum`` to this process (SIGINT: as Ctrl-C does) in the fit that trials have reached ``fits_before``.

    Each fit first sleeps ``pause`` seconds, as a real model takes far longer than Python takes to run a handler.
    """

    fits = 0

    def __init__(self, alpha=1.0, fits_before=None, signum=signal.SIGINT, pause=0.0):
        super().__init__(alpha=alpha)
        self.fits_before = fits_before
        self.signum = signum
        self.pause = pause

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.pause)
        InterruptingRidge.fits += 1
        if InterruptingRidge.fits == self.fits_before:
            if signal.getsignal(self.signum) is signal.SIG_DFL:  # the signal would end the test run
                raise AssertionError(f"{signal.Signals(self.signum).name} has its default action during the fit")
            os.kill(os.getpid(), self.signum)
        return super().fit(X, y, sample_weight)


INTERRUPTED_SPACE = {"interruptingridge__alpha": FloatDistribution(0.1, 10.0)}


def assert_interrupted_at_the_third_trial(path):
    """The study holds two completed trials and the interrupted one, failed; a rerun completes it."""
    study = optuna.load_study(study_name="s", storage=make_storage(path))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert study.trials[2].user_attrs["fail_reason"] == "interrupted (KeyboardInterrupt)"
    X, y = sequences(40)
    model = make_pipeline(TemporalPooling(), InterruptingRidge())
    _, resumed = tune(model, X, y, n_trials=4, cv=2, storage=path, study_name="s", param_distributions=INTERRUPTED_SPACE)
    assert len(finished(resumed)) == 4 and study_summary(resumed)["fail"] == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.usefixtures("python_signal_handlers")
def test_ctrl_c_or_sigterm_fails_the_running_trial_and_stops_the_study(tmp_path, signum):
    X, y = sequences(40)
    InterruptingRidge.fits = 0
    model = make_pipeline(TemporalPooling(), InterruptingRidge(fits_before=5, signum=signum))  # trial 2, fold 1 of 2
    with pytest.raises(KeyboardInterrupt):
        tune(model, X, y, n_trials=10, cv=2, storage=tmp_path / "s.db", study_name="s", param_distributions=INTERRUPTED_SPACE)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back
    assert_interrupted_at_the_third_trial(tmp_path / "s.db")


@pytest.mark.usefixtures("python_signal_handlers")
def test_ctrl_c_during_a_skorch_trial_is_not_a_completed_trial(tmp_path):
    from skorch.callbacks import Callback

    class InterruptAtEpoch2(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    X, y = sequences(40)
    lstm = LSTMRegressor(hidden_size=4, max_epochs=4, batch_size=16, device="cpu", random_state=0,
                         callbacks=[InterruptAtEpoch2()])
    with pytest.raises(KeyboardInterrupt):
        tune(lstm, X, y, n_trials=3, cv=2, storage=tmp_path / "s.log", study_name="s", pruning=False,
             param_distributions={"lr": FloatDistribution(1e-3, 1e-2, log=True)})
    (trial,) = optuna.load_study(study_name="s", storage=make_storage(tmp_path / "s.log")).trials
    assert trial.state == TrialState.FAIL and "fold_scores" not in trial.user_attrs


@pytest.mark.usefixtures("python_signal_handlers")
def test_ctrl_c_stops_thread_workers_after_their_running_trial():
    X, y = sequences(40)
    InterruptingRidge.fits = 0
    model = make_pipeline(TemporalPooling(), InterruptingRidge(fits_before=6, pause=0.05))
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(KeyboardInterrupt):
        tune(model, X, y, n_trials=200, cv=2, n_jobs=2, storage=storage, study_name="s", param_distributions=INTERRUPTED_SPACE)
    study = optuna.load_study(study_name="s", storage=storage)
    deadline = time.monotonic() + 60
    while study.get_trials(states=(TrialState.RUNNING,)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not study.get_trials(states=(TrialState.RUNNING,))
    assert 3 <= len(study.trials) < 10  # the trials under way, far fewer than the 200 asked for


class SwallowingRidge(InterruptingRidge):
    """Catches the interrupt its own fit sends, as code whose exception is lost would (a gc callback)."""

    def fit(self, X, y, sample_weight=None):
        try:
            return super().fit(X, y, sample_weight)
        except KeyboardInterrupt:
            return Ridge.fit(self, X, y, sample_weight)


@pytest.mark.usefixtures("python_signal_handlers")
def test_an_interrupt_whose_exception_was_lost_still_stops_tune():
    X, y = sequences(40)
    InterruptingRidge.fits = 0
    model = make_pipeline(TemporalPooling(), SwallowingRidge(fits_before=3))
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        tune(model, X, y, n_trials=50, cv=2, storage=storage, study_name="s",
             param_distributions={"swallowingridge__alpha": FloatDistribution(0.1, 10.0)})
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == 2  # none started after the interrupt


# -- credentials ------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "postgresql://user:s3cr3t@127.0.0.1:1/db",
    "postgresql://user:s3cr3t@host:notaport/db",
    "nodriver://user:s3cr3t@host/db",
    "sqlite://user:s3cr3t@/x.db",
    "mysql+pymysql://user@host/db?password=s3cr3t",
])
def test_a_password_in_a_storage_url_is_never_shown(url):
    X, y = sequences(20)
    with pytest.raises(ValueError) as info:
        tune(ridge_pipeline(), X, y, n_trials=1, cv=2, storage=url)
    shown = "".join(traceback.format_exception(info.value))
    assert "s3cr3t" not in shown and "***" in str(info.value) and "cannot be opened" in str(info.value)


def test_redact_hides_passwords_holding_separators():
    assert redact("storage 'postgresql://u:p@ss/w@host:5432/db' failed") == "storage 'postgresql://u:***@host:5432/db' failed"
    assert redact("postgresql://host/db and postgresql://u@h/db") == "postgresql://host/db and postgresql://u@h/db"
    assert redact(f"sqlite:///{os.sep}tmp{os.sep}study.db") == f"sqlite:///{os.sep}tmp{os.sep}study.db"


# -- the command line -------------------------------------------------------------


@pytest.fixture
def cli_data(tmp_path, monkeypatch):
    """``skmem tune`` arguments over a fixed feature matrix; ``set(X=..., names=..., config=...)`` changes the data."""
    from sklearn.utils import Bunch

    import skmem.cli.tune
    from skmem.pipelines import describe_input

    X, y = sequences(40)
    data = {"X": X.mean(axis=1), "y": y, "names": [f"video{i}.webm" for i in range(40)], "config": {"backbone": "a"}}
    def load(args):
        return Bunch(X=data["X"], y=data["y"], names=data["names"], config=data["config"],
                     description=describe_input(data["X"]), params={})

    monkeypatch.setattr(skmem.cli.tune, "load_dataset", load)
    (tmp_path / "labels.csv").write_text("")
    (tmp_path / "features").mkdir()
    argv = ["tune", "--features", str(tmp_path / "features"), "--labels", str(tmp_path / "labels.csv"), "--target", "short",
            "--model", "ridge", "--folds", "3", "--trials", "2", "--plot", str(tmp_path / "history.png")]
    return argv, data.update


def test_cli_tune_refuses_another_study_until_told_to_start_again(cli_data, tmp_path, capsys):
    from skmem.cli import main

    argv, change = cli_data
    storage = ["--storage", str(tmp_path / "study.db")]
    assert main(argv + storage) == 0
    for changes, named in [({"names": [f"other{i}.webm" for i in range(40)]}, "clip ids differ"),
                           ({"config": {"backbone": "b"}}, "feature configuration differ")]:
        change(changes)
        capsys.readouterr()
        assert main(argv + storage) == 1
        err = capsys.readouterr().err
        assert f"{named}: digest " in err and "(stored) vs digest " in err and "--overwrite-study" in err
    assert main(argv + storage + ["--seed", "1", "--overwrite-study"]) == 0
    assert "2 trials (2 complete" in capsys.readouterr().out


def test_cli_tune_never_prints_a_storage_password(cli_data, capsys):
    from skmem.cli import main

    argv, _ = cli_data
    assert main(argv + ["--storage", "postgresql://user:s3cr3t@127.0.0.1:1/db"]) == 1
    captured = capsys.readouterr()
    assert "s3cr3t" not in captured.out + captured.err and "postgresql://user:***@127.0.0.1:1/db" in captured.err


def test_fit_parameters_reach_every_fold_and_the_refit_and_identify_the_study(tmp_path):
    from skmem.pipelines import InputDescription, make_model

    X, y = sequences(60)
    auxiliary = np.random.RandomState(1).permutation(y)
    model = make_model("ridge", InputDescription(rank=3, auxiliary="short_term"), auxiliary_weight=1.0)
    path = tmp_path / "study.db"
    best, study = tune(model, X, y, n_trials=2, cv=3, storage=path, study_name="aux", params={"auxiliary": auxiliary})
    # trained on the auxiliary target alone (weight 1): its pooled folds rank the permuted target, not y
    trial = study.best_trial
    assert abs(trial.value) < 0.5
    ranked_on_auxiliary = clone(model).set_params(**study.best_params).fit(X, y, auxiliary=auxiliary)
    np.testing.assert_allclose(best.predict(X), ranked_on_auxiliary.predict(X))
    with pytest.raises(StudyMismatchError, match="fit parameter auxiliary differ"):
        tune(model, X, y, n_trials=3, cv=3, storage=path, study_name="aux", params={"auxiliary": y})
    with pytest.raises(ValueError, match="fit parameter 'auxiliary' has 5 values for 60 samples"):
        tune(model, X, y, n_trials=2, cv=3, params={"auxiliary": y[:5]})
