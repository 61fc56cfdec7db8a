"""``skmem demo``: generated clips, two pipelines, one cross-validated table."""


def add_parser(commands):
    parser = commands.add_parser("demo", help="generate clips, cross-validate two pipelines, print a table")
    parser.add_argument("--clips", type=int, default=120, help="number of generated clips (default: 120)")
    parser.add_argument("--out", default=None, help="folder for clips, features and the plot (default: a cache folder)")
    parser.set_defaults(handler=run)


def run(args):
    from skmem.demo import run_demo

    run_demo(n_clips=args.clips, out=args.out)
    return 0
