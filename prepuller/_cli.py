"""The ``prepuller`` command: argument parsing and dispatch only.

Each subcommand lives in its own module (``_cli_<name>.py``) exposing
``add_parser(subparsers) -> None`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from types import ModuleType

from . import _cli_images, _cli_lock, _cli_status

__all__ = ["build_parser", "main", "version"]

#: Subcommand name -> its module.
_COMMANDS: dict[str, ModuleType] = {"images": _cli_images, "lock": _cli_lock, "status": _cli_status}

#: The distribution the ``prepuller`` package is installed from.
DISTRIBUTION = "cdk8s-image-prepuller"


def version() -> str:
    """The installed distribution's version, or ``unknown`` when the package is run from a
    source tree that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``prepuller`` argument parser, with every subcommand (also what the CLI reference
    in ``docs/`` is generated from)."""
    parser = argparse.ArgumentParser(
        prog="prepuller",
        description="Pre-pull container images onto every Kubernetes node: tools for the ImagePrepuller construct.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS.values():
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``prepuller`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version (0) and usage errors (2): argparse has printed them
        return exit.code if isinstance(exit.code, int) else 2
    try:
        code: int = _COMMANDS[args.command].run(args)
    except BrokenPipeError:
        # `prepuller images ... | head`: the reader left; not an error worth a traceback.
        # Point stdout at /dev/null so that the interpreter's last flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code
