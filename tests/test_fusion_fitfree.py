"""Fit-free steps run once per clip per fit and per predict; ridge members skip the folds."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold, LeaveOneOut, PredefinedSplit, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, RankFusionRegressor
from skmem.datasets import make_memorability_videos
from skmem.datasets.multimodal import make_multimodal_memorability
from skmem.pipelines import memorability_pipeline


class CountingScores(TransformerMixin, BaseEstimator):
    """Learns nothing: returns the score columns of a frame and logs the clip ids it transformed.

    The log is a file, so that counts survive clones and worker processes.
    """

    def __init__(self, log, id_column="video"):
        self.log = log
        self.id_column = id_column

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.writelines(f"{clip}\n" for clip in X[self.id_column])
        return X.drop(columns=self.id_column).to_numpy(dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class LearningCountingScores(CountingScores):
    """The same work, declared as needing a fit: not shared."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


def _counts(log):
    """Times each clip id was transformed since the last call (the log is emptied)."""
    path = Path(log)
    if not path.exists():
        return pd.Series(dtype=int)
    ids = path.read_text(encoding="utf-8").split()
    path.unlink()
    return pd.Series(ids).value_counts()


@pytest.fixture(scope="module")
def data():
    return make_multimodal_memorability(240, n_objects=12, random_state=0)


def _scores(frame):
    return ["video"] + [c for c in frame.columns if c.startswith("obj_")]


def _member(transformer, columns, regressor):
    return Pipeline([("features", ColumnTransformer([("scores", transformer, columns)])), ("model", regressor)])


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_each_clip_is_transformed_once_per_fit_and_per_predict(data, tmp_path, n_jobs):
    log = tmp_path / "log.txt"
    X, y = data.frame, data.short_term
    train, test = X.iloc[:180], X.iloc[180:]
    members = [
        ("ridge", _member(CountingScores(log), _scores(X), Ridge(alpha=1.0))),
        ("scaled", make_pipeline(
            ColumnTransformer([("scores", make_pipeline(CountingScores(log), StandardScaler()), _scores(X))]),
            Ridge(alpha=10.0))),
    ]
    fused = RankFusionRegressor(members, cv=4, n_jobs=n_jobs).fit(train, y[:180])
    counts = _counts(log)
    assert sorted(counts.index) == sorted(train["video"]) and set(counts) == {1}
    predictions = fused.predict(test)
    counts = _counts(log)
    assert sorted(counts.index) == sorted(test["video"]) and set(counts) == {1}
    # The same model with the work declared as learning something: every fold recomputes it.
    unshared = clone(fused).set_params(ridge__features__scores=LearningCountingScores(log),
                                       scaled__columntransformer__scores__countingscores=LearningCountingScores(log))
    unshared.fit(train, y[:180])
    assert set(_counts(log)) == {2 * 5}  # (4 folds + 1 refit) x 2 members
    np.testing.assert_allclose(unshared.oof_predictions_, fused.oof_predictions_)
    np.testing.assert_allclose(unshared.predict(test), predictions)
    assert set(_counts(log)) == {2}


def test_different_parameters_or_columns_are_different_work(data, tmp_path):
    X, y = data.frame, data.short_term
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    scores = _scores(X)
    members = [
        ("a", _member(CountingScores(a), scores, Ridge())),
        ("b", _member(CountingScores(b), scores, Ridge())),
        ("a_fewer_columns", _member(CountingScores(a), scores[:4], Ridge())),
    ]
    fused = RankFusionRegressor(members, cv=3).fit(X, y)
    assert len(fused.shared_steps_) == 3
    assert set(_counts(a)) == {2} and set(_counts(b)) == {1}


def test_fitted_members_work_alone_and_the_model_pickles(data, tmp_path):
    log = tmp_path / "log.txt"
    X, y = data.frame, data.short_term
    fused = RankFusionRegressor([("m", _member(CountingScores(log), _scores(X), Ridge()))], cv=3).fit(X, y)
    _counts(log)
    member = fused.named_estimators_["m"]
    alone = clone(members := fused.estimators[0][1]).fit(X, y).predict(X)
    np.testing.assert_allclose(member.predict(X), alone)
    assert fused.estimators[0][1] is members and isinstance(members[0].transformers[0][1], CountingScores)
    again = pickle.loads(pickle.dumps(fused))
    np.testing.assert_allclose(again.predict(X), fused.predict(X))
    assert clone(fused).get_params(deep=False).keys() == fused.get_params(deep=False).keys()


