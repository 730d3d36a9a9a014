"""Pod and node JSON for the status tests, in the exact shape the API server returns.

The complete objects are hand-written files in ``tests/fixtures/status/`` (one healthy pod
per mode, the nodes); the helpers here swap in container statuses and pod conditions,
written out field by field as the kubelet reports them for each state.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "status"

JSON = dict[str, Any]

#: Real kubelet messages (containerd 1.7, kubelet 1.33), one per failure the tests use.
ERR_IMAGE_PULL = (
    'failed to pull and unpack image "docker.io/library/redis:7.2": failed to resolve reference '
    '"docker.io/library/redis:7.2": pull access denied, repository does not exist or may require '
    "authorization: server message: insufficient_scope: authorization failed"
)
BACK_OFF = 'Back-off pulling image "redis:7.2": ErrImagePull: ' + ERR_IMAGE_PULL
INVALID_NAME = (
    'Failed to apply default image tag "Redis:7.2": couldn\'t parse image name "Redis:7.2": '
    "invalid reference format: repository name must be lowercase"
)


def load(name: str) -> JSON:
    document: JSON = json.loads((FIXTURES / name).read_text())
    return document


def pod_list(*pods: JSON) -> JSON:
    """What ``kubectl get pods -o json`` prints: a ``List`` (not a ``PodList``)."""
    return {"apiVersion": "v1", "items": list(pods), "kind": "List", "metadata": {"resourceVersion": ""}}


def node_list(*names: str, source: str = "nodes-mixed.json") -> JSON:
    nodes = {node["metadata"]["name"]: node for node in load(source)["items"]}
    return {"apiVersion": "v1", "items": [nodes[n] for n in names], "kind": "List", "metadata": {"resourceVersion": ""}}


def mode_pod(mode: str, node: str = "node-a", name: str | None = None) -> JSON:
    """The healthy pod of ``mode`` (kubelet, docker, keep), moved to ``node``."""
    pod: JSON = copy.deepcopy(load(f"{mode}-pods.json")["items"][0])
    pod["spec"]["nodeName"] = node
    term = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    term["nodeSelectorTerms"][0]["matchFields"][0]["values"] = [node]
    if name is not None:
        pod["metadata"]["name"] = name
    return pod


# --- container states, field by field as the kubelet writes them --------------------------


def completed(started: str = "2026-11-29T10:02:27Z") -> JSON:
    return {
        "terminated": {
            "containerID": "containerd://" + "ab" * 32,
            "exitCode": 0,
            "finishedAt": started,
            "reason": "Completed",
            "startedAt": started,
        }
    }


def running(started: str = "2026-11-29T10:02:27Z") -> JSON:
    return {"running": {"startedAt": started}}


def waiting(reason: str, message: str | None = None) -> JSON:
    body = {"reason": reason}
    if message is not None:
        body["message"] = message
    return {"waiting": body}


def container_status(pod: JSON, name: str, state: JSON, *, last_state: JSON | None = None, restarts: int = 0) -> JSON:
    """A container status for container ``name`` of ``pod``: image and imageID as the kubelet
    reports them (resolved once the container was created, the spec's text and "" before)."""
    spec = next(c for c in pod["spec"]["initContainers"] + pod["spec"]["containers"] if c["name"] == name)
    created = "terminated" in state or "running" in state
    entry: JSON = {
        "image": _resolved(spec["image"]) if created else spec["image"],
        "imageID": _resolved(spec["image"]).split(":")[0] + "@sha256:" + "0f" * 32 if created else "",
        "lastState": last_state or {},
        "name": name,
        "ready": "terminated" in state and state["terminated"]["exitCode"] == 0,
        "restartCount": restarts,
        "started": "running" in state,
        "state": state,
    }
    if created:
        entry["containerID"] = "containerd://" + "cd" * 32
    return entry


def _resolved(image: str) -> str:
    if "/" not in image.split(":")[0]:
        return f"docker.io/library/{image}"
    return image


def with_statuses(pod: JSON, init: list[JSON], main: list[JSON], *, phase: str = "Pending") -> JSON:
    """``pod`` with the given container statuses (each ``container_status``'s state, in spec
    order) and the pod conditions and phase the kubelet reports alongside them."""
    pod = copy.deepcopy(pod)
    init_names = [c["name"] for c in pod["spec"]["initContainers"]]
    main_names = [c["name"] for c in pod["spec"]["containers"]]
    pod["status"]["initContainerStatuses"] = [
        container_status(pod, n, s) for n, s in zip(init_names, init, strict=True)
    ]
    pod["status"]["containerStatuses"] = [container_status(pod, n, s) for n, s in zip(main_names, main, strict=True)]
    pod["status"]["phase"] = phase
    unfinished = [n for n, s in zip(init_names, init, strict=True) if "terminated" not in s]
    not_ready = [n for n, s in zip(main_names, main, strict=True) if "running" not in s]
    conditions = {c["type"]: c for c in pod["status"]["conditions"]}
    if unfinished:
        conditions["Initialized"].update(
            status="False",
            reason="ContainersNotInitialized",
            message=f"containers with incomplete status: [{' '.join(unfinished)}]",
        )
    if not_ready:
        for kind in ("Ready", "ContainersReady"):
            conditions[kind].update(
                status="False",
                reason="ContainersNotReady",
                message=f"containers with unready status: [{' '.join(not_ready)}]",
            )
    return pod


def kubelet_pod(node: str, *pulls: JSON, helper: JSON | None = None, name: str | None = None) -> JSON:
    """A kubelet-mode pod on ``node`` whose three image init containers are in ``pulls``
    (padded with ``PodInitializing``); the pause container waits until all are done."""
    pulls_list = list(pulls) + [waiting("PodInitializing")] * (3 - len(pulls))
    helper_state = helper if helper is not None else completed("2026-11-29T10:02:15Z")
    done = all("terminated" in s and s["terminated"]["exitCode"] == 0 for s in [helper_state, *pulls_list])
    pod = mode_pod("kubelet", node, name or f"prepull-{node[-1]}x7k2")
    return with_statuses(
        pod,
        [helper_state, *pulls_list],
        [running("2026-11-29T10:02:42Z") if done else waiting("PodInitializing")],
        phase="Running" if done else "Pending",
    )
