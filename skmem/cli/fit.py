"""``skmem fit``: train one model on every labelled clip and save it."""

from skmem.cli.common import (
    MODELS, add_data_options, auxiliary_note, build_models, check_inputs, check_outputs, check_separate, data_inputs,
    load_dataset,
)


def add_parser(commands):
    parser = commands.add_parser("fit", help="train one model on all labelled clips and save it")
    add_data_options(parser)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--out", required=True, metavar="MODEL", help="output file (skops format, loaded without running code from it), e.g. model.skops")
    parser.set_defaults(handler=run)


def run(args):
    from skmem.persistence import save_model

    check_inputs(args, [args.model])
    check_separate([("--out", args.out, False)], data_inputs(args))
    check_outputs(out=args.out)
    data = load_dataset(args)
    model = build_models([args.model], data, args)[args.model]
    model.fit(data.X, data.y, **data.params)
    save_model(args.out, model, feature_config=data.config, inputs=input_paths(args), **bundle_metadata(args, data))
    print(f"{args.model} fitted on {len(data.y)} clips ({args.target}-term{auxiliary_note(data)}) -> {args.out}")
    return 0


def input_paths(args):
    """The files and folders a saved model is made from (``save_model(inputs=)``)."""
    return [path for _, path, _ in data_inputs(args) if path is not None]


def bundle_metadata(args, data):
    """What a saved model records about the command that trained it."""
    return {
        "model_name": args.model, "target": args.target, "auxiliary_target": data.description.auxiliary,
        "captions": args.captions is not None,
    }
