"""The scenario registry itself: it exercises every option, and every scenario synthesizes
manifests that validate strictly."""

from __future__ import annotations

import inspect

import pytest

from prepuller import ImagePrepuller
from tests.conftest import validate_strictly
from tests.scenarios import SCENARIOS, Scenario


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
    assert {m["kind"] for m in manifests} >= {"DaemonSet"}
    validate_strictly(manifests)


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario_output_is_deterministic(scenario: Scenario) -> None:
    assert scenario.manifests() == scenario.manifests()
