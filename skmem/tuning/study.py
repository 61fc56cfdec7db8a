"""Optuna studies over cross-validated, pooled out-of-fold scores."""

import math
import os
import socket

import numpy as np
import optuna
from joblib import Parallel, delayed, effective_n_jobs
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import InMemoryStorage
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from optuna_integration import SkorchPruningCallback
from sklearn.base import clone
from sklearn.utils import check_random_state, indexable

from skmem._params import final_step
from skmem._processes import process_alive
from skmem._signals import terminate_as_interrupt
from skmem._validation import check_positive_int
from skmem.evaluation import SCORING_NAMES, check_params, get_metric, make_folds, out_of_fold
from skmem.tuning.identity import claim_identity, study_identity
from skmem.tuning.spaces import resolve_params, search_space
from skmem.tuning.storage import make_storage, redact

__all__ = ["tune", "study_summary", "METRICS"]


#: Scoring names ``tune`` takes (the metrics of :mod:`skmem.evaluation`, and the
#: scikit-learn name of the negated mean squared error).
METRICS = SCORING_NAMES

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# Trials that count towards n_trials: finished ones and those under way.
_COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
_VERBOSITY = {0: optuna.logging.ERROR, 1: optuna.logging.WARNING}


class _SurplusTrial(RuntimeError):
    """A trial started after the study already held its ``n_trials`` trials."""


def _epoch_scoring(estimator):
    """``(set_params prefix, score name)`` of a final step that scores every epoch, or None.

    A final step reports a per-epoch score through ``__skmem_epoch_score__()``
    (skmem's deep regressors: their validation Spearman, when they hold out a
    validation split).
    """
    prefix, estimator = final_step(estimator)
    describe = getattr(estimator, "__skmem_epoch_score__", None)
    score = describe() if describe is not None else None
    return None if score is None else (prefix, score)


def _suggest(trial, name, dist):
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"parameter {name!r}: unsupported distribution {type(dist).__name__}")


class _Objective:
    """Pooled out-of-fold score of one trial's parameters (picklable for process workers).

    Pruning: a skmem deep regressor with a validation split reports its
    validation Spearman every epoch of the first fold (Optuna's
    ``SkorchPruningCallback``); the later folds run to the end. Other models
    report, after each fold, the score pooled over the folds done so far.
    """

    def __init__(self, estimator, X, y, params, distributions, splits, metric, prune, n_trials):
        self.interrupted = False
        self.estimator = estimator
        self.X, self.y, self.params = X, y, params
        self.distributions = distributions
        self.splits = splits
        self.metric = metric
        self.prune = prune
        self.n_trials = n_trials

    def _check_budget(self, trial):
        """Stop a worker whose new trial would go beyond ``n_trials`` (another worker got there first)."""
        earlier = trial.study.get_trials(deepcopy=False, states=_COUNTED)
        if sum(t.number < trial.number for t in earlier) >= self.n_trials:
            trial.study.stop()
            trial.set_user_attr("surplus", True)
            raise _SurplusTrial(f"study {trial.study.study_name!r} already holds {self.n_trials} trials")

    def __call__(self, trial):
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        self._check_budget(trial)
        try:
            return self._score(trial)
        except optuna.TrialPruned:
            raise
        except KeyboardInterrupt:  # Optuna records the trial FAIL and raises it again
            self.interrupted = True
            trial.set_user_attr("fail_reason", "interrupted (KeyboardInterrupt)")
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise

    def stop_if_interrupted(self, study, trial):
        """Optuna callback: once a trial was interrupted, the other workers start no new one."""
        if self.interrupted:
            study.stop()

    def _score(self, trial):
        sampled = {name: _suggest(trial, name, d) for name, d in self.distributions.items()}
        params = resolve_params(self.estimator, sampled)
        epochs = _epoch_scoring(self.estimator) if self.prune else None
        y = np.asarray(self.y)
        fold_scores = []

        def prepare(fold, model):
            model.set_params(**params)
            if epochs is not None and fold == 0:
                prefix, score = epochs
                callbacks = list(model.get_params()[prefix + "callbacks"] or [])
                model.set_params(**{prefix + "callbacks": callbacks + [SkorchPruningCallback(trial, score)]})
            return model

        def on_fold(fold, test, predictions):
            fold_scores.append(self.metric.objective(y[test], predictions[test]))
            trial.set_user_attr("fold_scores", fold_scores)
            if self.prune and epochs is None:
                done = ~np.isnan(predictions)
                trial.report(self.metric.objective(y[done], predictions[done]), fold)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {fold}")

        predictions = out_of_fold(
            self.estimator, self.X, self.y, self.splits, params=self.params, prepare=prepare, on_fold=on_fold
        )
        done = ~np.isnan(predictions)
        score = self.metric.objective(y[done], predictions[done])
        if not math.isfinite(score):
            raise ValueError(f"the pooled score is {score} (non-finite predictions?)")
        return score


