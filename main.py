"""The example app: ``cdk8s synth`` runs this and writes ``dist/``.

Edit the image list, run ``make synth`` and ``kubectl apply -f dist/``. Or keep the image
list in values files, as with the Helm chart::

    python main.py -f chart-env-config/prod/images-prepuller.yml      # writes dist/
    PREPULLER_VALUES=chart-env-config/prod/images-prepuller.yml make synth

Values files come from ``PREPULLER_VALUES`` (paths separated by ``os.pathsep``, ``:`` on
Linux) and then from each ``-f/--values``, merged in that order as ``helm -f`` merges them.
With none, the image list below is used.

Exit codes: 0 written (or checked, with ``--check``); 1 a values file is unreadable or
invalid (the message on stderr names the file, the key and the value; nothing is written);
2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import cdk8s

from prepuller import ImagePrepuller, PrepullerError, load_values

IMAGES = [
    "docker.io/library/python:3.12-slim",
    "quay.io/jupyter/scipy-notebook:2024-10-07",
    "gcr.io/distroless/static-debian12:nonroot",
]

#: The environment variable ``cdk8s synth`` (which passes no arguments) reads values files from.
VALUES_ENV = "PREPULLER_VALUES"


def build(app: cdk8s.App, values: Mapping[str, Any] | None = None) -> cdk8s.Chart:
    """Define the example chart in ``app``: the image list above, or ``values`` from
    :func:`prepuller.load_values`."""
    chart = cdk8s.Chart(app, "prepuller", namespace="default")
    if values is None:
        ImagePrepuller(chart, "prepull", images=IMAGES)
    else:
        ImagePrepuller(chart, "prepull", **values)
    return chart


def values_files(arguments: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``PREPULLER_VALUES`` entries first, then ``-f`` files: the later wins."""
    from_env = [path for path in environ.get(VALUES_ENV, "").split(os.pathsep) if path]
    return [*from_env, *arguments]


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``main.py`` (also what the CLI reference in ``docs/`` is generated from)."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Synthesize the image prepuller into dist/ (as `cdk8s synth` does).",
        epilog=(
            f"Values files also come from ${VALUES_ENV} (separated by {os.pathsep!r}), before any -f.\n\n"
            "exit codes:\n"
            "  0  dist/ written (with --check: the values files are valid; nothing written)\n"
            "  1  a values file is unreadable or invalid: one line on stderr naming the file, the key\n"
            "     and the value; nothing is written\n"
            "  2  usage error (unknown option)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-f",
        "--values",
        metavar="FILE",
        action="append",
        default=[],
        help="a YAML values file (the Helm chart's docker.images/docker.hostPath, or our keys); repeatable",
    )
    parser.add_argument("--check", action="store_true", help="only validate the values files; write nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    files = values_files(arguments.values, os.environ)
    try:
        values = load_values(*files) if files else None
    except PrepullerError as error:
        print(f"main.py: error: {error}", file=sys.stderr)
        return 1
    if arguments.check:
        return 0
    app = cdk8s.App()
    build(app, values)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
