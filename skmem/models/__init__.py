"""Deep memorability regressors: plain torch modules and their skorch-based estimators."""

from skmem.models.amnet import AMNetRegressor
from skmem.models.lstm import LSTMRegressor
from skmem.models.pairwise import PairwiseRanker

__all__ = ["AMNetRegressor", "LSTMRegressor", "PairwiseRanker"]
