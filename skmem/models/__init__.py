"""Memorability models: skorch-based deep regressors and the late-fusion meta-estimator."""

from skmem.models._base import VALID_SCORE
from skmem.models.amnet import AMNetRegressor
from skmem.models.fusion import RankFusionRegressor
from skmem.models.lstm import LSTMRegressor
from skmem.models.pairwise import PairwiseRanker

__all__ = ["AMNetRegressor", "LSTMRegressor", "PairwiseRanker", "RankFusionRegressor", "VALID_SCORE"]
