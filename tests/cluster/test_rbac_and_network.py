"""What the real API server makes of the prepuller's RBAC and NetworkPolicies: the refresh
and untaint ServiceAccounts can do exactly what the docs promise and nothing more
(``kubectl auth can-i --list``), and every NetworkPolicy is accepted as written (this cluster's
bridge CNI does not enforce them; the docs say so)."""

from __future__ import annotations

from typing import Any

from .kube import Cluster
from .synth import manifests, of_kind

#: What every authenticated identity may do (the default system:basic-user and discovery roles).
BASELINE = {
    ("selfsubjectreviews.authentication.k8s.io", "[]", "[create]"),
    ("selfsubjectaccessreviews.authorization.k8s.io", "[]", "[create]"),
    ("selfsubjectrulesreviews.authorization.k8s.io", "[]", "[create]"),
}


def rows(cluster: Cluster, namespace: str, account: str) -> set[tuple[str, str, str]]:
    """(resource, resource names, verbs) of each resource row of ``kubectl auth can-i --list``
    (the columns split on their brackets, spaces dropped: ``[get patch]`` is ``[getpatch]``)."""
    out = cluster.kubectl(
        "auth", "can-i", "--list", "-n", namespace, "--as", f"system:serviceaccount:{namespace}:{account}"
    ).stdout
    found = set()
    for line in out.splitlines()[1:]:
        if line.startswith(" "):
            continue
        resource, rest = line.split(None, 1)
        brackets = [part + "]" for part in rest.replace(" ", "").split("]") if part]
        _urls, names, verbs = brackets
        found.add((resource, names, verbs))
    return found


def test_the_service_accounts_can_do_exactly_what_the_docs_promise(cluster: Cluster, namespace: str) -> None:
    cluster.apply(
        manifests(
            namespace, images=["quay.io/prepuller-test/busybox:1"], refresh_schedule="@daily", startup_taint="x.test/t"
        )
    )
    assert rows(cluster, namespace, "prepull-refresh") - BASELINE == {("daemonsets.apps", "[prepull]", "[getpatch]")}
    assert rows(cluster, namespace, "prepull-untaint") - BASELINE == {("nodes", "[]", "[getpatch]")}
    # And the accounts of the DaemonSet's own pods: nothing beyond the baseline.
    assert rows(cluster, namespace, "default") - BASELINE == set()


def test_network_policies_are_accepted_as_written(cluster: Cluster, namespace: str) -> None:
    objects = manifests(
        namespace, images=["quay.io/prepuller-test/busybox:1"], refresh_schedule="@daily", startup_taint="x.test/t"
    )
    policies = of_kind(objects, "NetworkPolicy")
    assert len(policies) >= 3
    cluster.apply(objects)
    stored: dict[str, Any] = {
        p["metadata"]["name"]: p for p in cluster.get("networkpolicies", "-n", namespace)["items"]
    }
    assert sorted(stored) == sorted(p["metadata"]["name"] for p in policies)
    for policy in policies:
        assert stored[policy["metadata"]["name"]]["spec"] == policy["spec"], policy["metadata"]["name"]