def _pruner(pruning, estimator):
    if isinstance(pruning, optuna.pruners.BasePruner):
        return pruning
    if pruning is True:
        # Early epochs of a small validation split are noisy (pruning from epoch 5
        # of 20 lost the best configurations in benchmarks/bench_tuning.py); folds
        # are comparable from the second one.
        epochs = _epoch_scoring(estimator)
        warmup = 1 if epochs is None else estimator.get_params()[epochs[0] + "max_epochs"] // 2
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if pruning is False:
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruning must be True, False or an optuna pruner, got {pruning!r}")


def _seed(base, *keys):
    """A sampler seed derived from ``base`` and ``keys`` (None stays None)."""
    if base is None:
        return None
    return int(np.random.SeedSequence([base, *keys]).generate_state(1)[0])


def _fail_orphaned_trials(study):
    """Fail RUNNING trials whose worker process on this machine has exited.

    For storages without Optuna's heartbeat (journal files); databases made by
    :func:`make_storage` fail such trials through their heartbeat instead.
    """
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        where, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if where == host and pid.isdigit() and not process_alive(int(pid)):
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)


def _run_worker(storage, study_name, objective, n_trials, timeout, seed, pruner, verbose, show_progress):
    optuna.logging.set_verbosity(_VERBOSITY.get(verbose, optuna.logging.INFO))
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
    )
    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        catch=(Exception,),
        callbacks=[MaxTrialsCallback(objective.n_trials, states=_COUNTED), objective.stop_if_interrupted],
        show_progress_bar=show_progress,
    )


def _describe(storage):
    """The storage as messages name it, without credentials."""
    if storage is None:
        return "memory"
    if isinstance(storage, (str, os.PathLike)):
        return f"storage {redact(os.fspath(storage))!r}"
    if isinstance(getattr(storage, "url", None), str):  # RDBStorage
        return f"storage {redact(storage.url)!r}"
    return f"an optuna {type(storage).__name__}"


def _delete_study(storage, study_name):
    try:
        optuna.delete_study(study_name=study_name, storage=storage)
    except KeyError:  # no such study: nothing to delete
        pass


def _first_failure(study):
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if not trial.user_attrs.get("surplus"):
            return trial.user_attrs.get("fail_reason", "its worker stopped while it ran")
    return None


