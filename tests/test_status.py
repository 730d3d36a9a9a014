"""prepuller._status: node x image states from the API's pod and node JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepuller import PrepullerError
from prepuller._docker import PREPULL_SCRIPT
from prepuller._references import parse_reference
from prepuller._status import ImageState, NodeState, Report, render_json, render_table, status_report
from prepuller._taint import untaint_container
from tests.status_support import (
    BACK_OFF,
    ERR_IMAGE_PULL,
    INVALID_NAME,
    JSON,
    completed,
    container_status,
    kubelet_pod,
    load,
    mode_pod,
    node_list,
    pod_list,
    running,
    waiting,
    with_statuses,
)

IMAGES = ["nginx:1.25", "redis:7.2", "gcr.io/distroless/static:nonroot"]


def states(report: Report, node: str) -> list[tuple[str, str, str | None]]:
    row = next(n for n in report.nodes if n.name == node)
    return [(i.image, str(i.state), i.reason) for i in row.images]


def row(report: Report, node: str) -> JSON:
    found: JSON = next(n for n in report.nodes if n.name == node).to_json()
    return found


# --- kubelet mode: each state of the pod --------------------------------------------------


def test_completed_pod_every_image_pulled_with_its_digest() -> None:
    report = status_report(load("kubelet-pods.json"))
    assert states(report, "node-a") == [(image, "pulled", None) for image in IMAGES]
    assert row(report, "node-a")["images"][0]["imageID"] == (
        "docker.io/library/nginx@sha256:a484819eb60211f5299034ac80f6a681b06f89e65866ce91f356ed7c72af059c"
    )
    assert report.ready
    assert report.summary == "1/1 node ready, 3 images each"


def test_pod_just_created_has_no_statuses_yet_so_everything_waits() -> None:
    pod = mode_pod("kubelet")
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    report = status_report(pod_list(pod))
    assert states(report, "node-a") == [(image, "waiting", None) for image in IMAGES]
    assert row(report, "node-a")["state"] == "waiting"
    assert report.summary == "0/1 node ready: node-a waiting for 3 images"
    assert not report.ready


def test_init_0_of_4_helper_being_pulled_every_image_waits() -> None:
    report = status_report(pod_list(kubelet_pod("node-a", helper=waiting("PodInitializing"))))
    assert states(report, "node-a") == [(image, "waiting", None) for image in IMAGES]
    assert row(report, "node-a")["state"] == "waiting"


def test_init_1_of_4_first_image_pulling_the_rest_waiting() -> None:
    report = status_report(pod_list(kubelet_pod("node-a", waiting("PodInitializing"))))
    assert states(report, "node-a") == [
        ("nginx:1.25", "pulling", None),
        ("redis:7.2", "waiting", None),
        ("gcr.io/distroless/static:nonroot", "waiting", None),
    ]
    assert row(report, "node-a")["state"] == "pulling"
    assert report.summary == "0/1 node ready: node-a waiting for 3 images"


def test_running_init_container_is_still_pulling_and_earlier_ones_are_pulled() -> None:
    report = status_report(pod_list(kubelet_pod("node-a", completed(), running())))
    assert states(report, "node-a") == [
        ("nginx:1.25", "pulled", None),
        ("redis:7.2", "pulling", None),
        ("gcr.io/distroless/static:nonroot", "waiting", None),
    ]
    assert report.summary == "0/1 node ready: node-a waiting for 2 images"
    # The kubelet knows the running container's image digest, but the image counts only once pulled.
    assert [i["imageID"] for i in row(report, "node-a")["images"]] == [
        "docker.io/library/nginx@sha256:" + "0f" * 32,
        None,
        None,
    ]


def with_mesh_sidecar(pod: JSON) -> JSON:
    """``pod`` with a service mesh's proxy injected as a native sidecar (an init container with
    ``restartPolicy: Always``) ahead of its own init containers, started and running."""
    pod = copy.deepcopy(pod)
    pod["spec"]["initContainers"].insert(
        0,
        {
            "name": "istio-proxy",
            "image": "docker.io/istio/proxyv2:1.26.1",
            "args": ["proxy", "sidecar"],
            "restartPolicy": "Always",
        },
    )
    proxy = container_status(pod, "istio-proxy", running("2026-11-29T10:02:13Z"))
    proxy["ready"] = True
    pod["status"]["initContainerStatuses"].insert(0, proxy)
    return pod


def test_a_running_native_sidecar_lets_the_init_containers_after_it_run() -> None:
    # The kubelet starts the next init container once a sidecar runs, and keeps the sidecar running.
    report = status_report(pod_list(with_mesh_sidecar(load("kubelet-pods.json")["items"][0])))
    assert states(report, "node-a") == [(image, "pulled", None) for image in IMAGES]
    assert row(report, "node-a")["notes"] == []
    assert report.summary == "1/1 node ready, 3 images each"
    pulling = status_report(pod_list(with_mesh_sidecar(kubelet_pod("node-a", completed(), running()))))
    assert states(pulling, "node-a") == [
        ("nginx:1.25", "pulled", None),
        ("redis:7.2", "pulling", None),
        ("gcr.io/distroless/static:nonroot", "waiting", None),
    ]


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("ErrImagePull", ERR_IMAGE_PULL),
        ("ImagePullBackOff", BACK_OFF),
        ("InvalidImageName", INVALID_NAME),
        ("ErrImageNeverPull", 'Container image "redis:7.2" is not present with pull policy of Never'),
        ("CreateContainerConfigError", 'secret "registry" not found'),
    ],
)
def test_kubelet_failure_reasons_fail_the_image_with_reason_and_message(reason: str, message: str) -> None:
    report = status_report(pod_list(kubelet_pod("node-a", completed(), waiting(reason, message))))
    image = row(report, "node-a")["images"][1]
    assert (image["state"], image["reason"], image["message"]) == ("failed", reason, message)
    assert states(report, "node-a")[2] == ("gcr.io/distroless/static:nonroot", "waiting", None)
    assert row(report, "node-a")["state"] == "failed"
    assert report.summary == "0/1 node ready: node-a failed 1 image"
    assert not report.ready


def test_crash_loop_reports_the_last_run() -> None:
    pod = kubelet_pod("node-a", completed(), waiting("CrashLoopBackOff", "back-off 40s restarting failed container"))
    last = {
        "terminated": {
            "exitCode": 128,
            "reason": "StartError",
            "message": "exec: /.prepuller/busybox: exec format error",
            "startedAt": "1970-01-01T00:00:00Z",
            "finishedAt": "2026-11-29T10:03:00Z",
        }
    }
    pod["status"]["initContainerStatuses"][2] = container_status(
        pod,
        "pull-redis-7-2",
        waiting("CrashLoopBackOff", "back-off 40s restarting failed container"),
        last_state=last,
        restarts=3,
    )
    image = row(status_report(pod_list(pod)), "node-a")["images"][1]
    assert image["reason"] == "CrashLoopBackOff"
    assert image["message"] == (
        "back-off 40s restarting failed container; last run: StartError, exit code 128: "
        "exec: /.prepuller/busybox: exec format error"
    )


def test_crash_loop_without_a_back_off_message_reports_only_the_last_run() -> None:
    # The API's waiting.message is optional; the last run alone is then the message.
    pod = kubelet_pod("node-a", completed())
    last = {
        "terminated": {
            "exitCode": 2,
            "reason": "Error",
            "startedAt": "2026-11-29T10:02:40Z",
            "finishedAt": "2026-11-29T10:02:41Z",
        }
    }
    pod["status"]["initContainerStatuses"][2] = container_status(
        pod, "pull-redis-7-2", waiting("CrashLoopBackOff"), last_state=last, restarts=1
    )
    image = row(status_report(pod_list(pod)), "node-a")["images"][1]
    assert (image["state"], image["reason"], image["message"]) == (
        "failed",
        "CrashLoopBackOff",
        "last run: Error, exit code 2",
    )


def test_a_pull_container_that_could_not_start_shows_the_runtimes_reason_and_message() -> None:
    # Before the kubelet restarts it, the failed init container is terminated, not yet in back-off.
    message = (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
        'failed: unable to start container process: exec: "/.prepuller/busybox": stat /.prepuller/busybox: '
        "no such file or directory: unknown"
    )
    failed = {
        "terminated": {
            "containerID": "containerd://" + "ef" * 32,
            "exitCode": 128,
            "finishedAt": "2026-11-29T10:02:28Z",
            "message": message,
            "reason": "StartError",
            "startedAt": "1970-01-01T00:00:00Z",
        }
    }
    report = status_report(pod_list(kubelet_pod("node-a", completed(), failed)))
    image = row(report, "node-a")["images"][1]
    assert (image["image"], image["state"], image["reason"], image["message"]) == (
        "redis:7.2",
        "failed",
        "StartError",
        message,
    )
    assert report.summary == "0/1 node ready: node-a failed 1 image"


def test_a_failed_helper_fails_the_node_and_says_why() -> None:
    pull_error = 'failed to pull and unpack image "docker.io/library/busybox:1.37.0-musl": 429 Too Many Requests'
    report = status_report(pod_list(kubelet_pod("node-a", helper=waiting("ErrImagePull", pull_error))))
    node = row(report, "node-a")
    assert node["state"] == "failed"
    assert [i["state"] for i in node["images"]] == ["waiting"] * 3
    assert node["notes"] == [f"prepuller-tools: ErrImagePull: {pull_error}"]
    assert report.summary == f"0/1 node ready: node-a failed (prepuller-tools: ErrImagePull: {pull_error})"


def test_several_nodes_summary_names_each_problem() -> None:
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed()),
        kubelet_pod("node-b", completed(), running()),
        kubelet_pod("node-c", completed(), waiting("ImagePullBackOff", BACK_OFF)),
    )
    report = status_report(pods, node_list("node-a", "node-b", "node-c"))
    assert [(n.name, str(n.state)) for n in report.nodes] == [
        ("node-a", "ready"),
        ("node-b", "pulling"),
        ("node-c", "failed"),
    ]
    assert report.summary == "1/3 nodes ready: node-b waiting for 2 images, node-c failed 1 image"


def test_all_ready_on_every_node() -> None:
    pulled = (completed(), completed(), completed())
    pods = pod_list(*(kubelet_pod(n, *pulled) for n in ("node-a", "node-b", "node-c")))
    report = status_report(pods, node_list("node-a", "node-b", "node-c"))
    assert report.ready
    assert report.summary == "3/3 nodes ready, 3 images each"


# --- nodes: not ready, no pod, excluded, cordoned, forbidden -----------------------------


def test_node_without_a_pod_is_listed_and_blocks() -> None:
    report = status_report(load("kubelet-pods.json"), node_list("node-a", "node-b"))
    assert row(report, "node-b") == {
        "name": "node-b",
        "state": "no-pod",
        "counted": True,
        "pod": None,
        "namespace": None,
        "nodeReady": True,
        "schedulable": True,
        "notes": ["no prepuller pod"],
        "images": [],
    }
    assert not report.ready
    assert report.summary == "1/2 nodes ready: node-b has no prepuller pod"


def test_not_ready_node_is_listed_but_not_counted() -> None:
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed()),
        kubelet_pod("node-down", completed(), running()),
    )
    report = status_report(pods, node_list("node-a", "node-down"))
    down = row(report, "node-down")
    assert (down["state"], down["counted"], down["nodeReady"]) == ("pulling", False, False)
    assert down["notes"] == ["node not Ready: not counted"]
    assert report.ready
    assert report.summary == "1/1 node ready, 3 images each; not counted: node-down (node not Ready)"


def test_not_ready_node_without_pod_is_not_counted() -> None:
    report = status_report(load("kubelet-pods.json"), node_list("node-a", "node-down"))
    assert row(report, "node-down")["state"] == "no-pod"
    assert row(report, "node-down")["counted"] is False
    assert report.ready


def test_excluded_nodes_are_listed_with_the_reason_and_cordoned_nodes_still_count() -> None:
    report = status_report(load("kubelet-pods.json"), load("nodes-mixed.json"))
    assert {n.name: (str(n.state), n.counted, n.notes) for n in report.nodes if n.name != "node-a"} == {
        "node-b": ("no-pod", True, ("no prepuller pod",)),
        "node-c": ("no-pod", True, ("no prepuller pod",)),
        "node-cordoned": ("no-pod", True, ("no prepuller pod", "node cordoned")),
        "node-down": ("no-pod", False, ("no prepuller pod", "node not Ready: not counted")),
        "node-gpu": ("excluded", False, ("excluded: taint nvidia.com/gpu=present:NoSchedule not tolerated",)),
        "node-win": ("excluded", False, ("excluded: nodeSelector kubernetes.io/os=linux does not match",)),
    }
    assert report.summary == (
        "1/4 nodes ready: node-b has no prepuller pod, node-c has no prepuller pod, node-cordoned has no "
        "prepuller pod; not counted: node-down (node not Ready), node-gpu (excluded), node-win (excluded)"
    )


def test_an_excluded_node_is_shown_ready_and_schedulable_but_not_counted() -> None:
    report = status_report(load("kubelet-pods.json"), node_list("node-a", "node-gpu"))
    assert row(report, "node-gpu") == {
        "name": "node-gpu",
        "state": "excluded",
        "counted": False,
        "pod": None,
        "namespace": None,
        "nodeReady": True,
        "schedulable": True,
        "notes": ["excluded: taint nvidia.com/gpu=present:NoSchedule not tolerated"],
        "images": [],
    }


def test_a_pod_on_a_cordoned_node_counts_and_its_row_shows_the_node_cordoned() -> None:
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-7xk2q"),
        kubelet_pod("node-cordoned", completed(), completed(), completed(), name="prepull-c4r8d"),
    )
    report = status_report(pods, node_list("node-a", "node-cordoned"))
    shown = {
        node: {k: v for k, v in row(report, node).items() if k != "images"} for node in ("node-a", "node-cordoned")
    }
    assert shown == {
        "node-a": {
            "name": "node-a",
            "state": "ready",
            "counted": True,
            "pod": "prepull-7xk2q",
            "namespace": "prepuller",
            "nodeReady": True,
            "schedulable": True,
            "notes": [],
        },
        "node-cordoned": {
            "name": "node-cordoned",
            "state": "ready",
            "counted": True,
            "pod": "prepull-c4r8d",
            "namespace": "prepuller",
            "nodeReady": True,
            "schedulable": False,
            "notes": ["node cordoned"],
        },
    }
    assert report.summary == "2/2 nodes ready, 3 images each"


def test_a_tolerated_taint_does_not_exclude() -> None:
    pod = copy.deepcopy(load("kubelet-pods.json"))
    pod["items"][0]["spec"]["tolerations"].append(
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    )
    report = status_report(pod, node_list("node-a", "node-gpu"))
    assert row(report, "node-gpu")["state"] == "no-pod"
    assert row(report, "node-gpu")["counted"] is True


def test_forbidden_node_listing_shows_only_nodes_with_pods_and_says_so() -> None:
    error = (
        'Error from server (Forbidden): nodes is forbidden: User "ci" cannot list resource "nodes" '
        'in API group "" at the cluster scope'
    )
    report = status_report(load("kubelet-pods.json"), None, nodes_error=error)
    assert [n.name for n in report.nodes] == ["node-a"]
    assert report.ready
    assert row(report, "node-a")["nodeReady"] is None
    table = render_table(report)
    assert f"nodes not listed ({error}): nodes without a prepuller pod are not shown\n" in table
    assert report.to_json()["nodesListed"] is False
    assert report.to_json()["nodesError"] == error


def test_no_pods_at_all_is_not_ready() -> None:
    report = status_report(pod_list(), node_list("node-a", "node-b"))
    assert not report.ready
    assert report.summary == "no prepuller pods found (label name=prepull); 2 nodes without a pod"
    assert status_report(pod_list()).summary == "no prepuller pods found (label name=prepull)"


def test_unscheduled_pod_is_placed_on_its_node_from_the_daemonset_affinity() -> None:
    pod = mode_pod("kubelet", "node-b")
    del pod["spec"]["nodeName"]
    pod["status"] = {
        "conditions": [
            {
                "lastProbeTime": None,
                "lastTransitionTime": "2026-11-29T10:02:11Z",
                "message": "0/3 nodes are available: 1 Insufficient memory. preemption: 0/3 nodes are available: "
                "1 No preemption victims found for incoming pod.",
                "reason": "Unschedulable",
                "status": "False",
                "type": "PodScheduled",
            }
        ],
        "phase": "Pending",
        "qosClass": "Burstable",
    }
    report = status_report(pod_list(pod), node_list("node-b"))
    node = row(report, "node-b")
    assert node["state"] == "waiting"
    assert node["notes"] == [
        "pod not scheduled: Unschedulable: 0/3 nodes are available: 1 Insufficient memory. preemption: 0/3 "
        "nodes are available: 1 No preemption victims found for incoming pod."
    ]


def test_only_the_schedulers_false_pod_scheduled_condition_notes_a_pod_not_scheduled() -> None:
    # A readiness gate's condition (set by its controller, False until it is satisfied) says nothing of scheduling.
    waiting_pod = mode_pod("kubelet", "node-b")
    del waiting_pod["spec"]["nodeName"]
    waiting_pod["spec"]["readinessGates"] = [{"conditionType": "www.example.com/feature-1"}]
    waiting_pod["status"] = {
        "conditions": [
            {
                "lastProbeTime": None,
                "lastTransitionTime": "2026-11-29T10:02:11Z",
                "status": "False",
                "type": "www.example.com/feature-1",
            }
        ],
        "phase": "Pending",
        "qosClass": "Burstable",
    }
    assert row(status_report(pod_list(waiting_pod)), "node-b")["notes"] == []
    # A pod bound to its node was scheduled whatever its conditions say: they are not needed, even damaged.
    bound = kubelet_pod("node-a", completed(), completed(), completed())
    bound["status"]["conditions"] = "PodScheduled"
    report = status_report(pod_list(bound))
    assert (row(report, "node-a")["state"], row(report, "node-a")["notes"]) == ("ready", [])


NODE_B_TERM = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-b"]}]}


@pytest.mark.parametrize(
    ("terms", "placed"),
    [
        # Terms are ORed; one that matches no node (empty, or In no name) leaves node-b the only one.
        ([{}, NODE_B_TERM], "node-b"),
        ([{"matchFields": [{"key": "metadata.name", "operator": "In"}]}, NODE_B_TERM], "node-b"),
        # Any node but node-b, or either of two nodes: no one node is the pod's.
        ([{"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-b"]}]}], "(unscheduled)"),
        (
            [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-a", "node-b"]}]}],
            "(unscheduled)",
        ),
    ],
)
def test_an_unbound_pod_is_placed_only_on_the_one_node_its_affinity_requires(terms: list[JSON], placed: str) -> None:
    pod = mode_pod("kubelet", "node-b")
    del pod["spec"]["nodeName"]
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    required = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    required["nodeSelectorTerms"] = terms
    report = status_report(pod_list(pod))
    assert [(n.name, n.pod, str(n.state)) for n in report.nodes] == [(placed, "prepull-7xk2q", "waiting")]


def test_terminating_pod_gives_way_to_its_replacement_and_older_revisions_do_not_count() -> None:
    old = kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-old")
    old["metadata"]["deletionTimestamp"] = "2026-11-29T10:30:00Z"
    new = kubelet_pod("node-a", waiting("PodInitializing"), name="prepull-new")
    new["metadata"]["creationTimestamp"] = "2026-11-29T10:30:00Z"
    new["metadata"]["labels"]["controller-revision-hash"] = "8a7b6c5d4e"
    stale = kubelet_pod("node-b", completed(), completed(), completed(), name="prepull-stale")
    report = status_report(pod_list(old, new, stale))
    assert row(report, "node-a")["pod"] == "prepull-new"
    assert row(report, "node-a")["state"] == "pulling"
    assert row(report, "node-b")["state"] == "waiting"
    assert row(report, "node-b")["notes"] == [
        "pod prepull-stale is from an older revision (rolling update in progress)"
    ]
    assert report.summary == (
        "0/2 nodes ready: node-a waiting for 3 images, node-b waiting "
        "(pod prepull-stale is from an older revision (rolling update in progress))"
    )


@pytest.mark.parametrize(
    ("phase", "reason", "message", "deleted", "notes"),
    [
        (
            "Failed",
            "Evicted",
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 92084Ki. ",
            False,
            ["pod Failed: Evicted"],
        ),
        (
            "Failed",
            "Terminated",
            "Pod was terminated in response to imminent node shutdown.",
            False,
            ["pod Failed: Terminated"],
        ),
        # Deleted, its containers stopped with exit code 0: the kubelet ends it Succeeded, without a reason.
        (
            "Succeeded",
            None,
            None,
            True,
            ["pod Succeeded", "pod prepull-ax7k2 is terminating"],
        ),
    ],
)
def test_a_pod_that_has_stopped_says_how_in_its_nodes_notes(
    phase: str, reason: str | None, message: str | None, deleted: bool, notes: list[str]
) -> None:
    pod = kubelet_pod("node-a", completed(), completed(), completed())
    pod["status"]["containerStatuses"] = [container_status(pod, "pause", completed("2026-11-29T11:40:02Z"))]
    pod["status"]["phase"] = phase
    if reason is not None:
        pod["status"].update(reason=reason, message=message)
    if deleted:
        pod["metadata"]["deletionTimestamp"] = "2026-11-29T11:40:00Z"
    node = row(status_report(pod_list(pod)), "node-a")
    assert (node["pod"], node["namespace"], node["notes"]) == ("prepull-ax7k2", "prepuller", notes)


def test_a_pod_without_a_name_is_shown_as_unnamed() -> None:
    pod = kubelet_pod("node-a", completed(), completed(), completed())
    del pod["metadata"]["name"]
    report = status_report(pod_list(pod))
    assert row(report, "node-a")["pod"] == "(unnamed)"


def test_a_labelled_pod_without_any_image_keeps_its_node_waiting_and_points_at_the_table() -> None:
    # Another workload's pod that carries the label name=prepull too: no image to show, nothing to note.
    pod = mode_pod("kubelet", "node-a", name="web-5d9c7-x2k4p")
    pod["spec"]["initContainers"] = []
    pod["spec"]["containers"] = [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]
    report = status_report(pod_list(with_statuses(pod, [], [running()], phase="Running")))
    assert (row(report, "node-a")["state"], row(report, "node-a")["images"]) == ("waiting", [])
    assert row(report, "node-a")["notes"] == []
    assert report.summary == "0/1 node ready: node-a waiting (see the table)"


def test_a_terminating_pod_without_a_replacement_still_shows_its_node_and_says_so() -> None:
    old = kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-old")
    old["metadata"]["deletionTimestamp"] = "2026-11-29T10:30:00Z"
    old["metadata"]["deletionGracePeriodSeconds"] = 30
    report = status_report(pod_list(old))
    node = row(report, "node-a")
    assert (node["pod"], node["state"], node["notes"]) == ("prepull-old", "ready", ["pod prepull-old is terminating"])


def test_a_pod_without_a_revision_label_is_not_called_outdated() -> None:
    # The DaemonSet controller labels every pod it makes; one made otherwise has nothing to compare.
    unlabelled = kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-a1")
    del unlabelled["metadata"]["labels"]["controller-revision-hash"]
    current = kubelet_pod("node-b", completed(), completed(), completed(), name="prepull-b1")
    report = status_report(pod_list(unlabelled, current))
    assert (row(report, "node-a")["state"], row(report, "node-a")["notes"]) == ("ready", [])
    assert report.summary == "2/2 nodes ready, 3 images each"


def test_a_pod_on_a_node_missing_from_the_node_list_says_the_node_may_be_deleted() -> None:
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed()),
        kubelet_pod("node-gone", completed(), completed(), completed()),
    )
    report = status_report(pods, node_list("node-a"))
    gone = row(report, "node-gone")
    assert (gone["state"], gone["counted"], gone["nodeReady"]) == ("ready", True, None)
    assert gone["notes"] == ["node not in the node list (deleted?)"]
    assert row(report, "node-a")["notes"] == []


def test_summary_names_at_most_five_nodes() -> None:
    names = [f"node-{i}" for i in range(8)]
    report = status_report(pod_list(*(kubelet_pod(n, running(), name=f"p-{n}") for n in names)))
    assert report.summary == (
        "0/8 nodes ready: node-0 waiting for 3 images, node-1 waiting for 3 images, node-2 waiting for 3 images, "
        "node-3 waiting for 3 images, node-4 waiting for 3 images and 3 more"
    )


def test_summary_of_exactly_five_nodes_names_them_all() -> None:
    names = [f"node-{i}" for i in range(5)]
    report = status_report(pod_list(*(kubelet_pod(n, running(), name=f"p-{n}") for n in names)))
    assert report.summary == (
        "0/5 nodes ready: node-0 waiting for 3 images, node-1 waiting for 3 images, node-2 waiting for 3 images, "
        "node-3 waiting for 3 images, node-4 waiting for 3 images"
    )


# --- docker and keep mode ----------------------------------------------------------------


def test_docker_mode_succeeded_means_every_argument_image_pulled() -> None:
    report = status_report(load("docker-pods.json"))
    assert states(report, "node-a") == [("nginx:1.25", "pulled", None), ("redis:7.2", "pulled", None)]
    assert report.summary == "1/1 node ready, 2 images each"


def test_docker_mode_reads_the_images_from_the_args_as_the_chart_writes_them() -> None:
    # The container runs command + args: `sh -c SCRIPT prepull` with the images as its args.
    pod = mode_pod("docker")
    pod["spec"]["initContainers"][0]["command"] = ["sh", "-c", PREPULL_SCRIPT, "prepull"]
    pod["spec"]["initContainers"][0]["args"] = IMAGES
    assert states(status_report(pod_list(pod)), "node-a") == [(image, "pulled", None) for image in IMAGES]


def test_docker_mode_failure_points_at_the_logs() -> None:
    pod = mode_pod("docker")
    last = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": "2026-11-29T10:02:16Z",
            "finishedAt": "2026-11-29T10:02:19Z",
            "message": "Pulling 'redis:7.2'...\nError response from daemon: manifest for redis:7.2 not found",
        }
    }
    pod = with_statuses(
        pod, [waiting("CrashLoopBackOff", "back-off 10s restarting failed container")], [waiting("PodInitializing")]
    )
    pod["status"]["initContainerStatuses"][0]["lastState"] = last
    images = row(status_report(pod_list(pod)), "node-a")["images"]
    assert [(i["image"], i["state"], i["reason"]) for i in images] == [
        ("nginx:1.25", "failed", "CrashLoopBackOff"),
        ("redis:7.2", "failed", "CrashLoopBackOff"),
    ]
    assert images[0]["message"] == (
        "back-off 10s restarting failed container; last run: Error, exit code 1: Pulling 'redis:7.2'...\n"
        "Error response from daemon: manifest for redis:7.2 not found; "
        "see logs: kubectl -n prepuller logs prepull-d9p4m -c prepull"
    )


def test_docker_mode_terminated_with_error_before_restart() -> None:
    failed = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": "2026-11-29T10:02:16Z",
            "finishedAt": "2026-11-29T10:02:19Z",
            "containerID": "containerd://" + "ef" * 32,
        }
    }
    pod = with_statuses(mode_pod("docker"), [failed], [waiting("PodInitializing")])
    images = row(status_report(pod_list(pod)), "node-a")["images"]
    assert {(i["state"], i["reason"], i["message"]) for i in images} == {
        ("failed", "Error", "see logs: kubectl -n prepuller logs prepull-d9p4m -c prepull")
    }


def test_docker_mode_logs_hint_for_a_pod_without_a_namespace_has_no_namespace_flag() -> None:
    # A pod document written without its namespace (kubectl then uses the current context's).
    failed = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": "2026-11-29T10:02:16Z",
            "finishedAt": "2026-11-29T10:02:19Z",
        }
    }
    pod = with_statuses(mode_pod("docker"), [failed], [waiting("PodInitializing")])
    del pod["metadata"]["namespace"]
    node = row(status_report(pod_list(pod)), "node-a")
    assert node["namespace"] is None
    assert [(i["image"], i["container"], i["message"]) for i in node["images"]] == [
        ("nginx:1.25", "prepull", "see logs: kubectl logs prepull-d9p4m -c prepull"),
        ("redis:7.2", "prepull", "see logs: kubectl logs prepull-d9p4m -c prepull"),
    ]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (running("2026-11-29T10:02:16Z"), ("pulling", None)),
        (waiting("PodInitializing"), ("pulling", None)),
        (waiting("ErrImagePull", "docker.io/library/docker:27.3-cli: not found"), ("failed", "ErrImagePull")),
    ],
)
def test_docker_mode_states_apply_to_every_image(state: JSON, expected: tuple[str, str | None]) -> None:
    pod = with_statuses(mode_pod("docker"), [state], [waiting("PodInitializing")])
    assert {(s, r) for _, s, r in states(status_report(pod_list(pod)), "node-a")} == {expected}


def test_keep_mode_running_sleepers_are_pulled() -> None:
    report = status_report(load("keep-pods.json"))
    assert states(report, "node-a") == [(image, "pulled", None) for image in IMAGES]
    assert [i["container"] for i in row(report, "node-a")["images"]] == [
        "keep-nginx-1-25",
        "keep-redis-7-2",
        "keep-static-nonroot",
    ]
    assert report.ready


def test_keep_mode_creating_failing_and_waiting_for_the_helper() -> None:
    pod = with_statuses(
        mode_pod("keep"),
        [completed("2026-11-29T10:02:15Z")],
        [running(), waiting("ContainerCreating"), waiting("ImagePullBackOff", BACK_OFF)],
    )
    assert states(status_report(pod_list(pod)), "node-a") == [
        ("nginx:1.25", "pulled", None),
        ("redis:7.2", "pulling", None),
        ("gcr.io/distroless/static:nonroot", "failed", "ImagePullBackOff"),
    ]
    initialising = with_statuses(mode_pod("keep"), [running()], [waiting("PodInitializing")] * 3)
    assert {s for _, s, _ in states(status_report(pod_list(initialising)), "node-a")} == {"waiting"}


def test_unknown_extra_container_is_not_an_image_but_its_failure_is_noted() -> None:
    pod = copy.deepcopy(load("kubelet-pods.json"))
    item = pod["items"][0]
    item["spec"]["containers"].append(
        {"name": "remove-taint", "image": "registry.k8s.io/kubectl:v1.33.1", "command": ["kubectl", "taint"]}
    )
    item["status"]["containerStatuses"].append(
        container_status(item, "remove-taint", waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container"))
    )
    report = status_report(pod)
    assert len(states(report, "node-a")) == 3
    assert row(report, "node-a")["notes"] == [
        "remove-taint: CrashLoopBackOff: back-off 5m0s restarting failed container"
    ]
    assert report.ready  # the images are on the node


@pytest.mark.parametrize(
    "command",
    [
        ["sh", "-c"],  # sh: -c requires an argument
        ["sh", "-c", "docker pull nginx:1.25"],  # no image arguments: nothing for the report to show
    ],
)
def test_a_failing_shell_container_without_image_arguments_is_not_an_image_but_its_failure_is_noted(
    command: list[str],
) -> None:
    pod = copy.deepcopy(load("kubelet-pods.json"))
    item = pod["items"][0]
    item["spec"]["containers"].append({"name": "warm-cache", "image": "docker:27.3-cli", "command": command})
    item["status"]["containerStatuses"].append(
        container_status(item, "warm-cache", waiting("CrashLoopBackOff", "back-off 20s restarting failed container"))
    )
    report = status_report(pod)
    assert states(report, "node-a") == [(image, "pulled", None) for image in IMAGES]
    assert row(report, "node-a")["notes"] == ["warm-cache: CrashLoopBackOff: back-off 20s restarting failed container"]


def with_taint_remover(state: JSON) -> JSON:
    """The kubelet-mode fixture with startup_taint's remover after the pulls (it runs the copied
    busybox too), its container status in ``state``."""
    pod = copy.deepcopy(load("kubelet-pods.json"))
    item = pod["items"][0]
    item["spec"]["initContainers"].append(
        {
            "name": "remove-startup-taint",
            "image": "registry.k8s.io/kubectl:v1.33.9",
            "command": ["/.prepuller/busybox", "sh", "-c", "exit 1", "remove-startup-taint"],
        }
    )
    item["status"]["initContainerStatuses"].append(container_status(item, "remove-startup-taint", state))
    return pod


def test_the_startup_taint_remover_is_not_an_image_but_its_failure_is_noted() -> None:
    """startup_taint adds an init container that runs the copied busybox too, after the pulls."""
    pod = with_taint_remover(waiting("CrashLoopBackOff", "back-off 40s restarting failed container"))
    report = status_report(pod)
    assert len(states(report, "node-a")) == 3
    assert row(report, "node-a")["notes"] == [
        "remove-startup-taint: CrashLoopBackOff: back-off 40s restarting failed container"
    ]


def test_the_startup_taint_remover_the_chart_writes_is_not_an_image() -> None:
    # Its script says "prepuller" (so "pull") but runs no docker: not a docker-mode container.
    remover = untaint_container(
        "example.com/prepull", parse_reference("registry.k8s.io/kubectl:v1.33.9", "kubectl_image"), None
    )
    pod = copy.deepcopy(load("kubelet-pods.json"))
    item = pod["items"][0]
    item["spec"]["initContainers"].append(remover)
    item["status"]["initContainerStatuses"].append(container_status(item, remover["name"], completed()))
    report = status_report(pod)
    assert states(report, "node-a") == [(image, "pulled", None) for image in IMAGES]
    assert report.summary == "1/1 node ready, 3 images each"


def test_a_noted_failure_without_a_message_is_its_reason_alone() -> None:
    # The taint remover's first failure, before the kubelet restarts it: terminated, without a message.
    failed = {
        "terminated": {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": "2026-11-29T10:02:43Z",
            "finishedAt": "2026-11-29T10:02:43Z",
        }
    }
    assert row(status_report(with_taint_remover(failed)), "node-a")["notes"] == ["remove-startup-taint: Error"]


# --- rendering ---------------------------------------------------------------------------


def test_table_layout() -> None:
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-7xk2q"),
        kubelet_pod("node-b", completed(), waiting("ErrImagePull", ERR_IMAGE_PULL), name="prepull-q9d4z"),
    )
    table = render_table(status_report(pods, node_list("node-a", "node-b", "node-c")))
    assert table == (
        "NODE     POD             IMAGE                              STATE     DETAIL\n"
        "node-a   prepull-7xk2q   nginx:1.25                         pulled\n"
        "                         redis:7.2                          pulled\n"
        "                         gcr.io/distroless/static:nonroot   pulled\n"
        "node-b   prepull-q9d4z   nginx:1.25                         pulled\n"
        f"                         redis:7.2                          failed    ErrImagePull: {ERR_IMAGE_PULL}\n"
        "                         gcr.io/distroless/static:nonroot   waiting\n"
        "node-c   -               -                                  no-pod    no prepuller pod\n"
        "1/3 nodes ready: node-b failed 1 image, node-c has no prepuller pod\n"
    )


def test_table_lists_a_nodes_notes_after_its_images_under_detail() -> None:
    # node-cordoned has no pod: its notes share its one row; node-down has images: a row per note.
    pods = pod_list(
        kubelet_pod("node-a", completed(), completed(), completed(), name="prepull-7xk2q"),
        kubelet_pod("node-down", completed(), running(), name="prepull-m3v8c"),
    )
    table = render_table(status_report(pods, node_list("node-a", "node-cordoned", "node-down")))
    assert table == (
        "NODE            POD             IMAGE                              STATE     DETAIL\n"
        "node-a          prepull-7xk2q   nginx:1.25                         pulled\n"
        "                                redis:7.2                          pulled\n"
        "                                gcr.io/distroless/static:nonroot   pulled\n"
        "node-cordoned   -               -                                  no-pod    no prepuller pod; node cordoned\n"
        "node-down       prepull-m3v8c   nginx:1.25                         pulled\n"
        "                                redis:7.2                          pulling\n"
        "                                gcr.io/distroless/static:nonroot   waiting\n"
        "                                                                             note: node not Ready: not counted\n"
        "1/2 nodes ready: node-cordoned has no prepuller pod; not counted: node-down (node not Ready)\n"
    )


def test_json_output_has_sorted_keys_and_a_two_space_indent() -> None:
    assert render_json(status_report(pod_list(), node_list("node-cordoned"))) == (
        "{\n"
        '  "name": "prepull",\n'
        '  "nodes": [\n'
        "    {\n"
        '      "counted": true,\n'
        '      "images": [],\n'
        '      "name": "node-cordoned",\n'
        '      "namespace": null,\n'
        '      "nodeReady": true,\n'
        '      "notes": [\n'
        '        "no prepuller pod",\n'
        '        "node cordoned"\n'
        "      ],\n"
        '      "pod": null,\n'
        '      "schedulable": false,\n'
        '      "state": "no-pod"\n'
        "    }\n"
        "  ],\n"
        '  "nodesCounted": 1,\n'
        '  "nodesError": null,\n'
        '  "nodesListed": true,\n'
        '  "nodesReady": 0,\n'
        '  "ready": false,\n'
        '  "summary": "no prepuller pods found (label name=prepull); 1 node without a pod"\n'
        "}\n"
    )


def test_json_document_schema() -> None:
    document = json.loads(render_json(status_report(load("kubelet-pods.json"), node_list("node-a", "node-gpu"))))
    assert sorted(document) == [
        "name",
        "nodes",
        "nodesCounted",
        "nodesError",
        "nodesListed",
        "nodesReady",
        "ready",
        "summary",
    ]
    assert (document["ready"], document["nodesCounted"], document["nodesReady"]) == (True, 1, 1)
    assert [n["name"] for n in document["nodes"]] == ["node-a", "node-gpu"]
    assert sorted(document["nodes"][0]) == [
        "counted",
        "images",
        "name",
        "namespace",
        "nodeReady",
        "notes",
        "pod",
        "schedulable",
        "state",
    ]
    assert sorted(document["nodes"][0]["images"][0]) == ["container", "image", "imageID", "message", "reason", "state"]
    assert {n["state"] for n in document["nodes"]} <= {s.value for s in NodeState}


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "pods: must be a Kubernetes List of Pods (a JSON object) (got [])"),
        (
            {"kind": "Status"},
            "pods: must be a Kubernetes List of Pods, as `kubectl get ... -o json` prints (got 'Status')",
        ),
        ({"kind": "List", "items": {}}, "pods.items: must be a JSON array (got {})"),
        ({"kind": "List", "items": [{"kind": "Node"}]}, "pods.items[0].kind: must be 'Pod' (got 'Node')"),
        ({"kind": "List", "items": [{"kind": "Pod"}, 7]}, "pods.items[1]: must be a JSON object (got 7)"),
        (
            {"kind": "List", "items": [{"kind": "Pod", "spec": {"initContainers": [{"name": 7}]}}]},
            "pods.items[0].spec.initContainers[0].name: must be a string (got 7)",
        ),
        (
            {"kind": "List", "items": [{"kind": "Pod", "status": {"initContainerStatuses": "x"}}]},
            "pods.items[0].status.initContainerStatuses: must be a JSON array (got 'x')",
        ),
        (
            {"kind": "List", "items": [{"kind": "Pod", "spec": {"initContainers": [{"name": "a", "command": "x"}]}}]},
            "pods.items[0].spec.initContainers[0].command: must be a JSON array (got 'x')",
        ),
        (
            {"kind": "List", "items": [{"kind": "Pod", "spec": {"initContainers": [{"name": "a", "args": "x"}]}}]},
            "pods.items[0].spec.initContainers[0].args: must be a JSON array (got 'x')",
        ),
        (
            {"kind": "List", "items": [{"kind": "Pod", "spec": {"containers": [{"name": "a", "args": ["-c", 7]}]}}]},
            "pods.items[0].spec.containers[0].command: must be a string (got 7)",
        ),
    ],
)
def test_bad_documents_name_the_place(document: object, message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        status_report(document)
    assert str(caught.value) == message


def test_list_items_without_a_kind_are_read_as_the_list_s_kind() -> None:
    """`kubectl get -o json` writes each item's kind; hand-made lists may leave it out."""
    pods = load("kubelet-pods.json")
    for item in pods["items"]:
        del item["kind"]
    assert (
        status_report(pods).summary
        == status_report(load("kubelet-pods.json")).summary
        == ("1/1 node ready, 3 images each")
    )


