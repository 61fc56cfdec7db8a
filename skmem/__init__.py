"""skmem: predict how memorable a video or an image is, with scikit-learn estimators.

Public names are imported on first use, so that ``import skmem`` (and the
``skmem`` command's ``--help``) does not pay for importing torch.
"""

from skmem._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "FrameSampler": "skmem.video",
    "CNNFeaturizer": "skmem.features.cnn",
    "TemporalPooling": "skmem.features.pooling",
    "PrecomputedFeatureLoader": "skmem.features.precomputed",
    "LSTMRegressor": "skmem.models",
    "AMNetRegressor": "skmem.models",
    "PairwiseRanker": "skmem.models",
    "AuxiliaryTargetRegressor": "skmem.models",
    "RankFusionRegressor": "skmem.models.fusion",
    "TunedRegressor": "skmem.tuning",
    "memorability_pipeline": "skmem.pipelines",
    "rank": "skmem.metrics",
    "spearman_score": "skmem.metrics",
    "pearson_score": "skmem.metrics",
    "mse_score": "skmem.metrics",
    "spearman_scorer": "skmem.metrics",
    "pearson_scorer": "skmem.metrics",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
