"""5-fold cross-validation of the multimodal preset against one RidgeCV, before/after.

Generated clips (:func:`skmem.datasets.make_multimodal_memorability`, caption
and 80 object scores, short-term target). Three models, cross-validated on the
same shuffled, seeded folds in one process:

- ``ridgecv``: one RidgeCV over the TF-IDF of the captions and the scaled
  object scores (the preset's ``early`` member alone), the baseline;
- ``preset_svr``: the preset as it was, an RBF SVR per modality (on a
  standardised target) and every member refitted on each of the fusion's
  folds;
- ``preset``: :func:`skmem.pipelines.memorability_pipeline` with its
  defaults (Nyström kernel ridges, leave-one-out out-of-fold predictions).

Prints JSON with Spearman's ρ of the pooled out-of-fold predictions, seconds
(the fastest of ``--repeat`` runs, the models taking turns, so that a busy
shared machine slows them alike), and each preset's time as a ratio of the
RidgeCV's and of the old preset's. BLAS runs on ``--threads`` threads.

    python benchmarks/bench_preset.py --clips 4000
    python benchmarks/bench_preset.py --clips 4000 --skip-old --repeat 3
"""

import argparse
import json
import time

from threadpoolctl import threadpool_limits

from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_predict

from skmem.datasets import make_multimodal_memorability
from skmem.metrics import spearman_score
from skmem.pipelines import _scaled_svr, memorability_pipeline


def svr_preset(preset):
    """The preset with an RBF SVR per modality, each member refitted on every fold."""
    svr_members = {}
    for name, member in preset.estimators:
        if "nystroem" in member.named_steps:
            svr_members[f"{name}__nystroem"] = "passthrough"
            svr_members[f"{name}__ridgecv"] = _scaled_svr()
    return clone(preset).set_params(ridge_loo=False, **svr_members)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4000)
    parser.add_argument("--skip-old", action="store_true", help="leave the old SVR preset out")
    parser.add_argument("--repeat", type=int, default=1, help="runs per model, taking turns; the fastest counts")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (shared machines: 1)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        report = run(args)
    print(json.dumps(report, indent=2))


def run(args):
    data = make_multimodal_memorability(args.clips, random_state=0)
    X, y = data.frame, data.short_term
    preset = memorability_pipeline("caption", data.feature_columns, embeddings=False)
    models = {"ridgecv": dict(preset.estimators)["early"], "preset": preset}
    if not args.skip_old:
        models["preset_svr"] = svr_preset(preset)
    folds = KFold(5, shuffle=True, random_state=0)
    cross_val_predict(models["ridgecv"], X.iloc[:200], y[:200], cv=folds)  # warm-up: imports, BLAS
    results = {name: {"seconds": float("inf")} for name in models}
    for _ in range(args.repeat):
        for name, model in models.items():
            start = time.perf_counter()
            predictions = cross_val_predict(model, X, y, cv=folds)
            seconds = time.perf_counter() - start
            results[name] = {"rho": round(spearman_score(y, predictions), 4),
                             "seconds": round(min(seconds, results[name]["seconds"]), 2)}
    base = results["ridgecv"]["seconds"]
    report = {
        "benchmark": "5-fold CV of the multimodal preset (captions + 80 object scores)",
        "clips": args.clips,
        "blas_threads": args.threads,
        "repeat": args.repeat,
        "models": results,
        "time_ratio_vs_ridgecv": {k: round(v["seconds"] / base, 2) for k, v in results.items()},
    }
    if "preset_svr" in results:
        report["time_ratio_vs_old_preset"] = round(results["preset"]["seconds"] / results["preset_svr"]["seconds"], 3)
    return report


if __name__ == "__main__":
    main()
