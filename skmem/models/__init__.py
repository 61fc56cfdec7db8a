"""Memorability models: skorch-based deep regressors, the late-fusion meta-estimator, target wrappers.

Names are imported on first use, as those of :mod:`skmem` are: the presets
and the command line can name a target wrapper without importing torch.
"""

from skmem._lazy import lazy_exports

_EXPORTS = {
    "AMNetRegressor": "skmem.models.amnet",
    "AuxiliaryTargetRegressor": "skmem.models.targets",
    "LSTMRegressor": "skmem.models.lstm",
    "PairwiseRanker": "skmem.models.pairwise",
    "RankFusionRegressor": "skmem.models.fusion",
    "VALID_SCORE": "skmem.models._base",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
