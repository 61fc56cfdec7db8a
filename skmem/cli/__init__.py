"""The ``skmem`` command line.

``skmem extract`` writes a resumable per-clip feature cache, ``skmem cv``
compares models by cross-validation, ``skmem tune`` runs an Optuna study,
``skmem fit`` trains one model and ``skmem predict`` writes a MediaEval run
file. Exit status: 0 on success, 1 on a runtime failure (a one-line message
naming the file or option), 2 on a usage error.
"""

import argparse
import ast
import json
import sys
import tempfile
import warnings
from pathlib import Path

__all__ = ["main", "build_parser"]

MODELS = ("ridge", "svr", "lstm", "amnet", "pairwise")
TARGETS = {"short": "short_term", "long": "long_term"}
VIDEO_EXTENSIONS = frozenset({".webm", ".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".ogv"})
MANIFEST = "skmem-features.json"
_FEATURE_SETTINGS = ("backbone", "weights", "layer", "frames")


class CommandError(Exception):
    """An expected failure, reported in one line with exit status 1."""


# -- argument types (their errors are usage errors, exit status 2) ----------


def _model_list(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {unknown or [text]}; choose from {', '.join(MODELS)}")
    return names


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def _assignment(text):
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return name.strip(), value


def _weights(text):
    return None if text.lower() == "none" else text


# -- parser -------------------------------------------------------------------


def _add_data_options(parser):
    parser.add_argument("--features", required=True, metavar="DIR", help="folder written by 'skmem extract'")
    parser.add_argument("--labels", required=True, metavar="CSV", help="MediaEval ground-truth CSV")
    parser.add_argument("--target", required=True, choices=tuple(TARGETS), help="short- or long-term memorability")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--device", default="auto", help="device of the deep models (default: auto)")
    parser.add_argument(
        "--set",
        dest="overrides",
        type=_assignment,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="model parameter, e.g. --set max_epochs=20 (repeatable; applies to every model that has it)",
    )


def build_parser():
    """The argument parser of the ``skmem`` command."""
    parser = argparse.ArgumentParser(prog="skmem", description="Predict how memorable videos and images are.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="generate clips, cross-validate two pipelines, print a table")
    demo.add_argument("--clips", type=int, default=120, help="number of generated clips (default: 120)")
    demo.add_argument("--out", default=None, help="folder for clips, features and the plot (default: a cache folder)")
    demo.set_defaults(handler=_run_demo)

    extract = commands.add_parser(
        "extract",
        help="decode clips and cache CNN features, one .npy per clip",
        description="Decode clips and write CNN features, one .npy per clip, into a resumable cache folder.",
    )
    extract.add_argument(
        "inputs", nargs="+", metavar="VIDEOS_OR_CSV",
        help="video files, folders of videos, or a CSV with a 'video' column (names relative to the CSV's folder)",
    )
    extract.add_argument("--out", required=True, metavar="DIR", help="feature cache folder (created if missing)")
    extract.add_argument("--videos-dir", default=None, metavar="DIR", help="folder the CSV's video names are in")
    _add_feature_options(extract)
    extract.set_defaults(handler=_run_extract)

    cv = commands.add_parser("cv", help="cross-validate models; print Spearman/Pearson/MSE per model")
    _add_data_options(cv)
    cv.add_argument("--models", type=_model_list, default=["ridge", "svr"], help=f"comma-separated, from {','.join(MODELS)}")
    cv.add_argument("--folds", type=_int_at_least(2), default=5, help="cross-validation folds (default: 5)")
    cv.add_argument("--jobs", type=int, default=None, help="folds fitted in parallel (joblib)")
    cv.add_argument("--csv", default=None, metavar="PATH", help="also write the table as CSV")
    cv.add_argument("--json", default=None, metavar="PATH", help="also write the table and fold scores as JSON")
    cv.set_defaults(handler=_run_cv)

    tune = commands.add_parser("tune", help="search hyper-parameters with Optuna (resumable, pruned)")
    _add_data_options(tune)
    tune.add_argument("--model", choices=MODELS, required=True)
    tune.add_argument("--trials", type=_int_at_least(1), default=50, help="finished trials wanted in total (default: 50)")
    tune.add_argument("--storage", default=None, help="sqlite:///file.db, a .db or .log file, or a database URL")
    tune.add_argument("--study-name", default=None, help="rerun with the same name and storage to resume")
    tune.add_argument("--folds", type=_int_at_least(2), default=5)
    tune.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    tune.add_argument("--jobs", type=int, default=1, help="trials run at once (default: 1)")
    tune.add_argument("--no-pruning", dest="pruning", action="store_false", help="run every trial to the end")
    tune.add_argument("--plot", default="optimization-history.png", metavar="PNG", help="optimisation-history plot")
    tune.add_argument("--out", default=None, metavar="MODEL", help="also save the refitted best model (joblib)")
    tune.set_defaults(handler=_run_tune)

    fit = commands.add_parser("fit", help="train one model on all labelled clips and save it")
    _add_data_options(fit)
    fit.add_argument("--model", choices=MODELS, required=True)
    fit.add_argument("--out", required=True, metavar="MODEL", help="output file (joblib), e.g. model.joblib")
    fit.set_defaults(handler=_run_fit)

    predict = commands.add_parser(
        "predict",
        help="score clips with a saved model; write a MediaEval run file",
        description="Score clips with a saved model and write a run file: one 'video,score' line per clip, no header.",
    )
    predict.add_argument("model", metavar="MODEL", help="file written by 'skmem fit' or 'skmem tune --out'")
    predict.add_argument(
        "inputs", nargs="+", metavar="FEATURES_DIR_OR_VIDEOS",
        help="a feature folder from 'skmem extract', or videos/folders/CSV (features are extracted first)",
    )
    predict.add_argument("--out", required=True, metavar="CSV", help="run file to write")
    predict.add_argument("--cache", default=None, metavar="DIR", help="feature cache for video inputs (default: temporary)")
    predict.add_argument("--videos-dir", default=None, metavar="DIR", help="folder the CSV's video names are in")
    predict.add_argument("--device", default="auto", help="device for feature extraction (default: auto)")
    predict.add_argument("--jobs", type=int, default=None, help="clips decoded in parallel")
    predict.set_defaults(handler=_run_predict)
    return parser


def _add_feature_options(parser):
    parser.add_argument("--backbone", default="resnet50", help="torchvision backbone (default: resnet50)")
    parser.add_argument(
        "--weights", type=_weights, default="DEFAULT",
        help="DEFAULT, a torchvision weights name, 'none' (random) or a checkpoint path",
    )
    parser.add_argument("--frames", type=_int_at_least(1), default=8, help="frames per clip (default: 8)")
    parser.add_argument("--layer", default=None, help="spatial layer, e.g. layer3 (default: pooled features)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--jobs", type=int, default=None, help="clips decoded in parallel")
    parser.add_argument("--batch-size", type=_int_at_least(1), default=32, help="frames per forward pass")


# -- demo ---------------------------------------------------------------------


def _run_demo(args):
    from skmem.demo import run_demo

    run_demo(n_clips=args.clips, out=args.out)
    return 0


# -- inputs -------------------------------------------------------------------


def _is_media(path):
    from skmem.video import IMAGE_EXTENSIONS

    suffix = path.suffix.lower()
    return suffix in VIDEO_EXTENSIONS or suffix in IMAGE_EXTENSIONS


def _csv_videos(csv_path, videos_dir):
    import pandas as pd

    try:
        frame = pd.read_csv(csv_path, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CommandError(f"{csv_path}: not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    column = next((c for c in ("video", "path", "video_id") if c in frame.columns), None)
    if column is None:
        raise CommandError(f"{csv_path}: needs a 'video' or 'path' column; found {list(frame.columns)}")
    folders = [Path(videos_dir)] if videos_dir else [csv_path.parent, csv_path.parent / "sources", csv_path.parent.parent / "sources"]
    paths = []
    for name in frame[column].astype(str).str.strip():
        candidates = [Path(name)] if Path(name).is_absolute() else [folder / name for folder in folders]
        paths.append(next((p for p in candidates if p.is_file()), candidates[0]))
    return paths


def _clip_paths(inputs, videos_dir=None):
    """Clip paths from files, folders of clips and CSV files, in the given order."""
    paths = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and _is_media(p))
            if not found:
                raise CommandError(f"{path}: no video or image file in this folder")
            paths.extend(found)
        elif path.suffix.lower() in (".csv", ".txt"):
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            paths.extend(_csv_videos(path, videos_dir))
        else:
            paths.append(path)
    stems = {}
    for path in paths:
        if stems.setdefault(path.stem, path) != path:
            raise CommandError(f"two clips share the name {path.stem!r}: {stems[path.stem]} and {path}")
    return paths


# -- extract ------------------------------------------------------------------


def _read_manifest(folder):
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (ValueError, OSError) as exc:
        raise CommandError(f"{path}: unreadable feature manifest ({exc})") from None


def _settings(args):
    weights = args.weights
    if weights is not None and Path(weights).is_file():
        weights = str(Path(weights).resolve())
    return {
        "backbone": args.backbone,
        "weights": weights,
        "layer": args.layer,
        "frames": args.frames,
    }


def extract_features(paths, out, settings, *, device="auto", jobs=None, batch_size=32, verbose=1):
    """Fill the feature cache ``out`` for ``paths``; clips already cached are reused.

    The cache is :class:`~skmem.CNNFeaturizer`'s (one
    ``<stem>__<digest>.npy`` per clip); ``skmem-features.json`` beside it
    records the settings and each clip's file name.

    Returns ``(n_extracted, n_reused, failures)`` with ``failures`` a list of
    ``(path, reason)``. A folder holding features of other settings is an
    error (``CommandError``).
    """
    from skmem.features.cnn import CNNFeaturizer
    from skmem.video import FrameSampler

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(out) or {"clips": {}}
    previous = {k: manifest.get(k) for k in _FEATURE_SETTINGS}
    if manifest["clips"] and previous != settings:
        raise CommandError(f"{out}: holds features made with {previous}, not {settings}; choose another --out")
    manifest.update(settings)
    sampler = FrameSampler(n_frames=settings["frames"], on_error="warn")
    featurizer = CNNFeaturizer(
        backbone=settings["backbone"], weights=settings["weights"], layer=settings["layer"],
        batch_size=batch_size, device=device, sampler=sampler, cache_dir=out,
        n_workers=jobs or 0, random_state=0, verbose=verbose,
    ).fit()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="skipping clip")  # summarised below
        entries = featurizer.extract([str(p) for p in paths])
    failures = [(str(p), _decode_error(sampler, p)) for p, e in zip(paths, entries) if e is None]
    for path, entry in zip(paths, entries):
        if entry is not None:
            manifest["clips"][path.stem] = path.name
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    stats = featurizer.cache_stats_
    return stats["misses"] - len(failures), stats["hits"], failures


def _decode_error(sampler, path):
    """Why ``path`` cannot be decoded (the sampler only lists failed paths)."""
    from skmem.video import VideoDecodeError

    try:
        sampler.sample_clip(path)
    except VideoDecodeError as exc:
        return str(exc.cause)
    return "could not be decoded"


def _report_extraction(out, n_done, n_reused, failures):
    print(f"{out}: {n_done} clip(s) extracted, {n_reused} reused from the cache, {len(failures)} failed")
    for path, reason in failures:
        print(f"  failed: {path}: {reason}", file=sys.stderr)


def _run_extract(args):
    paths = _clip_paths(args.inputs, args.videos_dir)
    n_done, n_reused, failures = extract_features(
        paths, args.out, _settings(args), device=args.device, jobs=args.jobs, batch_size=args.batch_size
    )
    _report_extraction(args.out, n_done, n_reused, failures)
    return 1 if failures and n_done + n_reused == 0 else 0


# -- data and models ----------------------------------------------------------


def _load_features(folder, ids):
    from skmem.features.precomputed import PrecomputedFeatureLoader

    if not Path(folder).is_dir():
        raise CommandError(f"--features: {folder} is not a folder")
    return PrecomputedFeatureLoader(kind="npy", root=folder, aggregate="stack").fit_transform(list(ids))


def _load_dataset(args):
    from skmem.datasets.mediaeval import read_ground_truth

    if not Path(args.labels).is_file():
        raise CommandError(f"--labels: {args.labels}: no such file")
    labels = read_ground_truth(args.labels)
    X = _load_features(args.features, labels["video"])
    return X, labels[TARGETS[args.target]].to_numpy(dtype=float), labels["video"].to_numpy()


def mean_over_locations(X):
    """``(n, T, L, C)`` spatial features to ``(n, T, C)`` (used before sequence models)."""
    return X.mean(axis=2)


def make_model(name, ndim, *, random_state=0, device="auto"):
    """The model ``name`` (one of ``MODELS``) for features of rank ``ndim``."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVR

    from skmem.features.pooling import TemporalPooling
    from skmem.models import AMNetRegressor, LSTMRegressor, PairwiseRanker

    if name in ("ridge", "svr"):
        return make_pipeline(TemporalPooling("mean"), StandardScaler(), Ridge() if name == "ridge" else SVR())
    deep = {"lstm": LSTMRegressor, "amnet": AMNetRegressor, "pairwise": PairwiseRanker}[name]
    model = deep(random_state=random_state, device=device)
    if ndim == 4 and name != "amnet":
        return make_pipeline(FunctionTransformer(mean_over_locations), model)
    return model


def _final_prefix(model):
    from sklearn.pipeline import Pipeline

    return f"{model.steps[-1][0]}__" if isinstance(model, Pipeline) else ""


def _apply_overrides(models, overrides):
    """Set ``--set`` values on each model's final step that has the parameter."""
    for name, value in overrides:
        used = False
        for model in models.values():
            key = _final_prefix(model) + name
            if key in model.get_params():
                model.set_params(**{key: value})
                used = True
        if not used:
            raise CommandError(f"--set {name}: not a parameter of {', '.join(models)}")


def _build_models(names, X, args):
    models = {n: make_model(n, X.ndim, random_state=args.seed, device=args.device) for n in names}
    _apply_overrides(models, args.overrides)
    return models


# -- cv -------------------------------------------------------------------------


def cross_validation_table(models, X, y, *, folds=5, random_state=0, n_jobs=None):
    """Per model: mean and standard deviation of Spearman, Pearson and MSE over folds.

    Returns ``(table, fold_scores)``: a DataFrame indexed by model and a dict
    model -> metric -> list of fold values.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import KFold, cross_validate

    from skmem.metrics import mse_score, pearson_scorer, spearman_scorer

    scoring = {"spearman": spearman_scorer, "pearson": pearson_scorer, "mse": make_scorer(mse_score, greater_is_better=False)}
    splitter = KFold(folds, shuffle=True, random_state=random_state)
    rows, fold_scores = {}, {}
    for name, model in models.items():
        result = cross_validate(model, X, y, cv=splitter, scoring=scoring, n_jobs=n_jobs, error_score="raise")
        scores = {m: result[f"test_{m}"] * (-1 if m == "mse" else 1) for m in scoring}
        fold_scores[name] = {m: v.tolist() for m, v in scores.items()}
        rows[name] = {f"{m}_{s}": getattr(np, s)(v) for m, v in scores.items() for s in ("mean", "std")}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model"), fold_scores


def _format_table(table):
    lines = [f"{'model':<10}{'spearman':>18}{'pearson':>18}{'mse':>20}"]
    for name, row in table.iterrows():
        cells = [f"{row[f'{m}_mean']:.3f} ± {row[f'{m}_std']:.3f}" for m in ("spearman", "pearson")]
        cells.append(f"{row['mse_mean']:.5f} ± {row['mse_std']:.5f}")
        lines.append(f"{name:<10}{cells[0]:>18}{cells[1]:>18}{cells[2]:>20}")
    return "\n".join(lines)


def _run_cv(args):
    X, y, _ = _load_dataset(args)
    if len(y) < args.folds:
        raise CommandError(f"--folds {args.folds}: only {len(y)} labelled clips")
    models = _build_models(args.models, X, args)
    table, fold_scores = cross_validation_table(models, X, y, folds=args.folds, random_state=args.seed, n_jobs=args.jobs)
    print(f"{len(y)} clips, {args.target}-term memorability, {args.folds}-fold cross-validation")
    print(_format_table(table))
    if args.csv:
        table.to_csv(args.csv)
    if args.json:
        payload = {"target": args.target, "folds": args.folds, "n_clips": len(y), "table": table.to_dict(orient="index"), "fold_scores": fold_scores}
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 0


# -- fit / tune / predict -------------------------------------------------------


def _save_bundle(path, model, args):
    import joblib

    from skmem import __version__

    manifest = _read_manifest(args.features) or {}
    bundle = {
        "model": model,
        "model_name": args.model,
        "target": args.target,
        "features": {k: manifest[k] for k in _FEATURE_SETTINGS if k in manifest} or None,
        "skmem_version": __version__,
    }
    joblib.dump(bundle, path)


def _run_fit(args):
    X, y, _ = _load_dataset(args)
    model = _build_models([args.model], X, args)[args.model]
    model.fit(X, y)
    _save_bundle(args.out, model, args)
    print(f"{args.model} fitted on {len(y)} clips ({args.target}-term) -> {args.out}")
    return 0


def plot_history(study, path):
    """Save the value of every finished trial and the best so far as a PNG."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    numbers = [t.number for t in trials]
    values = [t.value for t in trials]
    ax.scatter(numbers, values, s=14, label="trial")
    if values:
        ax.step(numbers, np.maximum.accumulate(values), where="post", color="C3", label="best so far")
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    for i, trial in enumerate(pruned):
        ax.axvline(trial.number, color="0.85", lw=0.8, zorder=0, label="pruned" if i == 0 else None)
    ax.set(xlabel="trial", ylabel="cross-validated score", title=f"study {study.study_name}")
    ax.legend(loc="lower right")
    figure.savefig(path, dpi=100, bbox_inches="tight")


def _run_tune(args):
    import optuna
    from sklearn.model_selection import KFold

    from skmem.tuning import study_summary, tune

    X, y, _ = _load_dataset(args)
    model = _build_models([args.model], X, args)[args.model]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folds = KFold(args.folds, shuffle=True, random_state=args.seed)  # the folds of 'skmem cv'
    best, study = tune(
        model, X, y, n_trials=args.trials, timeout=args.timeout, cv=folds, storage=args.storage,
        study_name=args.study_name or f"skmem-{args.model}-{args.target}", pruning=args.pruning,
        n_jobs=args.jobs, random_state=args.seed, verbose=1,
    )
    summary = study_summary(study)
    print(f"study {summary['study_name']}: {summary['n_trials']} trials "
          f"({summary['complete']} complete, {summary['pruned']} pruned, {summary['fail']} failed, {summary['running']} running)")
    print(f"best trial {summary['best_trial']}: score {summary['best_value']:.4f}")
    for name, value in summary["best_params"].items():
        print(f"  {name} = {value!r}")
    plot_history(study, args.plot)
    print(f"optimisation history -> {args.plot}")
    if args.out:
        _save_bundle(args.out, best, args)
        print(f"best model refitted on {len(y)} clips -> {args.out}")
    return 0


def _load_bundle(path):
    import joblib

    if not Path(path).is_file():
        raise CommandError(f"{path}: no such model file")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # a corrupt or foreign pickle raises many kinds of errors
        raise CommandError(f"{path}: not a model saved by 'skmem fit' ({type(exc).__name__}: {exc})") from None
    if not isinstance(bundle, dict) or "model" not in bundle:
        raise CommandError(f"{path}: not a model saved by 'skmem fit'")
    return bundle


def _feature_folder(inputs):
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        folder = Path(inputs[0])
        if (folder / MANIFEST).is_file() or any(folder.glob("*.npy")):
            return folder
    return None


def _run_predict(args):
    import numpy as np

    from skmem.features.precomputed import PrecomputedFeatureLoader

    bundle = _load_bundle(args.model)
    folder = _feature_folder(args.inputs)
    with tempfile.TemporaryDirectory(prefix="skmem-") as scratch:
        if folder is None:
            settings = bundle.get("features")
            if not settings:
                raise CommandError(f"{args.model}: saved without feature settings; run 'skmem extract' and pass its folder")
            paths = _clip_paths(args.inputs, args.videos_dir)
            folder = Path(args.cache or scratch)
            n_done, n_reused, failures = extract_features(paths, folder, settings, device=args.device, jobs=args.jobs)
            _report_extraction(folder, n_done, n_reused, failures)
            failed = {Path(p).stem for p, _ in failures}
            names = {p.stem: p.name for p in paths if p.stem not in failed}
        else:
            manifest = _read_manifest(folder) or {}
            names = {stem: manifest.get("clips", {}).get(stem, stem) for stem in sorted(PrecomputedFeatureLoader._npy_index(folder))}
        if not names:
            raise CommandError("no clip to score")
        X = _load_features(folder, list(names))
    scores = np.asarray(bundle["model"].predict(X), dtype=float)
    with open(args.out, "w", newline="") as fh:
        fh.writelines(f"{name},{score:.6f}\n" for name, score in zip(names.values(), scores))
    print(f"{len(scores)} clips scored ({bundle.get('target', '?')}-term, {bundle.get('model_name', 'model')}) -> {args.out}")
    return 0


# -- entry point ----------------------------------------------------------------


def _one_line_warning(message, category, filename, lineno, line=None):
    return f"skmem: warning: {message}\n"


def main(argv=None):
    """Run the command line; returns the exit status (argparse exits with 2 on usage errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    format_warning = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        return args.handler(args)
    except (CommandError, ValueError, OSError, RuntimeError) as exc:
        message = " ".join(str(exc).split())
        print(f"skmem {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"skmem {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = format_warning


if __name__ == "__main__":
    sys.exit(main())
