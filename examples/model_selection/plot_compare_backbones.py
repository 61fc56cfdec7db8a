"""
Comparing backbones: image, video, timm and CLIP networks
=========================================================

Any network of the :doc:`backbones page </backbones>` is a ``backbone`` of
:class:`~skmem.CNNFeaturizer`: torchvision image classifiers, clip-level
video networks, timm models (``"timm/<model>"``) and CLIP image towers
(``"open_clip/<architecture>"``). Here four of them featurize the same
generated clips, each feeding a ridge regression scored by cross-validated
Spearman's ρ.

All four run with RANDOM weights (``weights=None``) so that the example
needs no download and runs in seconds: their scores say nothing about the
networks, only that each one plugs into the same pipeline. On real clips use
``weights="DEFAULT"`` (or a pretrained tag, or a checkpoint file).
"""

import tempfile
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_scorer
from skmem.datasets import make_memorability_videos

warnings.filterwarnings("ignore", message=".*random weights")

# %%
# Clips and backbones
# -------------------
# 10 generated clips of 2 s at 8 fps. An image network reads 2 frames per
# clip; the video network ``r3d_18`` reads segments of 16 consecutive
# frames (the whole clip here) and gives one vector per segment.
paths, y = make_memorability_videos(10, tempfile.mkdtemp(), n_seconds=2, size=(48, 48), fps=8, random_state=0)
backbones = {
    "mobilenet_v3_small": 2,
    "timm/test_vit": 2,
    "open_clip/ViT-S-32-alt": 2,
    "r3d_18": 16,
}

# %%
# Features and scores
# -------------------
rows = []
for backbone, n_frames in backbones.items():
    sampler = FrameSampler(n_frames=n_frames, strategy="fps", fps=8, size=48)
    featurizer = CNNFeaturizer(backbone, weights=None, random_state=0, sampler=sampler, n_workers=0)
    start = time.perf_counter()
    X = featurizer.fit_transform(paths)
    seconds = time.perf_counter() - start
    model = make_pipeline(TemporalPooling("mean"), StandardScaler(), RidgeCV(alphas=np.logspace(-1, 4, 11)))
    scores = cross_val_score(model, X, y, cv=KFold(3, shuffle=True, random_state=0), scoring=spearman_scorer)
    rows.append((backbone, X.shape, len(paths) / seconds, scores.mean()))
    print(f"{backbone:24s} features {X.shape}  {len(paths) / seconds:5.1f} clips/s  rho {scores.mean():+.2f}")

# %%
# The comparison
# --------------
# Feature size and speed differ by family; with random weights the
# correlations are noise around what the planted scores allow.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
names = [row[0] for row in rows]
left.barh(names, [row[2] for row in rows], color="tab:blue")
left.set_xlabel("clips per second (this machine)")
right.barh(names, [row[3] for row in rows], color="tab:orange")
right.axvline(0, color="black", linewidth=0.8)
right.set_xlabel("cross-validated Spearman's ρ (random weights)")
right.set_yticks([])
fig.suptitle("Four backbones with random weights on generated clips")
fig.tight_layout()