def tune(
    estimator,
    X,
    y,
    *,
    n_trials=30,
    timeout=None,
    cv=5,
    scoring="spearman",
    storage=None,
    study_name=None,
    pruning=True,
    n_jobs=1,
    random_state=0,
    param_distributions=None,
    params=None,
    overwrite=False,
    provenance=None,
    verbose=0,
):
    """Search hyper-parameters with Optuna; return the refitted best model and the study.

    Each trial samples parameters from ``param_distributions``, predicts
    every cross-validation test fold with a model fitted on the other folds,
    and is scored by ``scoring`` over all these out-of-fold predictions
    pooled (for the default, Spearman's ρ over all clips, the task's metric);
    the score of each fold is kept in the trial's ``fold_scores`` user
    attribute. A trial whose fit or predict raises is recorded as failed,
    with the error in its ``fail_reason`` user attribute, and the study goes
    on; only a study with no completed trial is an error.

    A study records what it was made from (user attribute
    ``skmem_identity``): content digests of ``X``, ``y`` and, for a
    DataFrame ``X``, its ``id``/``path`` columns; the folds (count, seed and
    a digest of their indices); the metric; the search space. Resuming a
    stored study with any of these changed raises
    :class:`~skmem.tuning.StudyMismatchError` naming each
    difference, both sides, unless ``overwrite=True``. Only the sampler's
    seed may differ (workers sharing a study may use their own): with an
    int ``cv``, ``random_state`` also seeds the folds, so it must match.

    An interrupt (Ctrl-C, or SIGTERM, which raises ``KeyboardInterrupt``
    while trials run in the main thread unless the caller has its own
    SIGTERM handler) during a trial records that trial as failed, with
    ``fail_reason`` "interrupted", and stops the study: the interrupt is
    raised again and nothing is refitted. Thread workers (``n_jobs`` > 1
    with a study in memory) finish the trial they are running and start no
    other.

    Parameters
    ----------
    estimator : estimator
        Any estimator or composition (see :func:`search_space`).
    X : array-like, sparse matrix, DataFrame or list of shape (n, ...)
    y : array-like of shape (n,)
    n_trials : int, default=30
        Finished (complete or pruned) trials the study should hold in
        total. A resumed study runs only the missing ones. Workers sharing a
        study stop once finished plus running trials reach ``n_trials``, so
        the total holds exactly: a worker that starts a trial just after
        another worker filled the study records that trial as failed with
        user attribute ``surplus`` and stops (:func:`study_summary` counts
        those apart). Failed trials do not count; a run does not replace
        them, a rerun does.
    timeout : float, optional
        Stop starting new trials after this many seconds; the study keeps
        what finished. Each trial fits ``cv`` models: budget ``n_trials *
        cv`` fits, or set ``timeout`` for a wall-clock limit on a laptop.
    cv : int or cross-validation splitter, default=5
        An int means ``KFold(cv, shuffle=True, random_state=random_state)``
        (seed 0 when ``random_state`` is None), the folds
        :class:`~skmem.models.fusion.RankFusionRegressor` and ``skmem cv``
        use.
    scoring : {"spearman", "pearson", "neg_mean_squared_error"} or callable, default="spearman"
        Metric ``metric(y_true, y_pred)`` of the pooled out-of-fold
        predictions; higher is better.
    storage : None, str, path-like or optuna storage, default=None
        See :func:`make_storage`: None keeps the study in memory; a SQLite
        file or URL persists it; a journal file or any SQLAlchemy database
        can be shared by several processes or machines.
    study_name : str, optional
        Name of the study in ``storage``; rerunning with the same storage
        and name resumes it. Defaults to ``"skmem-<estimator class>"``.
    pruning : bool or optuna.pruners.BasePruner, default=True
        True uses a :class:`~optuna.pruners.MedianPruner` (after 5 trials).
        A skmem deep regressor (or a Pipeline or wrapper ending in one) with a
        ``valid_size`` reports its validation Spearman every epoch of the
        first fold, through optuna-integration's ``SkorchPruningCallback``,
        and may be pruned from half of its ``max_epochs``; other models
        report the score pooled over the folds done after each fold and may
        be pruned from the second fold.
    n_jobs : int, default=1
        Workers running trials at once, through joblib: threads of this
        process when the study is in memory (``storage`` None or an optuna
        ``InMemoryStorage``), otherwise the active joblib backend
        (processes, or a Dask/Ray cluster) sharing ``storage``.
    random_state : int, RandomState or None, default=0
        Seeds the folds and the sampler (each worker and each resumed run
        gets its own derived sampler seed).
    param_distributions : dict, optional
        Search space; ``search_space(estimator, X=X, y=y)`` when None.
    params : dict, optional
        Sample-aligned fit parameters (e.g. ``{"auxiliary": short_term}`` for
        an :class:`~skmem.AuxiliaryTargetRegressor`): each fold's fit gets
        its rows, the final refit all of them; part of the study's identity.
    overwrite : bool, default=False
        Delete a stored study named ``study_name`` (all its trials) and
        start a new one, instead of resuming it. Never set it in workers
        started separately to share one study: each would delete the others'
        trials.
    provenance : dict, optional
        More that identifies the data, recorded (as digests) and compared
        with the rest: name -> value, e.g. ``{"clip ids": ids, "feature
        configuration": config}``; a difference is named by its key.
    verbose : int, default=0
        0: silent. 1: Optuna's progress bar and warnings (failed trials).
        2: also a line per trial.

    Returns
    -------
    best_estimator : estimator
        A clone of ``estimator`` with the best parameters, fitted on ``X, y``.
    study : optuna.Study

    Raises
    ------
    RuntimeError
        When the study holds no completed trial; the message names the
        study and the first failure. When every trial failed, the estimator
        is first fitted once with its own parameters on ``X, y``: if that
        fails too (bad input), its own error is raised instead.
    StudyMismatchError
        When the stored study was made from other data, folds, metric or
        search space (a ``ValueError``).
    KeyboardInterrupt
        When interrupted.
    """
    check_positive_int(n_trials, "n_trials")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    metric = get_metric(scoring)
    X, y = indexable(X, y)  # sparse matrices as CSR, array-likes as arrays: rows can be taken
    params = check_params(params, len(y))
    splits = list(make_folds(cv, random_state=random_state, n_samples=len(y)).split(X, y))
    n_workers = effective_n_jobs(n_jobs)
    base_seed = None if random_state is None else int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    distributions = (
        search_space(estimator, X=X, y=y) if param_distributions is None else dict(param_distributions)
    )
    pruner = _pruner(pruning, estimator)
    provenance = {**(provenance or {}), **{f"fit parameter {name}": value for name, value in params.items()}}
    identity = study_identity(X, y, splits, random_state, scoring, distributions, provenance)
    where = _describe(storage)
    storage = make_storage(storage)
    in_memory = storage is None or isinstance(storage, InMemoryStorage)
    if storage is None:
        storage = InMemoryStorage()
    study_name = study_name or f"skmem-{type(estimator).__name__}"
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(_VERBOSITY.get(verbose, optuna.logging.INFO))
    try:
        if overwrite:
            _delete_study(storage, study_name)
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=_seed(base_seed)),
            pruner=pruner,
            load_if_exists=True,
        )
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError(f"study {study_name!r} in {where} minimises; tune maximises the score")
        claim_identity(study, identity, where)
        if not (hasattr(storage, "get_heartbeat_interval") and storage.get_heartbeat_interval()):
            _fail_orphaned_trials(study)
        already = len(study.get_trials(deepcopy=False, states=_FINISHED))
        remaining = n_trials - already
        objective = _Objective(estimator, X, y, params, distributions, splits, metric, pruning is not False, n_trials)
        if remaining > 0:
            shares = [remaining // n_workers + (i < remaining % n_workers) for i in range(n_workers)]
            jobs = [
                delayed(_run_worker)(
                    storage, study_name, objective, share, timeout, _seed(base_seed, already, worker),
                    pruner, verbose, bool(verbose) and worker == 0,
                )
                for worker, share in enumerate(shares)
                if share
            ]
            def stop_workers():  # thread workers still running start no new trial
                objective.interrupted = True

            try:
                # An in-memory study lives in this process: its workers must be threads.
                with terminate_as_interrupt(on_interrupt=stop_workers):
                    Parallel(n_jobs=len(jobs), require="sharedmem" if in_memory else None)(jobs)
            except KeyboardInterrupt:
                stop_workers()
                raise
    finally:
        optuna.logging.set_verbosity(previous)
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if not study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)):
            # Every trial failed: when the estimator with its own parameters fails on this
            # data too, the fault is the data's, and its own error says best what is wrong.
            clone(estimator).fit(X, y, **params)
        reason = _first_failure(study)
        detail = f"first failure: {reason}" if reason else "all were pruned; raise n_trials or relax pruning"
        raise RuntimeError(f"study {study_name!r} has no completed trial ({detail})")
    best = clone(estimator).set_params(**resolve_params(estimator, study.best_params))
    with terminate_as_interrupt():
        best.fit(X, y, **params)
    return best, study


def study_summary(study):
    """Counts of trials by state and the best trial, as a dict (for reports).

    ``fail`` counts trials whose fit raised or whose worker died; ``surplus``
    counts the trials workers dropped because the study was already full.
    """
    counts = {state.name.lower(): 0 for state in TrialState}
    counts["surplus"] = 0
    for trial in study.get_trials(deepcopy=False):
        surplus = trial.state == TrialState.FAIL and trial.user_attrs.get("surplus")
        counts["surplus" if surplus else trial.state.name.lower()] += 1
    summary = {"study_name": study.study_name, "n_trials": len(study.trials), **counts}
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if completed:
        best = study.best_trial
        summary.update(best_trial=best.number, best_value=best.value, best_params=best.params)
        summary["mean_trial_seconds"] = math.fsum(t.duration.total_seconds() for t in completed) / len(completed)
    reason = _first_failure(study)
    if reason:
        summary["first_failure"] = reason
    return summary
