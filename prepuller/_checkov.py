"""Checkov skip annotations: the checks that do not apply to a pre-puller, each with its reason.

Checkov (``checkov --framework kubernetes``) reads ``checkov.io/skip<N>: <check id>=<reason>``
from the *object's own* ``metadata.annotations`` (for a DaemonSet: the DaemonSet's, not its pod
template's; verified with checkov 3.3.30, which also applies them to the graph checks it runs on
the pod it derives from the template). So every finding on what this library emits is either
fixed in the object or explained in the object itself, where a reviewer reads it.

:data:`SKIPS` is the one table of (check id, reason, when). :func:`skip_annotations` turns it into
annotations for one synthesized object, applying only the entries whose condition holds for that
object, so a skip never hides a check that would pass. ``docs/security.md`` carries the table
rendered by :func:`markdown_table` (a test keeps the two equal).

Every object the construct emits (DaemonSets of every mode and group, NetworkPolicies, the
refresh and startup-taint RBAC objects, the CronJob) gets these annotations. Docker mode needs no
entry of its own: checkov 3.3.30 does not flag its root init container or its socket (its checks
read ``containers`` only and match the hostPath ``/var/run/docker.sock`` exactly, while the
socket is mounted by ``subPath``); the Pod Security test is what holds docker mode to its
documented exceptions, and should checkov start flagging it, the checkov test fails until an
entry with its reason is added here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SKIPS", "Skip", "SkipContext", "markdown_table", "most_skip_annotations", "skip_annotations"]

ANNOTATION_PREFIX = "checkov.io/skip"

#: Kinds whose pods run long enough for checkov to ask for probes (it exempts Job and CronJob).
_LONG_RUNNING = ("Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController")

#: Kinds checkov's CKV_K8S_21 (default namespace) looks at; NetworkPolicy is not one of them.
_NAMESPACE_CHECKED = (
    *_LONG_RUNNING,
    "Job",
    "CronJob",
    "Service",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Ingress",
)


@dataclass(frozen=True)
class SkipContext:
    """What a skip's condition may look at besides the object itself.

    Attributes:
        network_policy: whether the prepuller emits its NetworkPolicies (``network_policy=``).
    """

    network_policy: bool = True


@dataclass(frozen=True)
class Skip:
    """One checkov check that does not apply, in one situation.

    Attributes:
        check_id: checkov's id, e.g. ``CKV_K8S_8``.
        reason: one line a reviewer reads in the manifest (no ``=``: checkov splits on it).
        when: the situation, in words, for the documentation.
        applies: whether the skip is needed for a synthesized object in a context.
    """

    check_id: str
    reason: str
    when: str
    applies: Callable[[Mapping[str, Any], SkipContext], bool]


def pod_spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of any object that has one (Pod, workloads, Job, CronJob), else ``None``."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template")
    return (template or {}).get("spec") if template is not None else None


def _containers(
    obj: Mapping[str, Any], kinds: tuple[str, ...] = ("containers", "initContainers")
) -> Iterator[Mapping[str, Any]]:
    spec = pod_spec_of(obj) or {}
    for kind in kinds:
        yield from spec.get(kind) or []


def _mutable_tag(image: str) -> bool:
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def _long_running(obj: Mapping[str, Any], _: SkipContext) -> bool:
    return obj.get("kind") in _LONG_RUNNING and any(True for _ in _containers(obj, ("containers",)))


SKIPS: tuple[Skip, ...] = (
    Skip(
        "CKV_K8S_8",
        "no liveness probe: the long-running container is pause or a sleep that serves nothing, "
        "so a probe would test nothing",
        "always, on objects with long-running pods",
        _long_running,
    ),
    Skip(
        "CKV_K8S_9",
        "no readiness probe: the pods serve no traffic and back no Service",
        "always, on objects with long-running pods",
        _long_running,
    ),
    Skip(
        "CKV_K8S_14",
        "images are pulled exactly as listed; a listed :latest or untagged image is what the cluster's "
        "workloads run, so it is the one to pre-pull",
        "an image is listed as `:latest` or without a tag",
        lambda obj, _: any(_mutable_tag(str(c.get("image", ""))) for c in _containers(obj)),
    ),
    Skip(
        "CKV_K8S_15",
        "imagePullPolicy is Kubernetes' default for the reference (IfNotPresent for a pinned tag) or "
        "image_pull_policy; Always would query the registry from every node at every pod start",
        "an image without a digest has a pull policy other than `Always`",
        lambda obj, _: any(
            "@" not in str(c.get("image", "")) and c.get("imagePullPolicy") != "Always" for c in _containers(obj)
        ),
    ),
    Skip(
        "CKV_K8S_43",
        "images are referenced as the user lists them; a tag cannot become a digest without asking "
        "the registry at synth time",
        "an image is listed without a digest",
        lambda obj, _: any("@" not in str(c.get("image", "")) for c in _containers(obj)),
    ),
    Skip(
        "CKV_K8S_21",
        "no namespace in the manifest: it is chosen when applying (kubectl apply -n); "
        "do not apply it to the default namespace",
        "neither the prepuller nor its chart sets a namespace",
        lambda obj, _: obj.get("kind") in _NAMESPACE_CHECKED and not (obj.get("metadata") or {}).get("namespace"),
    ),
    Skip(
        "CKV2_K8S_6",
        "network_policy is False: the NetworkPolicy for these pods is managed outside this chart",
        "`network_policy=False`, on objects with pods",
        lambda obj, context: not context.network_policy and pod_spec_of(obj) is not None,
    ),
)

_BY_ID = {skip.check_id: skip for skip in SKIPS}


def skip_annotations(
    obj: Mapping[str, Any], context: SkipContext, existing: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``checkov.io/skip<N>`` annotations a synthesized object needs.

    Args:
        obj: the object as it will be written (``kind``, ``metadata``, ``spec``).
        context: the options the conditions depend on.
        existing: annotations the object already has; numbers used there (by the user's own
            ``checkov.io/skip<N>``) are not reused.
    """
    return _numbered([skip for skip in SKIPS if skip.applies(obj, context)], existing)


def most_skip_annotations(existing: Mapping[str, str] | None = None) -> dict[str, str]:
    """The skip annotations of an object that needs every skip: no object gets more bytes of
    them (one that needs fewer gets some of these, numbered no higher)."""
    return _numbered(SKIPS, existing)


def _numbered(skips: Sequence[Skip], existing: Mapping[str, str] | None) -> dict[str, str]:
    taken = set(existing or {})
    result: dict[str, str] = {}
    number = 0
    for skip in skips:
        number += 1
        while f"{ANNOTATION_PREFIX}{number}" in taken:
            number += 1
        result[f"{ANNOTATION_PREFIX}{number}"] = f"{skip.check_id}={skip.reason}"
    return result


def reason(check_id: str) -> str:
    """The documented reason for skipping ``check_id`` (``KeyError`` when it is not in the table)."""
    return _BY_ID[check_id].reason


def markdown_table() -> str:
    """The skip table as Markdown, as ``docs/security.md`` shows it."""
    lines = ["| Check | Skipped when | Reason (the annotation's text) |", "| --- | --- | --- |"]
    lines += [f"| `{skip.check_id}` | {skip.when} | {skip.reason} |" for skip in SKIPS]
    return "\n".join(lines) + "\n"
