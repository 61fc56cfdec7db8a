"""End to end: generated clips -> frames -> CNN features -> pooling -> Ridge."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_score


def make_pipeline():
    return Pipeline(
        [
            ("frames", FrameSampler(n_frames=4, size=112)),
            ("cnn", CNNFeaturizer("resnet18", weights=None, random_state=0, batch_size=16)),
            ("pool", TemporalPooling("meanstd")),
            ("scale", StandardScaler()),
            ("ridge", RidgeCV(alphas=np.logspace(-2, 4, 13))),
        ]
    )


def test_ridge_pipeline_learns_planted_signal_on_held_out_clips(generated_clips):
    paths, scores, _ = generated_clips
    train, test = slice(0, 40), slice(40, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random weights
        pipeline = make_pipeline().fit(paths[train], scores[train])
        rho = spearman_score(scores[test], pipeline.predict(paths[test]))
        # control: the same model trained on shuffled labels (front stages learn nothing)
        features = pipeline[:3].transform(paths)
    rng = np.random.default_rng(0)
    controls = [
        spearman_score(scores[test], clone(pipeline[3:]).fit(features[train], rng.permutation(scores[train])).predict(features[test]))
        for _ in range(5)
    ]
    assert rho > 0.6
    assert rho > np.mean(controls) + 0.4