def test_preset_transforms_each_clip_once_per_fit_and_per_predict(data, tmp_path):
    log = tmp_path / "log.txt"
    X, y = data.frame, data.short_term
    model = memorability_pipeline("caption", {"counted": (CountingScores(log), _scores(X))}, embeddings=False)
    model.fit(X.iloc[:200], y[:200])
    counts = _counts(log)
    assert len(counts) == 200 and set(counts) == {1}
    model.predict(X.iloc[200:])
    counts = _counts(log)
    assert len(counts) == 40 and set(counts) == {1}


def test_ridge_members_give_exact_leave_one_out_predictions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + rng.normal(0, 1.0, 60)
    ridge = RidgeCV(alphas=[0.1, 3.0, 100.0])
    other = make_pipeline(StandardScaler(), Ridge(alpha=2.0))
    fused = RankFusionRegressor([("ridge", ridge), ("other", other)], ridge_loo=True, cv=3).fit(X, y)
    fitted = fused.named_estimators_["ridge"]
    loo = cross_val_predict(Ridge(alpha=fitted.alpha_), X, y, cv=LeaveOneOut())
    np.testing.assert_allclose(fused.oof_predictions_[:, 0], loo, rtol=1e-8, atol=1e-10)
    assert fitted.alpha_ == clone(ridge).fit(X, y).alpha_
    # The member is left as configured; the other member was cross-validated on 3 folds.
    assert fitted.scoring is None and not fitted.store_cv_results and not hasattr(fitted, "cv_results_")
    folds = KFold(3, shuffle=True, random_state=0)
    np.testing.assert_allclose(fused.oof_predictions_[:, 1], cross_val_predict(other, X, y, cv=folds))
    # Without the option, the ridge is cross-validated too.
    plain = clone(fused).set_params(ridge_loo=False).fit(X, y)
    np.testing.assert_allclose(plain.oof_predictions_[:, 0], cross_val_predict(ridge, X, y, cv=folds))


def test_folds_that_are_not_a_partition_are_refused():
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20.0)
    folds = PredefinedSplit([-1] * 5 + [0] * 5 + [1] * 10)  # 5 samples in no test fold
    with pytest.raises(ValueError, match="5 samples are in no test fold"):
        RankFusionRegressor([("a", Ridge()), ("b", Ridge(alpha=3.0))], cv=folds).fit(X, y)


class _RefittedCNN(CNNFeaturizer):
    """The same featurizer declared as needing a fit: every member runs it."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


def test_preset_shares_a_cnn_featurizer_reading_clip_paths(tmp_path):
    paths, y = make_memorability_videos(24, tmp_path / "clips", n_seconds=1, size=(32, 32), fps=4, random_state=0)
    frame = pd.DataFrame({"path": [str(p) for p in paths], "caption": ["a-dog", "a-sky"] * 12})
    params = dict(backbone="resnet18", weights=None, sampler=FrameSampler(n_frames=2, size=32), n_workers=0,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random weights; fewer clips than Nystroem landmarks
        shared = memorability_pipeline("caption", {"cnn": CNNFeaturizer(**params)}, embeddings=False, cv=3)
        shared.fit(frame[:18], y[:18])
        unshared = memorability_pipeline("caption", {"cnn": _RefittedCNN(**params)}, embeddings=False, cv=3)
        unshared.fit(frame[:18], y[:18])
        assert [type(t).__name__ for _, t in shared.shared_steps_.values()] == ["CNNFeaturizer"]
        assert not unshared.shared_steps_
        np.testing.assert_allclose(shared.oof_predictions_, unshared.oof_predictions_, rtol=1e-5)
        np.testing.assert_allclose(shared.predict(frame[18:]), unshared.predict(frame[18:]), rtol=1e-5)
