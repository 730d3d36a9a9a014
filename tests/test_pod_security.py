"""Every pod template every scenario emits meets its Pod Security Standards level: restricted,
except where the scenario registry documents an exception (docker mode)."""

from __future__ import annotations

import pytest

from tests import pss
from tests.scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_pod_templates_meet_their_level(scenario: Scenario) -> None:
    templates = [template for manifest in scenario.manifests() for template in pss.pod_templates(manifest)]
    assert templates, "the scenario emits no pod template"
    for metadata, spec in templates:
        found = pss.violations(metadata, spec)
        assert set(found) == set(scenario.pod_security_exceptions), found
        assert pss.level(metadata, spec) == scenario.pod_security


def test_exceptions_are_restricted_controls_with_reasons() -> None:
    for scenario in SCENARIOS.values():
        for control, reason in scenario.pod_security_exceptions.items():
            assert control in pss.RESTRICTED and reason.strip(), (scenario.name, control)
        assert (scenario.pod_security == "restricted") == (not scenario.pod_security_exceptions), scenario.name
