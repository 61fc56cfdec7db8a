"""Memorability models: skorch-based deep regressors, the late-fusion meta-estimator, target wrappers."""

from skmem.models._base import VALID_SCORE
from skmem.models.amnet import AMNetRegressor
from skmem.models.fusion import RankFusionRegressor
from skmem.models.lstm import LSTMRegressor
from skmem.models.pairwise import PairwiseRanker
from skmem.models.targets import AuxiliaryTargetRegressor

__all__ = ["AMNetRegressor", "AuxiliaryTargetRegressor", "LSTMRegressor", "PairwiseRanker", "RankFusionRegressor", "VALID_SCORE"]
