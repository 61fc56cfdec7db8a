"""
From clips to a Spearman score
==============================

The shortest path through skmem: a list of clip paths and their memorability
scores go into a scikit-learn :class:`~sklearn.pipeline.Pipeline` that decodes
frames, turns them into CNN features, pools them over time and fits a ridge
regression. ``predict`` on clips the model has never seen gives scores whose
rank correlation with the truth (Spearman's ρ, the metric of the MediaEval
memorability tasks) says how well the model orders them.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_score
from skmem.datasets import make_memorability_videos

# %%
# Clips with a planted memorability
# ---------------------------------
# :func:`~skmem.datasets.make_memorability_videos` writes real encoded clips:
# a red disc crosses a textured background, and a clip is more memorable the
# larger the disc and the longer it stays on screen. A ground-truth CSV in the
# MediaEval format is written beside them.
folder = tempfile.mkdtemp()
paths, scores = make_memorability_videos(60, folder, n_seconds=2, size=(64, 64), fps=8, random_state=0)
paths_train, paths_test, y_train, y_test = train_test_split(paths, scores, test_size=0.3, random_state=0)
print(f"{len(paths_train)} training clips, {len(paths_test)} test clips")

# %%
# The frames the sampler picks from the most and the least memorable clip
# (``transform`` decodes nothing yet; ``np.asarray`` decodes the two clips):
sampler = FrameSampler(n_frames=4, size=64)
extremes = np.asarray(sampler.fit_transform(paths[[np.argmax(scores), np.argmin(scores)]]))
fig, axes = plt.subplots(2, 4, figsize=(8, 4))
for row, label in enumerate(["most", "least"]):
    for col in range(4):
        axes[row, col].imshow(extremes[row, col])
        axes[row, col].axis("off")
    axes[row, 0].set_title(f"{label} memorable", fontsize=9, loc="left")
fig.tight_layout()

# %%
# The pipeline
# ------------
# Every step is an estimator. The network here has random weights
# (``weights=None``) so that the example runs offline in seconds; its
# features still respond to colour and area, which is all the planted signal
# is made of. On real clips use ``weights="DEFAULT"`` (ImageNet, downloaded
# once) or ``"resmem_resnet152"`` (shipped by the ``resmem`` extra).
model = Pipeline(
    [
        ("frames", sampler),
        ("cnn", CNNFeaturizer("resnet18", weights=None, random_state=0)),
        ("pool", TemporalPooling("meanstd")),
        ("scale", StandardScaler()),
        ("ridge", RidgeCV(alphas=np.logspace(-1, 4, 11))),
    ]
)
model.fit(paths_train, y_train)
predicted = model.predict(paths_test)
rho = spearman_score(y_test, predicted)
print(f"Spearman rho on the held-out clips: {rho:.3f}")
print(f"ridge penalty chosen by leave-one-out: {model['ridge'].alpha_:g}")

# %%
# The model orders clips it has never seen close to the planted order. On
# real data the same pipeline with ImageNet weights is a strong baseline;
# published short-term results on MediaEval 2018 are around 0.5.
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(y_test, predicted, s=14)
ax.set_xlabel("planted memorability")
ax.set_ylabel("predicted")
ax.set_title(f"held-out clips, Spearman ρ = {rho:.3f}")
fig.tight_layout()
