"""The ``skmem`` command line: one module per command, over library functions.

``skmem extract`` writes a resumable per-clip feature folder, ``skmem cv``
compares models by cross-validation, ``skmem tune`` runs an Optuna study,
``skmem fit`` trains one model and ``skmem predict`` writes a MediaEval run
file. Every command checks its inputs and output locations before any work,
writes its main result atomically and before any optional extra (a plot).

Exit status: 0 on success; 1 on an expected failure, reported in one line
naming the file, row or option (``extract`` also when a clip failed, unless
``--keep-going``); 2 on a usage error (an invalid option value, or an output
that is also an input); 130 when interrupted (Ctrl-C, or SIGTERM, which a
command handles the same way: nothing half-done is saved as done).
"""

import argparse
import sys
import warnings

from skmem._signals import terminate_as_interrupt
from skmem.cli import cv, demo, extract, fit, predict, tune
from skmem.cli.common import CommandError, UsageError

__all__ = ["main", "build_parser", "CommandError", "UsageError"]

COMMANDS = (demo, extract, cv, tune, fit, predict)


def build_parser():
    """The argument parser of the ``skmem`` command."""
    parser = argparse.ArgumentParser(prog="skmem", description="Predict how memorable videos and images are.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None):
    return f"skmem: warning: {message}\n"


def main(argv=None):
    """Run the command line; returns the exit status (argparse exits with 2 on usage errors)."""
    args = build_parser().parse_args(argv)
    format_warning = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        with terminate_as_interrupt():
            return args.handler(args)
    except UsageError as exc:
        print(f"skmem {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (CommandError, ValueError, OSError) as exc:  # the documented errors of skmem, sklearn and the OS
        message = " ".join(str(exc).split())
        print(f"skmem {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"skmem {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = format_warning
