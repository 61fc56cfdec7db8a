"""Hyper-parameter search with Optuna: search spaces and persistent, pruned studies.

:func:`search_space` gives Optuna distributions suited to the skmem
estimators (and to Ridge and SVR), keyed by the parameter names of the
pipeline it is given. :func:`tune` runs a study over cross-validated scores,
stores it in memory, in a SQLite or journal file, or in any database that
SQLAlchemy reaches, resumes it when it is run again, prunes hopeless trials
(per epoch for skorch models, per fold otherwise) and returns the best model
refitted on all the data.

Running on several GPUs or machines
-----------------------------------
Start one worker per GPU, each seeing only its own device, all pointing at
the same storage and study name; every worker runs trials of the one study
until ``n_trials`` trials have finished in total::

    CUDA_VISIBLE_DEVICES=0 skmem tune ... --storage postgresql://host/db --study-name s1 &
    CUDA_VISIBLE_DEVICES=1 skmem tune ... --storage postgresql://host/db --study-name s1 &

On one machine a journal file (``--storage study.log``) is enough. Inside
Python, ``tune(n_jobs=k)`` runs ``k`` workers through joblib, so the
workers go wherever the active joblib backend sends them (for example a
Dask cluster under ``joblib.parallel_config(backend="dask")``); with
``storage=None`` the workers are threads of this process.
"""

import math
import os
import socket
import time
from pathlib import Path

import numpy as np
import optuna
import sqlalchemy.exc
from joblib import Parallel, delayed, effective_n_jobs
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.svm import SVR
from sklearn.utils import _safe_indexing, check_random_state
from skorch.callbacks import Callback

from skmem._validation import check_positive_int
from skmem.features.pooling import TemporalPooling
from skmem.metrics import SCORERS, spearman_scorer
from skmem.models import AMNetRegressor, LSTMRegressor, PairwiseRanker
from skmem.models._base import VALID_SCORE, DeepRegressorBase

__all__ = ["search_space", "tune", "make_storage", "study_summary", "EpochPruning"]

#: Suffixes of storage paths read as Optuna journal files (others are SQLite files).
JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _log_float(low, high):
    return FloatDistribution(low, high, log=True)


# Checked in order with isinstance, so subclasses get their parent's space.
_SPACES = (
    (Ridge, {"alpha": _log_float(1e-3, 1e4)}),
    (SVR, {"C": _log_float(1e-2, 1e2), "epsilon": _log_float(1e-3, 1e-1), "gamma": _log_float(1e-5, 1e-1)}),
    (TemporalPooling, {"method": CategoricalDistribution(("mean", "max", "meanstd"))}),
    (
        LSTMRegressor,
        {
            "hidden_size": CategoricalDistribution((64, 128, 256, 512, 1024)),
            "lr": _log_float(1e-5, 1e-2),
            "dropout": FloatDistribution(0.0, 0.7),
        },
    ),
    (
        AMNetRegressor,
        {
            "hidden_size": CategoricalDistribution((128, 256, 512, 1024)),
            "lr": _log_float(1e-5, 1e-3),
            "dropout": FloatDistribution(0.0, 0.7),
            "adaptor_dropout": FloatDistribution(0.0, 0.9),
        },
    ),
    (
        PairwiseRanker,
        {
            "lr": _log_float(1e-5, 1e-2),
            "dropout": FloatDistribution(0.0, 0.8),
            "weight_decay": _log_float(1e-8, 1e-3),
        },
    ),
)


def _own_space(estimator):
    for kind, space in _SPACES:
        if isinstance(estimator, kind):
            return dict(space)
    return {}


def _collect(estimator, prefix):
    if isinstance(estimator, Pipeline):
        space = {}
        for name, step in estimator.steps:
            if step is not None and step != "passthrough":
                space.update(_collect(step, f"{prefix}{name}__"))
        return space
    return {prefix + name: dist for name, dist in _own_space(estimator).items()}