PAUSE = {"name": "pause", "image": "registry.k8s.io/pause:3.10"}


@pytest.mark.parametrize(
    ("pod", "message"),
    [
        ({"metadata": "x"}, "pods.items[0].metadata: must be a JSON object (got 'x')"),
        ({"metadata": {"name": 7}}, "pods.items[0].metadata.name: must be a string (got 7)"),
        ({"metadata": {"namespace": 7}}, "pods.items[0].metadata.namespace: must be a string (got 7)"),
        ({"metadata": {"creationTimestamp": 7}}, "pods.items[0].metadata.creationTimestamp: must be a string (got 7)"),
        (
            {"metadata": {"labels": ["name=prepull"]}},
            "pods.items[0].metadata.labels: must be a JSON object (got ['name=prepull'])",
        ),
        ({"metadata": {"labels": {"name": 7}}}, "pods.items[0].metadata.labels: must be a string (got 7)"),
        (
            {"metadata": {"labels": {"controller-revision-hash": 7}}},
            "pods.items[0].metadata.labels: must be a string (got 7)",
        ),
        ({"spec": "x"}, "pods.items[0].spec: must be a JSON object (got 'x')"),
        ({"spec": {"nodeName": 7}}, "pods.items[0].spec.nodeName: must be a string (got 7)"),
        ({"spec": {"containers": {}}}, "pods.items[0].spec.containers: must be a JSON array (got {})"),
        ({"spec": {"initContainers": ["x"]}}, "pods.items[0].spec.initContainers[0]: must be a JSON object (got 'x')"),
        (
            {"spec": {"containers": [{**PAUSE, "image": 7}]}},
            "pods.items[0].spec.containers[0].image: must be a string (got 7)",
        ),
        (
            {"spec": {"containers": [{**PAUSE, "command": "/pause"}]}},
            "pods.items[0].spec.containers[0].command: must be a JSON array (got '/pause')",
        ),
        ({"status": "x"}, "pods.items[0].status: must be a JSON object (got 'x')"),
        (
            {"status": {"containerStatuses": ["x"]}},
            "pods.items[0].status.containerStatuses[0]: must be a JSON object (got 'x')",
        ),
        (
            {"status": {"containerStatuses": [{"name": 7}]}},
            "pods.items[0].status.containerStatuses[0].name: must be a string (got 7)",
        ),
        (
            {"spec": {"containers": [PAUSE]}, "status": {"containerStatuses": [{"name": "pause", "state": "running"}]}},
            "pods.items[0].status[pause].state: must be a JSON object (got 'running')",
        ),
        (
            {"spec": {"containers": [PAUSE]}, "status": {"containerStatuses": [{"name": "pause", "imageID": 7}]}},
            "pods.items[0].status[pause].imageID: must be a string (got 7)",
        ),
        ({"status": {"conditions": {}}}, "pods.items[0].status.conditions: must be a JSON array (got {})"),
        (
            {"status": {"conditions": ["PodScheduled"]}},
            "pods.items[0].status.conditions[]: must be a JSON object (got 'PodScheduled')",
        ),
        ({"status": {"phase": 7}}, "pods.items[0].status.phase: must be a string (got 7)"),
        ({"status": {"phase": "Failed", "reason": 7}}, "pods.items[0].status.reason: must be a string (got 7)"),
        ({"spec": {"nodeSelector": ["x"]}}, "pods.items[0].spec.nodeSelector: must be a JSON object (got ['x'])"),
        ({"spec": {"tolerations": {}}}, "pods.items[0].spec.tolerations: must be a JSON array (got {})"),
        ({"spec": {"tolerations": ["x"]}}, "pods.items[0].spec.tolerations[]: must be a JSON object (got 'x')"),
    ],
)
def test_bad_pod_documents_name_the_place(pod: JSON, message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        status_report(pod_list({"kind": "Pod", **pod}))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ({"state": "x"}, "state: must be a JSON object (got 'x')"),
        ({"state": {"terminated": "x"}}, "state.terminated: must be a JSON object (got 'x')"),
        ({"state": {"terminated": {"exitCode": 1, "reason": 1}}}, "state.terminated.reason: must be a string (got 1)"),
        (
            {"state": {"terminated": {"exitCode": 1, "reason": "Error", "message": 1}}},
            "state.terminated.message: must be a string (got 1)",
        ),
        ({"state": {"waiting": "x"}}, "state.waiting: must be a JSON object (got 'x')"),
        ({"state": {"waiting": {"reason": 1}}}, "state.waiting.reason: must be a string (got 1)"),
        (
            {"state": {"waiting": {"reason": "ErrImagePull", "message": 1}}},
            "state.waiting.message: must be a string (got 1)",
        ),
        (
            {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": "x"},
            "lastState: must be a JSON object (got 'x')",
        ),
        (
            {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": "x"}},
            "lastState.terminated: must be a JSON object (got 'x')",
        ),
    ],
)
def test_bad_container_statuses_name_the_container_and_the_field(status: JSON, message: str) -> None:
    pod = {
        "kind": "Pod",
        "spec": {"initContainers": [{"name": "pull-redis-7-2"}]},
        "status": {"initContainerStatuses": [{"name": "pull-redis-7-2", **status}]},
    }
    with pytest.raises(PrepullerError) as caught:
        status_report(pod_list(pod))
    assert str(caught.value) == "pods.items[0].status[pull-redis-7-2]." + message


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"metadata": "x"}, "nodes.items[0].metadata: must be a JSON object (got 'x')"),
        ({"metadata": {"name": 7}}, "nodes.items[0].metadata.name: must be a string (got 7)"),
        ({"metadata": {"labels": ["a=b"]}}, "nodes.items[0].metadata.labels: must be a JSON object (got ['a=b'])"),
        ({"spec": "x"}, "nodes.items[0].spec: must be a JSON object (got 'x')"),
        ({"spec": {"taints": "x"}}, "nodes.items[0].spec.taints: must be a JSON array (got 'x')"),
        ({"spec": {"taints": ["x"]}}, "nodes.items[0].spec.taints[]: must be a JSON object (got 'x')"),
        ({"status": "x"}, "nodes.items[0].status: must be a JSON object (got 'x')"),
        ({"status": {"conditions": {}}}, "nodes.items[0].status.conditions: must be a JSON array (got {})"),
        (
            {"status": {"conditions": ["Ready"]}},
            "nodes.items[0].status.conditions[]: must be a JSON object (got 'Ready')",
        ),
    ],
)
def test_bad_node_documents_name_the_place(node: JSON, message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        status_report(pod_list(), {"kind": "List", "items": [{"kind": "Node", **node}]})
    assert str(caught.value) == message


def test_a_single_pod_object_is_accepted() -> None:
    assert status_report(load("kubelet-pods.json")["items"][0]).ready


# --- property: the node is ready exactly when every image container completed -------------

_STATE = st.sampled_from(
    [
        completed(),
        running(),
        waiting("PodInitializing"),
        waiting("ErrImagePull", ERR_IMAGE_PULL),
        waiting("ImagePullBackOff", BACK_OFF),
        {"terminated": {"exitCode": 2, "reason": "Error", "startedAt": "x", "finishedAt": "x"}},
    ]
)


@given(st.lists(_STATE, min_size=3, max_size=3), _STATE)
def test_ready_exactly_when_helper_and_every_pull_completed(pulls: list[JSON], helper: JSON) -> None:
    report = status_report(pod_list(kubelet_pod("node-a", *pulls, helper=helper)))
    all_done = all(s == completed() for s in [helper, *pulls])
    assert report.ready is all_done
    images = report.nodes[0].images
    # Once one container is unfinished, no later image counts as pulled or pulling.
    first_open = next((i for i, s in enumerate([helper, *pulls]) if s != completed()), None)
    if first_open is not None:
        assert all(image.state in (ImageState.WAITING,) for image in images[first_open:])
        assert all(image.state is ImageState.PULLED for image in images[: max(first_open - 1, 0)])


def test_docker_mode_image_of_its_own_that_cannot_be_pulled_has_no_logs_to_point_at() -> None:
    message = 'failed to pull and unpack image "docker.io/library/docker:27.3-cli": 429 Too Many Requests'
    pod = with_statuses(mode_pod("docker"), [waiting("ErrImagePull", message)], [waiting("PodInitializing")])
    images = row(status_report(pod_list(pod)), "node-a")["images"]
    assert {(i["state"], i["reason"], i["message"]) for i in images} == {("failed", "ErrImagePull", message)}


def test_docker_mode_damaged_last_state_is_named_in_the_error() -> None:
    # Whether the failed script ever ran (so has logs) is read from its lastState.
    pod = with_statuses(mode_pod("docker"), [waiting("ErrImagePull", ERR_IMAGE_PULL)], [waiting("PodInitializing")])
    pod["status"]["initContainerStatuses"][0]["lastState"] = "terminated"
    with pytest.raises(PrepullerError) as caught:
        status_report(pod_list(pod))
    assert str(caught.value) == "pods.items[0].status[prepull].lastState: must be a JSON object (got 'terminated')"


def test_docker_mode_is_recognised_by_its_script_under_another_name() -> None:
    pod = mode_pod("docker")
    pod["spec"]["initContainers"][0]["name"] = "pull-with-docker"
    pod["status"]["initContainerStatuses"][0]["name"] = "pull-with-docker"
    assert states(status_report(pod_list(pod)), "node-a") == [
        ("nginx:1.25", "pulled", None),
        ("redis:7.2", "pulled", None),
    ]


def test_docker_mode_is_recognised_by_the_container_name_whatever_its_script() -> None:
    pod = mode_pod("docker")
    pod["spec"]["initContainers"][0]["command"][2] = 'for image in "$@"; do crictl pull "$image"; done'
    assert states(status_report(pod_list(pod)), "node-a") == [
        ("nginx:1.25", "pulled", None),
        ("redis:7.2", "pulled", None),
    ]


def test_pods_only_on_nodes_that_are_not_ready_count_nothing_and_are_not_ready() -> None:
    report = status_report(
        pod_list(kubelet_pod("node-down", completed(), completed(), completed())), node_list("node-down")
    )
    assert not report.ready
    assert report.summary == (
        "0/0 nodes ready: no Ready node has or should have a prepuller pod; not counted: node-down (node not Ready)"
    )


# --- property: any damage to a real document gives a report or a PrepullerError ------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_DOCUMENTS = {
    "pods": pod_list(
        kubelet_pod("node-a", completed(), waiting("ErrImagePull", ERR_IMAGE_PULL)),
        load("docker-pods.json")["items"][0],
        load("keep-pods.json")["items"][0],
    ),
    "nodes": node_list("node-a", "node-gpu", "node-down"),
}
_PATHS = [path for path in _paths(_DOCUMENTS) if len(path) >= 1]


