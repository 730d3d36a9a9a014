"""checkov on every scenario: 0 failed checks, and every skip is one of the library's own,
documented and necessary (without it, checkov would fail exactly that check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepuller import _checkov
from tests.checkov_runner import ScenarioFindings, findings, results_table, start, strip_skips, synthesize
from tests.scenarios import IMAGES, SCENARIOS, Scenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "security.md"

pytestmark = pytest.mark.slow

Findings = dict[str, ScenarioFindings]

#: Choices that weaken the defaults: the library must leave them visible to the scanner.
WEAKENED = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "explicit-default-namespace",
            {"images": IMAGES},
            namespace="default",
            checkov_failures={"CKV_K8S_21": "the user put the prepuller in the default namespace"},
        ),
        Scenario(
            "limits-removed",
            {"images": IMAGES, "resources": {"limits": {"cpu": None, "memory": None}}},
            checkov_failures={
                "CKV_K8S_11": "the user removed the CPU limit",
                "CKV_K8S_13": "the user removed the memory limit",
            },
        ),
    )
}
ALL = {**SCENARIOS, **WEAKENED}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Findings, Findings]:
    """One checkov run over all scenarios as synthesized, one over copies without skip
    annotations; both at once (each takes a few seconds, mostly start-up)."""
    annotated = tmp_path_factory.mktemp("annotated")
    stripped = tmp_path_factory.mktemp("stripped")
    synthesize(list(ALL.values()), annotated)
    strip_skips(annotated, stripped)
    first, second = start(annotated), start(stripped)
    try:
        (with_skips, summary), (without_skips, _) = findings(first), findings(second)
    finally:
        for process in (first, second):
            process.kill()
            process.communicate()
    assert summary["parsing_errors"] == 0, summary
    assert set(with_skips) == set(ALL), "checkov saw no resources for some scenario"
    return with_skips, without_skips


@pytest.mark.parametrize("scenario", ALL.values(), ids=ALL.keys())
def test_no_failed_checks(runs: tuple[Findings, Findings], scenario: Scenario) -> None:
    """0 failed checks, except (only in WEAKENED) exactly those the user's choice brings."""
    found = runs[0][scenario.name]
    assert found.passed, "checkov ran no check at all"
    assert sorted(found.failed) == sorted(scenario.checkov_failures), (
        "fix the construct, or add the check to prepuller/_checkov.py SKIPS with its reason "
        "(and docs/security.md) if it truly does not apply"
    )


@pytest.mark.parametrize("scenario", ALL.values(), ids=ALL.keys())
def test_every_skip_is_documented(runs: tuple[Findings, Findings], scenario: Scenario) -> None:
    for check, comment in runs[0][scenario.name].skipped.items():
        assert comment == _checkov.reason(check), check


@pytest.mark.parametrize("scenario", ALL.values(), ids=ALL.keys())
def test_every_skip_is_needed(runs: tuple[Findings, Findings], scenario: Scenario) -> None:
    """Without the annotations, exactly the skipped checks (and the expected ones) fail."""
    with_skips, without_skips = runs
    expected = set(with_skips[scenario.name].skipped) | set(scenario.checkov_failures)
    assert set(without_skips[scenario.name].failed) == expected


def test_docs_show_the_current_results(runs: tuple[Findings, Findings]) -> None:
    table = results_table({name: found for name, found in runs[0].items() if name in SCENARIOS})
    assert table in DOCS.read_text(), f"update the checkov results in docs/security.md to:\n{table}"
