"""
Captions for clips that have none: tags from a classification network
======================================================================

Captions are the strongest single memorability signal on the MediaEval data,
but most clips come without text. :class:`~skmem.text.TagCaptioner` writes
one: the labels a classification network finds most probable, averaged over
a clip's frames, joined into a caption that the caption vectorizers and
embedders read like any other. Here the network is the ImageNet ResNet152
shipped by the optional ``resmem`` package (non-commercial licence), which
runs offline.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from skimage import data, transform
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, TemporalPooling, spearman_score
from skmem.datasets import make_memorability_videos
from skmem.text import CaptionVectorizer, TagCaptioner

# %%
# Photographs
# -----------
# Four images shipped with scikit-image, resized to one shape so that they
# stack into one ``(n, H, W, 3)`` array.
photos = np.stack(
    [
        (transform.resize(image, (256, 256), anti_aliasing=True) * 255).astype(np.uint8)
        for image in (data.chelsea(), data.coffee(), data.astronaut(), data.rocket())
    ]
)
# The captioner reads the class scores (``layer="logits"``) of a
# :class:`~skmem.CNNFeaturizer`, which says which network runs and how.
photo_tags = TagCaptioner(CNNFeaturizer("resmem_resnet152", layer="logits"), top_k=3).fit_transform(photos)
for caption in photo_tags:
    print("photo:", caption)

# %%
# Generated clips
# ---------------
# With a ``sampler`` the featurizer, and so the captioner, takes clip paths.
# Its ``cache_dir`` keeps each clip's class scores, so a clip goes through the
# network once, however many fits and folds read it afterwards.
paths, y = make_memorability_videos(24, tempfile.mkdtemp(), n_seconds=2, size=(96, 96), fps=8, random_state=0)
sampler = FrameSampler(n_frames=2, size=96)
network = CNNFeaturizer("resmem_resnet152", layer="logits", sampler=sampler, cache_dir=tempfile.mkdtemp(), n_workers=0)
tagger = TagCaptioner(network, top_k=5).fit()
clip_tags = tagger.transform(paths)
for path, caption in zip(paths[:4], clip_tags):
    print(f"{path.rsplit('/', 1)[-1]}: {caption}")

fig, axes = plt.subplots(2, 4, figsize=(11, 5.5))
for ax, image, caption in zip(axes[0], photos, photo_tags):
    ax.imshow(image)
    ax.set_title(caption.replace(", ", "\n"), fontsize=8)
first_frames = sampler.transform(paths[:4])[:, 0]
for ax, image, caption in zip(axes[1], first_frames, clip_tags):
    ax.imshow(image)
    ax.set_title("\n".join(caption.split(", ")[:3]), fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()

# %%
# Learning from the tags
# ----------------------
# A pipeline from clip paths to a score: tags, TF-IDF of their words, ridge
# regression. The same class scores as numbers (the cached logits, pooled
# over frames) make a second model to compare with. The planted memorability
# of these clips grows with the size of a red disc and its time on screen;
# the tags see it only as far as ImageNet labels change with it.
folds = KFold(4, shuffle=True, random_state=0)
words = make_pipeline(tagger, CaptionVectorizer(min_df=1), RidgeCV(alphas=np.logspace(-2, 3, 11)))
rho_words = spearman_score(y, cross_val_predict(words, paths, y, cv=folds))
logits = tagger.featurizer_.transform(paths)  # read back from the cache
numbers = make_pipeline(TemporalPooling("mean"), StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))
rho_numbers = spearman_score(y, cross_val_predict(numbers, logits, y, cv=folds))
print(f"tag captions -> TF-IDF -> ridge: out-of-fold rho = {rho_words:.3f}")
print(f"class scores -> ridge:           out-of-fold rho = {rho_numbers:.3f}")

# %%
# On 24 generated clips both numbers are rough. Words keep only the top
# labels of each clip, so they carry less than the full class scores; their
# value is elsewhere: they join the captions of the clips that have some, and
# a caption model trained on human captions can read them.
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(["tag words", "class scores"], [rho_words, rho_numbers], color=["C0", "C2"])
ax.set_ylabel("out-of-fold Spearman ρ")
fig.tight_layout()
