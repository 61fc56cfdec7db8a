"""
The same search on a Dask cluster
=================================

scikit-learn and skmem parallelise through joblib, so a search written for
one machine runs on a cluster by changing the joblib backend: no change to
the estimator or the search. Here a :class:`dask.distributed.LocalCluster`
stands in for a real cluster; on one, pass its scheduler address to
:class:`~dask.distributed.Client` instead (and give each GPU worker its own
``CUDA_VISIBLE_DEVICES``).
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from joblib import parallel_config
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skmem import spearman_scorer
from skmem.datasets import make_multimodal_memorability
from skmem.pipelines import score_scaler
from skmem.tuning import study_summary, tune

data = make_multimodal_memorability(400, random_state=0)
X, y = data.objects, data.short_term
model = make_pipeline(score_scaler(), TransformedTargetRegressor(SVR(), transformer=StandardScaler()))
grid = {
    "transformedtargetregressor__regressor__C": [0.1, 1.0, 10.0],
    "transformedtargetregressor__regressor__gamma": [0.003, 0.03, 0.3],
}
folds = KFold(5, shuffle=True, random_state=0)

# %%
# On this machine, then on the cluster
# ------------------------------------
# The cluster runs two workers (threads of this process here, so that the
# example needs no separate processes; ``LocalCluster(processes=True)`` or a
# remote scheduler change nothing below).
local = GridSearchCV(model, grid, cv=folds, scoring=spearman_scorer).fit(X, y)

with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
    with Client(cluster) as client:
        with parallel_config(backend="dask"):
            remote = GridSearchCV(model, grid, cv=folds, scoring=spearman_scorer, n_jobs=-1).fit(X, y)
            # An Optuna study with two workers on the cluster, sharing one journal file.
            storage = os.path.join(tempfile.mkdtemp(), "study.log")
            best, study = tune(model, X, y, n_trials=12, cv=folds, storage=storage, n_jobs=2, random_state=0)
        workers = len(client.scheduler_info()["workers"])

difference = np.abs(local.cv_results_["mean_test_score"] - remote.cv_results_["mean_test_score"]).max()
print(f"{workers} workers; grid search best rho = {remote.best_score_:.3f} with {remote.best_params_}")
print(f"largest difference between the local and the cluster scores: {difference:.1e}")
summary = study_summary(study)
print(f"study on the cluster: {summary['complete']} complete trials, best rho = {summary['best_value']:.3f}")

# %%
# The cluster computes exactly what the local run computes: the same folds,
# the same fits, the same scores, only elsewhere.
scores = remote.cv_results_["mean_test_score"].reshape(3, 3)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
image = left.imshow(scores, cmap="viridis")
left.set_xticks(range(3), grid["transformedtargetregressor__regressor__gamma"])
left.set_yticks(range(3), grid["transformedtargetregressor__regressor__C"])
left.set_xlabel("gamma")
left.set_ylabel("C")
left.set_title("SVR grid on the cluster: mean ρ")
fig.colorbar(image, ax=left)
right.scatter(local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"])
right.plot([scores.min(), scores.max()], [scores.min(), scores.max()], color="grey", lw=0.8)
right.set_xlabel("local mean ρ")
right.set_ylabel("cluster mean ρ")
fig.tight_layout()
