"""What the commands share: argument types, input resolution, data loading.

Argument types raise :class:`argparse.ArgumentTypeError`, and checks of
option values made before any work raise :class:`UsageError` (a usage error,
exit status 2, naming the option); everything else raises
:class:`CommandError` or a library error, reported in one line with exit
status 1.
"""

import argparse
import ast
import math
from pathlib import Path

from skmem.ids import clip_id
from skmem.persistence import check_writable, overlap
from skmem.pipelines import PRESETS

#: The model names of ``--model(s)``: the preset catalogue's.
MODELS = tuple(PRESETS)
TARGETS = {"short": "short_term", "long": "long_term"}
VIDEO_EXTENSIONS = frozenset({".webm", ".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".ogv"})


class CommandError(Exception):
    """An expected failure, reported in one line with exit status 1."""


class UsageError(CommandError):
    """An invalid option value or combination, found before any work: exit status 2, naming the option."""


# -- argument types -------------------------------------------------------------


def model_list(text):
    """``ridge,svr`` -> ``["ridge", "svr"]``, each one of :data:`MODELS`."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {unknown or [text]}; choose from {', '.join(MODELS)}")
    return names


def int_at_least(minimum):
    """An argument type accepting integers >= ``minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def auto_or_int_at_least(minimum):
    """An argument type accepting ``auto`` or integers >= ``minimum``."""
    parse_int = int_at_least(minimum)

    def parse(text):
        return text if text == "auto" else parse_int(text)

    return parse


def positive_float(text):
    """A finite number > 0 (seconds, ...)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def seed(text):
    """A random seed: an integer in [0, 2**32 - 1] (what numpy accepts)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 4294967295], got {text!r}")
    return value


def jobs(text):
    """A joblib ``n_jobs``: a positive integer or a negative one (``-1``: every core)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a non-zero integer (-1 uses every core), got {text!r}")
    return value


def device(text):
    """``auto`` or a torch device available on this machine (``cpu``, ``cuda:1``, ...)."""
    if text == "auto":
        return text
    import torch

    try:
        parsed = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count()
        if count == 0 or (parsed.index or 0) >= count:
            raise argparse.ArgumentTypeError(f"{text!r}: this machine has {count} CUDA device(s)")
    return text


def assignment(text):
    """``NAME=VALUE`` -> ``(NAME, value)``, the value read as a Python literal when it is one."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return name.strip(), value


def weights(text):
    """``none`` -> None (random weights); anything else unchanged."""
    return None if text.lower() == "none" else text


def add_data_options(parser):
    """Options of the commands that learn from a feature folder and labels."""
    parser.add_argument("--features", required=True, metavar="DIR", help="folder written by 'skmem extract'")
    parser.add_argument("--labels", required=True, metavar="CSV", help="MediaEval ground-truth CSV")
    parser.add_argument(
        "--captions", default=None, metavar="FILE",
        help="captions of the clips, read by the multimodal model: a MediaEval captions .txt or a CSV with video,caption columns",
    )
    parser.add_argument("--target", required=True, choices=tuple(TARGETS), help="short- or long-term memorability")
    parser.add_argument(
        "--no-auxiliary-target", dest="auxiliary_target", action="store_false",
        help="with --target long, train on the long-term scores alone (by default the short-term scores of the "
        "labels are a second, auxiliary target in training: see skmem.AuxiliaryTargetRegressor)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the folds and models (default: 0)")
    parser.add_argument("--device", type=device, default="auto", help="device of the deep models (default: auto)")
    parser.add_argument(
        "--set", dest="overrides", type=assignment, action="append", default=[], metavar="NAME=VALUE",
        help="model parameter, e.g. --set max_epochs=20 or --set \"net_params={'iterator_train__drop_last': True}\" "
        "(repeatable; applies to every model that has it)",
    )


# -- checks done before any work ----------------------------------------------------


def check_outputs(**paths):
    """Check that each output file (``option -> path``, None skipped) can be written."""
    for option, path in paths.items():
        if path is not None:
            try:
                check_writable(path, what=f"--{option.replace('_', '-')}")
            except OSError as exc:
                raise CommandError(str(exc)) from None


def check_separate(outputs, inputs):
    """Refuse an output that is an input, lies in an input folder, holds an input, or is another output.

    Paths are compared resolved (``os.path.realpath``: symbolic links
    followed), so a link to the labels, or a path through a linked folder,
    is the labels.

    Parameters
    ----------
    outputs, inputs : list of (str, path or None, bool)
        ``(what, path, tree)``: ``what`` names the option in the message;
        ``tree`` marks a folder whose every file is read or written (a
        feature folder), so that any path inside it overlaps. None paths are
        skipped.

    Raises
    ------
    UsageError
        Naming both options and paths.
    """
    outputs = [o for o in outputs if o[1] is not None]
    inputs = [i for i in inputs if i[1] is not None]
    for position, (what, path, tree) in enumerate(outputs):
        others = [(f"the input {w}", p, t) for w, p, t in inputs]
        others += [(f"the output {w}", p, t) for w, p, t in outputs[position + 1 :]]
        for other, other_path, other_tree in others:
            reason = overlap(path, other_path, tree=tree, other_tree=other_tree)
            if reason:
                raise UsageError(f"{what} {path} {reason} {other} {other_path}: an output never replaces an input")


def data_inputs(args):
    """The inputs of :func:`add_data_options`, for :func:`check_separate`."""
    return [("--labels", args.labels, False), ("--features", args.features, True), ("--captions", args.captions, False)]


def check_folds(folds, n_clips, option="--folds"):
    """Every fold of ``folds`` shuffled folds over ``n_clips`` clips holds at least 2 clips (else exit 2)."""
    if n_clips < 2 * folds:
        most = n_clips // 2
        hint = f"use {option} {most} or fewer" if most >= 2 else "label more clips"
        raise UsageError(f"{option} {folds}: {n_clips} labelled clip(s) leave a fold of fewer than 2 clips; {hint}")


def check_inputs(args, models):
    """The input files of :func:`add_data_options` exist; captions are given exactly for the ``multimodal`` model."""
    if args.captions is not None and any(m != "multimodal" for m in models):
        visual = ", ".join(m for m in models if m != "multimodal")
        raise CommandError(f"--captions: read by the multimodal model only, not by {visual}")
    if args.captions is None and "multimodal" in models:
        raise CommandError("the multimodal model needs --captions")
    if not Path(args.labels).is_file():
        raise CommandError(f"--labels: {args.labels}: no such file")
    if not Path(args.features).is_dir():
        raise CommandError(f"--features: {args.features} is not a folder")
    if args.captions is not None and not Path(args.captions).is_file():
        raise CommandError(f"--captions: {args.captions}: no such file")


# -- clips --------------------------------------------------------------------------


def is_media(path):
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


def clip_paths(inputs, videos_dir=None):
    """Clip paths from files, folders of clips and CSV files, in the given order."""
    paths = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and is_media(p))
            if not found:
                raise CommandError(f"{path}: no video or image file in this folder")
            paths.extend(found)
        elif path.suffix.lower() in (".csv", ".txt"):
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            paths.extend(_csv_videos(path, videos_dir))
        elif not path.is_file():
            raise CommandError(f"{path}: no such file")
        else:
            paths.append(path)
    seen = {}
    for path in paths:  # run-file rows and labels name clips by their canonical id
        first = seen.setdefault(clip_id(path), path)
        if first != path:
            raise CommandError(f"two clips have the id {clip_id(path)!r}: {first} and {path}")
    return paths


