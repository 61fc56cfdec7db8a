"""An estimator that tunes itself in ``fit``: nested evaluation in one line."""

from numbers import Integral, Real

from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin
from sklearn.utils import get_tags
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from skmem._params import HasMethods, Interval, StrOptions
from skmem.tuning.spaces import resolve_params
from skmem.tuning.study import METRICS, tune

__all__ = ["TunedRegressor"]


class TunedRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Run :func:`~skmem.tuning.tune` on the training data in ``fit``, predict with the best model.

    Scoring this estimator by cross-validation is an honest (nested)
    evaluation: each outer training fold runs its own study, and no outer
    test fold is seen while tuning::

        cross_val_score(TunedRegressor(pipe, n_trials=20), X, y, scoring=spearman_scorer)

    Parameters
    ----------
    estimator : estimator
        The estimator (or composition) to tune.
    n_trials : int, default=30
    timeout : float, optional
        Seconds after which no new trial starts.
    cv : int or cross-validation splitter, default=5
        Inner folds (an int means shuffled ``KFold`` seeded by ``random_state``).
    scoring : {"spearman", "pearson", "neg_mean_squared_error"} or callable, default="spearman"
        Metric of the pooled inner out-of-fold predictions.
    param_distributions : dict, optional
        Search space; :func:`~skmem.tuning.search_space` of ``estimator``
        and the training data when None.
    pruning : bool or optuna pruner, default=True
    n_jobs : int, default=1
        Trials run at once (threads: the study is kept in memory).
    random_state : int, RandomState or None, default=0
    verbose : int, default=0

    Attributes
    ----------
    best_estimator_ : estimator
        ``estimator`` with ``best_params_``, fitted on all the training data.
    best_params_ : dict
        The best trial's parameters, as :meth:`set_params` takes them.
    best_score_ : float
        Its pooled inner cross-validated score.
    study_ : optuna.Study
    n_features_in_ : int
        When ``best_estimator_`` has it.
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict", "get_params"])],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(METRICS)), callable],
        "param_distributions": [dict, None],
        "pruning": ["boolean", HasMethods(["prune"])],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        n_trials=30,
        timeout=None,
        cv=5,
        scoring="spearman",
        param_distributions=None,
        pruning=True,
        n_jobs=1,
        random_state=0,
        verbose=0,
    ):
        self.estimator = estimator
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.param_distributions = param_distributions
        self.pruning = pruning
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, **params):
        """Tune ``estimator`` on ``X, y`` and keep the best model refitted on them.

        ``params`` are sample-aligned fit parameters of ``estimator`` (e.g.
        ``auxiliary=`` of an :class:`~skmem.AuxiliaryTargetRegressor`): each
        inner fold gets its rows (see :func:`~skmem.tuning.tune`).
        """
        self._validate_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        self.best_estimator_, self.study_ = tune(
            self.estimator, X, y, n_trials=self.n_trials, timeout=self.timeout, cv=self.cv,
            scoring=self.scoring, pruning=self.pruning, n_jobs=self.n_jobs, random_state=self.random_state,
            param_distributions=self.param_distributions, params=params, verbose=self.verbose,
            study_name=f"skmem-tuned-{type(self.estimator).__name__}",
        )
        self.best_params_ = resolve_params(self.estimator, self.study_.best_params)
        self.best_score_ = self.study_.best_value
        if hasattr(self.best_estimator_, "n_features_in_"):
            self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def predict(self, X):
        """Predictions of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        return tags
