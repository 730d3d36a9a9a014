"""The scenario registry itself: it exercises every option, and every scenario synthesizes
manifests that validate strictly."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from prepuller import ImagePrepuller
from tests.conftest import validate_strictly
from tests.scenarios import SCENARIOS, Scenario, Workloads

CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}


def keyword_options() -> dict[str, inspect.Parameter]:
    """The keyword options of ``ImagePrepuller`` (everything but scope, id and ``**unknown``)."""
    parameters = inspect.signature(ImagePrepuller.__init__).parameters
    return {name: p for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_every_option_is_exercised_by_a_scenario() -> None:
    missing = []
    for name, parameter in keyword_options().items():
        used = [
            s.name
            for s in SCENARIOS.values()
            if name in s.options
            and (parameter.default is inspect.Parameter.empty or s.options[name] != parameter.default)
        ]
        if not used:
            missing.append(name)
    assert missing == [], f"add a scenario to tests/scenarios.py that sets {missing} to a non-default value"


def test_scenarios_use_only_real_options() -> None:
    options = keyword_options()
    for scenario in SCENARIOS.values():
        assert set(scenario.options) <= set(options), scenario.name


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario_validates_strictly(scenario: Scenario) -> None:
    manifests = scenario.manifests()
    validate_strictly(manifests)
    # What was validated is the scenario's own output, not an empty or default one.
    options = scenario.options
    daemon_sets = [m for m in manifests if m["kind"] == "DaemonSet"]
    name = options.get("name", scenario.name)
    expected_names = (
        [name]
        if options.get("parallel_pulls", 1) == 1
        else [f"{name}-{n}" for n in range(1, options["parallel_pulls"] + 1)]
    )
    assert [d["metadata"]["name"] for d in daemon_sets] == expected_names
    namespace = options.get("namespace", scenario.namespace)
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] not in CLUSTER_SCOPED} == {namespace}
    images = list(options.get("images", []))
    if isinstance(options.get("images_from"), Workloads):
        images += options["images_from"].images
    written = json.dumps(daemon_sets)
    # With a lock, each image is written as <reference as written>@<its locked digest>.
    locked = json.loads(Path(options["lock"]).read_text())["images"] if "lock" in options else None
    for image in images:
        expected = image if locked is None else f"{image}@{locked[image]['digest']}"
        assert json.dumps(expected) in written, expected
    kinds = [m["kind"] for m in manifests]
    assert ("NetworkPolicy" in kinds) == options.get("network_policy", True)
    assert ("CronJob" in kinds) == ("refresh_schedule" in options)
    if "refresh_schedule" in options:
        assert next(m for m in manifests if m["kind"] == "CronJob")["spec"]["schedule"] == options["refresh_schedule"]
    if "startup_taint" in options:
        for daemon_set in daemon_sets:
            keys = [t.get("key") for t in daemon_set["spec"]["template"]["spec"]["tolerations"]]
            assert options["startup_taint"] in keys


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario_output_is_deterministic(scenario: Scenario) -> None:
    assert scenario.manifests() == scenario.manifests()
