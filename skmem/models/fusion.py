"""Late fusion of per-modality models, weighted for rank correlation.

The winning MediaEval memorability runs averaged the predictions of models
trained on different modalities (frame features, captions, motion, ...).
Their scales differ, and only the order matters for Spearman's ρ, so
:class:`RankFusionRegressor` fuses *rank-normalised* predictions and learns the
weights on out-of-fold predictions.
"""

from functools import partial
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import nnls
from sklearn.base import RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, get_tags, indexable
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from skmem._params import BaseComposition, StrOptions
from skmem._validation import check_target
from skmem.evaluation import make_folds, out_of_fold
from skmem.metrics import spearman_score
from skmem.models._fitfree import compute_shared, serving, share_fit_free, transform_shared

__all__ = ["RankFusionRegressor"]

_STEPS = (0.2, 0.1, 0.05, 0.02, 0.01)


class _RankMap:
    """Monotone map from a member's predictions to (0, 1), learned on reference values.

    Values are mapped to their mid-rank among the reference values divided by
    their count (the empirical CDF, ties sharing their average rank),
    interpolated linearly in between; beyond the reference range the map goes
    on linearly to 0 and 1 over one more range width, then stays there.
    """

    def __init__(self, reference):
        values, counts = np.unique(np.asarray(reference, dtype=np.float64), return_counts=True)
        n = counts.sum()
        mid = (np.cumsum(counts) - counts / 2.0) / n
        span = values[-1] - values[0] if values.size > 1 else 1.0
        self.xp = np.concatenate([[values[0] - span], values, [values[-1] + span]])
        self.fp = np.concatenate([[0.0], mid, [1.0]])

    def __call__(self, values):
        return np.interp(np.asarray(values, dtype=np.float64), self.xp, self.fp)


def _learn_weights(ranked, y):
    """Simplex weights maximising Spearman's ρ between ``ranked @ w`` and ``y``.

    Candidates: each member alone, equal weights and the non-negative least
    squares fit of rank(y) (a smooth surrogate of ρ). The best candidate is then
    refined by moving weight between pairs of members in shrinking steps,
    keeping a move only when ρ improves. Deterministic.
    """
    n, m = ranked.shape
    if m == 1:
        return np.ones(1)

    def score(w):
        return spearman_score(y, ranked @ w)

    candidates = [np.eye(m)[i] for i in range(m)] + [np.full(m, 1.0 / m)]
    target = np.argsort(np.argsort(y, kind="stable"), kind="stable") / max(n - 1, 1)
    surrogate, _ = nnls(ranked - ranked.mean(axis=0), target - target.mean())
    if surrogate.sum() > 0:
        candidates.append(surrogate / surrogate.sum())
    scores = [score(w) for w in candidates]
    best = int(np.argmax(scores))
    weights, best_score = candidates[best], scores[best]
    for step in _STEPS:
        improved = True
        while improved:
            improved = False
            for i in range(m):
                for j in range(m):
                    if i == j or weights[i] < step - 1e-12:
                        continue
                    trial = weights.copy()
                    trial[i] -= step
                    trial[j] += step
                    trial_score = score(trial)
                    if trial_score > best_score + 1e-12:
                        weights, best_score, improved = trial, trial_score, True
    weights = np.clip(weights, 0.0, None)
    return weights / weights.sum()


def _loo_ridge(member):
    """The final ``RidgeCV`` of ``member`` when it computes leave-one-out predictions, else None."""
    final = member.steps[-1][1] if isinstance(member, Pipeline) else member
    return final if isinstance(final, RidgeCV) and final.cv is None else None


def _fit_member(member, X, y, outputs):
    """``member`` fitted on all rows (no out-of-fold predictions of its own)."""
    with serving(outputs):
        member.fit(X, y)
    return member, None


