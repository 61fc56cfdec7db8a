"""
MediaEval 2018 descriptor files, captions and rank fusion
=========================================================

The MediaEval 2018 memorability data ship a ground-truth CSV, a captions file
and precomputed descriptors, one text file per clip (or per key frame). This
example writes a small folder in exactly that layout, loads it with
:func:`~skmem.datasets.load_mediaeval2018`, reads the descriptors with
:class:`~skmem.PrecomputedFeatureLoader` and the captions with
:class:`~skmem.text.CaptionVectorizer`, each modality in its own model, and
fuses the models with :class:`~skmem.RankFusionRegressor`::

    dev-set/
      ground-truth/ground-truth_dev-set.csv
      dev-set_video-captions.txt
      features/C3D/video<N>.txt            101 class probabilities
      features/HMP/video<N>.txt            sparse bin:value pairs (6,075 bins)
      features/LBP/video<N>-<k>.txt        one histogram per key frame k = 0, 56, 112
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skmem import PrecomputedFeatureLoader, RankFusionRegressor, spearman_score
from skmem.datasets import load_mediaeval2018, make_multimodal_memorability, write_mediaeval_layout
from skmem.pipelines import score_scaler
from skmem.text import CaptionVectorizer

# %%
# Writing the folder
# ------------------
# :func:`~skmem.datasets.make_multimodal_memorability` generates clips
# described by stock-footage caption slugs whose words carry a planted
# memorability, and :func:`~skmem.datasets.write_mediaeval_layout` writes them
# in the official layout and formats (byte-order mark, CRLF line ends, no
# final newline, as real copies have). Its descriptors are drawn from each
# clip's planted topics, so they carry a weak signal, as the real low-level
# descriptors do (ρ 0.1 to 0.33 in 2018).
source = make_multimodal_memorability(240, random_state=0)
dev = write_mediaeval_layout(source, tempfile.mkdtemp(), random_state=0)
for name in (
    "ground-truth/ground-truth_dev-set.csv",
    "dev-set_video-captions.txt",
    "features/C3D/video1.txt",
    "features/HMP/video1.txt",
    "features/LBP/video1-56.txt",
):
    with open(os.path.join(dev, name), encoding="utf-8-sig") as fh:
        lines = fh.read().splitlines()
    print(f"{name} ({len(lines)} lines): {lines[0][:60]}...")

# %%
# Loading
# -------
# One call reads the ground truth and the captions into a DataFrame, one row
# per clip (the clips themselves are not needed here: it warns that they are
# absent and goes on).
data = load_mediaeval2018(os.path.dirname(dev))
frame = data.frame
print(frame[["video", "caption", "short_term", "long_term"]].head(3).to_string())

# %%
# One model per modality, fused by rank
# -------------------------------------
# Each member routes one column through a ``ColumnTransformer``: the clip ids
# to a descriptor loader, or the captions to TF-IDF. The loaders read the files
# of whatever clips they are given, so the same fitted model scores new clips
# from their ids.
features = os.path.join(dev, "features")


def member(name, transformer, column):
    """Ridge regression on one column; descriptors are scaled with :func:`~skmem.pipelines.score_scaler`."""
    steps = [("features", ColumnTransformer([(name, transformer, column)]))]
    if column == "video":
        steps.append(("scale", score_scaler()))
    return Pipeline(steps + [("ridge", RidgeCV(np.logspace(-2, 3, 11)))])


fusion = RankFusionRegressor(
    [
        ("captions", member("words", CaptionVectorizer(), "caption")),
        ("C3D", member("c3d", PrecomputedFeatureLoader("C3D", features), "video")),
        ("HMP", member("hmp", PrecomputedFeatureLoader("HMP", features), "video")),
        ("LBP", member("lbp", PrecomputedFeatureLoader("LBP", features), "video")),
    ],
    cv=5,
)
train, test = train_test_split(frame, test_size=0.25, random_state=0)
fusion.fit(train, train["short_term"])
rho = spearman_score(test["short_term"], fusion.predict(test))
names = [name for name, _ in fusion.estimators]
for name, weight, score in zip(names, fusion.weights_, fusion.member_scores_):
    print(f"{name:>9}: out-of-fold rho = {score:.3f}, fusion weight = {weight:.2f}")
print(f"fused: out-of-fold rho = {fusion.oof_score_:.3f}, held-out rho = {rho:.3f}")

# %%
# The weights maximise the out-of-fold Spearman's ρ of the fused ranks, so a
# modality earns weight only for what it adds to the others: a descriptor
# that knows only what the captions already say gets little or none, whatever
# its own ρ. The numbers come from 180 generated training clips: they show
# the mechanics, not what each descriptor is worth on the real data.
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.bar(names, fusion.member_scores_)
left.axhline(fusion.oof_score_, color="C3", ls="--", label="fused")
left.set_ylabel("out-of-fold Spearman ρ")
left.legend()
right.bar(names, fusion.weights_, color="C2")
right.set_ylabel("fusion weight")
fig.tight_layout()
