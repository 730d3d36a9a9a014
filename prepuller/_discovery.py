"""The images of the pod specs in Kubernetes manifests (plain dicts), ordered and counted.

Used both by :func:`prepuller.images_in` (the manifests of a cdk8s construct tree) and by
``prepuller images`` (manifests read from files, ``helm template`` or ``kubectl get``).

What is read:

- The pod spec of every workload kind: ``Pod`` (``spec``), ``PodTemplate`` (``template.spec``),
  ``Deployment``, ``ReplicaSet``, ``ReplicationController``, ``StatefulSet``, ``DaemonSet`` and
  ``Job`` (``spec.template.spec``), ``CronJob`` (``spec.jobTemplate.spec.template.spec``), of
  the API groups Kubernetes serves them from (``apps``, ``batch``, the core group, the old
  ``extensions``). A document without ``apiVersion`` is matched by its kind alone.
- In each pod spec ``initContainers``, then ``containers``, then ``ephemeralContainers``: the
  order in which the kubelet needs the images.
- ``kind: List`` (what ``kubectl get -o json|yaml`` prints) and typed lists such as ``PodList``
  (what the API server returns; their items may omit ``kind`` and ``apiVersion``), nested.
- Only ``spec``: ``status.containerStatuses[].image`` is the runtime's spelling of the same
  image and is ignored.

Everything else (Services, ConfigMaps, CRDs, scalars) is skipped silently. With
``skip_prepullers=True`` (what ``prepuller images`` does unless ``--include-prepuller``), so are
the prepuller's own objects: those labelled ``app.kubernetes.io/name: image-prepuller`` (its
DaemonSets and their pods, the refresh CronJob, its Jobs and pods), whose helper, pause and
kubectl images are not images to pre-pull and which are not workloads to count. A container without
``image`` is skipped too: the API lets configuration tools fill it in later. An ``image`` that
is not a valid reference is never dropped silently: it becomes a :class:`Problem`.

Order and de-duplication: images are listed in the order first seen, as first written; two
references that name the same image (``ImageReference.identity``: ``busybox`` and
``docker.io/library/busybox:latest``) are one image, as in the construct.

Counting workloads: the count of an image is the number of distinct *workloads* whose pod specs
use it, where a workload is an object together with everything it controls. An object's
controller is its ``ownerReferences`` entry with ``controller: true``; ownership is followed up
to the top (Pod → ReplicaSet → Deployment, Pod → Job → CronJob), so a Deployment, its
ReplicaSets and their Pods count once. ``kubectl get deploy,...,pod`` does not list ReplicaSets,
so a Pod owned by a ReplicaSet that is not in the input is attributed to the Deployment the
ReplicaSet name encodes (``<deployment>-<pod-template-hash>``, the name the Deployment
controller gives it) when the Pod carries that ``pod-template-hash`` label. A Pod whose
controller is a Node (a static pod's mirror) counts as itself. Controllers that are not in
the input still group what they own (the Pods of one ReplicaSet count once).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._defaults import APP_NAME_LABEL
from ._errors import PrepullerError
from ._references import ImageReference, parse_reference

__all__ = ["Discovery", "FoundImage", "Problem", "canonical", "matches"]

#: Where the pod spec sits in each workload kind, and the API groups serving that kind.
_POD_SPEC_PATHS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "Pod": (("spec",), frozenset({""})),
    "PodTemplate": (("template", "spec"), frozenset({""})),
    "ReplicationController": (("spec", "template", "spec"), frozenset({""})),
    "ReplicaSet": (("spec", "template", "spec"), frozenset({"apps", "extensions"})),
    "Deployment": (("spec", "template", "spec"), frozenset({"apps", "extensions"})),
    "StatefulSet": (("spec", "template", "spec"), frozenset({"apps"})),
    "DaemonSet": (("spec", "template", "spec"), frozenset({"apps", "extensions"})),
    "Job": (("spec", "template", "spec"), frozenset({"batch"})),
    "CronJob": (("spec", "jobTemplate", "spec", "template", "spec"), frozenset({"batch"})),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_DEPLOYMENT_HASH_LABEL = "pod-template-hash"

_Key = tuple[str, str, str | int]
"""A workload's identity: (kind, namespace, name), or (kind, namespace, number) for one without
a name (an ``int`` never equals a name)."""


@dataclass(frozen=True)
class Problem:
    """An ``image`` field that is not a valid image reference.

    Attributes:
        where: the document, e.g. ``web.yaml: document 2 (Deployment default/web)``.
        field: the field path inside it, e.g. ``spec.template.spec.containers[0].image``.
        error: why the value is refused (its message quotes the value).
    """

    where: str
    field: str
    error: PrepullerError

    def __str__(self) -> str:
        return f"{self.where}: {self.error}"


@dataclass
class FoundImage:
    """One image, with the workloads and documents that use it.

    Attributes:
        reference: the reference as first written.
        workloads: the names of the workloads using it (see the module docstring), first seen first.
        sources: where it was found (file names, construct paths), first seen first.
    """

    reference: ImageReference
    workloads: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def image(self) -> str:
        return self.reference.text

    @property
    def count(self) -> int:
        """How many workloads use this image."""
        return len(self.workloads)


@dataclass(frozen=True)
class _Use:
    reference: ImageReference
    workload: _Key
    source: str


class Discovery:
    """Collects the images of manifests added one document at a time.

    Example::

        discovery = Discovery()
        for index, document in enumerate(documents, 1):
            discovery.add(document, source="web.yaml", where=f"web.yaml: document {index}")
        discovery.images()    # [FoundImage, ...] in first-seen order
        discovery.problems    # [Problem, ...]
    """

    def __init__(self, *, skip_prepullers: bool = False) -> None:
        """``skip_prepullers``: leave out the objects of synthesized or deployed prepullers
        (see the module docstring). Default: ``False``, every workload is read."""
        self.problems: list[Problem] = []
        self._skip_prepullers = skip_prepullers
        self._uses: list[_Use] = []
        self._controllers: dict[_Key, _Key] = {}
        self._present: set[_Key] = set()
        self._guessed: dict[_Key, _Key] = {}
        # Workloads without a name, with the document each is in.
        self._unnamed: dict[_Key, str] = {}

    def add(self, document: object, *, source: str, where: str) -> None:
        """Read one manifest (a ``dict``; anything else is skipped), or a list of them.

        Args:
            document: the parsed YAML/JSON document.
            source: the file or construct it came from, for :attr:`FoundImage.sources`.
            where: how to name the document in a :class:`Problem`; items of a list are named
                ``<where>, items[<index>]``.
        """
        if not isinstance(document, Mapping):
            return
        kind = document.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(document.get("items"), list):
            self._add_list(document, kind, source=source, where=where)
            return
        if kind not in _POD_SPEC_PATHS or not _served_as(document, kind):
            return
        if self._skip_prepullers and _is_prepuller_object(document):
            return
        path, _ = _POD_SPEC_PATHS[kind]
        spec = _dig(document, path)
        if not isinstance(spec, Mapping):
            return
        key = self._identity(document, kind, where)
        self._present.add(key)
        self._record_controller(document, key)
        described = where if key in self._unnamed else f"{where} ({self._describe(key)})"
        spec_path = ".".join(path)
        for image, field_path in _images_of(spec, spec_path):
            try:
                reference = parse_reference(image, field_path)
            except PrepullerError as error:
                self.problems.append(Problem(described, field_path, error))
                continue
            self._uses.append(_Use(reference, key, source))

    def images(self) -> list[FoundImage]:
        """The images found so far, de-duplicated, in first-seen order, with their workloads."""
        found: dict[tuple[str, str, str], FoundImage] = {}
        for use in self._uses:
            entry = found.get(use.reference.identity)
            if entry is None:
                entry = found[use.reference.identity] = FoundImage(use.reference)
            workload = self._describe(self._root(use.workload))
            if workload not in entry.workloads:
                entry.workloads.append(workload)
            if use.source not in entry.sources:
                entry.sources.append(use.source)
        return list(found.values())

    # --- internals ----------------------------------------------------------------------

    def _add_list(self, document: Mapping[str, Any], kind: str, *, source: str, where: str) -> None:
        # Typed lists from the API server (PodList) leave kind/apiVersion out of their items.
        item_kind = kind[: -len("List")] or None
        for index, item in enumerate(document["items"]):
            if isinstance(item, Mapping) and item_kind and "kind" not in item:
                item = {"kind": item_kind, "apiVersion": document.get("apiVersion"), **item}
            self.add(item, source=source, where=f"{where}, items[{index}]")

    def _identity(self, document: Mapping[str, Any], kind: str, where: str) -> _Key:
        metadata = document.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        namespace = metadata.get("namespace")
        namespace = namespace if isinstance(namespace, str) else ""
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            # No name (generateName, a template): a workload of its own, never merged.
            key: _Key = (kind, namespace, len(self._unnamed) + 1)
            self._unnamed[key] = where
            return key
        return (kind, namespace, name)

    def _record_controller(self, document: Mapping[str, Any], key: _Key) -> None:
        metadata = document.get("metadata")
        if not isinstance(metadata, Mapping):
            return
        owners = metadata.get("ownerReferences")
        if not isinstance(owners, list):
            return
        for owner in owners:
            if not isinstance(owner, Mapping) or owner.get("controller") is not True:
                continue
            owner_kind, owner_name = owner.get("kind"), owner.get("name")
            if not isinstance(owner_kind, str) or not isinstance(owner_name, str) or owner_kind == "Node":
                continue
            parent: _Key = (owner_kind, key[1], owner_name)
            self._controllers[key] = parent
            labels = metadata.get("labels")
            hash_value = labels.get(_DEPLOYMENT_HASH_LABEL) if isinstance(labels, Mapping) else None
            if owner_kind == "ReplicaSet" and isinstance(hash_value, str) and owner_name.endswith(f"-{hash_value}"):
                self._guessed[parent] = ("Deployment", key[1], owner_name[: -len(hash_value) - 1])
            return

    def _describe(self, key: _Key) -> str:
        kind, namespace, name = key
        if key in self._unnamed:
            return f"{kind} (unnamed) in {self._unnamed[key]}"
        return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"

    def _root(self, key: _Key) -> _Key:
        chain = [key]
        while True:
            parent = self._controllers.get(key)
            if parent is None and key not in self._present:
                parent = self._guessed.get(key)
            if parent is None:
                return key
            if parent in chain:  # a cycle (never from a real API server): one workload, named by its least key
                return min(chain[chain.index(parent) :])
            chain.append(parent)
            key = parent


def canonical(reference: ImageReference) -> str:
    """The fully spelled-out form: ``nginx`` → ``docker.io/library/nginx:latest``."""
    text = f"{reference.domain}/{reference.path}"
    if reference.tag is not None or reference.digest is None:
        text += f":{reference.tag or 'latest'}"
    if reference.digest is not None:
        text += f"@{reference.digest}"
    return text


def matches(reference: ImageReference, patterns: Iterable[str]) -> bool:
    """Whether a glob pattern (``fnmatch``, case-sensitive) matches the reference as written
    or its canonical form, so ``docker.io/*`` also matches ``nginx``."""
    candidates = (reference.text, canonical(reference))
    return any(fnmatch.fnmatchcase(text, pattern) for pattern in patterns for text in candidates)


def _is_prepuller_object(document: Mapping[str, Any]) -> bool:
    metadata = document.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return isinstance(labels, Mapping) and labels.get(APP_NAME_LABEL[0]) == APP_NAME_LABEL[1]


def _served_as(document: Mapping[str, Any], kind: str) -> bool:
    api_version = document.get("apiVersion")
    if api_version is None:
        return True
    if not isinstance(api_version, str):
        return False
    group = api_version.rpartition("/")[0]
    return group in _POD_SPEC_PATHS[kind][1]


def _dig(document: Mapping[str, Any], path: Sequence[str]) -> object:
    value: object = document
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _images_of(spec: Mapping[str, Any], spec_path: str) -> Iterator[tuple[object, str]]:
    for list_name in _CONTAINER_LISTS:
        containers = spec.get(list_name)
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if isinstance(container, Mapping) and container.get("image") is not None:
                yield container["image"], f"{spec_path}.{list_name}[{index}].image"
