"""``skmem predict``: score clips with a saved model; write a MediaEval run file."""

import csv
import sys
import tempfile
from pathlib import Path

from skmem.cli.common import (
    CommandError, auto_or_int_at_least, caption_column, check_outputs, check_prediction_paths, clip_paths, device,
    load_features, model_input,
)
from skmem.cli.extract import failure_reason, run_extraction


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
        help="a feature folder from 'skmem extract', or videos/folders/CSV (features are extracted first)",
    )
    parser.add_argument("--out", required=True, metavar="CSV", help="run file to write")
    parser.add_argument("--captions", default=None, metavar="FILE", help="captions of the clips (for a model fitted with --captions)")
    parser.add_argument("--keep-going", action="store_true", help="score the clips that decode when others fail")
    parser.add_argument("--cache", default=None, metavar="DIR", help="feature cache for video inputs (default: temporary)")
    parser.add_argument("--videos-dir", default=None, metavar="DIR", help="folder the CSV's video names are in")
    parser.add_argument("--device", type=device, default="auto", help="device for feature extraction (default: auto)")
    parser.add_argument("--jobs", type=auto_or_int_at_least(0), default="auto", help="decoding worker processes (default: auto)")
    parser.add_argument(
        "--trusted", action="store_true",
        help="also load a model file that is a pickle (joblib, older skmem) or names types skmem does not trust: "
        "loading it can run any code, so only for files whose author you trust",
    )
    parser.set_defaults(handler=run)


def feature_folder(inputs):
    """The feature folder named by ``inputs``, or None when they name clips."""
    from skmem.features.cache import CONFIG_FILE

    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        folder = Path(inputs[0])
        if (folder / CONFIG_FILE).is_file() or any(folder.glob("*.npy")):
            return folder
    return None


def extract_clips(bundle, args, folder):
    """Extract the features of the clips of ``args.inputs`` into ``folder``; return the names extracted."""
    from skmem.features.cache import FORMAT_VERSION

    if not bundle.feature_config:
        raise CommandError(f"{args.model}: saved without a feature configuration; run 'skmem extract' and pass its folder")
    paths = clip_paths(args.inputs, args.videos_dir)
    from skmem.features.cnn import CNNFeaturizer

    featurizer = CNNFeaturizer.from_feature_config(
        bundle.feature_config, cache_dir=folder, device=args.device, n_workers=args.jobs, verbose=1
    ).set_params(sampler__on_error="warn").fit()
    expected = {"format_version": FORMAT_VERSION, **featurizer.feature_config()}  # as the folder will record it
    bundle.check_features(expected, source="the features this machine would extract")
    entries = run_extraction(featurizer, paths, None, None)
    failed = [path for path, entry in zip(paths, entries) if entry is None]
    for path in failed:
        print(f"  failed: {path}: {failure_reason(featurizer.sampler, path)}", file=sys.stderr)
    if failed and not args.keep_going:
        raise CommandError(f"{len(failed)} clip(s) could not be decoded (listed above); --keep-going scores the others")
    return [p.name for p, e in zip(paths, entries) if e is not None]


def write_run_file(path, names, scores):
    """One ``video,score`` row per clip, CSV-quoted, written atomically."""
    from skmem.persistence import atomic_path

    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows((name, f"{score:.6f}") for name, score in zip(names, scores))


def run(args):
    import numpy as np

    from skmem.features.precomputed import feature_index
    from skmem.persistence import load_model

    check_prediction_paths(args, feature_folder(args.inputs))
    check_outputs(out=args.out)
    if args.captions is not None and not Path(args.captions).is_file():
        raise CommandError(f"--captions: {args.captions}: no such file")
    bundle = load_model(args.model, trusted=args.trusted)
    trained_with_captions = bundle.metadata.get("captions", False)
    if trained_with_captions != (args.captions is not None):
        need = "needs" if trained_with_captions else "was fitted without"
        raise CommandError(f"--captions: the model {args.model} {need} captions")
    folder = feature_folder(args.inputs)
    with tempfile.TemporaryDirectory(prefix="skmem-") as scratch:
        if folder is None:
            folder = Path(args.cache or scratch)
            names = extract_clips(bundle, args, folder)
        else:
            names = sorted(feature_index(folder))
        if not names:
            raise CommandError("no clip to score")
        X, config = load_features(folder, names)
    bundle.check_features(config, source=f"the features in {folder}")
    X = model_input(X, caption_column(args.captions, names) if trained_with_captions else None)
    scores = np.asarray(bundle.model.predict(X), dtype=float)
    write_run_file(args.out, names, scores)
    meta = bundle.metadata
    print(f"{len(scores)} clips scored ({meta.get('target', '?')}-term, {meta.get('model_name', 'model')}) -> {args.out}")
    return 0
