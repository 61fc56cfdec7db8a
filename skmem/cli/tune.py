"""``skmem tune``: an Optuna study over one model's hyper-parameters."""

from pathlib import Path

from skmem.cli.common import (
    MODELS, CommandError, UsageError, add_data_options, build_models, check_folds, check_inputs, check_outputs,
    check_separate, data_inputs, int_at_least, jobs, load_dataset, positive_float,
)
from skmem.cli.fit import bundle_metadata, input_paths


def add_parser(commands):
    parser = commands.add_parser("tune", help="search hyper-parameters with Optuna (resumable, pruned)")
    add_data_options(parser)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--trials", type=int_at_least(1), default=50, help="finished trials wanted in total (default: 50)")
    parser.add_argument("--storage", default=None, help="sqlite:///file.db, a .db or .log file, or a database URL")
    parser.add_argument("--study-name", default=None, help="rerun with the same name and storage to resume")
    parser.add_argument("--overwrite-study", action="store_true",
                        help="delete the stored study of that name (made from other data, folds or search space) and start again")
    parser.add_argument("--folds", type=int_at_least(2), default=5, help="shuffled folds, seeded by --seed (those of 'skmem cv')")
    parser.add_argument("--timeout", type=positive_float, default=None, help="seconds after which no new trial starts")
    parser.add_argument("--jobs", type=jobs, default=1, help="trials run at once (default: 1)")
    parser.add_argument("--no-pruning", dest="pruning", action="store_false", help="run every trial to the end")
    parser.add_argument("--plot", default="optimization-history.png", metavar="PNG", help="optimisation-history plot")
    parser.add_argument("--out", default=None, metavar="MODEL", help="also save the refitted best model (skops format, as 'skmem fit')")
    parser.set_defaults(handler=run)


def storage_file(storage):
    """The file of a ``--storage`` kept in a file (a path or a ``sqlite:///`` URL), or None."""
    if storage is None:
        return None
    if storage.startswith("sqlite:///"):
        return storage[len("sqlite:///") :] or None
    return None if "://" in storage else storage


def check_plot_format(path):
    """The format of ``path`` (its suffix) is one matplotlib writes."""
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if Path(path).suffix.lstrip(".").lower() not in formats:
        raise UsageError(f"--plot {path}: not an image format matplotlib writes ({', '.join(sorted(formats))})")


def save_figure(figure, path):
    """Save ``figure`` atomically to ``path`` and release it."""
    import matplotlib.pyplot as plt

    from skmem.persistence import atomic_path

    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=100, bbox_inches="tight")
    except OSError as exc:
        raise CommandError(f"--plot {path}: not written ({exc})") from None
    finally:
        plt.close(figure)


def run(args):
    import optuna

    from skmem.persistence import save_model
    from skmem.tuning import plot_history, study_summary, tune

    check_inputs(args, [args.model])
    storage = storage_file(args.storage)
    check_separate(
        [("--out", args.out, False), ("--plot", args.plot, False), ("--storage", storage, False)], data_inputs(args)
    )
    check_outputs(out=args.out, plot=args.plot)
    check_plot_format(args.plot)
    data = load_dataset(args)
    X, y = data.X, data.y
    check_folds(args.folds, len(y))
    model = build_models([args.model], data, args)[args.model]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        best, study = tune(
            model, X, y, n_trials=args.trials, timeout=args.timeout, cv=args.folds,
            storage=args.storage, study_name=args.study_name or f"skmem-{args.model}-{args.target}",
            pruning=args.pruning, n_jobs=args.jobs, random_state=args.seed, overwrite=args.overwrite_study,
            params=data.params, provenance={"clip ids": list(data.names), "feature configuration": data.config},
            verbose=1,
        )
    except RuntimeError as exc:  # every trial failed or was pruned: the study says why
        raise CommandError(str(exc)) from None
    summary = study_summary(study)
    print(f"study {summary['study_name']}: {summary['n_trials']} trials "
          f"({summary['complete']} complete, {summary['pruned']} pruned, {summary['fail']} failed, {summary['running']} running"
          + (f", {summary['surplus']} dropped as surplus" if summary["surplus"] else "") + ")")
    if summary.get("first_failure"):
        print(f"first failure: {summary['first_failure']}")
    print(f"best trial {summary['best_trial']}: score {summary['best_value']:.4f}")
    for name, value in summary["best_params"].items():
        print(f"  {name} = {value!r}")
    if args.out:
        save_model(args.out, best, feature_config=data.config, inputs=input_paths(args), **bundle_metadata(args, data))
        print(f"best model refitted on {len(y)} clips -> {args.out}")
    save_figure(plot_history(study).figure, args.plot)
    print(f"optimisation history -> {args.plot}")
    return 0
