"""The docs: generated reference pages are current, nothing the code says is hand-kept, and the
README stays a short front door whose links lead into docs/."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from prepuller import ImagePrepuller, _cli
from prepuller._values import values_schema
from tools import generate_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
GENERATED = {ROOT / page for page in generate_docs.PAGES}

OPTIONS = [
    name
    for name, parameter in inspect.signature(ImagePrepuller.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
]


@pytest.mark.parametrize("page", sorted(generate_docs.PAGES))
def test_generated_pages_are_current(page: str) -> None:
    """A docstring, an option, the values schema or a parser changed without `make docs-generate`."""
    written = (ROOT / page).read_text(encoding="utf-8")
    assert written == generate_docs.PAGES[page](), f"{page} is stale: run `make docs-generate` and commit it"


def test_a_stale_page_is_reported_by_the_check(tmp_path: Path) -> None:
    for page, generate in generate_docs.PAGES.items():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(generate(), encoding="utf-8")
    assert generate_docs.stale_pages(tmp_path) == []
    options = tmp_path / "docs" / "reference" / "options.md"
    options.write_text(options.read_text().replace('`{"kubernetes.io/os": "linux"}`', "`{}`"))
    assert generate_docs.stale_pages(tmp_path) == ["docs/reference/options.md"]


def test_every_option_and_values_key_is_in_the_options_reference() -> None:
    page = (DOCS / "reference" / "options.md").read_text()
    for option in OPTIONS:
        assert f"\n### `{option}`\n" in page, option
    keys = [key for key in values_schema()["properties"] if key != "docker"] + ["docker.images", "docker.hostPath"]
    for key in keys:
        assert f"| `{key}` |" in page, key
    # the drift that started this page: keep mode's limits include the CPU limit
    assert (
        "| [`keep_resources`](#keep_resources) | `requests: {cpu: 1m, memory: 4Mi}, limits: {cpu: 50m, memory: 64Mi}` |"
        in page
    )
    assert (
        '| `keepResources` | mapping | `{"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"cpu": "50m", "memory": "64Mi"}}` |'
        in page
    )


def test_every_subcommand_is_in_the_cli_reference() -> None:
    page = (DOCS / "reference" / "cli.md").read_text()
    for name in _cli._COMMANDS:
        assert f"\n## `prepuller {name}`\n" in page, name
    assert "\n## `main.py`\n" in page
    assert "`--version`" in page


def test_a_new_subcommand_is_picked_up_without_touching_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    def add_parser(subparsers: Any) -> None:
        parser = subparsers.add_parser("frobnicate", help="frobnicate the nodes", description="Frobnicate them all.")
        parser.add_argument("--hard", action="store_true", help="frobnicate harder")

    module = SimpleNamespace(add_parser=add_parser, run=lambda args: 0)
    monkeypatch.setitem(_cli._COMMANDS, "frobnicate", module)  # type: ignore[arg-type]
    page = generate_docs.cli_page()
    assert "| [`frobnicate`](#prepuller-frobnicate) | frobnicate the nodes |" in page
    assert "\n## `prepuller frobnicate`\n\nFrobnicate them all.\n" in page
    assert "| `--hard` | frobnicate harder |" in page


def test_no_hand_kept_option_or_flag_table_outside_the_generated_pages() -> None:
    """Option tables drifted from the code before; only the generated pages may list options,
    values keys or flags in a table (one whose rows mostly start with them)."""
    flags = {option for action in _all_actions(_cli.build_parser()) for option in action.option_strings}
    keys = (set(values_schema()["properties"]) - {"docker"}) | {"docker.images", "docker.hostPath"}
    for page in [README, *DOCS.rglob("*.md")]:
        if page in GENERATED:
            continue
        for table in re.findall(r"(?:^\|.*\n)+", page.read_text(), flags=re.MULTILINE):
            firsts = re.findall(r"^\| `([^`]+)`", table, flags=re.MULTILINE)
            copied = [cell for cell in firsts if cell in OPTIONS or cell in keys or cell.split()[0] in flags]
            hand_kept = len(copied) >= 2 and 2 * len(copied) > len(firsts)
            assert not hand_kept, f"{page.relative_to(ROOT)} has a hand-kept table of {copied}: link the reference"


def test_the_readme_is_a_short_front_door() -> None:
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) <= 300
    assert lines[0] == "# prepuller"
    assert lines[2:6] == [
        "```bash",
        lines[3],
        lines[4],
        "```",
    ]
    assert lines[3].startswith("make synth ") and lines[4].startswith("make test ")
    # the package is not on an index: a bare `pip install cdk8s-image-prepuller` only as the future route
    for line in lines:
        if re.search(r"pip install cdk8s-image-prepuller\b", line):
            assert "not yet" in line, line


def test_the_readme_links_into_docs_with_relative_links_that_exist() -> None:
    links = re.findall(r"\]\(([^)]+)\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        path = link.split("#", 1)[0]
        assert path.startswith("docs/"), link
        assert (ROOT / path).is_file(), link


def test_pictures_are_text() -> None:
    """Pictures are Mermaid blocks in the pages, not binaries."""
    assert "```mermaid" in README.read_text()
    assert "```mermaid" in (DOCS / "guide" / "how-it-works.md").read_text()
    binaries = [p for p in DOCS.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".svg")]
    assert binaries == []


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                actions += _all_actions(subparser)
    return actions
