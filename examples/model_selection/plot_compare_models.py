"""
Comparing models by cross-validated Spearman's ρ
================================================

Extract frame features once, then score five families of models on the same
shuffled folds with :func:`~sklearn.model_selection.cross_val_score` and
:data:`~skmem.spearman_scorer`: a ridge regression and an SVR on pooled
features, the LSTM of the MediaEval 2018 systems, AMNet's attention over
frames, and a pairwise ranker. Every skmem model is a scikit-learn estimator,
so the same call scores them all.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skmem import (
    AMNetRegressor,
    CNNFeaturizer,
    FrameSampler,
    LSTMRegressor,
    PairwiseRanker,
    TemporalPooling,
    spearman_scorer,
)
from skmem.datasets import make_memorability_videos

# %%
# Features, computed once
# -----------------------
# 60 generated clips (a red disc: larger and longer on screen is more
# memorable), 4 frames each, through a ResNet18 with random weights (offline
# and fast; on real clips use pretrained weights). ``X`` holds one 512-d
# vector per frame: shape ``(n_clips, 4, 512)``.
paths, y = make_memorability_videos(60, tempfile.mkdtemp(), n_seconds=2, size=(64, 64), fps=8, random_state=0)
featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0, sampler=FrameSampler(n_frames=4, size=64))
X = featurizer.fit_transform(paths)
print("features:", X.shape)

# %%
# Five models
# -----------
# The pooled models average the frames; the deep ones read the sequence.
# Their sizes are tiny so that the example runs in seconds; the defaults are
# those of the published systems (LSTM 1024, AMNet 1024, ...). With 48
# training clips per fold, a validation split to pick the best epoch would
# hold 5 clips, too few to judge by: the deep models train a fixed 10 epochs
# (``valid_size=None``). The SVR fits a standardised target: memorability
# scores vary by about 0.1, less than SVR's default ``epsilon``.
deep = dict(max_epochs=10, lr=1e-3, batch_size=16, valid_size=None, random_state=0)
models = {
    "Ridge": make_pipeline(TemporalPooling("mean"), StandardScaler(), RidgeCV(alphas=np.logspace(-1, 4, 11))),
    "SVR": make_pipeline(
        TemporalPooling("mean"), StandardScaler(), TransformedTargetRegressor(SVR(C=3.0), transformer=StandardScaler())
    ),
    "LSTM": LSTMRegressor(hidden_size=32, **deep),
    "AMNet": AMNetRegressor(hidden_size=32, head_size=16, adaptor_dropout=0.2, **deep),
    "PairwiseRanker": PairwiseRanker(hidden_sizes=(32,), dropout=0.3, **deep),
}

folds = KFold(5, shuffle=True, random_state=0)
scores = {}
for name, model in models.items():
    scores[name] = cross_val_score(model, X, y, cv=folds, scoring=spearman_scorer)
    print(f"{name:>15}: rho = {scores[name].mean():.3f} ± {scores[name].std():.3f}")

# %%
# Each box holds the five fold scores of one model. With 12 test clips per
# fold the spread is wide, and differences smaller than the boxes mean
# little: 60 generated clips rank these models only roughly, and the deep
# ones, made for thousands of clips, are far from their element. Compare on
# your own data, with more clips and the same folds, before choosing.
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.boxplot(list(scores.values()), tick_labels=list(scores))
ax.axhline(0, color="grey", lw=0.8)
ax.set_ylabel("Spearman ρ per test fold")
ax.set_title("5-fold cross-validation on 60 generated clips")
fig.tight_layout()
