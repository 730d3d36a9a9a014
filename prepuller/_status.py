"""What the cluster says: which node has which image, and why a pull failed.

Pure logic, no I/O: :func:`status_report` takes the JSON of ``kubectl get pods -l name=NAME
-o json`` (a ``List`` of Pods, exactly as the API returns them) and, where listing nodes is
allowed, of ``kubectl get nodes -o json``, and returns a :class:`Report`: one row per node,
one entry per image, a summary line and a JSON form for scripts. ``_cli_status`` runs
``kubectl`` and prints it.

How a pod is read (every mode is recognised from the pod spec itself, not from options):

- **kubelet mode** (default): each listed image is an init container ``pull-...`` running
  the copied helper binary (``/.prepuller/busybox echo``). Terminated with exit code 0:
  *pulled*. Waiting with a kubelet error reason (``ErrImagePull``, ``ImagePullBackOff``,
  ``InvalidImageName``, ``CreateContainerConfigError``...): *failed*, with the kubelet's
  reason and message. ``PodInitializing``/``ContainerCreating`` or running: *pulling*.
  Init containers run one at a time, so those after the first unfinished one: *waiting*.
- **keep mode**: each image is a long-running main container sleeping from the helper
  binary; running (or exited 0) means *pulled*.
- **docker mode**: one init container ``prepull`` runs ``sh -c <script> prepull IMAGE...``
  through the node's Docker socket. Its status covers all images at once: all *pulled*
  when it succeeded, all *failed* (see its logs) when it failed, all *pulling* while it runs.
- Containers of other shapes (the helper ``prepuller-tools``, ``pause``, a future taint
  remover) are not images; when one of them fails, the node's notes say so, and a failed
  helper fails the node (no image can be pulled without it).

How nodes are counted (``Exit 0 only when every image is on every node that has, or should
have, a prepuller pod``):

- A node with a prepuller pod counts, cordoned or not (DaemonSet pods tolerate
  ``node.kubernetes.io/unschedulable``), unless the node is not ``Ready``.
- A ``Ready`` node without a pod counts as *no-pod* (a pod is due) unless the pods'
  ``nodeSelector`` does not match its labels or one of its ``NoSchedule``/``NoExecute``
  taints is not tolerated: then it is *excluded* and does not count.
- A node that is not ``Ready`` is listed with its images but does not count: no pod can
  start there and no user pod lands there until it is ``Ready`` again.
- A pod of an older DaemonSet revision (``controller-revision-hash`` differs from the
  newest pod's) does not make its node ready: the image list may have changed.

Known limit: required node *affinity* of the DaemonSet is not visible in its pods (the
DaemonSet controller replaces it with the pod's own node), so a Ready node excluded only by
affinity is reported as *no-pod*.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ._defaults import NAME_LABEL
from ._docker import PREPULL_CONTAINER as DOCKER_CONTAINER
from ._errors import PrepullerError
from ._pods import HELPER_CONTAINER, PAUSE_CONTAINER, PULL_PREFIX, TOOLS_MOUNT, UNTAINT_CONTAINER

__all__ = [
    "DOCKER_CONTAINER",
    "ImageState",
    "ImageStatus",
    "NodeState",
    "NodeStatus",
    "Report",
    "status_report",
]

#: Label the DaemonSet controller puts on its pods: which revision of the template made them.
REVISION_LABEL = "controller-revision-hash"

#: Waiting reasons the kubelet uses while it is getting there; every other waiting reason
#: (ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull, CrashLoopBackOff,
#: CreateContainerConfigError, CreateContainerError, RunContainerError, ...) is a failure.
_PROGRESS_REASONS = frozenset({"", "PodInitializing", "ContainerCreating"})

#: The tolerations the DaemonSet controller adds to every pod it creates
#: (``pkg/controller/daemon/util``); fixtures written by hand may leave them out.
_DAEMONSET_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)

#: The row of a pod whose node is not known (not bound, no DaemonSet node affinity).
_UNSCHEDULED = "(unscheduled)"

#: At most this many nodes are named in the summary line; the table lists all of them.
_SUMMARY_NODES = 5


class ImageState(StrEnum):
    """Where one image stands on one node."""

    PULLED = "pulled"
    PULLING = "pulling"
    WAITING = "waiting"
    FAILED = "failed"


class NodeState(StrEnum):
    """Where one node stands: all images pulled, on the way, failed, or no pod at all."""

    READY = "ready"
    PULLING = "pulling"
    WAITING = "waiting"
    FAILED = "failed"
    NO_POD = "no-pod"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class ImageStatus:
    """One image on one node.

    ``image`` is the reference as written in the pod spec; ``image_id`` what the runtime
    resolved it to (with its digest), once known; ``reason``/``message`` the kubelet's.
    """

    image: str
    container: str
    state: ImageState
    reason: str | None = None
    message: str | None = None
    image_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "container": self.container,
            "state": str(self.state),
            "reason": self.reason,
            "message": self.message,
            "imageID": self.image_id,
        }


@dataclass(frozen=True)
class NodeStatus:
    """One node: its prepuller pod (if any), that pod's images, and whether it counts.

    ``node_ready``/``schedulable`` are ``None`` when the node list was not available.
    """

    name: str
    state: NodeState
    counted: bool
    pod: str | None = None
    namespace: str | None = None
    images: tuple[ImageStatus, ...] = ()
    node_ready: bool | None = None
    schedulable: bool | None = None
    notes: tuple[str, ...] = ()

    def count(self, state: ImageState) -> int:
        return sum(1 for image in self.images if image.state is state)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": str(self.state),
            "counted": self.counted,
            "pod": self.pod,
            "namespace": self.namespace,
            "nodeReady": self.node_ready,
            "schedulable": self.schedulable,
            "notes": list(self.notes),
            "images": [image.to_json() for image in self.images],
        }


@dataclass(frozen=True)
class Report:
    """The node x image table of one prepuller, its summary and its verdict."""

    name: str
    nodes: tuple[NodeStatus, ...]
    nodes_listed: bool
    nodes_error: str | None = None
    pods_found: int = field(default=0)

    @property
    def counted(self) -> list[NodeStatus]:
        return [node for node in self.nodes if node.counted]

    @property
    def ready(self) -> bool:
        """True when every image is on every node that has, or should have, a pod."""
        counted = self.counted
        return bool(counted) and all(node.state is NodeState.READY for node in counted)

    @property
    def summary(self) -> str:
        """One line, e.g. ``12/12 nodes ready, 3 images each`` or
        ``2/3 nodes ready: node-b waiting for 1 image, node-c failed 1 image``."""
        if self.pods_found == 0:
            text = f"no prepuller pods found (label name={self.name})"
            missing = [node.name for node in self.counted]
            if missing:
                text += f"; {_plural(len(missing), 'node')} without a pod"
            return text + self._not_counted()
        counted = self.counted
        ready = [node for node in counted if node.state is NodeState.READY]
        text = f"{len(ready)}/{_plural(len(counted), 'node')} ready"
        if not counted:
            text += ": no Ready node has or should have a prepuller pod"
        elif len(ready) == len(counted):
            sizes = sorted({len(node.images) for node in counted})
            each = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
            text += f", {each} image{'' if each == '1' else 's'} each"
        else:
            problems = [_problem(node) for node in counted if node.state is not NodeState.READY]
            text += ": " + _first(problems)
        return text + self._not_counted()

    def _not_counted(self) -> str:
        skipped = [f"{node.name} ({_why_not_counted(node)})" for node in self.nodes if not node.counted]
        return f"; not counted: {_first(skipped)}" if skipped else ""

    def to_json(self) -> dict[str, Any]:
        """The ``--output json`` document; its schema is documented in docs/guide/status.md."""
        counted = self.counted
        return {
            "name": self.name,
            "ready": self.ready,
            "summary": self.summary,
            "nodesCounted": len(counted),
            "nodesReady": sum(1 for node in counted if node.state is NodeState.READY),
            "nodesListed": self.nodes_listed,
            "nodesError": self.nodes_error,
            "nodes": [node.to_json() for node in self.nodes],
        }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _first(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SUMMARY_NODES])
    if len(items) > _SUMMARY_NODES:
        shown += f" and {len(items) - _SUMMARY_NODES} more"
    return shown


def _problem(node: NodeStatus) -> str:
    if node.state is NodeState.NO_POD:
        return f"{node.name} has no prepuller pod"
    failed = node.count(ImageState.FAILED)
    if node.state is NodeState.FAILED:
        if failed:
            return f"{node.name} failed {_plural(failed, 'image')}"
        return f"{node.name} failed ({node.notes[0] if node.notes else 'see the table'})"
    missing = len(node.images) - node.count(ImageState.PULLED)
    if missing == 0:  # an outdated pod with everything pulled
        return f"{node.name} waiting ({node.notes[0] if node.notes else 'see the table'})"
    return f"{node.name} waiting for {_plural(missing, 'image')}"


def _why_not_counted(node: NodeStatus) -> str:
    if node.node_ready is False:
        return "node not Ready"
    return "excluded"


# --- reading the JSON --------------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PrepullerError(where, "must be a JSON object", value)
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PrepullerError(where, "must be a JSON array", value)
    return value


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PrepullerError(where, "must be a string", value)
    return value


def _items(document: object, kind: str, where: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The objects of a ``List`` (what ``kubectl get -o json`` prints) or a single object."""
    if not isinstance(document, Mapping):
        raise PrepullerError(where, f"must be a Kubernetes List of {kind}s (a JSON object)", document)
    top = document
    if top.get("kind") == kind:
        return [(where, top)]
    if "items" not in top:
        raise PrepullerError(
            where, f"must be a Kubernetes List of {kind}s, as `kubectl get ... -o json` prints", top.get("kind")
        )
    result = []
    for index, item in enumerate(_list(top["items"], f"{where}.items")):
        path = f"{where}.items[{index}]"
        obj = _mapping(item, path)
        if obj.get("kind", kind) != kind:
            raise PrepullerError(f"{path}.kind", f"must be {kind!r}", obj.get("kind"))
        result.append((path, obj))
    return result


