"""``skmem demo``: from generated clips to a cross-validated Spearman table."""

import importlib.util
import os
import warnings

import numpy as np
from sklearn.linear_model import RidgeCV

from skmem.datasets import make_memorability_videos
from skmem.datasets.mediaeval import read_ground_truth
from skmem.evaluation import cross_validation_table
from skmem.features.cnn import CNNFeaturizer
from skmem.metrics import spearman_score
from skmem.persistence import atomic_path
from skmem.pipelines import RIDGE_ALPHAS, describe_input, make_model
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


def _pipelines(paths, featurizer):
    """The catalogue's ``ridge`` (its penalty chosen by leave-one-out) and ``svr`` presets on the featurizer's output."""
    description = describe_input(paths, featurizer=featurizer)
    return {
        "Ridge": make_model("ridge", description, estimator=RidgeCV(alphas=RIDGE_ALPHAS)),
        "SVR": make_model("svr", description),
    }


def run_demo(n_clips=120, out=None, print_fn=print):
    """Generate clips, then cross-validate two full pipelines and print a table.

    Each pipeline is the catalogue's ``ridge`` or ``svr`` preset
    (:data:`skmem.pipelines.PRESETS`) after a ``CNNFeaturizer`` with a
    ``FrameSampler``: ``CNNFeaturizer -> TemporalPooling -> StandardScaler ->
    RidgeCV | SVR``, scored by
    :func:`~skmem.evaluation.cross_validation_table` on 5 shuffled, seeded
    folds. The featurizer's cache makes the first fold compute the features
    of every clip once; later folds, the second model and later runs read
    them back.

    Returns a dict of per-model Spearman rho of the pooled out-of-fold predictions.
    """
    folder = os.fspath(out) if out is not None else default_demo_dir()
    os.makedirs(folder, exist_ok=True)
    say = print_fn
    paths, scores = _clips(n_clips, folder, say)
    featurizer, description = _featurizer(folder)
    say(f"features: {description}, 8 frames per clip, cached in {featurizer.cache_dir}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random weights, said above
        result = cross_validation_table(_pipelines(paths, featurizer), paths, scores, cv=5, random_state=0)
    table = result.table
    say(f"\n5-fold cross-validation on {len(paths)} clips, Spearman's rho (the MediaEval metric)")
    say(f"{'model':<8}{'rho pooled':>12}{'fold mean':>11}{'sd':>8}")
    for name, row in table.iterrows():
        say(f"{name:<8}{row['spearman_pooled']:>12.3f}{row['spearman_mean']:>11.3f}{row['spearman_std']:>8.3f}")
    best = table["spearman_pooled"].idxmax()
    plot = _scatter(scores, result.predictions[best], best, os.path.join(folder, "predicted_vs_true.png"))
    say(f"\nout-of-fold predictions of {best}: plot: {plot}")
    return table["spearman_pooled"].to_dict()


def _scatter(y_true, y_pred, name, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.add_subplot()
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="grey", lw=1, ls="--")
    ax.set_xlabel("true memorability")
    ax.set_ylabel(f"predicted ({name}, out of fold)")
    ax.set_title(f"rho = {spearman_score(y_true, y_pred):.3f}")
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=100)
    return path
