"""``skmem cv``: cross-validate models on one feature folder; print a table."""

import json

from skmem.cli.common import (
    MODELS, add_data_options, auxiliary_note, build_models, check_folds, check_inputs, check_outputs, check_separate,
    data_inputs, int_at_least, jobs, load_dataset, model_list,
)


def add_parser(commands):
    parser = commands.add_parser("cv", help="cross-validate models; print Spearman/Pearson/MSE per model")
    add_data_options(parser)
    parser.add_argument("--models", type=model_list, default=["ridge", "svr"], help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("--folds", type=int_at_least(2), default=5, help="shuffled cross-validation folds, seeded by --seed (default: 5)")
    parser.add_argument("--jobs", type=jobs, default=None, help="folds fitted in parallel (joblib; -1: every core)")
    parser.add_argument("--csv", default=None, metavar="PATH", help="also write the table as CSV")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the table and fold scores as JSON")
    parser.set_defaults(handler=run)


def format_table(table):
    """The table as fixed-width text: mean ± sd over folds, and the pooled rho."""
    lines = [f"{'model':<10}{'spearman':>18}{'pearson':>18}{'mse':>20}{'pooled rho':>12}"]
    for name, row in table.iterrows():
        cells = [f"{row[f'{m}_mean']:.3f} ± {row[f'{m}_std']:.3f}" for m in ("spearman", "pearson")]
        cells.append(f"{row['mse_mean']:.5f} ± {row['mse_std']:.5f}")
        lines.append(f"{name:<10}{cells[0]:>18}{cells[1]:>18}{cells[2]:>20}{row['spearman_pooled']:>12.3f}")
    return "\n".join(lines)


def run(args):
    from skmem.evaluation import cross_validation_table
    from skmem.persistence import atomic_path

    check_inputs(args, args.models)
    check_separate([("--csv", args.csv, False), ("--json", args.json, False)], data_inputs(args))
    check_outputs(csv=args.csv, json=args.json)
    data = load_dataset(args)
    y = data.y
    check_folds(args.folds, len(y))
    models = build_models(args.models, data, args)
    result = cross_validation_table(
        models, data.X, y, cv=args.folds, random_state=args.seed, params=data.params, n_jobs=args.jobs
    )
    print(f"{len(y)} clips, {args.target}-term memorability{auxiliary_note(data)}, "
          f"{args.folds}-fold cross-validation (shuffled, seed {args.seed})")
    print(format_table(result.table))
    if args.csv:
        with atomic_path(args.csv) as temporary:
            result.table.to_csv(temporary)
    if args.json:
        payload = {
            "target": args.target, "auxiliary_target": data.description.auxiliary, "folds": args.folds, "seed": args.seed, "n_clips": len(y),
            "table": result.table.to_dict(orient="index"), "fold_scores": result.fold_scores,
        }
        with atomic_path(args.json) as temporary, open(temporary, "w") as fh:
            json.dump(payload, fh, indent=1)
    return 0