@given(st.sampled_from(_PATHS), _JSON_VALUES)
def test_damaged_documents_never_raise_anything_but_prepuller_error(path: tuple[object, ...], value: object) -> None:
    documents: Any = copy.deepcopy(_DOCUMENTS)
    target = documents
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    try:
        report = status_report(documents["pods"], documents["nodes"])
    except PrepullerError:
        return
    render_table(report)
    json.loads(render_json(report))


# --- every mode: the same states and the same node rules ----------------------------------


def first_image_in(mode: str, state: JSON) -> JSON:
    """The healthy pod of ``mode`` with its first image's container in ``state``: the
    kubelet-mode pull init container, the keep-mode sleeper, the docker-mode script."""
    pod = mode_pod(mode)
    if mode == "kubelet":
        init = [completed(), state, waiting("PodInitializing"), waiting("PodInitializing")]
        return with_statuses(pod, init, [waiting("PodInitializing")])
    if mode == "keep":
        return with_statuses(pod, [completed()], [state, running(), running()], phase="Running")
    return with_statuses(pod, [state], [waiting("PodInitializing")])


@pytest.mark.parametrize("mode", ["kubelet", "docker", "keep"])
@pytest.mark.parametrize(
    ("reason", "message"),
    [("ErrImagePull", ERR_IMAGE_PULL), ("ImagePullBackOff", BACK_OFF), ("InvalidImageName", INVALID_NAME)],
)
def test_pull_failures_in_every_mode(mode: str, reason: str, message: str) -> None:
    report = status_report(pod_list(first_image_in(mode, waiting(reason, message))))
    image = row(report, "node-a")["images"][0]
    assert (image["image"], image["state"], image["reason"], image["message"]) == (
        "nginx:1.25",
        "failed",
        reason,
        message,
    )
    assert row(report, "node-a")["state"] == "failed"
    assert not report.ready