def search_space(estimator, overrides=None):
    """Optuna distributions for the hyper-parameters of ``estimator``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A skmem estimator, Ridge, SVR, or a (nested) Pipeline of them; keys
        are the names :meth:`set_params` takes (``"lstmregressor__lr"``).
        Steps without a known space are left out.
    overrides : dict, optional
        Distributions that replace or extend the defaults, by the same
        names; a value of None removes that parameter from the space.

    Returns
    -------
    dict of str to optuna.distributions.BaseDistribution

    Raises
    ------
    ValueError
        When the space ends up empty, or an override names no parameter of
        ``estimator`` or is not an Optuna distribution.
    """
    space = _collect(estimator, "")
    valid = estimator.get_params(deep=True)
    for name, dist in (overrides or {}).items():
        if name not in valid:
            raise ValueError(
                f"overrides: {name!r} is not a parameter of {type(estimator).__name__}; "
                f"valid names include {sorted(valid)[:12]}"
            )
        if dist is None:
            space.pop(name, None)
        elif isinstance(dist, BaseDistribution):
            space[name] = dist
        else:
            raise ValueError(f"overrides: {name!r} must be an optuna distribution or None, got {dist!r}")
    if not space:
        raise ValueError(
            f"no search space is known for {type(estimator).__name__}; pass its distributions "
            "as overrides (search_space) or param_distributions (tune)"
        )
    return space


def make_storage(storage):
    """Turn ``storage`` into an Optuna storage.

    Parameters
    ----------
    storage : None, str, path-like or optuna.storages.BaseStorage
        None keeps the study in memory. A URL (``sqlite:///study.db``,
        ``postgresql://...``, ``mysql+pymysql://...``) opens a database
        through SQLAlchemy. A path ending in ``.log``, ``.journal`` or
        ``.jsonl`` is an Optuna journal file, which several processes on
        one machine (or on a shared file system) can use at once; any other
        path is a SQLite file.

    Returns
    -------
    optuna.storages.BaseStorage or None
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise ValueError(f"storage must be None, a path, a database URL or an optuna storage, got {storage!r}")
    text = os.fspath(storage)
    if "://" in text:
        return _database(text)
    path = Path(text).expanduser().resolve()
    if not path.parent.is_dir():
        raise ValueError(f"storage {text!r}: folder {str(path.parent)!r} does not exist")
    if path.suffix.lower() in JOURNAL_SUFFIXES:
        return JournalStorage(JournalFileBackend(str(path)))
    return _database(f"sqlite:///{path}")


def _database(url, attempts=5):
    """RDBStorage of ``url``; retried, since workers starting together race to create the tables."""
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    for attempt in range(attempts):
        try:
            return RDBStorage(url, engine_kwargs=engine)
        except sqlalchemy.exc.DBAPIError as exc:
            if attempt == attempts - 1:
                raise ValueError(f"storage {url!r} cannot be opened: {exc.orig}") from exc
            time.sleep(0.2 * (attempt + 1))
        except (sqlalchemy.exc.SQLAlchemyError, ImportError) as exc:
            raise ValueError(f"storage {url!r} cannot be opened: {exc}") from exc


class EpochPruning(Callback):
    """skorch callback: report a per-epoch score to an Optuna trial and prune.

    Works like :class:`optuna_integration.SkorchPruningCallback`, with a step
    offset so that successive cross-validation folds report distinct steps
    (fold ``k`` reports epoch ``e`` as step ``offset + e``).

    Parameters
    ----------
    trial : optuna.trial.Trial
    monitor : str, default="valid_spearman"
        Key of the score in the net's history.
    step_offset : int, default=0
    """

    def __init__(self, trial, monitor=VALID_SCORE, step_offset=0):
        self.trial = trial
        self.monitor = monitor
        self.step_offset = step_offset

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history) - 1
        self.trial.report(float(net.history[-1, self.monitor]), self.step_offset + epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} ({self.monitor})")


def _deep_prefix(estimator):
    """``set_params`` prefix of the skorch-based final step with validation, or None."""
    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    if isinstance(estimator, DeepRegressorBase) and estimator.valid_size is not None:
        return prefix
    return None


def _suggest(trial, name, dist):
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"parameter {name!r}: unsupported distribution {type(dist).__name__}")


class _Objective:
    """Mean cross-validated score of one trial's parameters (picklable for process workers)."""

    def __init__(self, estimator, X, y, distributions, splits, scorer, prune):
        self.estimator = estimator
        self.X, self.y = X, y
        self.distributions = distributions
        self.splits = splits
        self.scorer = scorer
        self.prune = prune

    def __call__(self, trial):
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        params = {name: _suggest(trial, name, d) for name, d in self.distributions.items()}
        deep = _deep_prefix(self.estimator) if self.prune else None
        scores = []
        for fold, (train, test) in enumerate(self.splits):
            model = clone(self.estimator).set_params(**params)
            if deep is not None:
                model_params = model.get_params()
                offset = fold * model_params[deep + "max_epochs"]
                callbacks = list(model_params[deep + "callbacks"] or [])
                model.set_params(**{deep + "callbacks": callbacks + [EpochPruning(trial, VALID_SCORE, offset)]})
            model.fit(_safe_indexing(self.X, train), _safe_indexing(self.y, train))
            scores.append(float(self.scorer(model, _safe_indexing(self.X, test), _safe_indexing(self.y, test))))
            trial.set_user_attr("fold_scores", scores)
            if self.prune and deep is None:
                trial.report(float(np.mean(scores)), fold)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {fold}")
        return float(np.mean(scores))


