"""keep_images: one sleeping container per image, restricted, shell-less, tiny requests."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller, PrepullerError
from prepuller._keep import KEEP_RESOURCES, keep_pod_spec

from .conftest import RESTRICTED_CONTAINER, RESTRICTED_POD, pod_spec, synth, validate_strictly

IMAGES = [
    "nginx:1.25",
    "gcr.io/distroless/static:nonroot",  # no shell, no libc
    "busybox",
    "registry.example.com:5000/team/app@sha256:" + "0123456789" * 6 + "abcd",
]
SLEEP = ["/.prepuller/busybox", "sleep", "infinity"]


def keep_spec(chart: cdk8s.Chart, **options: Any) -> dict[str, Any]:
    ImagePrepuller(chart, "prepull", images=IMAGES, keep_images=True, **options)
    return pod_spec(synth(chart))


def test_every_image_runs_as_a_sleeper_from_the_shared_volume(chart: cdk8s.Chart) -> None:
    spec = keep_spec(chart)
    containers = spec["containers"]
    assert [c["image"] for c in containers] == IMAGES
    assert [c["name"] for c in containers] == [
        "keep-nginx-1-25",
        "keep-static-nonroot",
        "keep-busybox",
        "keep-app-01234567",
    ]
    for container in containers:
        assert container["command"] == SLEEP
        assert "args" not in container
        assert container["volumeMounts"] == [{"mountPath": "/.prepuller", "name": "prepuller-tools", "readOnly": True}]
    assert spec["volumes"] == [{"emptyDir": {"sizeLimit": "8Mi"}, "name": "prepuller-tools"}]


def test_the_init_containers_are_the_default_modes(chart: cdk8s.Chart) -> None:
    # Same pulls, same order, same `Pulled '<image>' on node '$(NODE_NAME)'` log line.
    default_chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(default_chart, "prepull", images=IMAGES)
    default = pod_spec(synth(default_chart))
    spec = keep_spec(chart)
    assert spec["initContainers"] == default["initContainers"]
    assert spec["initContainers"][1]["command"] == [
        "/.prepuller/busybox",
        "echo",
        "Pulled 'nginx:1.25' on node '$(NODE_NAME)'",
    ]
    # ... and the rest of the pod is unchanged too, except the main containers.
    assert {k: v for k, v in spec.items() if k != "containers"} == {
        k: v for k, v in default.items() if k != "containers"
    }
    assert [c["name"] for c in default["containers"]] == ["pause"]


def test_no_pause_container_and_no_shell_anywhere(chart: cdk8s.Chart) -> None:
    spec = keep_spec(chart)
    everything = spec["initContainers"] + spec["containers"]
    assert all(not c["image"].startswith("registry.k8s.io/pause") for c in spec["containers"])
    for container in everything:
        assert not any(part in ("sh", "/bin/sh", "-c") for part in container["command"]), container["command"]
    listed = [c for c in everything if c["name"] != "prepuller-tools"]
    assert all(c["command"][0] == "/.prepuller/busybox" for c in listed)


def test_keep_mode_stays_restricted(chart: cdk8s.Chart) -> None:
    spec = keep_spec(chart)
    assert spec["securityContext"] == RESTRICTED_POD
    assert spec["automountServiceAccountToken"] is False
    assert not any(k in spec for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert all(set(volume) == {"name", "emptyDir"} for volume in spec["volumes"])
    for container in spec["initContainers"] + spec["containers"]:
        assert container["securityContext"] == RESTRICTED_CONTAINER
        assert "ports" not in container


def test_keep_mode_validates_strictly(chart: cdk8s.Chart) -> None:
    ImagePrepuller(
        chart,
        "prepull",
        images=IMAGES,
        keep_images=True,
        keep_resources={"limits": {"memory": "32Mi"}},
        resources={"requests": {"cpu": "10m"}},
        image_pull_policy="IfNotPresent",
    )
    manifests = synth(chart)
    validate_strictly(manifests)
    spec = pod_spec(manifests)
    # The sleepers take keep_resources (their memory limit replaced), the init containers resources.
    assert [c["name"] for c in spec["containers"]] == [
        "keep-nginx-1-25",
        "keep-static-nonroot",
        "keep-busybox",
        "keep-app-01234567",
    ]
    for sleeper in spec["containers"]:
        assert sleeper["resources"]["limits"]["memory"] == "32Mi"
        assert sleeper["imagePullPolicy"] == "IfNotPresent"
    assert [c["image"] for c in spec["initContainers"][1:]] == IMAGES
    for init in spec["initContainers"]:
        assert init["resources"]["requests"]["cpu"] == "10m"
        assert init["imagePullPolicy"] == "IfNotPresent"


def test_sleepers_get_tiny_requests_and_init_containers_keep_resources(chart: cdk8s.Chart) -> None:
    spec = keep_spec(chart, resources={"requests": {"cpu": "10m"}})
    assert KEEP_RESOURCES == {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"cpu": "50m", "memory": "64Mi"}}
    for container in spec["containers"]:
        assert container["resources"] == {
            "limits": {"cpu": "50m", "memory": "64Mi"},
            "requests": {"cpu": "1m", "memory": "4Mi"},
        }
    for container in spec["initContainers"]:
        assert container["resources"] == {
            "limits": {"cpu": "100m", "memory": "64Mi"},
            "requests": {"cpu": "10m", "memory": "16Mi"},
        }


def test_keep_resources_merge_over_the_sleepers_default(chart: cdk8s.Chart) -> None:
    spec = keep_spec(chart, keep_resources={"requests": {"memory": "2Mi", "cpu": None}, "limits": {"memory": "32Mi"}})
    for container in spec["containers"]:
        assert container["resources"] == {"limits": {"cpu": "50m", "memory": "32Mi"}, "requests": {"memory": "2Mi"}}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_images": "yes"}, "keep_images: must be true or false (got 'yes')"),
        ({"keep_images": 1}, "keep_images: must be true or false (got 1)"),
        (
            {"keep_resources": {"limits": {"memory": "32Mi"}}},
            "keep_resources: applies only with keep_images=True (got {'limits': {'memory': '32Mi'}})",
        ),
        (
            {"keep_images": True, "keep_resources": {"requests": {"cpu": "lots"}}},
            "keep_resources.requests.cpu: must be a quantity such as '10m' or '64Mi' (got 'lots')",
        ),
        (
            {"keep_images": True, "keep_resources": {"requests": {"memory": "128Mi"}}},
            "keep_resources.requests.memory: must not exceed the limit '64Mi' (got '128Mi')",
        ),
        (
            {"keep_images": True, "keep_resource": {}},
            "keep_resource: is not an option of ImagePrepuller; did you mean 'keep_resources'? (got {})",
        ),
    ],
)
def test_invalid_keep_options(chart: cdk8s.Chart, options: dict[str, Any], message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=IMAGES, **options)
    assert str(caught.value) == message
    assert synth(chart) == []


def test_each_group_sleeps_on_exactly_the_images_it_pulls(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=IMAGES, keep_images=True, parallel_pulls=2)
    daemon_sets = [m for m in synth(chart) if m["kind"] == "DaemonSet"]
    kept = []
    for daemon_set in daemon_sets:
        spec = daemon_set["spec"]["template"]["spec"]
        pulled = [c["image"] for c in spec["initContainers"][1:]]
        assert [c["image"] for c in spec["containers"]] == pulled
        kept.extend(pulled)
    assert sorted(kept) == sorted(IMAGES)


def test_a_group_without_images_falls_back_to_the_pause_container(chart: cdk8s.Chart) -> None:
    # Cannot happen through the construct today (parallel_pulls <= distinct images), but
    # images discovered at synth could leave a group empty: the pod must stay valid.
    prepuller = ImagePrepuller(chart, "prepull", images=IMAGES, keep_images=True)
    spec = keep_pod_spec(prepuller._pod_settings, KEEP_RESOURCES, [])
    assert [c["name"] for c in spec["containers"]] == ["pause"]
    assert [c["name"] for c in spec["initContainers"]] == ["prepuller-tools"]


def test_snapshot_of_keep_mode(chart: cdk8s.Chart, snapshot: Any) -> None:
    ImagePrepuller(chart, "prepull", images=IMAGES, keep_images=True)
    assert synth(chart) == snapshot