@pytest.mark.parametrize(
    ("mode", "state"),
    [("kubelet", waiting("PodInitializing")), ("docker", running()), ("keep", waiting("ContainerCreating"))],
)
def test_pulling_in_every_mode(mode: str, state: JSON) -> None:
    report = status_report(pod_list(first_image_in(mode, state)))
    assert states(report, "node-a")[0] == ("nginx:1.25", "pulling", None)
    assert row(report, "node-a")["state"] == "pulling"


@pytest.mark.parametrize("mode", ["kubelet", "docker", "keep"])
def test_node_rules_in_every_mode(mode: str) -> None:
    pods = pod_list(mode_pod(mode, "node-a"), mode_pod(mode, "node-down", name="prepull-down"))
    report = status_report(pods, node_list("node-a", "node-b", "node-down", "node-win"))
    assert {n.name: (str(n.state), n.counted) for n in report.nodes} == {
        "node-a": ("ready", True),
        "node-b": ("no-pod", True),
        "node-down": ("ready", False),
        "node-win": ("excluded", False),
    }
    assert not report.ready
    forbidden = status_report(pods, None, nodes_error="`kubectl get nodes` failed: Forbidden")
    assert forbidden.ready
    assert forbidden.summary.startswith("2/2 nodes ready, ")


def test_only_pods_labelled_with_the_prepullers_name_are_read() -> None:
    other = mode_pod("kubelet", "node-b", name="web-5d9c7")
    other["metadata"]["labels"] = {"app": "web", "pod-template-hash": "5d9c7"}
    second = kubelet_pod("node-b", running(), name="gpu-prepull-x1")
    second["metadata"]["labels"]["name"] = "gpu-prepull"
    pods = pod_list(load("kubelet-pods.json")["items"][0], other, second)
    assert [(n.name, n.pod) for n in status_report(pods).nodes] == [("node-a", "prepull-7xk2q")]
    assert [(n.name, n.pod) for n in status_report(pods, name="gpu-prepull").nodes] == [("node-b", "gpu-prepull-x1")]
    assert status_report(pods, name="nothing").summary == "no prepuller pods found (label name=nothing)"