# --- one pod -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _PodView:
    """What one pod says about its node's images."""

    name: str
    namespace: str | None
    node: str
    created: str
    deleting: bool
    revision: str
    prepuller: str  # the pod's ``name`` label
    images: tuple[ImageStatus, ...]
    notes: tuple[str, ...]
    blocked: bool  # an infrastructure container (the helper) failed: nothing can be pulled
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]


def _classify(status: Mapping[str, Any] | None, *, init: bool, where: str) -> tuple[ImageState, str | None, str | None]:
    """A container's state as an image state, with the kubelet's reason and message."""
    if status is None:
        return ImageState.WAITING, None, None
    state = _mapping(status.get("state"), f"{where}.state")
    if "terminated" in state:
        terminated = _mapping(state["terminated"], f"{where}.state.terminated")
        code = terminated.get("exitCode")
        if code == 0:
            return ImageState.PULLED, None, None
        reason = _text(terminated.get("reason"), f"{where}.state.terminated.reason") or f"exit code {code}"
        return ImageState.FAILED, reason, _text(terminated.get("message"), f"{where}.state.terminated.message") or None
    if "running" in state:
        # A running init container has its image, but has not finished its no-op yet.
        return (ImageState.PULLING if init else ImageState.PULLED), None, None
    waiting = _mapping(state.get("waiting"), f"{where}.state.waiting")
    reason = _text(waiting.get("reason"), f"{where}.state.waiting.reason")
    message = _text(waiting.get("message"), f"{where}.state.waiting.message") or None
    if reason in _PROGRESS_REASONS:  # the normal way there: nothing worth reporting
        return ImageState.PULLING, None, message
    if reason == "CrashLoopBackOff":
        last = _mapping(
            _mapping(status.get("lastState"), f"{where}.lastState").get("terminated"), f"{where}.lastState.terminated"
        )
        if last:
            detail = f"exit code {last.get('exitCode')}"
            if last.get("reason"):
                detail = f"{last['reason']}, {detail}"
            if last.get("message"):
                detail += f": {last['message']}"
            message = f"{message}; last run: {detail}" if message else f"last run: {detail}"
    return ImageState.FAILED, reason, message


