"""The ``prepuller`` command itself: ``--version`` and its subcommands."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from prepuller import _cli

CONSOLE_SCRIPT = Path(sys.executable).with_name("prepuller")


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv", [[sys.executable, "-m", "prepuller"], [str(CONSOLE_SCRIPT)]], ids=["python-m", "script"]
)
def test_version_prints_the_installed_distributions_version(argv: list[str]) -> None:
    version = metadata.version("cdk8s-image-prepuller")
    done = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"prepuller {version}\n", "")


def test_version_is_unknown_when_the_package_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert _cli.version() == "unknown"


def test_the_parser_has_every_subcommand() -> None:
    parser = _cli.build_parser()
    [subparsers] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    assert list(subparsers.choices) == list(_cli._COMMANDS)