# --- which taints keep the DaemonSet's pod away (v1.Toleration.ToleratesTaint) -----------


def tainted_node(*taints: JSON) -> JSON:
    """node-b (Ready, no pod) carrying ``taints``, as the only node of a node list."""
    nodes = node_list("node-b")
    nodes["items"][0] = copy.deepcopy(nodes["items"][0])
    nodes["items"][0]["spec"]["taints"] = list(taints)
    return nodes


def with_tolerations(*tolerations: JSON) -> JSON:
    """The healthy kubelet-mode pod on node-a, its template tolerating ``tolerations`` too."""
    pods = copy.deepcopy(load("kubelet-pods.json"))
    pods["items"][0]["spec"]["tolerations"].extend(tolerations)
    return pods


GPU = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
DB_EVICT = {"key": "dedicated", "value": "db", "effect": "NoExecute"}


@pytest.mark.parametrize(
    ("toleration", "taint"),
    [
        ({"operator": "Exists"}, GPU),  # no key, no effect: every taint
        ({"operator": "Exists"}, DB_EVICT),
        ({"operator": "Exists", "effect": "NoExecute"}, DB_EVICT),  # no key: every taint of that effect
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, GPU),  # any value, any effect
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present"}, GPU),
        ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}, GPU),  # operator defaults to Equal
        ({"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}, DB_EVICT),
        ({"key": "example.com/spot", "operator": "Equal"}, {"key": "example.com/spot", "effect": "NoSchedule"}),
    ],
)
def test_a_tolerated_taint_leaves_the_node_waiting_for_its_pod(toleration: JSON, taint: JSON) -> None:
    # The node will get a pod, so it counts, and `status` is not ready while the pod is missing.
    report = status_report(with_tolerations(toleration), tainted_node(taint))
    assert (row(report, "node-b")["state"], row(report, "node-b")["counted"]) == ("no-pod", True)
    assert row(report, "node-b")["notes"] == ["no prepuller pod"]
    assert not report.ready
    assert report.summary == "1/2 nodes ready: node-b has no prepuller pod"


