"""Caption costs and tag captions, in one process; prints JSON.

``embedding``: N generated slug captions (MediaEval style). One embedding
pass (``CaptionEmbedder().fit_transform`` of a new embedder, model load
included) against a 5-fold ``cross_val_score`` of
``Pipeline(CaptionEmbedder(memory=...), Ridge)`` on a new store (each fold
loads the model too), then the same cross-validation again on the filled
store. Both are timed warm: a first embedding of a few other captions
imports the libraries and reads the model files before any timing. Target:
the cross-validation costs at most 2x the single pass.
``--no-memory`` also times the cross-validation without a store.

``tags``: clips from :func:`skmem.datasets.make_memorability_videos` (a red
disc whose size and time on screen drive the score). Pooled out-of-fold
Spearman (5 shuffled folds) of tag captions -> CaptionVectorizer -> Ridge,
of pooled CNN features -> Ridge, and of their fusion (one Ridge over both,
and a RankFusionRegressor of the two). Needs the ``resmem`` extra for real
ImageNet weights (``--weights none`` runs random resnet18 weights instead).

    python benchmarks/bench_captions.py --part embedding --captions 2000
    python benchmarks/bench_captions.py --part tags --clips 80
"""

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import Normalizer

from skmem import CNNFeaturizer, FrameSampler, RankFusionRegressor, TemporalPooling
from skmem.metrics import spearman_score
from skmem.text import CaptionEmbedder, CaptionVectorizer, TagCaptioner

WORDS = ("woman man girl boy couple crowd dog cat horse bird beach city street car boat sunset sunrise tree "
         "forest office kitchen river lake mountain snow rain night aerial slow motion close up shot walking "
         "running talking smiling dancing cooking working laptop phone coffee flag fire water sky cloud "
         "timelapse tilt pan zoom down view old young business family").split()


def slug_captions(n, seed=0):
    """``n`` distinct slugs; ``dog`` adds 0.1 to the score."""
    rng = np.random.default_rng(seed)
    captions = {}
    while len(captions) < n:
        words = list(rng.choice(WORDS, size=rng.integers(3, 8), replace=False))
        captions.setdefault("-".join(words), 0.8 + 0.1 * ("dog" in words) + rng.normal(0, 0.05))
    return np.array(list(captions), dtype=object), np.array(list(captions.values()))


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def embedding_part(n_captions, no_memory):
    captions, y = slug_captions(n_captions)
    folds = KFold(5, shuffle=True, random_state=0)
    CaptionEmbedder(device="cpu").fit_transform(["warm-up", "imports-and-model-files"])
    one_pass, Z = timed(lambda: CaptionEmbedder(device="cpu").fit_transform(captions))
    with tempfile.TemporaryDirectory() as store:
        model = make_pipeline(CaptionEmbedder(device="cpu", memory=store), Ridge())
        cv_memory, scores = timed(lambda: cross_val_score(model, captions, y, cv=folds))
        cv_rerun, _ = timed(lambda: cross_val_score(model, captions, y, cv=folds))
    result = {
        "captions": n_captions,
        "embedding_dim": int(Z.shape[1]),
        "one_pass_s": round(one_pass, 2),
        "cv5_memory_s": round(cv_memory, 2),
        "cv5_memory_over_one_pass": round(cv_memory / one_pass, 2),
        "cv5_rerun_filled_store_s": round(cv_rerun, 2),
        "cv5_r2_mean": round(float(scores.mean()), 3),
    }
    if no_memory:
        plain = make_pipeline(CaptionEmbedder(device="cpu"), Ridge())
        cv_plain, _ = timed(lambda: cross_val_score(plain, captions, y, cv=folds))
        result["cv5_no_memory_s"] = round(cv_plain, 2)
        result["cv5_no_memory_over_memory"] = round(cv_plain / cv_memory, 2)
    return result


def tags_part(n_clips, n_frames, size, weights):
    from skmem.datasets import make_memorability_videos

    backbone, weights = ("resmem_resnet152", "DEFAULT") if weights == "default" else ("resnet18", None)
    folds = KFold(5, shuffle=True, random_state=0)
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths, y = make_memorability_videos(n_clips, tmp / "clips", n_seconds=2, size=(size, size), fps=8,
                                            codec="h264", random_state=0)
        sampler = FrameSampler(n_frames=n_frames, size=size)
        common = dict(sampler=sampler, n_workers=0, device="cpu", random_state=0)
        tagger = TagCaptioner(CNNFeaturizer(backbone, weights, layer="logits", cache_dir=tmp / "logits", **common),
                              top_k=10)
        tags = make_pipeline(tagger, CaptionVectorizer())
        cnn = make_pipeline(CNNFeaturizer(backbone, weights, cache_dir=tmp / "pooled", **common),
                            TemporalPooling("mean"), Normalizer())
        models = {
            "tags_tfidf_ridge": make_pipeline(tags, ridge),
            "cnn_mean_ridge": make_pipeline(cnn, ridge),
            "early_fusion_one_ridge": make_pipeline(make_union(tags, cnn), ridge),
            "rank_fusion": RankFusionRegressor([("tags", make_pipeline(tags, ridge)),
                                                ("cnn", make_pipeline(cnn, ridge))], random_state=0),
        }
        result = {"clips": n_clips, "frames": n_frames, "size": size, "backbone": backbone,
                  "weights": str(weights), "cv": "5-fold shuffled, pooled out-of-fold rho"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            seconds, _ = timed(lambda: tagger.fit().transform(paths))  # fills the caches outside the timing of CV
            result["first_tagging_s"] = round(seconds, 1)
            result["example_tags"] = list(tagger.transform(paths[:3]))
            for name, model in models.items():
                seconds, predicted = timed(lambda: cross_val_predict(model, paths, y, cv=folds))
                result[name] = {"spearman": round(spearman_score(y, predicted), 3), "cv_s": round(seconds, 1)}
            shuffled = np.random.default_rng(1).permutation(y)
            control = cross_val_predict(models["tags_tfidf_ridge"], paths, shuffled, cv=folds)
            result["tags_shuffled_label_control"] = round(spearman_score(shuffled, control), 3)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["embedding", "tags", "all"], default="all")
    parser.add_argument("--captions", type=int, default=2000)
    parser.add_argument("--no-memory", action="store_true", help="also time the cross-validation without a store")
    parser.add_argument("--clips", type=int, default=80)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--weights", choices=["default", "none"], default="default")
    args = parser.parse_args()
    result = {}
    if args.part in ("embedding", "all"):
        result["embedding"] = embedding_part(args.captions, args.no_memory)
    if args.part in ("tags", "all"):
        result["tags"] = tags_part(args.clips, args.frames, args.size, args.weights)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
