"""Hyper-parameter search with Optuna: search spaces and persistent, pruned studies.

:func:`search_space` gives Optuna distributions for every known step of an
estimator, however nested (Pipeline, ColumnTransformer, FeatureUnion,
RankFusionRegressor, ...), with ranges scaled to the data when it is given.
:func:`tune` runs a study scored by Spearman's ρ over pooled out-of-fold
predictions, stores it in memory, in a SQLite or journal file, or in any
database that SQLAlchemy reaches, resumes it when it is run again (and
refuses to when the data, folds, metric or search space changed: see
:class:`~skmem.tuning.StudyMismatchError`), survives failing
trials, killed workers and interrupts, prunes hopeless trials and returns
the best model refitted on all the data. :class:`TunedRegressor` tunes in its
``fit``, for nested evaluation in one line. :func:`plot_history` and
:func:`plot_importances` draw a study.

Running on several GPUs or machines
-----------------------------------
Start one worker per GPU, each seeing only its own device, all pointing at
the same storage and study name; every worker runs trials of the one study
until it holds ``n_trials`` finished trials in total::

    CUDA_VISIBLE_DEVICES=0 skmem tune ... --storage postgresql://host/db --study-name s1 &
    CUDA_VISIBLE_DEVICES=1 skmem tune ... --storage postgresql://host/db --study-name s1 &

On one machine a journal file (``--storage study.log``) is enough. Inside
Python, ``tune(n_jobs=k)`` runs ``k`` workers through joblib, so the
workers go wherever the active joblib backend sends them (for example a
Dask cluster under ``joblib.parallel_config(backend="dask")``); with
``storage=None`` the workers are threads of this process.

A worker killed in the middle of a trial leaves it RUNNING. In a database
made by :func:`make_storage`, its heartbeat stops and the trial is marked
failed once it is older than the grace period (twice
``heartbeat_interval``); in a journal file, :func:`tune` marks failed the
running trials whose worker process on this machine is gone. Either way a
rerun then brings the study back to ``n_trials`` finished trials.
"""

from skmem.tuning.estimator import TunedRegressor
from skmem.tuning.identity import StudyMismatchError
from skmem.tuning.plots import plot_history, plot_importances
from skmem.tuning.spaces import resolve_params, search_space
from skmem.tuning.storage import JOURNAL_SUFFIXES, make_storage
from skmem.tuning.study import METRICS, study_summary, tune

__all__ = [
    "JOURNAL_SUFFIXES",
    "METRICS",
    "StudyMismatchError",
    "TunedRegressor",
    "make_storage",
    "plot_history",
    "plot_importances",
    "resolve_params",
    "search_space",
    "study_summary",
    "tune",
]
