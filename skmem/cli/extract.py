"""``skmem extract``: decode clips and fill a resumable CNN feature folder."""

import sys
import warnings
from pathlib import Path

from skmem.cli.common import (
    CommandError, auto_or_int_at_least, check_outputs, check_separate, clip_inputs, clip_paths, device, int_at_least,
    weights,
)

CAPTIONS_FILE = "captions.csv"


def add_parser(commands):
    parser = commands.add_parser(
        "extract",
        help="decode clips and store CNN features, one .npy per clip",
        description="Decode clips and write CNN features, one .npy per clip, into a resumable feature store. "
        "Exit status 1 when any clip failed, unless --keep-going.",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="VIDEOS_OR_CSV",
        help="video files, folders of videos, or a CSV with a 'video' column (names relative to the CSV's folder)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="feature store folder (created if missing)")
    parser.add_argument("--videos-dir", default=None, metavar="DIR", help="folder the CSV's video names are in")
    parser.add_argument("--keep-going", action="store_true", help="exit with status 0 even when some clips failed")
    parser.add_argument(
        "--tags", action="store_true",
        help=f"also describe each clip in words (the backbone's top labels) into DIR/{CAPTIONS_FILE}, usable as "
        "--captions; the class scores come from the same decode and forward pass as the features",
    )
    parser.add_argument(
        "--tag-labels", default=None, metavar="FILE",
        help="class names of a checkpoint's classes for --tags, one per line (default: the ImageNet names)",
    )
    parser.add_argument(
        "--shards", type=int_at_least(1), default=None,
        help="split the clips into this many shards, run as tasks of the joblib backend (local processes, "
        "or a Dask cluster with --scheduler); every shard writes into --out",
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="Dask scheduler running the shards, e.g. tcp://host:8786 (give each GPU worker one device)",
    )
    add_feature_options(parser)
    parser.set_defaults(handler=run)


def add_feature_options(parser):
    """Options that determine the features (recorded in the feature folder)."""
    parser.add_argument(
        "--backbone", default="resnet50",
        help="a torchvision image or video network (vit_b_16, r2plus1d_18, ...), timm/<model>, "
        "open_clip/<architecture>, resmem or resmem_resnet152 (default: resnet50); see the Backbones page",
    )
    parser.add_argument(
        "--weights", type=weights, default="DEFAULT",
        help="DEFAULT, a torchvision weights name or timm/open_clip pretrained tag, 'none' (random) "
        "or a checkpoint path",
    )
    parser.add_argument(
        "--frames", type=int_at_least(1), default=8,
        help="frames per clip (default: 8; video networks: a multiple of their segment length, e.g. 16)",
    )
    parser.add_argument("--layer", default=None, help="spatial layer, e.g. layer3 (default: pooled features)")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument(
        "--jobs", type=auto_or_int_at_least(0), default="auto",
        help="decoding threads (default: auto; 0 decodes between batches)",
    )
    parser.add_argument(
        "--batch-size", type=auto_or_int_at_least(1), default="auto", help="frames per forward pass (default: auto)"
    )


def check_out_folder(out):
    """Create the feature folder ``out`` when missing and check that it is writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    check_outputs(out=out / CAPTIONS_FILE)


def run_extraction(featurizer, paths, shards, scheduler):
    """``featurizer.extract(paths)``, sharded over the joblib backend (a Dask cluster with ``scheduler``)."""
    import contextlib

    import joblib

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            from distributed import Client

            stack.enter_context(Client(scheduler))
            stack.enter_context(joblib.parallel_config(backend="dask"))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="skipping clip")  # listed with their reasons below
            return featurizer.extract([str(p) for p in paths], n_shards=shards)


def extra_outputs(folder, wanted=()):
    """The extra outputs to compute into ``folder``: ``wanted``, or the ones it records when they include them.

    A store records one configuration: a folder extracted with ``--tags``
    keeps storing class scores when extended without it.
    """
    from skmem.features.store import read_config

    recorded = read_config(folder) if Path(folder).is_dir() else None
    if recorded is None:
        return tuple(wanted)
    recorded = tuple(recorded.get("extra_outputs", ()))
    return recorded if set(wanted) <= set(recorded) else ()


def tag_captioner(featurizer, labels=None):
    """A fitted :class:`skmem.text.TagCaptioner` reading the class scores of ``featurizer`` (and its store)."""
    from skmem.text import TagCaptioner

    return TagCaptioner(featurizer, labels).fit()


def write_tags(captioner, paths, out):
    """Caption each clip in words; write ``out/captions.csv`` (``video,caption``) atomically."""
    import csv

    from skmem.persistence import atomic_path

    captions = captioner.transform([str(p) for p in paths])
    with atomic_path(Path(out) / CAPTIONS_FILE) as temporary, open(temporary, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["video", "caption"])
        writer.writerows(zip((p.name for p in paths), captions))


def run(args):
    from skmem.features.cnn import CNNFeaturizer
    from skmem.video import FrameSampler

    paths = clip_paths(args.inputs, args.videos_dir)
    check_separate([("--out", args.out, True)], [*clip_inputs(args.inputs, paths), ("--tag-labels", args.tag_labels, False)])
    if args.tag_labels is not None and not Path(args.tag_labels).is_file():
        raise CommandError(f"--tag-labels: {args.tag_labels}: no such file")
    if args.scheduler is not None and args.shards is None:
        raise CommandError("--scheduler: give --shards too (how many tasks to split the clips into)")
    sampler = FrameSampler(n_frames=args.frames, on_error="warn")
    extras = extra_outputs(args.out, ("logits",) if args.tags else ())
    if args.tags and "logits" not in extras:
        raise CommandError(
            f"--tags: {args.out} holds features extracted without --tags (its entries hold no class scores); "
            "extract into a new folder with --tags"
        )
    featurizer = CNNFeaturizer(
        backbone=args.backbone, weights=args.weights, layer=args.layer, extra_outputs=extras,
        batch_size=args.batch_size, device=args.device, sampler=sampler, cache_dir=args.out, n_workers=args.jobs,
        random_state=0, verbose=1,
    ).fit()  # checks the settings; reads no weights
    captioner = tag_captioner(featurizer, args.tag_labels) if args.tags else None
    check_out_folder(args.out)
    entries = run_extraction(featurizer, paths, args.shards, args.scheduler)
    report = featurizer.report_
    failures = report.failures
    print(f"{args.out}: {report.misses - len(failures)} clip(s) extracted, {report.hits} reused from the store, "
          f"{len(failures)} failed")
    for error in failures:
        print(f"  failed: {error.path}: {error.cause}", file=sys.stderr)
    if captioner is not None:
        good = [p for p, e in zip(paths, entries) if e is not None]
        write_tags(captioner, good, args.out)
        print(f"tag captions of {len(good)} clip(s) -> {Path(args.out) / CAPTIONS_FILE}")
    return 1 if failures and not args.keep_going else 0
