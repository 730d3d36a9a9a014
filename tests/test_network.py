"""prepuller/_network.py and the ``network_policy`` option."""

from __future__ import annotations

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
    assert policy["metadata"]["labels"] == daemon_set["metadata"]["labels"]
    assert policy["spec"] == {"podSelector": {"matchLabels": {"name": "prepull"}}, "policyTypes": ["Ingress", "Egress"]}
    # It selects exactly what the DaemonSet selects, and every pod carries that label.
    assert policy["spec"]["podSelector"] == daemon_set["spec"]["selector"]
    assert daemon_set["spec"]["template"]["metadata"]["labels"]["name"] == "prepull"
    validate_strictly(manifests)


def test_network_policy_false_emits_none(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], network_policy=False)
    assert [m["kind"] for m in synth(chart)] == ["DaemonSet"]


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
        chart, "narrow", name="p-api2", namespace=None, labels={}, pod_selector={"a": "b"}, cidrs=["192.0.2.0/24"]
    )
    manifests = synth(chart)
    assert [m["spec"]["podSelector"] for m in manifests] == [
        {"matchLabels": {"job": "refresh"}},
        {"matchLabels": {"a": "b"}},
    ]
    validate_strictly(manifests)


def test_deny_all_spec_copies_its_selector() -> None:
    selector = {"name": "x"}
    spec = deny_all_spec(selector)
    selector["name"] = "y"
    assert spec["podSelector"] == {"matchLabels": {"name": "x"}}