def clip_inputs(inputs, paths):
    """The inputs of a command reading clips, for :func:`check_separate`: each clip and each named input."""
    return [("clip", path, False) for path in paths] + [("argument", item, False) for item in inputs]


def check_prediction_paths(args, feature_folder):
    """``skmem predict``: its run file and cache are none of its inputs (model, captions, features or clips)."""
    inputs = [("MODEL", args.model, False), ("--captions", args.captions, False)]
    if feature_folder is not None:
        inputs.append(("feature folder", feature_folder, True))
    else:
        inputs += clip_inputs(args.inputs, clip_paths(args.inputs, args.videos_dir))
    check_separate([("--out", args.out, False), ("--cache", args.cache, True)], inputs)


# -- data -----------------------------------------------------------------------------------


def option_error(exc):
    """A :class:`CommandError` for clips a feature folder or captions file lacks, naming the option."""
    return CommandError(f"--{exc.source}: {exc}")


def load_dataset(args):
    """The data options loaded: a Bunch of ``X``, ``y``, ``names``, ``config``, ``description`` and ``params``.

    ``X`` is the feature array, or with ``--captions`` a DataFrame of the
    ``caption`` text and the pooled visual columns (see
    :func:`skmem.datasets.load_feature_folder`). ``description`` describes
    ``X`` for :func:`skmem.pipelines.make_model`; with ``--target long``
    (unless ``--no-auxiliary-target``) it names the labels' short-term
    scores as the auxiliary target, whose values ``params`` gives every fit.
    """
    from sklearn.utils import Bunch

    from skmem.datasets import MissingClipsError, load_feature_folder
    from skmem.pipelines import AUXILIARY_TARGETS, describe_input

    captions = args.captions is not None
    try:
        data = load_feature_folder(args.features, args.labels, captions=args.captions, pool=captions)
    except MissingClipsError as exc:
        raise option_error(exc) from None
    X = data.frame[["caption", *data.feature_columns["visual"]]] if captions else data.features
    target = TARGETS[args.target]
    auxiliary = AUXILIARY_TARGETS.get(target) if args.auxiliary_target else None  # labels hold both targets
    description = describe_input(
        X, text="caption" if captions else (), features=data.feature_columns, auxiliary=auxiliary
    )
    return Bunch(
        X=X, y=data[target], names=data.frame["video"].to_numpy(), config=data.feature_config,
        description=description, params={"auxiliary": data[auxiliary]} if auxiliary else {},
    )


