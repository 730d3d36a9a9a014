"""prepuller._pods: the fields every pod and container shares, asserted field by field.

The snapshot files hold the same output, but a snapshot can be regenerated over a
regression (``--snapshot-update``); these assertions are the first line of defence.
"""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest

from prepuller import HELPER_IMAGE, ImagePrepuller
from prepuller._pods import (
    PodSettings,
    container,
    helper_container,
    image_container,
    kubelet_pod_spec,
    node_name_env,
    pause_container,
    pod_spec_base,
    pulled_message,
    tools_volume,
)
from prepuller._references import ImageReference, parse_reference

from .conftest import RESTRICTED_CONTAINER, RESTRICTED_POD, only, synth

RESOURCES = {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
#: The helper's mount: writable, the helper copies busybox into it (read-only, every pod fails).
HELPER_MOUNT = [{"name": "prepuller-tools", "mountPath": "/.prepuller"}]
#: Every other container's mount of the same volume: read-only, it only executes the binary.
TOOLS_MOUNT = [{"name": "prepuller-tools", "mountPath": "/.prepuller", "readOnly": True}]
NODE_NAME_ENV = [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]


def settings(**changes: Any) -> PodSettings:
    fields: dict[str, Any] = {
        "node_selector": {},
        "tolerations": [],
        "affinity": None,
        "priority_class_name": None,
        "image_pull_secrets": [],
        "image_pull_policy": None,
        "resources": RESOURCES,
        "pause_image": parse_reference("registry.k8s.io/pause:3.10", "pause_image"),
        "helper_image": parse_reference(HELPER_IMAGE, "helper_image"),
    }
    return PodSettings(**(fields | changes))


def unvalidated(text: str) -> ImageReference:
    """A reference that skipped parse_reference: what the escaping must keep literal."""
    return ImageReference(text=text, domain="docker.io", path="library/x", tag=None, digest=None)


def test_the_pull_log_line_names_the_image_and_the_node() -> None:
    assert pulled_message(parse_reference("nginx:1.25", "images[0]")) == "Pulled 'nginx:1.25' on node '$(NODE_NAME)'"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("x:$(HOME)", "Pulled 'x:$$(HOME)' on node '$(NODE_NAME)'"),
        ("$(NODE_NAME)", "Pulled '$$(NODE_NAME)' on node '$(NODE_NAME)'"),
        ("a$$b$", "Pulled 'a$$$$b$$' on node '$(NODE_NAME)'"),
    ],
)
def test_a_dollar_in_the_image_is_escaped_from_the_kubelets_expansion(text: str, logged: str) -> None:
    # The kubelet expands $(VAR) in commands; $$ is its escape for a literal $.
    assert pulled_message(unvalidated(text)) == logged
    pod = kubelet_pod_spec(settings(), [unvalidated(text)])
    assert pod["initContainers"][1]["command"] == ["/.prepuller/busybox", "echo", logged]


def test_the_helper_copies_busybox_into_a_writable_mount() -> None:
    assert helper_container(settings()) == {
        "name": "prepuller-tools",
        "image": HELPER_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "resources": RESOURCES,
        "securityContext": RESTRICTED_CONTAINER,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "command": ["/bin/busybox", "cp", "/bin/busybox", "/.prepuller/busybox"],
        "volumeMounts": HELPER_MOUNT,
    }


def test_an_image_container_runs_the_copied_binary_from_a_read_only_mount() -> None:
    image = parse_reference("gcr.io/distroless/static:nonroot", "images[0]")
    assert image_container(settings(), "pull-static", image, ["echo", "hi"]) == {
        "name": "pull-static",
        "image": "gcr.io/distroless/static:nonroot",
        "imagePullPolicy": "IfNotPresent",
        "resources": RESOURCES,
        "securityContext": RESTRICTED_CONTAINER,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "command": ["/.prepuller/busybox", "echo", "hi"],
        "env": NODE_NAME_ENV,
        "volumeMounts": TOOLS_MOUNT,
    }


