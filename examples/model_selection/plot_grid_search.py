"""
Grid search over a deep model, next to a ridge grid
===================================================

skmem's deep regressors are skorch networks behind a scikit-learn
interface that declares every setting as a constructor parameter, so
:class:`~sklearn.model_selection.GridSearchCV` searches them like any
scikit-learn parameter. Here a :class:`~skmem.PairwiseRanker`'s hidden
layer and learning rate are searched on the same folds as a ridge
regression's penalty, and both grids are drawn side by side. Settings of the
underlying :class:`skorch.NeuralNetRegressor` that have no parameter of
their own go in the ``net_params`` dict, which the grid can also search.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import CNNFeaturizer, FrameSampler, PairwiseRanker, TemporalPooling, spearman_scorer
from skmem.datasets import make_memorability_videos

paths, y = make_memorability_videos(60, tempfile.mkdtemp(), n_seconds=2, size=(64, 64), fps=8, random_state=1)
featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0, sampler=FrameSampler(n_frames=4, size=64))
X = featurizer.fit_transform(paths)  # (60, 4, 512): one feature vector per frame

# %%
# One set of folds for both searches, so their scores compare clip for clip.
folds = KFold(3, shuffle=True, random_state=0)

# The ranker trains a fixed 15 epochs (``valid_size=None``): with 40 training
# clips per fold, a validation split would be too small to pick an epoch.
ranker_search = GridSearchCV(
    PairwiseRanker(dropout=0.3, max_epochs=15, batch_size=16, valid_size=None, random_state=0),
    {"hidden_sizes": [(16,), (64,)], "lr": [1e-3, 1e-2]},
    cv=folds,
    scoring=spearman_scorer,
)
ranker_search.fit(X, y)

ridge_search = GridSearchCV(
    make_pipeline(TemporalPooling("mean"), StandardScaler(), Ridge()),
    {"ridge__alpha": np.logspace(-1, 4, 6)},
    cv=folds,
    scoring=spearman_scorer,
)
ridge_search.fit(X, y)

print("ranker best:", ranker_search.best_params_, f"rho = {ranker_search.best_score_:.3f}")
print("ridge best:", ridge_search.best_params_, f"rho = {ridge_search.best_score_:.3f}")

# %%
# The ranker's grid as a table of mean fold scores, and the ridge curve. The
# refitted ``best_estimator_`` of each search is an ordinary fitted model.
# With 60 generated clips and 3 folds the scores are rough: they say which
# settings matter on this data, not which model is best in general.
grid = (
    np.asarray(ranker_search.cv_results_["mean_test_score"])
    .reshape(2, 2)  # parameters vary in sorted-name order: hidden_sizes, then lr
)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
image = left.imshow(grid, cmap="viridis")
left.set_xticks([0, 1], ["lr 1e-3", "lr 1e-2"])
left.set_yticks([0, 1], ["hidden 16", "hidden 64"])
for (i, j), value in np.ndenumerate(grid):
    left.text(j, i, f"{value:.2f}", ha="center", va="center", color="w")
left.set_title("PairwiseRanker: mean Spearman ρ")
fig.colorbar(image, ax=left)
right.semilogx(ridge_search.param_grid["ridge__alpha"], ridge_search.cv_results_["mean_test_score"], "o-")
right.axhline(ranker_search.best_score_, color="C1", ls="--", label="best ranker")
right.set_xlabel("ridge alpha")
right.set_ylabel("mean Spearman ρ")
right.set_title("Ridge on pooled frames")
right.legend()
fig.tight_layout()
