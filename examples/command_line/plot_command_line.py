"""
The command line: extract, cv, tune, fit, predict
=================================================

The ``skmem`` command runs the library's estimators on folders of clips
without writing Python: ``extract`` caches CNN features (one ``.npy`` per
clip, resumable), ``cv`` compares models, ``tune`` runs a persistent Optuna
study, ``fit`` trains and saves one model and ``predict`` writes a MediaEval
run file. In a shell each step is ``skmem <command> ...``; here the same
arguments go to :func:`skmem.cli.main`, which returns the exit status.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from skmem import spearman_score
from skmem.cli import main
from skmem.datasets import make_memorability_videos

work = tempfile.mkdtemp()
clips, new_clips = os.path.join(work, "clips"), os.path.join(work, "new-clips")
make_memorability_videos(40, clips, n_seconds=2, size=(64, 64), fps=8, random_state=0)
_, new_scores = make_memorability_videos(12, new_clips, n_seconds=2, size=(64, 64), fps=8, random_state=1)
features, labels = os.path.join(work, "features"), os.path.join(clips, "ground-truth.csv")


def skmem(*args):
    print("$ skmem", " ".join(a.replace(work, "$WORK") for a in args))
    status = main(list(args))
    if status != 0:
        raise RuntimeError(f"skmem {args[0]} exited with status {status}")


# %%
# Extract features once
# ---------------------
# ResNet18 with random weights keeps the example offline and fast; on real
# clips use ``--weights DEFAULT`` or ``--backbone resmem_resnet152``. A rerun
# only computes clips that are missing from the folder.
skmem("extract", clips, "--out", features, "--backbone", "resnet18", "--weights", "none", "--frames", "4",
      "--jobs", "0")

# %%
# Compare models on shuffled, seeded folds
# ----------------------------------------
skmem("cv", "--features", features, "--labels", labels, "--target", "short", "--models", "ridge,svr",
      "--folds", "5", "--csv", os.path.join(work, "cv.csv"))

# %%
# Tune, then fit the chosen model
# -------------------------------
# The study lives in a SQLite file: the same command resumes it. ``--plot``
# draws its history, ``--out`` saves the refitted best model.
skmem("tune", "--features", features, "--labels", labels, "--target", "short", "--model", "svr", "--trials", "10",
      "--storage", os.path.join(work, "study.db"), "--plot", os.path.join(work, "history.png"),
      "--out", os.path.join(work, "svr.skops"))
skmem("fit", "--features", features, "--labels", labels, "--target", "short", "--model", "ridge",
      "--out", os.path.join(work, "ridge.skops"))

# %%
# Predict new clips
# -----------------
# Given clips rather than a feature folder, ``predict`` extracts their
# features with the settings the model was trained on, then writes one
# ``video,score`` line per clip: a MediaEval run file.
run = os.path.join(work, "run.csv")
skmem("predict", os.path.join(work, "svr.skops"), new_clips, "--out", run, "--jobs", "0")
predicted = pd.read_csv(run, header=None, names=["video", "score"])
truth = pd.read_csv(os.path.join(new_clips, "ground-truth.csv")).set_index("video")
rho = spearman_score(truth.loc[predicted["video"], "short-term_memorability"], predicted["score"])
print(predicted.head(3).to_string(index=False))
print(f"Spearman rho of the run on the 12 new clips: {rho:.3f}")

# %%
# The study's history as ``tune --plot`` drew it, and the run file against
# the planted scores of the new clips.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [3, 2]})
left.imshow(plt.imread(os.path.join(work, "history.png")))
left.axis("off")
right.scatter(truth.loc[predicted["video"], "short-term_memorability"], predicted["score"])
right.set_xlabel("planted memorability")
right.set_ylabel("run file score")
right.set_title(f"new clips, ρ = {rho:.2f}")
fig.tight_layout()