def _command(spec: Mapping[str, Any], where: str) -> list[str]:
    words = _list(spec.get("command"), f"{where}.command") + _list(spec.get("args"), f"{where}.args")
    return [_text(word, f"{where}.command") for word in words]


def _started_sidecar(spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> bool:
    """A sidecar (an init container with ``restartPolicy: Always``) lets the next one start
    once it runs."""
    return (
        spec.get("restartPolicy") == "Always" and status is not None and "running" in _mapping(status.get("state"), "")
    )


def _docker_images(name: str, command: list[str]) -> list[str] | None:
    """The images of a docker-mode container, ``sh -c SCRIPT NAME IMAGE...`` (named ``prepull``,
    or any such container whose script runs ``docker ... pull``); None for any other container,
    and for one without image arguments: it pulls nothing the report could show, so its
    failure is noted like any other container's."""
    if "-c" not in command:
        return None
    start = command.index("-c")
    script = command[start + 1] if len(command) > start + 1 else ""
    if name != DOCKER_CONTAINER and not ("docker" in script and "pull" in script):
        return None
    return command[start + 3 :] or None


def _has_run(status: Mapping[str, Any] | None, where: str) -> bool:
    """Whether the container ever ran (so it has logs), rather than failing to be created."""
    if status is None:
        return False
    state = _mapping(status.get("state"), f"{where}.state")
    return "terminated" in state or "terminated" in _mapping(status.get("lastState"), f"{where}.lastState")


def _is_image_container(name: str, command: list[str]) -> bool:
    """Kubelet and keep mode: the listed image runs the helper binary copied into it."""
    if name in (HELPER_CONTAINER, PAUSE_CONTAINER, UNTAINT_CONTAINER):
        return False
    return name.startswith(PULL_PREFIX) or bool(command and command[0].startswith(TOOLS_MOUNT + "/"))


def _pod_view(where: str, pod: Mapping[str, Any]) -> _PodView:
    metadata = _mapping(pod.get("metadata"), f"{where}.metadata")
    spec = _mapping(pod.get("spec"), f"{where}.spec")
    status = _mapping(pod.get("status"), f"{where}.status")
    name = _text(metadata.get("name"), f"{where}.metadata.name") or "(unnamed)"
    namespace = _text(metadata.get("namespace"), f"{where}.metadata.namespace") or None
    statuses: dict[str, Mapping[str, Any]] = {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for index, item in enumerate(_list(status.get(key), f"{where}.status.{key}")):
            entry = _mapping(item, f"{where}.status.{key}[{index}]")
            statuses[_text(entry.get("name"), f"{where}.status.{key}[{index}].name")] = entry

    images: list[ImageStatus] = []
    notes: list[str] = []
    blocked = False
    init_pending = False  # an earlier init container has not finished: later ones wait
    for key, init in (("initContainers", True), ("containers", False)):
        for index, item in enumerate(_list(spec.get(key), f"{where}.spec.{key}")):
            path = f"{where}.spec.{key}[{index}]"
            container = _mapping(item, path)
            cname = _text(container.get("name"), f"{path}.name")
            image = _text(container.get("image"), f"{path}.image")
            command = _command(container, path)
            cstatus = statuses.get(cname)
            state, reason, message = _classify(cstatus, init=init, where=f"{where}.status[{cname}]")
            if init_pending and (init or state is ImageState.PULLING):
                # Init containers run in order, main containers after them: this one's turn
                # has not come yet in the pod's current run (whatever an earlier run left).
                state, reason, message = ImageState.WAITING, None, None
            if init and state is not ImageState.PULLED and not _started_sidecar(container, cstatus):
                init_pending = True
            image_id = (_text(cstatus.get("imageID"), f"{where}.status[{cname}].imageID") or None) if cstatus else None

            docker = _docker_images(cname, command)
            if docker is not None:
                if state is ImageState.FAILED and _has_run(cstatus, f"{where}.status[{cname}]"):
                    hint = f"see logs: kubectl{f' -n {namespace}' if namespace else ''} logs {name} -c {cname}"
                    message = f"{message}; {hint}" if message else hint
                images.extend(ImageStatus(ref, cname, state, reason, message) for ref in docker)
            elif _is_image_container(cname, command):
                images.append(
                    ImageStatus(image, cname, state, reason, message, image_id if state is ImageState.PULLED else None)
                )
            elif state is ImageState.FAILED:
                notes.append(f"{cname}: {reason}" + (f": {message}" if message else ""))
                blocked = blocked or cname == HELPER_CONTAINER

    node = _text(spec.get("nodeName"), f"{where}.spec.nodeName") or _affinity_node(spec)
    if not _text(spec.get("nodeName"), f"{where}.spec.nodeName"):
        for condition in _list(status.get("conditions"), f"{where}.status.conditions"):
            cond = _mapping(condition, f"{where}.status.conditions[]")
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                why = [str(cond[key]) for key in ("reason", "message") if cond.get(key)]
                notes.append(": ".join(["pod not scheduled", *why]))
    phase = _text(status.get("phase"), f"{where}.status.phase")
    if phase in ("Failed", "Succeeded"):
        reason = _text(status.get("reason"), f"{where}.status.reason")
        notes.append(f"pod {phase}" + (f": {reason}" if reason else ""))
    labels = _mapping(metadata.get("labels"), f"{where}.metadata.labels")
    return _PodView(
        name=name,
        namespace=namespace,
        node=node,
        created=_text(metadata.get("creationTimestamp"), f"{where}.metadata.creationTimestamp"),
        deleting=metadata.get("deletionTimestamp") is not None,
        revision=_text(labels.get(REVISION_LABEL), f"{where}.metadata.labels"),
        prepuller=_text(labels.get(NAME_LABEL), f"{where}.metadata.labels"),
        images=tuple(images),
        notes=tuple(notes),
        blocked=blocked,
        node_selector={
            str(k): str(v) for k, v in _mapping(spec.get("nodeSelector"), f"{where}.spec.nodeSelector").items()
        },
        tolerations=tuple(
            _mapping(t, f"{where}.spec.tolerations[]")
            for t in _list(spec.get("tolerations"), f"{where}.spec.tolerations")
        ),
    )


def _affinity_node(spec: Mapping[str, Any]) -> str:
    """A DaemonSet pod not yet bound names its node in ``matchFields metadata.name``."""
    try:
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        for term in terms:
            for requirement in term.get("matchFields", []):
                if requirement.get("key") == "metadata.name" and requirement.get("operator") == "In":
                    values = requirement.get("values", [])
                    if len(values) == 1 and isinstance(values[0], str):
                        return values[0]
    except (KeyError, TypeError, AttributeError):
        pass
    return _UNSCHEDULED


# --- one node ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _NodeView:
    name: str
    ready: bool
    schedulable: bool
    labels: Mapping[str, str]
    taints: tuple[Mapping[str, Any], ...]


def _node_view(where: str, node: Mapping[str, Any]) -> _NodeView:
    metadata = _mapping(node.get("metadata"), f"{where}.metadata")
    spec = _mapping(node.get("spec"), f"{where}.spec")
    status = _mapping(node.get("status"), f"{where}.status")
    ready = any(
        _mapping(c, f"{where}.status.conditions[]").get("type") == "Ready"
        and _mapping(c, f"{where}.status.conditions[]").get("status") == "True"
        for c in _list(status.get("conditions"), f"{where}.status.conditions")
    )
    return _NodeView(
        name=_text(metadata.get("name"), f"{where}.metadata.name"),
        ready=ready,
        schedulable=not spec.get("unschedulable", False),
        labels={str(k): str(v) for k, v in _mapping(metadata.get("labels"), f"{where}.metadata.labels").items()},
        taints=tuple(_mapping(t, f"{where}.spec.taints[]") for t in _list(spec.get("taints"), f"{where}.spec.taints")),
    )


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``v1.Toleration.ToleratesTaint``, as the scheduler and the DaemonSet controller apply it."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if toleration.get("operator") == "Exists":
        return key == "" or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")


def _exclusion(node: _NodeView, template: _PodView) -> str | None:
    """Why the DaemonSet will never put a pod on ``node``, or None if it should."""
    for key, value in sorted(template.node_selector.items()):
        if node.labels.get(key) != value:
            return f"excluded: nodeSelector {key}={value} does not match"
    tolerations = (*template.tolerations, *_DAEMONSET_TOLERATIONS)
    for taint in node.taints:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(_tolerates(toleration, taint) for toleration in tolerations):
            value = f"={taint['value']}" if taint.get("value") else ""
            return f"excluded: taint {taint.get('key')}{value}:{taint.get('effect')} not tolerated"
    return None


def _node_state(pod: _PodView, outdated: bool) -> NodeState:
    states = {image.state for image in pod.images}
    if pod.blocked or ImageState.FAILED in states:
        return NodeState.FAILED
    if outdated or not pod.images or states - {ImageState.PULLED}:
        return NodeState.PULLING if ImageState.PULLING in states else NodeState.WAITING
    return NodeState.READY


def _newest(pods: list[_PodView]) -> _PodView:
    live = [pod for pod in pods if not pod.deleting] or pods
    return max(live, key=lambda pod: (pod.created, pod.name))


# --- the report --------------------------------------------------------------------------


def _row(
    name: str, node: _NodeView | None, pod: _PodView | None, template: _PodView | None, *, listed: bool
) -> NodeStatus:
    """One node's row: from its pod if it has one, else from the node and the pods' template."""
    notes: list[str] = []
    if node is not None and not node.schedulable:
        notes.append("node cordoned")
    if node is not None and not node.ready:
        notes.append("node not Ready: not counted")
    if pod is None:
        assert node is not None  # a row comes from a pod or a node
        exclusion = _exclusion(node, template) if template is not None and node.ready else None
        if exclusion is not None:
            return NodeStatus(name, NodeState.EXCLUDED, False, node_ready=True, schedulable=node.schedulable,
                              notes=(exclusion, *notes))  # fmt: skip
        return NodeStatus(name, NodeState.NO_POD, node.ready, node_ready=node.ready, schedulable=node.schedulable,
                          notes=("no prepuller pod", *notes))  # fmt: skip
    outdated = template is not None and bool(template.revision) and pod.revision not in ("", template.revision)
    if outdated:
        notes.append(f"pod {pod.name} is from an older revision (rolling update in progress)")
    if listed and node is None and name != _UNSCHEDULED:
        notes.append("node not in the node list (deleted?)")
    if pod.deleting:
        notes.append(f"pod {pod.name} is terminating")
    return NodeStatus(
        name,
        _node_state(pod, outdated),
        counted=node.ready if node is not None else True,
        pod=pod.name,
        namespace=pod.namespace,
        images=pod.images,
        node_ready=node.ready if node is not None else None,
        schedulable=node.schedulable if node is not None else None,
        notes=(*pod.notes, *notes),
    )


def status_report(
    pods: object,
    nodes: object = None,
    *,
    name: str = "prepull",
    nodes_error: str | None = None,
) -> Report:
    """The node x image table from parsed ``kubectl get ... -o json`` documents.

    Args:
        pods: the prepuller's pods: a ``List`` of Pods (or one Pod).
        nodes: all nodes (a ``List`` of Nodes), or None when they could not be listed;
            then only nodes with a pod are shown and readiness is unknown.
        name: the prepuller's name: only pods with the label ``name=<name>`` are read.
        nodes_error: why nodes could not be listed (e.g. RBAC forbids it), shown to the user.

    Raises:
        PrepullerError: a document is not in the shape the API returns, naming where
            (e.g. ``pods.items[2].status.initContainerStatuses``).
    """
    # kubectl already selects by label; a file may hold other pods too (`kubectl get pods -o json`).
    views = [
        view for view in (_pod_view(where, pod) for where, pod in _items(pods, "Pod", "pods")) if view.prepuller == name
    ]
    node_views = (
        [_node_view(where, node) for where, node in _items(nodes, "Node", "nodes")] if nodes is not None else []
    )
    by_node: dict[str, list[_PodView]] = {}
    for view in views:
        by_node.setdefault(view.node, []).append(view)
    chosen = {node: _newest(pods_on_node) for node, pods_on_node in by_node.items()}
    template = max(chosen.values(), key=lambda pod: (pod.created, pod.name)) if chosen else None
    known = {node.name: node for node in node_views}
    rows = [
        _row(node_name, known.get(node_name), chosen.get(node_name), template, listed=nodes is not None)
        for node_name in sorted(set(chosen) | set(known))
    ]
    return Report(
        name=name, nodes=tuple(rows), nodes_listed=nodes is not None, nodes_error=nodes_error, pods_found=len(views)
    )


def render_table(report: Report) -> str:
    """The report as aligned text: NODE, POD, IMAGE, STATE, DETAIL, then the summary.

    Written by hand rather than with ``tabulate`` or ``rich``: it is five left-aligned
    columns in kubectl's own plain style, and a table library would become a runtime
    dependency of every cdk8s app that uses the construct, for the CLI's sake alone.
    """
    rows: list[tuple[str, str, str, str, str]] = [("NODE", "POD", "IMAGE", "STATE", "DETAIL")]
    for node in report.nodes:
        pod = node.pod or "-"
        if not node.images:
            rows.append((node.name, pod, "-", str(node.state), "; ".join(node.notes)))
            continue
        for index, image in enumerate(node.images):
            detail = ": ".join(part for part in (image.reason, image.message) if part)
            first = index == 0
            rows.append((node.name if first else "", pod if first else "", image.image, str(image.state), detail))
        rows.extend(("", "", "", "", f"note: {note}") for note in node.notes)
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "   ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)), _one_line(row[4])]
        ).rstrip()
        for row in rows
    ]
    if report.nodes_error is not None:
        lines.append(f"nodes not listed ({report.nodes_error}): nodes without a prepuller pod are not shown")
    lines.append(report.summary)
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    """The report as the ``--output json`` document, keys sorted, two-space indent."""
    return json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
