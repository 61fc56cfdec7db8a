"""
Where AMNet looks: attention over frames and locations
======================================================

:class:`~skmem.AMNetRegressor` reads a clip as a grid of feature vectors,
one per frame and image location (``X`` of shape ``(n, T, L, D)``), and at
each of its steps attends to some cells of that grid before scoring.
:meth:`~skmem.AMNetRegressor.attention_maps` returns the attention weights,
which are drawn here on the frames they look at.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skmem import AMNetRegressor, CNNFeaturizer, FrameSampler, spearman_score
from skmem.datasets import make_memorability_videos

# %%
# Spatial features
# ----------------
# ``layer="layer4"`` keeps ResNet18's last feature map: 7 x 7 locations of
# 512 channels per frame. The network has random weights so that the example
# runs offline; the attention it learns on 60 generated clips is a
# demonstration of the plumbing, not of what AMNet finds on real data.
paths, y = make_memorability_videos(60, tempfile.mkdtemp(), n_seconds=2, size=(64, 64), fps=8, random_state=2)
sampler = FrameSampler(n_frames=4, size=64)
featurizer = CNNFeaturizer("resnet18", weights=None, layer="layer4", random_state=0, sampler=sampler)
X = featurizer.fit_transform(paths)
print("features:", X.shape, "(clips, frames, locations, channels)")

X_train, X_test, y_train, y_test, paths_train, paths_test = train_test_split(
    X, y, paths, test_size=0.25, random_state=0
)
amnet = AMNetRegressor(
    hidden_size=32, head_size=16, n_steps=3, adaptor_dropout=0.2, max_epochs=15, lr=1e-3, batch_size=16,
    random_state=0,
)
amnet.fit(X_train, y_train)
print(f"held-out Spearman rho: {spearman_score(y_test, amnet.predict(X_test)):.3f}")

# %%
# Attention on the frames
# -----------------------
# ``attention_maps`` gives one map per step over the whole grid; each sums to
# 1 over the frames x locations of the clip. Summed over the steps, it shows
# which frames, and which parts of them, fed the prediction. The bar above
# each frame is the share of attention that frame received.
alpha = amnet.attention_maps(X_test[:2], spatial_shape=(7, 7)).sum(axis=1)  # (2, T, 7, 7)
frames = np.asarray(sampler.transform(paths_test[:2]))  # decoded here, once
fig, axes = plt.subplots(2, 4, figsize=(8, 4.4))
for row in range(2):
    share = alpha[row].sum(axis=(1, 2)) / alpha[row].sum()
    for t in range(4):
        ax = axes[row, t]
        ax.imshow(frames[row, t])
        ax.imshow(alpha[row, t], cmap="jet", alpha=0.45, extent=(0, 64, 64, 0), interpolation="bilinear",
                  vmin=0, vmax=alpha[row].max())
        ax.set_title(f"frame {t + 1}: {share[t]:.0%}", fontsize=8)
        ax.axis("off")
    axes[row, 0].text(-8, 32, f"y = {y_test[row]:.2f}", rotation=90, va="center", fontsize=8)
fig.suptitle("AMNet attention (3 steps summed) on two held-out clips")
fig.tight_layout()