def _pruner(pruning, deep):
    if isinstance(pruning, optuna.pruners.BasePruner):
        return pruning
    if pruning is True:
        # Epochs are noisy early on; folds are comparable from the first one.
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5 if deep else 1)
    if pruning is False:
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruning must be True, False or an optuna pruner, got {pruning!r}")


def _seed(base, *keys):
    """A sampler seed derived from ``base`` and ``keys`` (None stays None)."""
    if base is None:
        return None
    return int(np.random.SeedSequence([base, *keys]).generate_state(1)[0])


def _finished(study):
    return len(study.get_trials(deepcopy=False, states=_FINISHED))


def _run_worker(storage, study_name, objective, n_trials, n_total, timeout, seed, pruner, show_progress):
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
    )
    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        callbacks=[MaxTrialsCallback(n_total, states=_FINISHED)],
        show_progress_bar=show_progress,
    )


def _resolve_scoring(estimator, scoring):
    if isinstance(scoring, str) and scoring in SCORERS:
        scoring = SCORERS[scoring]
    try:
        return check_scoring(estimator, scoring=scoring)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"scoring: {exc}") from exc


def tune(
    estimator,
    X,
    y,
    *,
    n_trials=50,
    timeout=None,
    cv=5,
    scoring=spearman_scorer,
    storage=None,
    study_name=None,
    pruning=True,
    n_jobs=1,
    random_state=None,
    param_distributions=None,
    verbose=0,
):
    """Search hyper-parameters with Optuna; return the refitted best model and the study.

    Each trial samples parameters from ``param_distributions``, scores them
    by cross-validation and reports to Optuna. With ``pruning``, skorch
    models (a skmem deep regressor, or a Pipeline ending in one, with a
    ``valid_size``) report their validation Spearman every epoch and stop
    as soon as the pruner gives up on them; other models report the running
    mean of their fold scores after each fold.

    Parameters
    ----------
    estimator : estimator or Pipeline
    X : array-like of shape (n, ...)
    y : array-like of shape (n,)
    n_trials : int, default=50
        Finished (complete or pruned) trials the study should hold in total.
        A resumed study runs only the missing ones; trials left running by a
        crashed process are not counted.
    timeout : float, optional
        Stop starting new trials after this many seconds.
    cv : int or cross-validation splitter, default=5
    scoring : str or callable, default=spearman_scorer
        ``"spearman"``, ``"pearson"``, a scikit-learn scorer name or a
        scorer; higher is better.
    storage : None, str, path-like or optuna storage, default=None
        See :func:`make_storage`: None keeps the study in memory; a SQLite
        file or URL persists it; a journal file or any SQLAlchemy database
        can be shared by several processes or machines.
    study_name : str, optional
        Name of the study in ``storage``; rerunning with the same storage
        and name resumes it. Defaults to ``"skmem-<estimator class>"``.
    pruning : bool or optuna.pruners.BasePruner, default=True
        True uses a :class:`~optuna.pruners.MedianPruner`.
    n_jobs : int, default=1
        Workers running trials at once, through joblib: threads of this
        process when ``storage`` is None, otherwise the active joblib backend
        (processes, or a Dask/Ray cluster) sharing ``storage``.
    random_state : int, RandomState or None, default=None
        Seeds the sampler (each worker and each resumed run gets its own
        derived seed).
    param_distributions : dict, optional
        Search space; :func:`search_space` of ``estimator`` when None.
    verbose : int, default=0
        Show Optuna's progress bar when > 0.

    Returns
    -------
    best_estimator : estimator
        A clone of ``estimator`` with the best parameters, fitted on ``X, y``.
    study : optuna.Study
    """
    check_positive_int(n_trials, "n_trials")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    n_workers = effective_n_jobs(n_jobs)
    base_seed = None if random_state is None else int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    distributions = search_space(estimator) if param_distributions is None else dict(param_distributions)
    scorer = _resolve_scoring(estimator, scoring)
    splitter = check_cv(cv, y, classifier=False)
    splits = list(splitter.split(X, y))
    deep = _deep_prefix(estimator) is not None
    pruner = _pruner(pruning, deep)
    storage = make_storage(storage)
    in_memory = storage is None
    if in_memory:
        storage = optuna.storages.InMemoryStorage()
    study_name = study_name or f"skmem-{type(estimator).__name__}"
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=_seed(base_seed)),
        pruner=pruner,
        load_if_exists=True,
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise ValueError(f"study {study_name!r} in this storage minimises; tune maximises the score")
    already = _finished(study)
    remaining = n_trials - already
    objective = _Objective(estimator, X, y, distributions, splits, scorer, pruning is not False)
    if remaining > 0:
        shares = [remaining // n_workers + (i < remaining % n_workers) for i in range(n_workers)]
        jobs = [
            delayed(_run_worker)(
                storage, study_name, objective, share, n_trials, timeout,
                _seed(base_seed, already, worker), pruner, bool(verbose) and worker == 0,
            )
            for worker, share in enumerate(shares)
            if share
        ]
        # An in-memory study lives in this process: its workers must be threads.
        Parallel(n_jobs=len(jobs), require="sharedmem" if in_memory else None)(jobs)
    try:
        best_params = study.best_params
    except ValueError:
        raise RuntimeError(
            f"study {study_name!r} has no completed trial (all were pruned or failed); "
            "raise n_trials or relax pruning"
        ) from None
    best = clone(estimator).set_params(**best_params)
    best.fit(X, y)
    return best, study


def study_summary(study):
    """Counts of trials by state and the best trial, as a dict (for reports)."""
    counts = {state.name.lower(): 0 for state in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] += 1
    summary = {"study_name": study.study_name, "n_trials": len(study.trials), **counts}
    completed = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if completed:
        best = study.best_trial
        summary.update(best_trial=best.number, best_value=best.value, best_params=best.params)
    if completed and any(t.duration for t in completed):
        summary["mean_trial_seconds"] = math.fsum(t.duration.total_seconds() for t in completed) / len(completed)
    return summary
