"""The ``ImagePrepuller`` construct."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Never

import cdk8s
from constructs import Construct

from . import _checkov, _network, _scheduling, _validation
from ._defaults import HELPER_IMAGE, NAME_LABEL, PAUSE_IMAGE
from ._errors import PrepullerError
from ._manifest import SynthesizedObject
from ._pods import PodSettings, kubelet_pod_spec
from ._references import ImageReference, parse_reference, unique_references

__all__ = ["ImagePrepuller"]

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class ImagePrepuller(Construct):
    """A DaemonSet whose pods pull a list of images onto every node.

    The kubelet pulls each image by running it as an init container (a no-op from a
    static binary copied in by the first init container), so it works on any container
    runtime, with the kubelet's own registry credentials, for images with no shell.

    Args:
        scope: the construct (usually a ``cdk8s.Chart``) to define this in.
        id: the construct id; also the default ``name``.
        images: the image references to pull, in order. Required, not empty. Duplicates
            (``busybox`` and ``docker.io/library/busybox:latest``) are pulled once, as the
            first one is written.
        name: the DaemonSet's name and the ``name=`` label of its pods. Default: ``id``
            (which must then be a DNS-1123 label).
        namespace: where the DaemonSet goes. Default: the chart's namespace (none: the one
            ``kubectl`` is pointed at).
        labels: extra labels on the DaemonSet and its pods, added to the recommended
            ``app.kubernetes.io/*`` ones, ``name=<name>`` and the chart's. Default: none.
        annotations: extra annotations on the DaemonSet and its pods. Default: none.
        node_selector: node labels a node must have. Default: ``{"kubernetes.io/os": "linux"}``
            (pass ``{}`` for none).
        tolerations: Kubernetes tolerations (camelCase fields, as in YAML), e.g.
            ``[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]``.
            Default: none, so tainted nodes (GPU, control plane) are skipped.
        affinity: a Kubernetes ``Affinity`` for the pods. Default: none.
        priority_class_name: the pods' PriorityClass. Default: none (the cluster default).
        image_pull_secrets: names of ``kubernetes.io/dockerconfigjson`` Secrets in the
            namespace, for private registries the kubelet has no credentials for. Default: none.
        image_pull_policy: ``Always``, ``IfNotPresent`` or ``Never`` for every container.
            Default: what Kubernetes chooses per image: ``Always`` for ``:latest`` or no tag,
            ``IfNotPresent`` otherwise.
        resources: ``{"requests": {...}, "limits": {...}}`` for every container, merged key by
            key over the default ``requests: {cpu: 5m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}``
            (``None`` removes a default entry).
        pause_image: the main container's image. Default: ``registry.k8s.io/pause:3.10``.
        helper_image: the image whose static busybox (``/bin/busybox``) is copied into the
            pod to run inside every listed image. Default: ``docker.io/library/busybox:1.37.0-musl``.
        max_unavailable: how many nodes' pods a rolling update may replace at once: a
            number or a percentage. Default: ``"100%"`` (all at once: the pods serve nothing).
        network_policy: emit a NetworkPolicy ``<name>-deny-all`` that denies the pods all
            ingress and egress (they need no network: the kubelet pulls). ``False`` emits no
            NetworkPolicy at all. Default: ``True``.

    Raises:
        PrepullerError: any invalid option, naming it and quoting the value.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        images: Sequence[str],
        name: str | None = None,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Mapping[str, Any]] | None = None,
        affinity: Mapping[str, Any] | None = None,
        priority_class_name: str | None = None,
        image_pull_secrets: Sequence[str] | None = None,
        image_pull_policy: str | None = None,
        resources: Mapping[str, Mapping[str, str | None]] | None = None,
        pause_image: str = PAUSE_IMAGE,
        helper_image: str = HELPER_IMAGE,
        max_unavailable: int | str = "100%",
        network_policy: bool = True,
        **unknown: Never,
    ) -> None:
        _reject_unknown(unknown)
        if not isinstance(id, str) or id == "":
            raise PrepullerError("id", "must be a non-empty string (the construct id)", id)
        # Validate everything before the construct joins the tree, so that a bad option
        # leaves no half-built prepuller behind to be synthesized.
        self._references: list[ImageReference] = _validation.sequence(
            images, "images", parse_reference, allow_empty=False
        )
        resolved_name = _validation.dns_label(
            name if name is not None else id, "name" if name is not None else "name (defaults to the construct id)"
        )
        chart = cdk8s.Chart.of(scope)
        resolved_namespace = _validation.dns_label(namespace, "namespace") if namespace is not None else chart.namespace
        self._pod_settings = PodSettings(
            node_selector=_validation.labels(
                {"kubernetes.io/os": "linux"} if node_selector is None else node_selector, "node_selector"
            ),
            tolerations=_scheduling.tolerations(tolerations or [], "tolerations"),
            affinity=_scheduling.affinity(affinity, "affinity") if affinity is not None else None,
            priority_class_name=(
                _validation.dns_subdomain(priority_class_name, "priority_class_name")
                if priority_class_name is not None
                else None
            ),
            image_pull_secrets=_validation.sequence(
                image_pull_secrets or [], "image_pull_secrets", _validation.dns_subdomain
            ),
            image_pull_policy=(
                _validation.one_of(image_pull_policy, "image_pull_policy", _PULL_POLICIES)
                if image_pull_policy is not None
                else None
            ),
            resources=_scheduling.resources(resources if resources is not None else {}, "resources"),
            pause_image=parse_reference(pause_image, "pause_image"),
            helper_image=parse_reference(helper_image, "helper_image"),
        )
        self._max_unavailable = _validation.int_or_percent(max_unavailable, "max_unavailable")
        self._network_policy = _validation.boolean(network_policy, "network_policy")
        extra_labels = _validation.labels(labels or {}, "labels")
        self._annotations = _validation.annotations(annotations or {}, "annotations")
        _check_unique(scope, resolved_namespace, resolved_name)

        super().__init__(scope, id)
        self._name = resolved_name
        self._namespace = resolved_namespace
        self._labels = {
            "app.kubernetes.io/name": "image-prepuller",
            "app.kubernetes.io/instance": resolved_name,
            "app.kubernetes.io/component": "prepuller",
            "app.kubernetes.io/managed-by": "cdk8s",
            **extra_labels,
            NAME_LABEL: resolved_name,
        }
        self._daemon_set = SynthesizedObject(
            self,
            "Resource",
            api_version="apps/v1",
            kind="DaemonSet",
            metadata=cdk8s.ApiObjectMetadata(
                name=resolved_name,
                namespace=namespace,
                labels=self._labels,
                annotations=self._annotations or None,
            ),
            produce=self._daemon_set_body,
            annotate=self._checkov_skips,
        )
        if self._network_policy:
            _network.deny_all_policy(
                self,
                "NetworkPolicy",
                name=f"{resolved_name}-deny-all",
                namespace=namespace,
                labels=self._labels,
                pod_selector={NAME_LABEL: resolved_name},
                annotate=self._checkov_skips,
            )

    # --- public surface -----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The DaemonSet's name, also the pods' ``name`` label."""
        return self._name

    @property
    def namespace(self) -> str | None:
        """The namespace the objects go to; ``None`` when neither this nor the chart sets one."""
        return self._namespace

    @property
    def images(self) -> list[str]:
        """The images that will be pulled, de-duplicated, in order, as written."""
        return [reference.text for reference in unique_references(self._references)]

    @property
    def daemon_set(self) -> cdk8s.ApiObject:
        """The DaemonSet ``ApiObject``, for cdk8s's escape hatch (``add_json_patch``);
        ``cdk8s.ApiObject.of(prepuller)`` returns it too."""
        return self._daemon_set

    def add_images(self, *images: str) -> None:
        """Add images to pull after construction (and before synth).

        Raises:
            PrepullerError: an argument is not a valid image reference.
        """
        self._references.extend(_validation.sequence(images, "add_images", parse_reference))

    # --- synthesis ----------------------------------------------------------------------

    def _checkov_skips(self, obj: dict[str, Any]) -> Mapping[str, str]:
        context = _checkov.SkipContext(network_policy=self._network_policy)
        return _checkov.skip_annotations(obj, context, existing=self._annotations)

    def _daemon_set_body(self) -> dict[str, Any]:
        references = unique_references(self._references)
        selector = {NAME_LABEL: self._name}
        return {
            "spec": {
                "selector": {"matchLabels": selector},
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": self._max_unavailable},
                },
                "template": {
                    "metadata": {"labels": self._labels, "annotations": self._annotations or None},
                    "spec": kubelet_pod_spec(self._pod_settings, references),
                },
            }
        }


def _reject_unknown(unknown: Mapping[str, object]) -> None:
    for option in unknown:
        close = difflib.get_close_matches(option, _OPTIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PrepullerError(option, f"is not an option of ImagePrepuller{hint}", unknown[option])


def _check_unique(scope: Construct, namespace: str | None, name: str) -> None:
    """Two prepullers that would emit the same DaemonSet would overwrite each other."""
    for construct in scope.node.root.node.find_all():
        if isinstance(construct, ImagePrepuller) and (construct.namespace, construct.name) == (namespace, name):
            where = f"namespace {namespace!r}" if namespace else "the default namespace"
            raise PrepullerError(
                "name",
                f"another ImagePrepuller ({construct.node.path}) already emits DaemonSet {name!r} in {where}",
                name,
            )


_OPTIONS = (
    "images",
    "name",
    "namespace",
    "labels",
    "annotations",
    "node_selector",
    "tolerations",
    "affinity",
    "priority_class_name",
    "image_pull_secrets",
    "image_pull_policy",
    "resources",
    "pause_image",
    "helper_image",
    "max_unavailable",
    "network_policy",
)
