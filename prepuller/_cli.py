"""The ``prepuller`` command: argument parsing and dispatch to one module per subcommand.

Each subcommand lives in ``_cli_<name>.py`` with ``add_parser(subparsers)`` (which registers
its parser and sets ``run`` as the parser's default ``run``) and ``run(args) -> int``; this
module only wires them up. argparse (stdlib) is enough for a handful of options and gives
``--help`` and usage errors (exit 2) for free.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import _cli_images

__all__ = ["main"]

#: Subcommand modules, in the order ``--help`` lists them.
_SUBCOMMANDS = (_cli_images,)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``prepuller`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = argparse.ArgumentParser(
        prog="prepuller",
        description="Tools around the ImagePrepuller cdk8s construct.",
        epilog="Run 'prepuller COMMAND --help' for the options and exit codes of a command.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _SUBCOMMANDS:
        module.add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # `prepuller images ... | head`: the reader left; not an error worth a traceback.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code
