"""
Image memorability, LaMem style, with ResMem as a baseline
==========================================================

LaMem, the large image-memorability dataset, ships a folder of images and
split files of ``<image> <score>`` lines. skmem reads it with
:func:`~skmem.datasets.load_lamem`, and a still image goes through the video
pipeline as a one-frame clip (``FrameSampler(n_frames=1)``).

The optional ``resmem`` package (non-commercial licence) ships ResMem, a
network trained on LaMem and MemCat to predict image memorability, and the
ImageNet ResNet152 it is built on. Both run offline through
:class:`~skmem.CNNFeaturizer`: ``"resmem_resnet152"`` gives features for a
model of our own, ``"resmem"`` gives ResMem's own score, the baseline to beat
on real photographs.
"""

import importlib.util
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from skimage import data, io, transform
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_score
from skmem.datasets import load_lamem

# %%
# A LaMem-style folder
# --------------------
# 32 photographs cut from images shipped with scikit-image, each with a red
# disc painted on it. The planted score grows with the disc's size (plus a
# little noise): a stand-in for memorability that a model can learn from 24
# images. The folder follows LaMem's layout: ``images/<8 digits>.jpg`` and
# ``splits/{train,test}_1.txt``.
rng = np.random.default_rng(0)
sources = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(), data.hubble_deep_field()]
root = os.path.join(tempfile.mkdtemp(), "lamem")
os.makedirs(os.path.join(root, "images"))
os.makedirs(os.path.join(root, "splits"))
lines = []
yy, xx = np.mgrid[0:128, 0:128]
for i in range(32):
    source = sources[i % len(sources)]
    top, left = rng.integers(0, source.shape[0] - 256), rng.integers(0, source.shape[1] - 256)
    image = transform.resize(source[top : top + 256, left : left + 256], (128, 128), anti_aliasing=True)
    size = rng.uniform()
    radius, (cy, cx) = 8 + 36 * size, rng.uniform(40, 88, size=2)
    image[(yy - cy) ** 2 + (xx - cx) ** 2 < radius**2] = (0.85, 0.1, 0.1)
    name = f"{i + 1:08d}.jpg"
    io.imsave(os.path.join(root, "images", name), (image * 255).astype(np.uint8))
    lines.append(f"{name} {0.55 + 0.3 * size + rng.normal(0, 0.03):.4f}")
for subset, part in (("train", lines[:24]), ("test", lines[24:])):
    with open(os.path.join(root, "splits", f"{subset}_1.txt"), "w") as fh:
        fh.write("\n".join(part) + "\n")

train, test = load_lamem(root, split=1, subset="train"), load_lamem(root, split=1, subset="test")
print(f"{len(train.paths)} training images, {len(test.paths)} test images")

# %%
# A model of our own, and ResMem's score
# --------------------------------------
# Scores of LaMem are only comparable within one split: the loader reads one
# split at a time and never pools them.
# Without the ``resmem`` package, a randomly initialised ResNet18 stands in
# and there is no ResMem baseline.
have_resmem = importlib.util.find_spec("resmem") is not None
if have_resmem:
    featurizer = CNNFeaturizer("resmem_resnet152")
else:
    featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0)
model = make_pipeline(
    FrameSampler(n_frames=1),
    featurizer,
    TemporalPooling("mean"),
    StandardScaler(),
    RidgeCV(alphas=np.logspace(0, 5, 11)),
)
model.fit(train.paths, train.scores)
predicted = model.predict(test.paths)
rho_model = spearman_score(test.scores, predicted)
print(f"ridge on {featurizer.backbone} features: rho = {rho_model:.3f}")
if have_resmem:
    resmem = CNNFeaturizer("resmem", sampler=FrameSampler(n_frames=1)).fit()
    baseline = resmem.transform(test.paths).ravel()  # one score per image
    rho_resmem = spearman_score(test.scores, baseline)
    print(f"ResMem's own score: rho = {rho_resmem:.3f}")

# %%
# The ridge model learns the planted rule from 24 images. ResMem was trained
# to predict how well people remember real photographs, and the planted score
# is not that, so its ρ here says nothing about ResMem; on real LaMem images
# it reaches about 0.64, near human consistency (0.68). With real data,
# compare your model against that baseline.
fig = plt.figure(figsize=(10, 3.6))
for k in range(6):
    ax = fig.add_subplot(2, 6, k + 1 + 3 * (k // 3))
    ax.imshow(io.imread(test.paths[k]))
    ax.set_title(f"{test.scores[k]:.2f}", fontsize=8)
    ax.axis("off")
ax = fig.add_subplot(1, 2, 2)
ax.scatter(test.scores, predicted, label=f"ridge, ρ = {rho_model:.2f}")
if have_resmem:
    ax.scatter(test.scores, baseline, marker="x", label=f"ResMem score, ρ = {rho_resmem:.2f}")
ax.set_xlabel("planted memorability (test images)")
ax.set_ylabel("prediction")
ax.legend(fontsize=8)
fig.tight_layout()