def _fit_member_loo(member, X, y, outputs):
    """Fit ``member`` on all rows; its final RidgeCV's leave-one-out predictions at the chosen alpha."""
    ridge = _loo_ridge(member)
    scoring, store = ridge.scoring, ridge.store_cv_results
    # With a scorer, RidgeCV stores leave-one-out predictions rather than squared errors;
    # the mean squared error ranks the alphas as the default criterion does.
    ridge.set_params(store_cv_results=True, scoring="neg_mean_squared_error" if scoring is None else scoring)
    try:
        with serving(outputs):
            member.fit(X, y)
    finally:
        ridge.set_params(scoring=scoring, store_cv_results=store)
    alphas = np.atleast_1d(np.asarray(ridge.alphas, dtype=np.float64))
    predictions = ridge.cv_results_[:, int(np.flatnonzero(alphas == ridge.alpha_)[0])].astype(np.float64)
    if not store:
        del ridge.cv_results_
    return member, predictions


def _check_partition(folds, n_samples):
    counts = np.zeros(n_samples, dtype=np.intp)
    for _, test in folds:
        np.add.at(counts, test, 1)
    if not np.all(counts == 1):
        raise ValueError(
            f"cv: the test folds must hold every sample exactly once (out-of-fold predictions); "
            f"{int((counts == 0).sum())} samples are in no test fold, {int((counts > 1).sum())} in several"
        )


