"""Wall time of a 20-trial Optuna study with and without pruning.

Two studies on the same synthetic clip features (a planted signal in one
feature), each scored by Spearman's ρ over pooled out-of-fold predictions:
an LSTMRegressor pruned per epoch of its first fold on its validation
Spearman (optuna-integration's SkorchPruningCallback), and a Ridge pipeline
pruned after each cross-validation fold on the pooled score so far. Each is
run without pruning (the baseline) and with it, in this process, and the
ratio ``pruning_s / no_pruning_s`` is printed as JSON with the times, the
number of pruned and failed trials and the best scores.

    python benchmarks/bench_tuning.py [--trials 20] [--threads 2]
"""

import argparse
import json
import time

import numpy as np
import optuna
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmem import LSTMRegressor, TemporalPooling
from skmem.tuning import search_space, study_summary, tune


def features(n=240, n_frames=8, dim=32, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_frames, dim)).astype(np.float32)
    y = 0.6 + 0.1 * np.tanh(X[:, :, 0].mean(axis=1) * 2) + 0.02 * rng.normal(size=n)
    return X, y


def study_time(estimator, X, y, space, n_trials, pruning):
    start = time.perf_counter()
    best, study = tune(estimator, X, y, n_trials=n_trials, cv=3, pruning=pruning, random_state=0, param_distributions=space)
    seconds = time.perf_counter() - start
    summary = study_summary(study)
    return seconds, summary["pruned"], summary["fail"], study.best_value


def compare(name, estimator, X, y, space, n_trials):
    base_s, _, base_failed, base_best = study_time(estimator, X, y, space, n_trials, pruning=False)
    pruned_s, n_pruned, pruned_failed, pruned_best = study_time(estimator, X, y, space, n_trials, pruning=True)
    return {
        "model": name,
        "n_trials": n_trials,
        "no_pruning_s": round(base_s, 2),
        "pruning_s": round(pruned_s, 2),
        "ratio_pruning_vs_no_pruning": round(pruned_s / base_s, 3),
        "n_pruned": n_pruned,
        "n_failed": base_failed + pruned_failed,
        "best_cv_spearman_no_pruning": round(base_best, 4),
        "best_cv_spearman_pruning": round(pruned_best, 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = features()
    lstm = LSTMRegressor(max_epochs=20, valid_size=0.2, early_stopping=False, batch_size=32, device="cpu", random_state=0)
    lstm_space = search_space(lstm, overrides={
        "hidden_size": CategoricalDistribution((16, 32, 64)),
        "lr": FloatDistribution(1e-6, 1e-1, log=True),
    })
    ridge = make_pipeline(TemporalPooling(), StandardScaler(), Ridge())
    results = [
        compare("LSTMRegressor (per-epoch pruning)", lstm, X, y, lstm_space, args.trials),
        compare("TemporalPooling+Ridge (per-fold pruning)", ridge, X, y, search_space(ridge), args.trials),
    ]
    print(json.dumps({"benchmark": "tuning", "torch_threads": args.threads, "results": results}, indent=1))


if __name__ == "__main__":
    main()
