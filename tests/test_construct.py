"""ImagePrepuller: options, defaults, errors, escape hatch, several prepullers."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import HELPER_IMAGE, PAUSE_IMAGE, ImagePrepuller, PrepullerError
from tests.conftest import RESTRICTED_CONTAINER, RESTRICTED_POD, only, pod_spec, synth, validate_strictly

#: A DNS subdomain of 254 characters, one more than Kubernetes allows.
PREFIX_254 = ".".join(["p" * 63, "q" * 63, "r" * 63, "s" * 62])


def build(chart: cdk8s.Chart, **options: Any) -> list[dict[str, Any]]:
    options.setdefault("images", ["nginx:1.25"])
    ImagePrepuller(chart, "prepull", **options)
    return synth(chart)


def test_defaults_give_the_charts_daemonset_name_and_label(chart: cdk8s.Chart) -> None:
    manifests = build(chart)
    assert [m["kind"] for m in manifests] == ["DaemonSet", "NetworkPolicy"]
    daemon_set = only(manifests, "DaemonSet")
    assert daemon_set["metadata"]["name"] == "prepull"
    assert daemon_set["spec"]["selector"] == {"matchLabels": {"name": "prepull"}}
    assert daemon_set["spec"]["template"]["metadata"]["labels"]["name"] == "prepull"
    assert daemon_set["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "100%"},
    }
    assert "namespace" not in daemon_set["metadata"]


def test_one_init_container_per_image_in_order_after_the_helper(chart: cdk8s.Chart) -> None:
    images = ["nginx:1.25", "gcr.io/distroless/static:nonroot", "busybox"]
    spec = pod_spec(build(chart, images=images))
    init = spec["initContainers"]
    assert [c["name"] for c in init] == ["prepuller-tools", "pull-nginx-1-25", "pull-static-nonroot", "pull-busybox"]
    assert [c["image"] for c in init] == [HELPER_IMAGE, *images]
    assert init[0]["command"] == ["/bin/busybox", "cp", "/bin/busybox", "/.prepuller/busybox"]
    for container, image in zip(init[1:], images, strict=True):
        assert container["command"] == ["/.prepuller/busybox", "echo", f"Pulled '{image}' on node '$(NODE_NAME)'"]
        assert container["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
        assert container["volumeMounts"] == [{"mountPath": "/.prepuller", "name": "prepuller-tools", "readOnly": True}]
    assert [c["image"] for c in spec["containers"]] == [PAUSE_IMAGE]
    assert spec["volumes"] == [{"emptyDir": {"sizeLimit": "8Mi"}, "name": "prepuller-tools"}]


def test_every_container_is_restricted_and_explicit_about_resources(chart: cdk8s.Chart) -> None:
    spec = pod_spec(build(chart))
    assert spec["securityContext"] == RESTRICTED_POD
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["terminationGracePeriodSeconds"] == 0
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    for container in spec["initContainers"] + spec["containers"]:
        assert container["securityContext"] == RESTRICTED_CONTAINER
        assert container["resources"] == {
            "limits": {"cpu": "100m", "memory": "64Mi"},
            "requests": {"cpu": "5m", "memory": "16Mi"},
        }


def test_no_cdk8s_plus_defaults_leak_into_the_pods(chart: cdk8s.Chart) -> None:
    text = str(build(chart, images=["nginx:latest", "redis:7"]))
    for leaked in ("25000", "512Mi", "'cpu': '1'", "cdk8s.io/metadata.addr"):
        assert leaked not in text
    spec = pod_spec(build(cdk8s.Chart(cdk8s.Testing.app(), "c"), images=["redis:7"]))
    assert {c["imagePullPolicy"] for c in spec["initContainers"] + spec["containers"]} == {"IfNotPresent"}


def test_pull_policy_follows_kubernetes_per_image_unless_overridden(chart: cdk8s.Chart) -> None:
    spec = pod_spec(build(chart, images=["nginx", "nginx:1.25", "redis:latest"]))
    assert [c["imagePullPolicy"] for c in spec["initContainers"][1:]] == ["Always", "IfNotPresent", "Always"]
    other = pod_spec(build(cdk8s.Chart(cdk8s.Testing.app(), "c"), images=["nginx"], image_pull_policy="Never"))
    assert {c["imagePullPolicy"] for c in other["initContainers"] + other["containers"]} == {"Never"}


def test_duplicates_are_pulled_once_as_first_written(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=["busybox", "docker.io/library/busybox:latest", "nginx:1"])
    prepuller.add_images("index.docker.io/library/busybox", "nginx:1", "redis:7")
    assert prepuller.images == ["busybox", "nginx:1", "redis:7"]
    assert [c["image"] for c in pod_spec(synth(chart))["initContainers"][1:]] == prepuller.images


def test_digests_survive_intact(chart: cdk8s.Chart) -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    images = [f"quay.io/org/app@{digest}", f"quay.io/org/app:1.0@{digest.replace('0', '1')}"]
    spec = pod_spec(build(chart, images=images))
    assert [c["image"] for c in spec["initContainers"][1:]] == images


def test_add_images_after_construction_appear_at_synth(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1.25"])
    prepuller.add_images("redis:7", "gcr.io/distroless/static:nonroot")
    assert [c["image"] for c in pod_spec(synth(chart))["initContainers"][1:]] == [
        "nginx:1.25",
        "redis:7",
        "gcr.io/distroless/static:nonroot",
    ]


def test_every_option_lands_where_kubernetes_expects_it() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "apps", namespace="chart-ns", labels={"team": "data"})
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}]
            }
        }
    }
    manifests = build(
        chart,
        name="warm-images",
        namespace="prepuller",
        labels={"tier": "infra"},
        annotations={"owner": "platform@example.com"},
        node_selector={"pool": "gpu"},
        tolerations=[toleration],
        affinity=affinity,
        priority_class_name="system-node-critical",
        image_pull_secrets=["regcred"],
        resources={"requests": {"cpu": "10m"}, "limits": {"cpu": "100m"}},
        pause_image="registry.example.com/pause:3.10",
        helper_image="registry.example.com/busybox:1.37.0-musl",
        max_unavailable=2,
    )
    daemon_set = only(manifests, "DaemonSet")
    metadata = daemon_set["metadata"]
    assert metadata["name"] == "warm-images"
    assert metadata["namespace"] == "prepuller"
    assert metadata["labels"]["team"] == "data"  # the chart's labels
    assert metadata["labels"]["tier"] == "infra"
    # The user's annotations, then checkov's skips (prepuller._checkov) on the DaemonSet only.
    assert {k: v for k, v in metadata["annotations"].items() if not k.startswith("checkov.io/")} == {
        "owner": "platform@example.com"
    }
    assert sorted(k for k in metadata["annotations"] if k.startswith("checkov.io/")) == [
        "checkov.io/skip1",
        "checkov.io/skip2",
        "checkov.io/skip3",
        "checkov.io/skip4",
    ]
    template = daemon_set["spec"]["template"]
    assert template["metadata"]["labels"]["name"] == "warm-images"
    assert template["metadata"]["labels"]["tier"] == "infra"
    assert template["metadata"]["annotations"] == {"owner": "platform@example.com"}
    spec = template["spec"]
    assert spec["nodeSelector"] == {"pool": "gpu"}
    assert spec["tolerations"] == [toleration]
    assert spec["affinity"] == affinity
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["initContainers"][0]["image"] == "registry.example.com/busybox:1.37.0-musl"
    assert spec["containers"][0]["image"] == "registry.example.com/pause:3.10"
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "100m", "memory": "64Mi"},
        "requests": {"cpu": "10m", "memory": "16Mi"},
    }
    assert daemon_set["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": 2}
    validate_strictly(manifests)


def test_namespace_defaults_to_the_charts() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "apps", namespace="tools")
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1"])
    assert prepuller.namespace == "tools"
    assert only(synth(chart), "DaemonSet")["metadata"]["namespace"] == "tools"


def test_empty_node_selector_means_none(chart: cdk8s.Chart) -> None:
    assert "nodeSelector" not in pod_spec(build(chart, node_selector={}))


def test_resources_none_removes_a_default_entry(chart: cdk8s.Chart) -> None:
    spec = pod_spec(build(chart, resources={"limits": {"memory": None}}))
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "100m"},
        "requests": {"cpu": "5m", "memory": "16Mi"},
    }


def test_escape_hatch_patches_apply_to_the_spec(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1"])
    cdk8s.ApiObject.of(prepuller).add_json_patch(cdk8s.JsonPatch.add("/spec/template/spec/hostNetwork", False))
    prepuller.daemon_set.add_json_patch(cdk8s.JsonPatch.replace("/spec/updateStrategy/rollingUpdate/maxUnavailable", 1))
    daemon_set = only(synth(chart), "DaemonSet")
    assert daemon_set["spec"]["template"]["spec"]["hostNetwork"] is False
    assert daemon_set["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
    assert cdk8s.ApiObject.of(prepuller) is prepuller.daemon_set


def test_several_prepullers_coexist_across_names_charts_and_namespaces() -> None:
    app = cdk8s.Testing.app()
    first = cdk8s.Chart(app, "first")
    second = cdk8s.Chart(app, "second", namespace="other")
    ImagePrepuller(first, "prepull", images=["nginx:1"])
    ImagePrepuller(first, "gpu", images=["cuda:12"])
    ImagePrepuller(second, "prepull", images=["redis:7"])
    ImagePrepuller(first, "elsewhere", name="prepull", namespace="other-ns", images=["redis:7"])
    names = [
        (m["metadata"].get("namespace"), m["metadata"]["name"])
        for m in synth(first) + synth(second)
        if m["kind"] == "DaemonSet"
    ]
    assert sorted(names, key=str) == sorted(
        [(None, "prepull"), (None, "gpu"), ("other-ns", "prepull"), ("other", "prepull")], key=str
    )


def test_two_prepullers_emitting_the_same_daemonset_fail_clearly() -> None:
    app = cdk8s.Testing.app()
    first = cdk8s.Chart(app, "first", namespace="ns")
    second = cdk8s.Chart(app, "second", namespace="ns")
    ImagePrepuller(first, "prepull", images=["nginx:1"])
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(second, "prepull", images=["redis:7"])
    assert str(caught.value) == (
        "name: another ImagePrepuller (first/prepull) already emits DaemonSet 'prepull' in namespace 'ns' "
        "(got 'prepull')"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"images": []}, "images: must not be empty (got [])"),
        ({"images": "nginx:1.25"}, "images: must be a list (got 'nginx:1.25')"),
        ({"images": ["nginx:1.25", 7]}, "images[1]: must be an image reference string (got 7)"),
        (
            {"images": ["Nginx"]},
            "images[0]: is not a valid image reference: the repository path must be lowercase (got 'Nginx')",
        ),
        (
            {"name": "Prepull"},
            "name: must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'Prepull')",
        ),
        (
            {"namespace": "kube_system"},
            "namespace: must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (got 'kube_system')",
        ),
        (
            {"labels": {"tier": "-x"}},
            "labels['tier']: must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '-x')",
        ),
        (
            {"labels": {"bad key!": "x"}},
            "labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'bad key!')",
        ),
        (
            {"labels": {"k" * 64: "x"}},
            f"labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '{'k' * 64}')",
        ),
        # A '/' needs a prefix before it, and a valid name after it; the prefix is a DNS subdomain.
        (
            {"labels": {"/tier": "x"}},
            "labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '/tier')",
        ),
        (
            {"labels": {"example.com/-tier": "x"}},
            "labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'example.com/-tier')",
        ),
        (
            {"labels": {"Example.com/tier": "x"}},
            "labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'Example.com/tier')",
        ),
        (
            # A prefix of 254 characters, one too many.
            {"labels": {PREFIX_254 + "/tier": "x"}},
            f"labels key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '{PREFIX_254[:196]}...)",
        ),
        ({"labels": {1: "x"}}, "labels key: must be a string (got 1)"),
        ({"name": 7}, "name: must be a string (got 7)"),
        ({"labels": {"tier": 7}}, "labels['tier']: must be a string (got 7)"),
        (
            {"labels": {"tier": "v" * 64}},
            f"labels['tier']: must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '{'v' * 64}')",
        ),
        (
            # 254 characters (a label key's prefix above) in labels of at most 63: one too many.
            {"priority_class_name": PREFIX_254},
            f"priority_class_name: must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (got '{PREFIX_254[:196]}...)",
        ),
        ({"annotations": {"a": 1}}, "annotations['a']: must be a string (got 1)"),
        ({"annotations": ["owner=platform"]}, "annotations: must be a mapping (got ['owner=platform'])"),
        (
            {"annotations": {"bad key!": "x"}},
            "annotations key: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'bad key!')",
        ),
        # The API server's limit is 256 KiB of annotations on an object: the DaemonSet's also hold
        # checkov's skips, up to 1002 bytes of them (test_annotations_at_the_limit_...).
        (
            {"annotations": {"a": "x" * (256 * 1024 - 1)}},
            "annotations: must be at most 256 KiB in total, less 1002 bytes for the checkov.io/skip annotations prepuller adds (got '1 annotations')",
        ),
        (
            {"annotations": {"a": "x" * (256 * 1024)}},
            "annotations: must be at most 256 KiB in total (got '1 annotations')",
        ),
        ({"node_selector": ["linux"]}, "node_selector: must be a mapping (got ['linux'])"),
        (
            {"tolerations": [{"key": "gpu", "operator": "Exist"}]},
            "tolerations[0].operator: must be one of 'Exists', 'Equal' (got 'Exist')",
        ),
        (
            {"tolerations": [{"key": "gpu", "effect": "NoRun"}]},
            "tolerations[0].effect: must be one of 'NoSchedule', 'PreferNoSchedule', 'NoExecute' (got 'NoRun')",
        ),
        (
            {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "x"}]},
            "tolerations[0].value: must be empty when operator is 'Exists' (got 'x')",
        ),
        (
            {"tolerations": [{"operator": "Equal", "value": "x"}]},
            "tolerations[0].operator: must be 'Exists' when key is empty (to tolerate every taint) (got 'Equal')",
        ),
        (
            {"tolerations": [{"key": "gpu", "tolerationSeconds": 5, "effect": "NoSchedule"}]},
            "tolerations[0].effect: must be 'NoExecute' when tolerationSeconds is set (got 'NoSchedule')",
        ),
        (
            {"tolerations": [{"key": "gpu", "Operator": "Exists"}]},
            "tolerations[0].Operator: is not a known field (known: key, operator, value, effect, tolerationSeconds) (got 'Operator')",
        ),
        ({"tolerations": {"key": "gpu"}}, "tolerations: must be a list (got {'key': 'gpu'})"),
        (
            {
                "affinity": {
                    "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}
                }
            },
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: must not be empty (got [])",
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 101, "preference": {}}]
                    }
                }
            },
            "affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: must be at most 100 (got 101)",
        ),
        (
            {
                "affinity": {
                    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}
                }
            },
            "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: is required",
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In"}]}]
                        }
                    }
                }
            },
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: must not be empty when operator is 'In' (got [])",
        ),
        (
            {"affinity": {"nodeAfinity": {}}},
            "affinity.nodeAfinity: is not a known field (known: nodeAffinity, podAffinity, podAntiAffinity) (got 'nodeAfinity')",
        ),
        (
            {"priority_class_name": "High"},
            "priority_class_name: must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (got 'High')",
        ),
        (
            # 254 characters, one too many (the quoted value is cut at 200 characters).
            {"priority_class_name": "p" * 254},
            f"priority_class_name: must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (got '{'p' * 196}...)",
        ),
        ({"priority_class_name": 100}, "priority_class_name: must be a string (got 100)"),
        ({"image_pull_secrets": "regcred"}, "image_pull_secrets: must be a list (got 'regcred')"),
        (
            {"image_pull_secrets": ["reg_cred"]},
            "image_pull_secrets[0]: must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (got 'reg_cred')",
        ),
        (
            {"image_pull_policy": "always"},
            "image_pull_policy: must be one of 'Always', 'IfNotPresent', 'Never' (got 'always')",
        ),
        (
            {"resources": {"requests": {"cpu": "lots"}}},
            "resources.requests.cpu: must be a quantity such as '10m' or '64Mi' (got 'lots')",
        ),
        (
            {"resources": {"requests": {"memory": "-1Mi"}}},
            "resources.requests.memory: must be a quantity such as '10m' or '64Mi' (got '-1Mi')",
        ),
        (
            {"resources": {"limits": {"memory": "9223372036854775808"}}},
            "resources.limits.memory: must be at most 2^63-1 (the kubelet's int64 range) (got '9223372036854775808')",
        ),
        # Only a string or a number: not a bool, nor another type whose text reads as a quantity.
        (
            {"resources": {"requests": {"cpu": True}}},
            "resources.requests.cpu: must be a quantity such as '10m' or '64Mi' (got True)",
        ),
        (
            {"resources": {"requests": {"cpu": Decimal("0.5")}}},
            "resources.requests.cpu: must be a quantity such as '10m' or '64Mi' (got Decimal('0.5'))",
        ),
        (
            {"resources": {"requests": {"memory": "128Mi"}}},
            "resources.requests.memory: must not exceed the limit '64Mi' (got '128Mi')",
        ),
        (
            # The API server keeps quantities to the nano, rounding finer values up: 1.000000001 here.
            {"resources": {"requests": {"cpu": "1.0000000001"}, "limits": {"cpu": "1"}}},
            "resources.requests.cpu: must not exceed the limit '1' (got '1.0000000001')",
        ),
        (
            # 1G and 1e-61, to the last of its 71 digits (more than a float or the default decimal holds).
            {"resources": {"requests": {"cpu": "1" + "0" * 69 + "1e-61"}, "limits": {"cpu": "1G"}}},
            f"resources.requests.cpu: must not exceed the limit '1G' (got '{'1' + '0' * 69 + '1e-61'}')",
        ),
        (
            {"resources": {"requests": {"gpu": "1"}}},
            "resources.requests.gpu: is not a known field (known: cpu, memory, ephemeral-storage) (got 'gpu')",
        ),
        (
            {"resources": {"request": {}}},
            "resources.request: is not a known field (known: requests, limits) (got 'request')",
        ),
        (
            # A key that is not a string is quoted, not joined to the option's name.
            {"resources": {"requests": {1: "1"}}},
            "resources.requests: is not a known field (known: cpu, memory, ephemeral-storage) (got 1)",
        ),
        (
            {"pause_image": "pause 3.10"},
            "pause_image: is not a valid image reference: it contains whitespace (got 'pause 3.10')",
        ),
        ({"helper_image": ""}, "helper_image: is not a valid image reference: it is empty (got '')"),
        ({"max_unavailable": 0}, "max_unavailable: must be at least 1 (got 0)"),
        ({"max_unavailable": 2**31}, "max_unavailable: must be at most 2147483647 (got 2147483648)"),
        (
            {"max_unavailable": "150%"},
            "max_unavailable: must be a whole number of at least 1 or a percentage from '1%' to '100%' (got '150%')",
        ),
        (
            {"max_unavailable": "0%"},
            "max_unavailable: must be a whole number of at least 1 or a percentage from '1%' to '100%' (got '0%')",
        ),
        (
            {"max_unavailable": "101%"},
            "max_unavailable: must be a whole number of at least 1 or a percentage from '1%' to '100%' (got '101%')",
        ),
        ({"max_unavailable": True}, "max_unavailable: must be a whole number (got True)"),
        ({"image": ["nginx"]}, "image: is not an option of ImagePrepuller; did you mean 'images'? (got ['nginx'])"),
    ],
)
def test_bad_options_raise_prepuller_error_naming_the_option_and_value(
    chart: cdk8s.Chart, options: dict[str, Any], message: str
) -> None:
    options.setdefault("images", ["nginx:1.25"])
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", **options)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert chart.node.try_find_child("prepull") is None


def test_values_at_the_kubernetes_limits_are_accepted(chart: cdk8s.Chart) -> None:
    priority_class = ".".join(["p" * 63, "q" * 63, "r" * 63, "s" * 61])  # 253 characters
    key = "k" * 63
    manifests = build(
        chart,
        name="n" * 63,
        priority_class_name=priority_class,
        labels={key: "x", f"{priority_class}/{key}": "y", "tier": "v" * 63},
        max_unavailable=2**31 - 1,
        resources={"limits": {"memory": "9223372036854775807"}},
    )
    daemon_set = only(manifests, "DaemonSet")
    spec = daemon_set["spec"]["template"]["spec"]
    assert len(priority_class) == 253
    assert spec["priorityClassName"] == priority_class
    assert daemon_set["metadata"]["labels"][key] == "x"
    assert daemon_set["metadata"]["labels"][f"{priority_class}/{key}"] == "y"
    assert daemon_set["metadata"]["labels"]["tier"] == "v" * 63
    assert daemon_set["metadata"]["name"] == "n" * 63
    assert daemon_set["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": 2147483647}
    assert spec["containers"][0]["resources"]["limits"]["memory"] == "9223372036854775807"
    validate_strictly(manifests)


def test_annotations_at_the_limit_leave_room_for_every_checkov_skip(chart: cdk8s.Chart) -> None:
    # An untagged image, no namespace, no NetworkPolicy: the DaemonSet needs all 7 skips.
    annotations = {"owner": "x" * (256 * 1024 - 1002 - len("owner"))}
    daemon_set = only(build(chart, images=["nginx"], network_policy=False, annotations=annotations), "DaemonSet")
    written = daemon_set["metadata"]["annotations"]
    assert [key for key in written if key.startswith("checkov.io/")] == [f"checkov.io/skip{n}" for n in range(1, 8)]
    assert sum(len(key.encode()) + len(value.encode()) for key, value in written.items()) == 256 * 1024
    assert daemon_set["spec"]["template"]["metadata"]["annotations"] == annotations
    # One byte more is refused when the prepuller is built, not at synth.
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "other", images=["nginx"], annotations={"owner": annotations["owner"] + "x"})
    assert str(caught.value) == (
        "annotations: must be at most 256 KiB in total, less 1002 bytes for the checkov.io/skip annotations "
        "prepuller adds (got '1 annotations')"
    )


@pytest.mark.parametrize(
    ("request_", "limit"),
    [
        # Finer than the nano, the API server rounds a quantity up to 1n: these are equal.
        ("1e-60", "1e-61"),
        ("0.5n", "0.1n"),
        ("1e-1000000", "1e-1000001"),
        # Many digits and an exponent that offsets them: exactly 1G.
        ("1" + "0" * 70 + "e-61", "1G"),
        ("0." + "0" * 40 + "1e50", "1G"),
    ],
)
def test_a_request_equal_to_its_limit_as_the_api_server_reads_them_is_accepted(
    chart: cdk8s.Chart, request_: str, limit: str
) -> None:
    spec = pod_spec(build(chart, resources={"requests": {"cpu": request_}, "limits": {"cpu": limit}}))
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": limit, "memory": "64Mi"},
        "requests": {"cpu": request_, "memory": "16Mi"},
    }


@pytest.mark.parametrize("percentage", ["1%", "100%"])
def test_max_unavailable_takes_percentages_from_1_to_100(chart: cdk8s.Chart, percentage: str) -> None:
    daemon_set = only(build(chart, max_unavailable=percentage), "DaemonSet")
    assert daemon_set["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": percentage}


def test_an_id_that_is_not_a_dns_label_needs_name(chart: cdk8s.Chart) -> None:
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "Prepull", images=["nginx:1"])
    assert str(caught.value).startswith("name (defaults to the construct id): must be a DNS-1123 label")
    ImagePrepuller(chart, "Prepull", name="prepull", images=["nginx:1"])


def test_bad_add_images_argument_raises(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1"])
    with pytest.raises(PrepullerError) as caught:
        prepuller.add_images("redis:7", "Bad Image")
    assert (
        str(caught.value) == "add_images[1]: is not a valid image reference: it contains whitespace (got 'Bad Image')"
    )
    assert prepuller.images == ["nginx:1"]


def test_a_failed_construction_writes_nothing(tmp_path: Path) -> None:
    outdir = tmp_path / "dist"
    app = cdk8s.App(outdir=str(outdir))
    chart = cdk8s.Chart(app, "prepuller")
    with pytest.raises(PrepullerError):
        ImagePrepuller(chart, "prepull", images=["nginx:1", "Bad"])
    app.synth()
    assert [p.read_text() for p in outdir.iterdir()] == [""]


def test_synthesis_is_byte_identical_on_repeat(tmp_path: Path) -> None:
    outputs = []
    for run in range(2):
        app = cdk8s.App(outdir=str(tmp_path / str(run)))
        ImagePrepuller(cdk8s.Chart(app, "prepuller"), "prepull", images=["nginx:1", "busybox", "redis:7"])
        app.synth()
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / str(run)).iterdir())})
    assert outputs[0] == outputs[1]
    assert os.path.getsize(tmp_path / "0" / "prepuller.k8s.yaml") > 0