class RankFusionRegressor(RegressorMixin, BaseComposition):
    """Weighted sum of rank-normalised member predictions, tuned for Spearman's ρ.

    Each member (typically a pipeline that selects one modality of ``X``) is
    cross-validated to get out-of-fold predictions, which are mapped to (0, 1)
    by their empirical distribution. Fusion weights (non-negative, summing to
    1) maximise Spearman's ρ between the weighted sum of these ranks and ``y``.
    As every prediction used to learn the weights comes from a model that did
    not see that sample, a member that merely memorises its training set gets
    no credit. The members are then refitted on all of ``X``.

    Predictions are the fused rank score rescaled to the mean and standard
    deviation of ``y`` and clipped to its range, so they read as memorability
    scores; the order (all that ρ sees) is that of the fused score.

    **Work that learns nothing is done once.** A transformer whose
    scikit-learn tags say ``requires_fit=False`` (a featurizer with fixed
    weights, a fixed function) gives each row the same output whatever it was
    fitted on. Where such a step is reached from ``X`` through column
    selections only (the first step of a member Pipeline, the transformers of
    a ColumnTransformer, recursively), ``fit`` computes its output on every
    row of ``X`` once, however many members and folds run it (two steps are
    the same work when their unfitted parameters and their column selections
    are equal), and each fold and refit is served the rows it is given;
    ``predict`` does the same with the rows it predicts. The fitted members
    hold these steps wrapped in a ``SharedStep``
    (its fitted transformer in ``transformer_``), which calls its transformer
    when a member is used on its own. The computed outputs are dropped at the
    end of ``fit``; clones share nothing.

    **Ridge members can skip the folds** (``ridge_loo=True``): a member that
    ends in a ``RidgeCV`` with efficient leave-one-out (``cv=None``) is then
    fitted once on all rows, and its exact leave-one-out predictions (at the
    penalty it chose) stand in for its out-of-fold predictions. Only valid
    when the steps before the ridge learn nothing from ``y`` (scalers, TF-IDF,
    kernel approximations): their fit on all rows then leaks no target.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Members. Each receives the whole ``X`` (use a ``ColumnTransformer`` or
        a column-selecting pipeline to route one modality to each member).
        Member parameters are reachable as ``<name>__<param>``.
    weights : "cv", "equal" or array-like of shape (n_members,), default="cv"
        ``"cv"`` learns the weights on out-of-fold predictions; ``"equal"``
        averages the ranks; an array gives fixed non-negative weights
        (normalised to sum to 1).
    cv : int, cross-validation splitter or iterable, default=5
        Folds for the out-of-fold predictions (used for the weights and for the
        rank maps applied at predict time). An int (or None, 5) means
        shuffled folds seeded by ``random_state``, by the rule of
        :func:`skmem.evaluation.make_folds`.
    ridge_loo : bool, default=False
        Out-of-fold predictions of members ending in ``RidgeCV(cv=None)`` from
        one fit on all rows (leave-one-out) instead of one fit per fold (see
        above). The other members are cross-validated on ``cv``.
    n_jobs : int, optional
        The members' fits on all rows run in parallel, then each member's
        folds (:func:`skmem.evaluation.out_of_fold`).
    random_state : int, RandomState or None, default=0
        Seeds the fold shuffling when ``cv`` is an int, so that two fits
        give the same weights (the default seed of :func:`skmem.tuning.tune`
        and the command line). None means the default seed, as everywhere in
        skmem's evaluation protocol.

    Attributes
    ----------
    estimators_ : list of estimators
        Members refitted on all training data.
    named_estimators_ : Bunch
        The same, by name.
    weights_ : ndarray of shape (n_members,)
        Fusion weights (sum to 1).
    oof_predictions_ : ndarray of shape (n_samples, n_members)
        Out-of-fold member predictions.
    member_scores_ : ndarray of shape (n_members,)
        Out-of-fold Spearman's ρ of each member.
    oof_score_ : float
        Out-of-fold Spearman's ρ of the fused score.
    rank_maps_ : list of callables
        Per member, the monotone map of its predictions to (0, 1) learned on
        its out-of-fold predictions.
    shared_steps_ : dict
        The fit-free steps computed once per ``fit`` and ``predict``: key ->
        ``(column selections, fitted transformer)``.

    Examples
    --------
    One member per modality of a DataFrame with ``caption`` and ``c3d_*``
    columns::

        from sklearn.compose import make_column_transformer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from skmem import RankFusionRegressor
        from skmem.text import CaptionVectorizer

        text = make_pipeline(
            make_column_transformer((CaptionVectorizer(), "caption")), Ridge())
        visual = make_pipeline(
            make_column_transformer(("passthrough", c3d_columns)), Ridge())
        fused = RankFusionRegressor([("text", text), ("visual", visual)])
        fused.fit(frame, frame["short_term"]).weights_
    """

    _parameter_constraints = {
        "estimators": [list, tuple],
        "weights": [StrOptions({"cv", "equal"}), "array-like"],
        "cv": ["cv_object"],
        "ridge_loo": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimators, *, weights="cv", cv=5, ridge_loo=False, n_jobs=None, random_state=0):
        self.estimators = estimators
        self.weights = weights
        self.cv = cv
        self.ridge_loo = ridge_loo
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self, deep=True):
        """Parameters, including ``<member>__<param>`` when ``deep``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, members by name or ``<member>__<param>``."""
        self._set_params("estimators", **params)
        return self

    def _members(self):
        """Names and estimators of ``estimators``, checked."""
        members = self.estimators
        if not members or not all(isinstance(m, (list, tuple)) and len(m) == 2 for m in members):
            raise ValueError(
                "estimators must be a non-empty list of (name, estimator) pairs, "
                f"got {members!r}"
            )
        names = [name for name, _ in members]
        self._validate_names(names)
        for name, est in members:
            if isinstance(est, type) or not (hasattr(est, "fit") and hasattr(est, "predict")):
                raise TypeError(
                    f"estimators: member {name!r} must be an estimator instance with fit and "
                    f"predict, got {est!r}"
                )
        return names, [est for _, est in members]

    def _fixed_weights(self, n_members):
        """The normalised fixed weights, or None when they are learned (``"cv"``)."""
        if isinstance(self.weights, str):
            return None if self.weights == "cv" else np.full(n_members, 1.0 / n_members)
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (n_members,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"weights must hold {n_members} non-negative numbers with a positive sum, "
                f"got {self.weights!r}"
            )
        return w / w.sum()

    def fit(self, X, y):
        """Learn the fusion weights out of fold, then refit every member on ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        """
        self._validate_params()
        names, members = self._members()
        fixed = self._fixed_weights(len(members))
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        (X,) = indexable(X)  # rows of any input by position, as cross-validation takes them
        y = check_target(y, len(y), dtype=np.float64)
        cv = 5 if self.cv is None else self.cv
        folds = list(make_folds(cv, random_state=self.random_state, n_samples=len(y)).split(X, y))  # one set for all
        _check_partition(folds, len(y))
        self.estimators_, oof = self._fit_members(members, X, y, folds)
        if not np.all(np.isfinite(oof)):
            bad = names[int(np.flatnonzero(~np.isfinite(oof).all(axis=0))[0])]
            raise ValueError(f"member {bad!r} predicted NaN or infinity out of fold")
        self.rank_maps_ = [_RankMap(oof[:, j]) for j in range(oof.shape[1])]
        ranked = self._ranked(oof)
        self.weights_ = _learn_weights(ranked, y) if fixed is None else fixed
        fused = ranked @ self.weights_
        self.fused_mean_, self.fused_std_ = float(fused.mean()), float(fused.std())
        self.target_mean_, self.target_std_ = float(y.mean()), float(y.std())
        self.target_range_ = (float(y.min()), float(y.max()))
        self.oof_predictions_ = oof
        self.member_scores_ = np.array([spearman_score(y, oof[:, j]) for j in range(oof.shape[1])])
        self.oof_score_ = spearman_score(y, fused)
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        return self

    def _fit_members(self, members, X, y, folds):
        """Members fitted on all rows and their out-of-fold predictions, fit-free steps computed once."""
        shared, found = zip(*(share_fit_free(est) for est in members))
        outputs, self.shared_steps_ = compute_shared({key: spec for f in found for key, spec in f.items()}, X)
        loo = [self.ridge_loo and _loo_ridge(est) is not None for est in shared]
        fits = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member_loo if loo[j] else _fit_member)(clone(est), X, y, outputs)
            for j, est in enumerate(shared)
        )
        oof = np.empty((len(y), len(shared)))
        for j, (est, (_, predictions)) in enumerate(zip(shared, fits)):
            oof[:, j] = predictions if loo[j] else out_of_fold(
                est, X, y, folds, rows=partial(serving, outputs), n_jobs=self.n_jobs
            )
        return [fitted for fitted, _ in fits], oof

    def _ranked(self, predictions):
        return np.column_stack([f(predictions[:, j]) for j, f in enumerate(self.rank_maps_)])

    def _member_predictions(self, X):
        with serving(transform_shared(self.shared_steps_, X)):
            predictions = [np.asarray(est.predict(X), dtype=np.float64) for est in self.estimators_]
        return np.column_stack([p.reshape(len(p), -1)[:, 0] for p in predictions])

    def fused_score(self, X):
        """Fused rank score in [0, 1] (before rescaling to the target)."""
        check_is_fitted(self, "weights_")
        return self._ranked(self._member_predictions(X)) @ self.weights_

    def predict(self, X):
        """Predict memorability scores (in the range of the training targets)."""
        fused = self.fused_score(X)
        if self.fused_std_ > 0:
            z = (fused - self.fused_mean_) / self.fused_std_
        else:
            z = fused - self.fused_mean_
        return np.clip(self.target_mean_ + z * self.target_std_, *self.target_range_)

    def __skmem_search_space__(self, X=None, y=None):
        """Optuna distributions of the parameters worth tuning (see :func:`skmem.tuning.search_space`)."""
        from optuna.distributions import CategoricalDistribution

        return {"weights": CategoricalDistribution(("cv", "equal"))}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            member_tags = [get_tags(est) for _, est in self.estimators]
        except (TypeError, ValueError, AttributeError):
            return tags
        tags.input_tags.sparse = all(t.input_tags.sparse for t in member_tags)
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in member_tags)
        return tags

    @property
    def n_features_in_(self):
        """Number of input features seen by the first member."""
        try:
            check_is_fitted(self, "estimators_")
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no attribute 'n_features_in_'"
            ) from exc
        return self.estimators_[0].n_features_in_
