"""
From clips to a Spearman score
==============================

Generate clips whose memorability is planted (a red disc: larger and longer
on screen is more memorable), extract per-frame CNN features, pool them over
time and cross-validate a ridge regression by Spearman's ρ.
"""

import importlib.util
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_score
from skmem.datasets import make_memorability_videos

folder = tempfile.mkdtemp()
paths, scores = make_memorability_videos(60, folder, n_seconds=2, size=(96, 96), fps=8, random_state=0)

# %%
# A look at the frames the sampler picks from the most and least memorable clip.
sampler = FrameSampler(n_frames=4, size=96)
extremes = sampler.fit_transform(paths[[np.argmax(scores), np.argmin(scores)]])
fig, axes = plt.subplots(2, 4, figsize=(8, 4))
for row, label in enumerate(["most", "least"]):
    for col in range(4):
        axes[row, col].imshow(extremes[row, col])
        axes[row, col].axis("off")
    axes[row, 0].set_title(f"{label} memorable", fontsize=9, loc="left")
fig.tight_layout()

# %%
# Real ImageNet weights come with the optional ``resmem`` package
# (non-commercial licence); without it the network is randomly initialised.
if importlib.util.find_spec("resmem") is not None:
    featurizer = CNNFeaturizer("resmem_resnet152", sampler=sampler, autocast="auto")
else:
    featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0, sampler=sampler)
model = make_pipeline(featurizer, TemporalPooling("meanstd"), StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    predicted = cross_val_predict(model, paths, scores, cv=KFold(5, shuffle=True, random_state=0))
rho = spearman_score(scores, predicted)
print(f"out-of-fold Spearman rho: {rho:.3f}")

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(scores, predicted, s=12)
ax.set_xlabel("planted memorability")
ax.set_ylabel("predicted (out of fold)")
ax.set_title(f"rho = {rho:.3f}")
fig.tight_layout()
