"""
An Optuna study that persists, prunes and resumes
=================================================

:func:`skmem.tuning.tune` searches hyper-parameters with Optuna and scores
each trial by Spearman's ρ over the pooled out-of-fold predictions. The
study lives in a SQLite file: stop it, rerun the same call, and it resumes
with what is missing. A median pruner stops trials whose first folds score
below the median of earlier trials at the same point. For those who prefer
the scikit-learn interface, optuna-integration's ``OptunaSearchCV`` takes the
same search space.
"""

import os
import tempfile
import warnings

import optuna
from optuna_integration import OptunaSearchCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skmem import spearman_scorer
from skmem.datasets import make_multimodal_memorability
from skmem.pipelines import score_scaler
from skmem.tuning import plot_history, plot_importances, search_space, study_summary, tune

# %%
# Data and model
# --------------
# 400 generated clips described by 80 object-detector scores (see
# :func:`~skmem.datasets.make_multimodal_memorability`), and an RBF
# SVR on a standardised target. :func:`~skmem.tuning.search_space` knows the
# SVR and scales its ranges to the data, however deep the SVR is nested.
data = make_multimodal_memorability(400, random_state=0)
X, y = data.objects, data.short_term
model = make_pipeline(score_scaler(), TransformedTargetRegressor(SVR(), transformer=StandardScaler()))
space = search_space(model, X=X, y=y)
for name, distribution in space.items():
    print(f"{name}: {distribution}")

# %%
# A study in a SQLite file
# ------------------------
# The first run asks for 12 finished trials. Rerunning the call with the same
# storage and study name resumes the study: asking for 20 runs only the 8
# missing trials (after a crash, the same rerun replaces trials that died).
storage = os.path.join(tempfile.mkdtemp(), "study.db")
best, study = tune(model, X, y, n_trials=12, cv=5, storage=storage, study_name="svr", random_state=0)
print("after the first run:", len(study.trials), "trials")
best, study = tune(model, X, y, n_trials=20, cv=5, storage=storage, study_name="svr", random_state=0)
summary = study_summary(study)
print(
    f"after resuming: {summary['n_trials']} trials, {summary['complete']} complete, {summary['pruned']} pruned; "
    f"best rho = {summary['best_value']:.3f} (trial {summary['best_trial']})"
)
print("best parameters:", summary["best_params"])

# %%
# The history shows each trial's pooled out-of-fold ρ and the best so far;
# pruned trials stopped after a fold or two and have no final score. The
# importances (fANOVA over the completed trials) say which parameter moved
# the score most. ``best`` is the pipeline with the best parameters, refitted
# on all the data.
for plot, size in ((plot_history, (6, 3.5)), (plot_importances, (9, 3))):
    ax = plot(study)
    ax.figure.set_size_inches(*size)
    ax.figure.tight_layout()

# %%
# The scikit-learn interface
# --------------------------
# ``OptunaSearchCV`` takes the same distributions and any scikit-learn
# scorer. It averages the fold scores (``tune`` pools the out-of-fold
# predictions first, the MediaEval way), so its best score differs slightly.
# It logs every trial and warns that it is experimental; both are silenced
# here.
optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
search = OptunaSearchCV(
    model,
    space,
    cv=KFold(5, shuffle=True, random_state=0),
    scoring=spearman_scorer,
    n_trials=10,
    random_state=0,
    verbose=0,
)
search.fit(X, y)
print(f"OptunaSearchCV: best mean fold rho = {search.best_score_:.3f}")
