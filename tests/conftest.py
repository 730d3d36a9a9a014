"""Shared fixtures: a fresh cdk8s chart per test, synth helpers and schema validation."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
from hypothesis import Phase, settings

if TYPE_CHECKING:
    import cdk8s

# cdk8s is imported where a test needs it, not here: importing it starts the jsii kernel (a
# node process, seconds), which the tests of the pure-Python modules (status, references,
# discovery, ...) never use; `make mutate` starts one process per mutant.

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK8S_CHECK_UPGRADE", "false")

#: Kubernetes versions every synthesized manifest must validate against, strictly:
#: the one the bindings target and the newest kubernetes-validate ships.
SCHEMA_VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())


#: The pod security context of the kubelet and keep modes.
RESTRICTED_POD: dict[str, Any] = {
    "runAsGroup": 65534,
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "seccompProfile": {"type": "RuntimeDefault"},
}

#: The security context every container of the kubelet and keep modes has (Pod Security
#: *restricted*, written out here so that a change in the library shows up as a failure).
RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsGroup": 65534,
    "runAsNonRoot": True,
    "runAsUser": 65534,
}


#: For `make mutate`: no deadline (a mutant run shares the CPU), a fixed seed (a mutant is
#: killed or not the same way every run) and no shrinking (a failure is all that counts).
settings.register_profile(
    "mutation",
    deadline=None,
    derandomize=True,
    print_blob=False,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-committed-output",
        action="store_true",
        help="deselect the snapshot and committed dist/ comparisons (make mutate: a regenerable file is no oracle)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-committed-output"):
        return
    compares = [
        item
        for item in items
        if "snapshot" in getattr(item, "fixturenames", ()) or item.get_closest_marker("committed_output")
    ]
    if compares:
        config.hook.pytest_deselected(items=compares)
        items[:] = [item for item in items if item not in compares]
    _order_for_the_mutant(items)


def _order_for_the_mutant(items: list[pytest.Item]) -> None:
    """Under mutmut (which runs each mutant with -x): the mutated module's own test file
    first, then the fastest tests, so that a killed mutant is found killed early."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/
    if not mutant.startswith("prepuller.") or not stats.exists():
        return
    own_tests = f"test_{mutant.split('.')[1].lstrip('_')}.py"
    durations: dict[str, float] = json.loads(stats.read_text(encoding="utf-8"))["duration_by_test"]
    items.sort(key=lambda item: (item.path.name != own_tests, durations.get(item.nodeid, 0.0)))


@pytest.fixture
def chart() -> cdk8s.Chart:
    """An empty chart (no namespace) in its own app."""
    import cdk8s

    return cdk8s.Chart(cdk8s.Testing.app(), "test")


def synth(chart: cdk8s.Chart) -> list[dict[str, Any]]:
    """The chart's manifests as dicts (``cdk8s.Testing.synth``)."""
    import cdk8s

    return list(cdk8s.Testing.synth(chart))


def only(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one manifest of ``kind``."""
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, [m["kind"] for m in manifests]
    return found[0]


def validate_strictly(manifests: list[dict[str, Any]]) -> None:
    """Every manifest passes ``kubernetes-validate --strict`` for each of SCHEMA_VERSIONS."""
    for manifest in manifests:
        for version in SCHEMA_VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)


def pod_spec(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = only(manifests, "DaemonSet")["spec"]["template"]["spec"]
    return spec


SynthFn = Callable[["cdk8s.Chart"], list[dict[str, Any]]]