def test_pause_container_has_only_the_shared_fields() -> None:
    assert pause_container(settings()) == {
        "name": "pause",
        "image": "registry.k8s.io/pause:3.10",
        "imagePullPolicy": "IfNotPresent",
        "resources": RESOURCES,
        "securityContext": RESTRICTED_CONTAINER,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


@pytest.mark.parametrize(
    ("image", "policy", "expected"),
    [
        ("nginx", None, "Always"),
        ("nginx:latest", None, "Always"),
        ("nginx:1.25", None, "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, None, "IfNotPresent"),
        ("nginx:1.25", "Always", "Always"),
        ("nginx", "Never", "Never"),
    ],
)
def test_pull_policy_is_the_option_or_kubernetes_default(image: str, policy: str | None, expected: str) -> None:
    made = container(settings(image_pull_policy=policy), "c", parse_reference(image, "images[0]"))
    assert made["imagePullPolicy"] == expected


def test_extra_fields_are_added_after_the_shared_ones() -> None:
    made = container(settings(), "c", parse_reference("nginx:1.25", "images[0]"), args=["x"])
    assert list(made) == [
        "name",
        "image",
        "imagePullPolicy",
        "resources",
        "securityContext",
        "terminationMessagePolicy",
        "args",
    ]


def test_tools_volume_and_node_name_env() -> None:
    assert tools_volume() == {"name": "prepuller-tools", "emptyDir": {"sizeLimit": "8Mi"}}
    assert node_name_env() == NODE_NAME_ENV


def test_pod_base_leaves_empty_options_out() -> None:
    assert pod_spec_base(settings()) == {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 0,
        "securityContext": RESTRICTED_POD,
    }


def test_pod_base_carries_every_scheduling_option() -> None:
    toleration = {"key": "k", "operator": "Exists"}
    affinity = {"nodeAffinity": {}}
    base = pod_spec_base(
        settings(
            node_selector={"disk": "ssd"},
            tolerations=[toleration],
            affinity=affinity,
            priority_class_name="system-node-critical",
            image_pull_secrets=["regcred", "other"],
        )
    )
    assert {key: base[key] for key in list(base)[4:]} == {
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [toleration],
        "affinity": affinity,
        "priorityClassName": "system-node-critical",
        "imagePullSecrets": [{"name": "regcred"}, {"name": "other"}],
    }


def test_kubelet_pod_spec_is_helper_then_pulls_then_pause() -> None:
    images = [parse_reference("nginx:1.25", "images[0]"), parse_reference("redis", "images[1]")]
    spec = kubelet_pod_spec(settings(), images)
    assert spec["volumes"] == [tools_volume()]
    assert [c["name"] for c in spec["initContainers"]] == ["prepuller-tools", "pull-nginx-1-25", "pull-redis"]
    assert spec["initContainers"][0] == helper_container(settings())
    assert spec["initContainers"][2]["command"] == [
        "/.prepuller/busybox",
        "echo",
        "Pulled 'redis' on node '$(NODE_NAME)'",
    ]
    assert spec["containers"] == [pause_container(settings())]


# --- the same fields in the synthesized DaemonSet, in every mode ------------------------

LABELS = {
    "app.kubernetes.io/name": "image-prepuller",
    "app.kubernetes.io/instance": "prepull",
    "app.kubernetes.io/component": "prepuller",
    "app.kubernetes.io/managed-by": "cdk8s",
    "name": "prepull",
}

MODES: dict[str, dict[str, Any]] = {
    "kubelet": {},
    "keep": {"keep_images": True},
    "docker": {"mode": "docker"},
    "startup-taint": {"startup_taint": "example.com/prepulling", "namespace": "ops"},
}


@pytest.mark.parametrize("options", MODES.values(), ids=MODES.keys())
def test_daemon_set_and_its_pods_carry_the_component_label(chart: cdk8s.Chart, options: dict[str, Any]) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], **options)
    daemon_set = only(synth(chart), "DaemonSet")
    assert daemon_set["metadata"]["labels"] == LABELS
    assert daemon_set["spec"]["template"]["metadata"]["labels"] == LABELS


@pytest.mark.parametrize("options", MODES.values(), ids=MODES.keys())
def test_every_container_falls_back_to_its_logs_for_the_termination_message(
    chart: cdk8s.Chart, options: dict[str, Any]
) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], **options)
    spec = only(synth(chart), "DaemonSet")["spec"]["template"]["spec"]
    containers = spec["initContainers"] + spec["containers"]
    assert [c["terminationMessagePolicy"] for c in containers] == ["FallbackToLogsOnError"] * len(containers)


@pytest.mark.parametrize("options", [MODES["kubelet"], MODES["keep"], MODES["startup-taint"]], ids=str)
def test_only_the_helper_mounts_the_tools_volume_writable(chart: cdk8s.Chart, options: dict[str, Any]) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25", "redis:7.2"], **options)
    spec = only(synth(chart), "DaemonSet")["spec"]["template"]["spec"]
    helper, *others = spec["initContainers"] + spec["containers"]
    assert helper["name"] == "prepuller-tools"
    assert helper["volumeMounts"] == HELPER_MOUNT
    tool_users = [c for c in others if c["name"] != "pause"]
    assert tool_users
    for other in tool_users:
        assert [m for m in other["volumeMounts"] if m["name"] == "prepuller-tools"] == TOOLS_MOUNT, other["name"]
