"""Memorability models: skorch-based deep regressors, the late-fusion meta-estimator, target wrappers.

Names are imported on first use, as those of :mod:`skmem` are: the presets
and the command line can name a target wrapper without importing torch.
"""

import importlib

_EXPORTS = {
    "AMNetRegressor": "skmem.models.amnet",
    "AuxiliaryTargetRegressor": "skmem.models.targets",
    "LSTMRegressor": "skmem.models.lstm",
    "PairwiseRanker": "skmem.models.pairwise",
    "RankFusionRegressor": "skmem.models.fusion",
    "VALID_SCORE": "skmem.models._base",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skmem.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