def auxiliary_note(data):
    """``", with <target> as auxiliary target"`` when the models train with one, else ``""``."""
    auxiliary = data.description.auxiliary
    return f", with {auxiliary} as auxiliary target" if auxiliary else ""


# -- models -------------------------------------------------------------------------------


def apply_overrides(models, overrides):
    """Set ``--set`` values on each model's final estimator that has the parameter."""
    from skmem._params import final_step

    for name, value in overrides:
        used = False
        for model in models.values():
            key = final_step(model)[0] + name
            if key in model.get_params():
                model.set_params(**{key: value})
                used = True
        if not used:
            raise UsageError(f"--set {name}: not a parameter of {', '.join(models)}")


def check_parameters(models):
    """Validate the parameters of every estimator in each model (``--set`` values included) before any work; exit 2 naming ``--set``."""
    from skmem._params import InvalidParameterError

    for model in models.values():
        for part in [model, *model.get_params().values()]:
            if hasattr(part, "_validate_params") and not isinstance(part, type):
                try:
                    part._validate_params()
                except InvalidParameterError as exc:
                    raise UsageError(f"--set: {exc}") from None


def build_models(names, data, args):
    """The presets ``names`` (:data:`skmem.pipelines.PRESETS`) for the loaded ``data``, with the ``--set`` values applied.

    ``multimodal`` reads the ``caption`` column and the pooled visual
    columns; it needs ``--captions``, which the other (visual) models do not
    read. It leaves out sentence embeddings (a sentence model on disk and
    the ``text`` extra), as the command line has no option for them.
    """
    from skmem.pipelines import make_model

    models = {}
    for name in names:
        options = {"embeddings": False} if name == "multimodal" else {}
        models[name] = make_model(name, data.description, random_state=args.seed, device=args.device, **options)
    apply_overrides(models, args.overrides)
    check_parameters(models)
    return models