@pytest.mark.parametrize(
    ("toleration", "taint", "note"),
    [
        (None, DB_EVICT, "excluded: taint dedicated=db:NoExecute not tolerated"),
        (None, GPU, "excluded: taint nvidia.com/gpu=present:NoSchedule not tolerated"),
        (
            {"key": "example.com/spot"},
            {"key": "example.com/spot", "value": "yes", "effect": "NoSchedule"},
            "excluded: taint example.com/spot=yes:NoSchedule not tolerated",
        ),
        (
            {"operator": "Exists", "effect": "NoSchedule"},
            DB_EVICT,
            "excluded: taint dedicated=db:NoExecute not tolerated",
        ),
        (
            {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"},
            DB_EVICT,
            "excluded: taint dedicated=db:NoExecute not tolerated",
        ),
        (
            {"key": "dedicated", "operator": "Equal", "value": "web"},
            DB_EVICT,
            "excluded: taint dedicated=db:NoExecute not tolerated",
        ),
        (
            {"key": "other", "operator": "Exists"},
            {"key": "dedicated", "effect": "NoExecute"},
            "excluded: taint dedicated:NoExecute not tolerated",
        ),
    ],
)
def test_an_untolerated_taint_excludes_the_node(toleration: JSON | None, taint: JSON, note: str) -> None:
    pods = with_tolerations(toleration) if toleration is not None else load("kubelet-pods.json")
    report = status_report(pods, tainted_node(taint))
    assert row(report, "node-b")["state"] == "excluded"
    assert row(report, "node-b")["counted"] is False
    assert row(report, "node-b")["notes"] == [note]
    assert report.ready
    assert report.summary == "1/1 node ready, 3 images each; not counted: node-b (excluded)"


def test_prefer_no_schedule_taints_never_keep_the_pod_away() -> None:
    taint = {"key": "example.com/busy", "value": "yes", "effect": "PreferNoSchedule"}
    report = status_report(load("kubelet-pods.json"), tainted_node(taint))
    assert (row(report, "node-b")["state"], row(report, "node-b")["counted"]) == ("no-pod", True)


def test_the_first_untolerated_taint_is_named() -> None:
    busy = {"key": "example.com/busy", "value": "yes", "effect": "PreferNoSchedule"}
    report = status_report(load("kubelet-pods.json"), tainted_node(busy, DB_EVICT, GPU))
    assert row(report, "node-b")["notes"] == ["excluded: taint dedicated=db:NoExecute not tolerated"]


def test_the_daemonset_controllers_own_tolerations_apply_without_being_in_the_template() -> None:
    # The controller adds these to every DaemonSet pod: a cordoned or pressured node still gets a pod.
    pods = copy.deepcopy(load("kubelet-pods.json"))
    pods["items"][0]["spec"]["tolerations"] = []
    for key in ("unschedulable", "disk-pressure", "memory-pressure", "pid-pressure"):
        taint = {"key": f"node.kubernetes.io/{key}", "effect": "NoSchedule"}
        report = status_report(pods, tainted_node(taint))
        assert row(report, "node-b")["state"] == "no-pod", key
    for key in ("not-ready", "unreachable"):
        taint = {"key": f"node.kubernetes.io/{key}", "effect": "NoExecute"}
        report = status_report(pods, tainted_node(taint))
        assert row(report, "node-b")["state"] == "no-pod", key
    swapped = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}
    assert row(status_report(pods, tainted_node(swapped)), "node-b")["state"] == "excluded"
