"""prepuller/_network.py and the ``network_policy`` option."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller, PrepullerError
from prepuller._network import api_server_egress_policy, api_server_egress_spec, deny_all_spec
from tests.conftest import only, synth, validate_strictly


def test_deny_all_selects_the_pods_and_allows_nothing(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], namespace="images")
    manifests = synth(chart)
    policy = only(manifests, "NetworkPolicy")
    daemon_set = only(manifests, "DaemonSet")
    assert policy["apiVersion"] == "networking.k8s.io/v1"
    assert policy["metadata"]["name"] == "prepull-deny-all"
    assert policy["metadata"]["namespace"] == "images"
    # The policy's own labels are the helper objects' (no name=: it is not a prepuller pod's).
    assert policy["metadata"]["labels"] == {
        **{key: value for key, value in daemon_set["metadata"]["labels"].items() if key != "name"},
        "app.kubernetes.io/component": "network-policy",
    }
    assert policy["spec"] == {"podSelector": {"matchLabels": {"name": "prepull"}}, "policyTypes": ["Ingress", "Egress"]}
    # It selects exactly what the DaemonSet selects, and every pod carries that label.
    assert policy["spec"]["podSelector"] == daemon_set["spec"]["selector"]
    assert daemon_set["spec"]["template"]["metadata"]["labels"]["name"] == "prepull"
    validate_strictly(manifests)


def test_network_policy_false_emits_none(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], network_policy=False)
    assert [m["kind"] for m in synth(chart)] == ["DaemonSet"]


def test_network_policy_false_emits_none_with_every_helper(chart: cdk8s.Chart) -> None:
    ImagePrepuller(
        chart,
        "prepull",
        images=["nginx:1.25"],
        namespace="images",
        refresh_schedule="@daily",
        startup_taint="pulling",
        network_policy=False,
    )
    assert "NetworkPolicy" not in [m["kind"] for m in synth(chart)]


API_EGRESS = [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]}]


def policies(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m["spec"] for m in manifests if m["kind"] == "NetworkPolicy"}


def selects(spec: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    return spec["podSelector"]["matchLabels"].items() <= pod_labels.items()


def pod_labels(manifest: dict[str, Any]) -> dict[str, str]:
    spec = manifest["spec"]
    if manifest["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    labels: dict[str, str] = spec["template"]["metadata"]["labels"]
    return labels


def test_every_daemon_set_of_parallel_pulls_is_denied_everything(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["a:1", "b:1", "c:1"], parallel_pulls=3, namespace="images")
    manifests = synth(chart)
    daemon_sets = [m for m in manifests if m["kind"] == "DaemonSet"]
    assert len(daemon_sets) == 3
    assert policies(manifests) == {
        "prepull-deny-all": {"podSelector": {"matchLabels": {"name": "prepull"}}, "policyTypes": ["Ingress", "Egress"]}
    }
    for daemon_set in daemon_sets:
        assert selects(policies(manifests)["prepull-deny-all"], pod_labels(daemon_set))
    validate_strictly(manifests)


@pytest.mark.parametrize("mode", ["kubelet", "docker"])
def test_startup_taint_lets_the_prepuller_pods_reach_the_api_server_only(chart: cdk8s.Chart, mode: str) -> None:
    """The taint remover is an init container of the prepuller pods: those pods get the egress."""
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], namespace="images", startup_taint="pulling", mode=mode)
    manifests = synth(chart)
    daemon_set = only(manifests, "DaemonSet")
    assert policies(manifests) == {
        "prepull-deny-all": {"podSelector": {"matchLabels": {"name": "prepull"}}, "policyTypes": ["Ingress", "Egress"]},
        "prepull-untaint-api": {
            "podSelector": {"matchLabels": {"name": "prepull"}},
            "policyTypes": ["Ingress", "Egress"],
            "egress": API_EGRESS,
        },
    }
    assert policies(manifests)["prepull-untaint-api"]["podSelector"] == daemon_set["spec"]["selector"]
    validate_strictly(manifests)


def test_refresh_pods_get_their_own_label_and_api_server_egress(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], namespace="images", refresh_schedule="@daily")
    manifests = synth(chart)
    cron_job, daemon_set = only(manifests, "CronJob"), only(manifests, "DaemonSet")
    found = policies(manifests)
    assert found == {
        "prepull-deny-all": {"podSelector": {"matchLabels": {"name": "prepull"}}, "policyTypes": ["Ingress", "Egress"]},
        "prepull-refresh-api": {
            "podSelector": {"matchLabels": {"prepuller.io/refresh": "prepull"}},
            "policyTypes": ["Ingress", "Egress"],
            "egress": API_EGRESS,
        },
    }
    # Each policy selects its own pods and not the other's.
    assert selects(found["prepull-refresh-api"], pod_labels(cron_job))
    assert not selects(found["prepull-deny-all"], pod_labels(cron_job))
    assert selects(found["prepull-deny-all"], pod_labels(daemon_set))
    assert not selects(found["prepull-refresh-api"], pod_labels(daemon_set))
    validate_strictly(manifests)


def test_refresh_and_taint_without_a_namespace_in_the_manifest(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily")
    manifests = synth(chart)
    assert sorted(policies(manifests)) == ["prepull-deny-all", "prepull-refresh-api"]
    assert all("namespace" not in m["metadata"] for m in manifests if m["kind"] == "NetworkPolicy")
    validate_strictly(manifests)


@pytest.mark.parametrize("value", [0, 1, "false", None, [True]])
def test_network_policy_must_be_a_boolean(chart: cdk8s.Chart, value: object) -> None:
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=["nginx:1.25"], network_policy=value)
    assert str(error.value) == f"network_policy: must be true or false (got {value!r})"


def test_api_server_egress_spec() -> None:
    assert api_server_egress_spec({"name": "refresh"}) == {
        "podSelector": {"matchLabels": {"name": "refresh"}},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]}],
    }


def test_api_server_egress_spec_narrowed_to_cidrs() -> None:
    spec = api_server_egress_spec({"a": "b"}, cidrs=["10.0.0.1/32", "10.0.0.2/32"], ports=[6443])
    assert spec["egress"] == [
        {
            "ports": [{"protocol": "TCP", "port": 6443}],
            "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}, {"ipBlock": {"cidr": "10.0.0.2/32"}}],
        }
    ]


def test_api_server_egress_policy_validates_strictly(chart: cdk8s.Chart) -> None:
    api_server_egress_policy(
        chart, "egress", name="p-api", namespace="ns", labels={"name": "p"}, pod_selector={"job": "refresh"}
    )
    api_server_egress_policy(
        chart,
        "narrow",
        name="p-api2",
        namespace=None,
        labels={},
        pod_selector={"a": "b"},
        cidrs=["192.0.2.0/24"],
        annotate=lambda manifest: {"example.com/kind": manifest["kind"]},
    )
    manifests = synth(chart)
    validate_strictly(manifests)
    ports = [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]
    assert manifests == [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p-api", "namespace": "ns", "labels": {"name": "p"}},
            "spec": {
                "podSelector": {"matchLabels": {"job": "refresh"}},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [{"ports": ports}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p-api2", "annotations": {"example.com/kind": "NetworkPolicy"}},
            "spec": {
                "podSelector": {"matchLabels": {"a": "b"}},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [{"ports": ports, "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}],
            },
        },
    ]


def test_deny_all_spec_copies_its_selector() -> None:
    selector = {"name": "x"}
    spec = deny_all_spec(selector)
    selector["name"] = "y"
    assert spec["podSelector"] == {"matchLabels": {"name": "x"}}


def test_each_policy_keeps_its_construct_id_for_json_patches(chart: cdk8s.Chart) -> None:
    # The ids are the escape hatch to each policy: prepuller.node.find_child(id).add_json_patch(...).
    prepuller = ImagePrepuller(
        chart, "prepull", images=["nginx:1.25"], namespace="images", startup_taint="pulling", refresh_schedule="@daily"
    )
    children = [child for child in prepuller.node.children if isinstance(child, cdk8s.ApiObject)]
    assert {child.node.id: child.name for child in children if child.kind == "NetworkPolicy"} == {
        "NetworkPolicy": "prepull-deny-all",
        "UntaintNetworkPolicy": "prepull-untaint-api",
        "RefreshNetworkPolicy": "prepull-refresh-api",
    }
    deny_all = prepuller.node.find_child("NetworkPolicy")
    assert isinstance(deny_all, cdk8s.ApiObject)
    deny_all.add_json_patch(cdk8s.JsonPatch.add("/spec/policyTypes", ["Egress"]))
    assert policies(synth(chart))["prepull-deny-all"]["policyTypes"] == ["Egress"]
