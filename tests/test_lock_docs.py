"""docs/lock.md embeds `prepuller lock --help` verbatim (generated from the parser, never copied)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prepuller._cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs" / "lock.md"


def test_docs_embed_the_current_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Regenerate with ``COLUMNS=100 prepuller lock --help`` between the lock-help markers."""
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["lock", "--help"]) == 0
    help_text = capsys.readouterr().out
    match = re.search(r"<!-- lock-help:start -->\n```text\n(.*?)```\n<!-- lock-help:end -->", DOCS.read_text(), re.S)
    assert match is not None, "docs/lock.md lacks the lock-help markers"
    assert match[1] == help_text
