"""``startup_taint`` on the real cluster: the node registers with the taint (kubelet
``registerWithTaints``), a user pod without a toleration stays Pending, the prepuller pulls and
then removes exactly its taint as its own ServiceAccount under the real RBAC and Node
authorizers, and the user pod schedules. With a missing image the taint stays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prepuller import PAUSE_IMAGE

from . import testimages
from .kube import Cluster
from .synth import manifests

TAINT_KEY = "prepuller.test/images"
OTHER = {"key": "prepuller.test/other", "value": "kept", "effect": "PreferNoSchedule"}


@pytest.fixture
def tainted_node(clean_node: Cluster) -> Iterator[Cluster]:
    """The node registered anew with the startup taint and another taint; registered again
    without taints afterwards."""
    clean_node.register_node([f"{TAINT_KEY}=:NoSchedule", f"{OTHER['key']}={OTHER['value']}:{OTHER['effect']}"])
    yield clean_node
    clean_node.register_node()


def user_deployment(namespace: str) -> dict[str, Any]:
    """A workload that tolerates nothing, restricted-compliant."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "user", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "user"}},
            "template": {
                "metadata": {"labels": {"app": "user"}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "app",
                            "image": PAUSE_IMAGE,
                            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        }
                    ],
                },
            },
        },
    }


def startup_taint_keys(cluster: Cluster) -> list[str]:
    return [t["key"] for t in cluster.node_taints() if t["key"].startswith("prepuller.test/")]


def pending_reason(cluster: Cluster, namespace: str) -> str | None:
    for pod in cluster.pods(namespace, "app=user"):
        for condition in pod.get("status", {}).get("conditions", []):
            if condition["type"] == "PodScheduled" and condition["status"] == "False":
                return str(condition.get("message", ""))
    return None


def test_the_prepuller_lifts_exactly_its_taint_and_the_user_pod_schedules(
    tainted_node: Cluster, namespace: str
) -> None:
    cluster = tainted_node
    assert {"key": TAINT_KEY, "effect": "NoSchedule"} in [
        {k: v for k, v in t.items() if k in ("key", "effect")} for t in cluster.node_taints()
    ]
    cluster.apply([user_deployment(namespace)])
    message = cluster.wait_until("the user pod to be unschedulable", lambda: pending_reason(cluster, namespace))
    assert "1 node(s) had untolerated taint(s)" in message, message

    cluster.apply(manifests(namespace, images=[testimages.BUSYBOX, testimages.FILLER[1]], startup_taint=TAINT_KEY))
    cluster.wait_running(namespace, "name=prepull")
    cluster.wait_until("the startup taint to be removed", lambda: TAINT_KEY not in startup_taint_keys(cluster))

    assert [t for t in cluster.node_taints() if t["key"] == OTHER["key"]] == [OTHER]
    for image in (testimages.BUSYBOX, testimages.FILLER[1]):
        assert cluster.has_image(image)
    # Removed by the prepuller's own ServiceAccount: one successful JSON patch, as the audit log shows.
    patches = [
        e
        for e in cluster.audit(verb="patch", resource="nodes", name=cluster.node)
        if e["user"]["username"] == f"system:serviceaccount:{namespace}:prepull-untaint"
    ]
    assert patches and patches[-1]["responseStatus"]["code"] == 200, patches
    cluster.wait_running(namespace, "app=user")


def test_with_a_missing_image_the_taint_stays(tainted_node: Cluster, namespace: str) -> None:
    cluster = tainted_node
    cluster.apply(manifests(namespace, images=[testimages.FILLER[1], testimages.MISSING], startup_taint=TAINT_KEY))

    cluster.wait_until("a retried pull", lambda: len(cluster.events(namespace, reason="Failed")) >= 2, timeout=60)
    assert TAINT_KEY in startup_taint_keys(cluster)
    assert not [
        e
        for e in cluster.audit(verb="patch", resource="nodes", name=cluster.node)
        if e["user"]["username"] == f"system:serviceaccount:{namespace}:prepull-untaint"
    ]
