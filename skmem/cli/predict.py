"""``skmem predict``: score clips with a saved model; write a MediaEval run file."""

import csv
import os
import sys
import warnings
from pathlib import Path

from skmem.cli.common import (
    CommandError, is_media, auto_or_int_at_least, check_outputs, check_prediction_paths, clip_paths, device,
    option_error,
)
from skmem.cli.extract import extra_outputs


def add_parser(commands):
    parser = commands.add_parser(
        "predict",
        help="score clips with a saved model; write a MediaEval run file",
        description="Score clips with a saved model and write a run file: one 'video,score' line per clip, no header. "
        "Exit status 1, and no run file, when a clip cannot be decoded, unless --keep-going.",
    )
    parser.add_argument("model", metavar="MODEL", help="file written by 'skmem fit' or 'skmem tune --out'")
    parser.add_argument(
        "inputs", nargs="+", metavar="FEATURES_DIR_OR_VIDEOS",
        help="a feature store from 'skmem extract' (a folder recording its configuration), or "
        "videos/folders/CSV (features are extracted first)",
    )
    parser.add_argument("--out", required=True, metavar="CSV", help="run file to write")
    parser.add_argument("--captions", default=None, metavar="FILE", help="captions of the clips (for a model fitted with --captions)")
    parser.add_argument("--keep-going", action="store_true", help="score the clips that decode when others fail")
    parser.add_argument(
        "--cache", default=None, metavar="DIR",
        help="feature store for video inputs (default: none); a read-only one serves its entries",
    )
    parser.add_argument("--videos-dir", default=None, metavar="DIR", help="folder the CSV's video names are in")
    parser.add_argument("--device", type=device, default="auto", help="device for feature extraction (default: auto)")
    parser.add_argument("--jobs", type=auto_or_int_at_least(0), default="auto", help="decoding threads (default: auto)")
    parser.add_argument(
        "--trusted", action="store_true",
        help="also load a model file that is a pickle (joblib, older skmem) or names types skmem does not trust: "
        "loading it can run any code, so only for files whose author you trust",
    )
    parser.set_defaults(handler=run)


def feature_folder(inputs):
    """The feature store named by ``inputs``, or None when they name clips.

    A folder is a feature store when it records one (its configuration
    file), whatever files it holds; a folder of an older skmem's features is
    refused with how to migrate.
    """
    from skmem.features.store import read_config

    if len(inputs) == 1 and Path(inputs[0]).is_dir() and read_config(inputs[0]) is not None:
        return Path(inputs[0])
    return None


def report_other_files(inputs):
    """List the files of the input folders that are not clips (they are not scored)."""
    for item in inputs:
        if Path(item).is_dir():
            others = sorted(p.name for p in Path(item).iterdir() if p.is_file() and not is_media(p))
            if others:
                print(f"{item}: {len(others)} file(s) that are not clips, not scored: {', '.join(others)}", file=sys.stderr)


def score_clips(bundle, args):
    """Features of the clips of ``args.inputs`` (from the ``--cache`` store, or computed); returns names, X, config."""
    from skmem.features.cnn import CNNFeaturizer
    from skmem.features.store import FORMAT_VERSION

    if not bundle.feature_config:
        raise CommandError(f"{args.model}: saved without a feature configuration; run 'skmem extract' and pass its folder")
    paths = clip_paths(args.inputs, args.videos_dir)
    report_other_files(args.inputs)
    extras = () if args.cache is None else extra_outputs(args.cache)
    featurizer = CNNFeaturizer.from_feature_config(
        bundle.feature_config, cache_dir=args.cache, extra_outputs=extras, device=args.device, n_workers=args.jobs,
        verbose=1,
    ).set_params(sampler__on_error="warn").fit()
    config = {"format_version": FORMAT_VERSION, **featurizer.feature_config(), "extra_outputs": []}
    bundle.check_features(config, source="the features this machine would extract")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="skipping clip")  # listed with their reasons below
        X = featurizer.transform([str(p) for p in paths])
    failures = featurizer.report_.failures
    for error in failures:
        print(f"  failed: {error.path}: {error.cause}", file=sys.stderr)
    failed = {error.path for error in failures}
    if failed and not args.keep_going:
        raise CommandError(f"{len(failed)} clip(s) could not be decoded (listed above); --keep-going scores the others")
    good = [i for i, p in enumerate(paths) if str(p) not in failed]
    return [paths[i].name for i in good], X[good], config


def read_store(folder):
    """Features of every clip of the store ``folder``; returns names, X and the configuration."""
    from skmem.features.store import FeatureStore

    with FeatureStore(folder) as store:
        entries = store.entries()
    seen = {}
    for entry in entries:
        if seen.setdefault(entry.clip_id, entry).path != entry.path:
            raise CommandError(
                f"{folder}: the clip id {entry.clip_id!r} names two clips ({seen[entry.clip_id].path}, {entry.path}); "
                "score the clips instead, with --cache"
            )
    names = [os.path.basename(entry.path) for entry in seen.values()]
    if not names:
        raise CommandError("no clip to score")
    from skmem.datasets import MissingClipsError
    from skmem.datasets.feature_folder import read_feature_folder

    try:
        X, config = read_feature_folder(folder, list(seen))
    except MissingClipsError as exc:
        raise option_error(exc) from None
    return names, X, config


def model_input(X, captions, names):
    """The model's input: the features ``X``, or with a captions file its text and the pooled features."""
    if captions is None:
        return X
    from skmem.datasets import MissingClipsError
    from skmem.datasets.feature_folder import caption_column, pooled_columns

    try:
        text = caption_column(captions, names)
    except MissingClipsError as exc:
        raise option_error(exc) from None
    frame = pooled_columns(X)
    frame.insert(0, "caption", text)
    return frame


def write_run_file(path, names, scores):
    """One ``video,score`` row per clip, CSV-quoted, written atomically."""
    from skmem.persistence import atomic_path

    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows((name, f"{score:.6f}") for name, score in zip(names, scores))


def run(args):
    import numpy as np

    from skmem.persistence import load_model

    folder = feature_folder(args.inputs)
    check_prediction_paths(args, folder)
    check_outputs(out=args.out)
    if args.captions is not None and not Path(args.captions).is_file():
        raise CommandError(f"--captions: {args.captions}: no such file")
    bundle = load_model(args.model, trusted=args.trusted)
    trained_with_captions = bundle.metadata.get("captions", False)
    if trained_with_captions != (args.captions is not None):
        need = "needs" if trained_with_captions else "was fitted without"
        raise CommandError(f"--captions: the model {args.model} {need} captions")
    if folder is None:
        names, X, config = score_clips(bundle, args)
        if not names:
            raise CommandError("no clip to score")
    else:
        names, X, config = read_store(folder)
    bundle.check_features(config, source=f"the features in {folder or 'the clips'}")
    X = model_input(X, args.captions if trained_with_captions else None, names)
    scores = np.asarray(bundle.model.predict(X), dtype=float)
    write_run_file(args.out, names, scores)
    meta = bundle.metadata
    print(f"{len(scores)} clips scored ({meta.get('target', '?')}-term, {meta.get('model_name', 'model')}) -> {args.out}")
    return 0
