"""Every manifest we synthesize meets a real API server: server-side validation, RBAC's
escalation checks and Pod Security admission. The example app's ``dist/`` and every scenario of
every mode and option (``tests/scenarios.py``) are accepted in a namespace that enforces the
restricted level; docker mode is rejected there by admission (its pods) and accepted in a
privileged namespace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios import SCENARIOS, Scenario

from .kube import Cluster, relocate

DIST = Path(__file__).parents[2] / "dist"
PSA_WARNING = 'would violate PodSecurity "restricted:latest"'
RESTRICTED = [s for s in SCENARIOS.values() if s.pod_security == "restricted"]
PRIVILEGED = [s for s in SCENARIOS.values() if s.pod_security != "restricted"]


@pytest.fixture
def restricted_default(cluster: Cluster) -> Iterator[Cluster]:
    """The ``default`` namespace (dist/'s) enforcing the restricted level for the test."""
    cluster.kubectl("label", "namespace", "default", "pod-security.kubernetes.io/enforce=restricted", "--overwrite")
    yield cluster
    cluster.kubectl("delete", "-f", str(DIST), "--ignore-not-found", "--wait=false", check=False)
    cluster.kubectl("label", "namespace", "default", "pod-security.kubernetes.io/enforce-")


def test_dist_applies_into_a_restricted_namespace(restricted_default: Cluster) -> None:
    cluster = restricted_default
    result = cluster.kubectl("apply", "-f", str(DIST))
    assert "daemonset.apps/prepull created" in result.stdout
    assert "networkpolicy.networking.k8s.io/prepull" in result.stdout
    assert "PodSecurity" not in result.stderr, result.stderr
    # Admission let the DaemonSet controller create the pod (its images are not in the
    # local registry, so it then waits on pulls; that is not this test's business).
    pods = cluster.wait_until("the DaemonSet's pod", lambda: cluster.pods("default", "name=prepull") or None)
    assert len(pods) == 1 and pods[0]["spec"]["nodeName"] == cluster.node


def dry_run(cluster: Cluster, scenario: Scenario, namespace: str) -> tuple[int, str]:
    result = cluster.apply(relocate(scenario.manifests(), namespace), "-n", namespace, "--dry-run=server", check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("scenario", RESTRICTED, ids=lambda s: s.name)
def test_every_restricted_scenario_is_accepted_with_no_pod_security_warning(
    cluster: Cluster, namespace: str, scenario: Scenario
) -> None:
    code, output = dry_run(cluster, scenario, namespace)
    assert code == 0, output
    assert "PodSecurity" not in output, output
    assert "(server dry run)" in output


@pytest.mark.parametrize("scenario", PRIVILEGED, ids=lambda s: s.name)
def test_docker_mode_draws_pod_security_warnings_in_a_restricted_namespace(
    cluster: Cluster, namespace: str, scenario: Scenario
) -> None:
    code, output = dry_run(cluster, scenario, namespace)
    assert code == 0, output  # workload objects only warn; their pods are rejected (below)
    assert PSA_WARNING in output, output
    assert 'uses restricted volume type "hostPath"' in output, output
    assert "must not set runAsUser=0" in output, output


def test_docker_mode_pods_are_rejected_in_a_restricted_namespace(cluster: Cluster, namespace: str) -> None:
    cluster.apply(relocate(SCENARIOS["docker"].manifests(), namespace))

    def rejected() -> str | None:
        for event in cluster.events(namespace, reason="FailedCreate"):
            if event["involvedObject"]["kind"] == "DaemonSet":
                return str(event["message"])
        return None

    message = cluster.wait_until("the DaemonSet controller's FailedCreate event", rejected)
    assert 'is forbidden: violates PodSecurity "restricted:latest"' in message, message
    assert 'restricted volume types (volume "docker" uses restricted volume type "hostPath")' in message, message
    assert cluster.pods(namespace, "name=docker") == []


def test_docker_mode_is_accepted_in_a_privileged_namespace(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=privileged", "--overwrite")
    scenario = SCENARIOS["docker"]
    result = cluster.apply(relocate(scenario.manifests(), namespace))
    assert "PodSecurity" not in result.stderr, result.stderr
    pods = cluster.wait_until("the docker-mode pod", lambda: cluster.pods(namespace, "name=docker") or None)
    assert pods[0]["spec"]["nodeName"] == cluster.node
