"""Every pod template every scenario emits meets its Pod Security Standards level: restricted,
except the DaemonSets of docker mode, which break exactly the controls the scenario registry
documents (and so need privileged); the refresh CronJob's pods are restricted in every mode."""

from __future__ import annotations

import pytest

from tests import pss
from tests.scenarios import SCENARIOS, Scenario

#: Every kind whose objects hold a pod template (pss.pod_templates reads them all).
POD_KINDS = ("Pod", "DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job", "CronJob")


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_pod_templates_meet_their_level(scenario: Scenario) -> None:
    manifests = scenario.manifests()
    with_pods = [m for m in manifests if m["kind"] in POD_KINDS]
    assert with_pods, "the scenario emits no pod template"
    for manifest in with_pods:
        templates = pss.pod_templates(manifest)
        assert len(templates) == 1, manifest["kind"]  # no template is left unchecked
        [(metadata, spec)] = templates
        prepuller_pods = manifest["kind"] == "DaemonSet"
        expected = scenario.pod_security_exceptions if prepuller_pods else {}
        found = pss.violations(metadata, spec)
        assert set(found) == set(expected), (manifest["kind"], found)
        assert pss.level(metadata, spec) == (scenario.pod_security if prepuller_pods else "restricted")


def test_every_kind_with_pods_is_covered() -> None:
    kinds = {m["kind"] for scenario in SCENARIOS.values() for m in scenario.manifests() if m["kind"] in POD_KINDS}
    assert kinds == {"DaemonSet", "CronJob"}


def test_exceptions_are_restricted_controls_with_reasons() -> None:
    for scenario in SCENARIOS.values():
        for control, reason in scenario.pod_security_exceptions.items():
            assert control in pss.RESTRICTED and reason.strip(), (scenario.name, control)
        assert (scenario.pod_security == "restricted") == (not scenario.pod_security_exceptions), scenario.name


def test_only_docker_mode_needs_privileged() -> None:
    for scenario in SCENARIOS.values():
        docker = scenario.options.get("mode") == "docker"
        assert (scenario.pod_security == "privileged") == docker, scenario.name
