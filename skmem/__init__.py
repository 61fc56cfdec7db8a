"""skmem: predict how memorable a video or an image is, with scikit-learn estimators."""

from skmem.features.cnn import CNNFeaturizer
from skmem.features.pooling import TemporalPooling
from skmem.metrics import pearson_score, pearson_scorer, rank, spearman_score, spearman_scorer
from skmem.video import FrameSampler

# Further public names are imported below, one line per module.
from skmem.models import AMNetRegressor, LSTMRegressor, PairwiseRanker
from skmem.features.precomputed import PrecomputedFeatureLoader
from skmem.fusion import RankFusionRegressor

__version__ = "0.1.0"

__all__ = [
    "AMNetRegressor",
    "LSTMRegressor",
    "PairwiseRanker",
    "PrecomputedFeatureLoader",
    "RankFusionRegressor",
    "CNNFeaturizer",
    "FrameSampler",
    "TemporalPooling",
    "pearson_score",
    "pearson_scorer",
    "rank",
    "spearman_score",
    "spearman_scorer",
]
