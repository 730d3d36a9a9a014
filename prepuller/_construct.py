"""The ``ImagePrepuller`` construct."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Any, Never

import cdk8s
from constructs import Construct

from . import _checkov, _groups, _keep, _network, _refresh, _scheduling, _taint, _tree, _validation
from ._defaults import (
    APP_NAME_LABEL,
    DOCKER_HOST_PATH,
    DOCKER_IMAGE,
    HELPER_IMAGE,
    KUBECTL_IMAGE,
    MODES,
    NAME_LABEL,
    PAUSE_IMAGE,
)
from ._docker import DockerSettings, docker_pod_annotations, docker_pod_spec, host_path
from ._errors import PrepullerError
from ._lockfile import Lock, LockedImage, pin, read_lock
from ._manifest import SynthesizedObject
from ._pods import PodSettings, kubelet_pod_spec
from ._references import ImageReference, parse_reference, unique_references

__all__ = ["ImagePrepuller"]

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
#: How the images get pulled: by the kubelet (any runtime) or through the node's Docker socket.


class ImagePrepuller(Construct):
    """A DaemonSet whose pods pull a list of images onto every node.

    The kubelet pulls each image by running it as an init container (a no-op from a
    static binary copied in by the first init container), so it works on any container
    runtime, with the kubelet's own registry credentials, for images with no shell.

    Args:
        scope: the construct (usually a ``cdk8s.Chart``) to define this in.
        id: the construct id; also the default ``name``.
        images: the image references to pull, in order. Duplicates (``busybox`` and
            ``docker.io/library/busybox:latest``) are pulled once, as the first one is written.
            Default: none, and then ``images_from`` is required (otherwise not empty).
        images_from: constructs (charts, the app, any construct) whose workloads' images are
            pulled too, after ``images``: the images of every pod spec below them, found with
            :func:`prepuller.images_in` when the app is synthesized, so constructs added after
            this one are seen. The objects of any ``ImagePrepuller`` are never read. Default:
            none. Synth fails with a ``PrepullerError`` naming ``images_from`` if no image
            results at all, or naming the construct path if an image found is invalid.
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
            key over the default (``None`` removes a default entry). Default:
            ``requests: {cpu: 5m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}``.
        pause_image: the main container's image. Default: ``registry.k8s.io/pause:3.10``.
        helper_image: the image whose static busybox (``/bin/busybox``) is copied into the
            pod to run inside every listed image. Default: ``docker.io/library/busybox:1.37.0-musl``.
        max_unavailable: how many nodes' pods a rolling update may replace at once: a
            number or a percentage. Default: ``"100%"`` (all at once: the pods serve nothing).
        mode: ``"kubelet"`` (the kubelet pulls each image; any runtime; Pod Security
            *restricted*) or ``"docker"`` (the Helm chart's way: ``docker image pull`` through
            the node's Docker socket, as root, with a hostPath; needs Pod Security
            *privileged*; see the docs' Docker mode page). Default: ``"kubelet"``.
        docker_host_path: ``mode="docker"`` only: the node directory holding ``docker.sock``
            (the chart's ``docker.hostPath``). Default: ``/var/run``.
        docker_image: ``mode="docker"`` only: the docker CLI image that runs the pulls.
            Default: ``docker.io/library/docker:28.2.2-cli``.
        keep_images: keep every image in use, so that the kubelet's image garbage collector
            never deletes it: after the init containers, one main container per image
            (``keep-<image>``) runs the copied busybox's ``sleep infinity`` (no shell, so
            shell-less images work), in place of the pause container. Costs a tiny request
            per image (see ``keep_resources``). Default: ``False``.
        keep_resources: with ``keep_images=True``, the resources of each sleeping container,
            merged key by key over the default as ``resources`` is over its own (why these
            figures: ``prepuller._keep.KEEP_RESOURCES``); ``resources`` still applies to the
            init containers. Default: ``requests: {cpu: 1m, memory: 4Mi}, limits: {cpu: 50m, memory: 64Mi}``.
        parallel_pulls: K, the number of DaemonSets the images are split over, so that a node
            pulls up to K images at once where the kubelet allows parallel pulls
            (``serializeImagePulls: false``). From 1 to the number of distinct images. With
            K > 1 the DaemonSets are named ``<name>-1``…``<name>-K``, all labelled
            ``name=<name>`` plus ``prepuller.io/group: "<i>"``, which their selectors include;
            the split is balanced and stable (``prepuller._groups``). Default: ``1``, a
            single DaemonSet ``<name>`` without the group label.
        refresh_schedule: a cron schedule (5 fields, ``"0 4 * * *"``, or ``@daily``,
            ``@weekly``, ...) on which a CronJob restarts the DaemonSet(s) as ``kubectl rollout
            restart`` does, so that mutable tags are pulled again; it comes with its own
            ServiceAccount, Role (``get`` and ``patch`` on these DaemonSets only) and
            RoleBinding, all named ``<name>-refresh``. Only images pulled with ``Always`` are
            pulled again: with ``image_pull_policy="IfNotPresent"`` (or ``"Never"``) and a
            ``:latest`` or untagged image a ``PrepullerWarning`` says so. Default: none, and
            none of it is emitted.
        startup_taint: the key of a ``NoSchedule`` taint that new nodes register with; the
            pods tolerate it and, once every image is pulled, remove exactly that taint from
            their node, so that user pods land only on nodes that have the images. Adds a
            ServiceAccount ``<name>-untaint`` and a ClusterRole(Binding)
            ``prepuller:<namespace>:<name>-untaint`` (``get`` and ``patch`` on nodes); needs a
            namespace (this option's or the chart's). Default: none.
        kubectl_image: the image (with ``/bin/kubectl``) the refresh CronJob and the taint
            removal run. Default: ``registry.k8s.io/kubectl:v1.33.9``.
        network_policy: emit a NetworkPolicy ``<name>-deny-all`` that denies the prepuller's
            pods (``name=<name>``, every DaemonSet) all ingress and egress: they need no
            network (the kubelet, or in docker mode the Docker daemon, pulls). With
            ``startup_taint`` those pods also get ``<name>-untaint-api``, egress to the API
            server only (TCP 443 and 6443); with ``refresh_schedule`` the CronJob's pods get
            ``<name>-refresh-api``, the same. ``False`` emits no NetworkPolicy at all.
            Default: ``True`` (see ``prepuller._network``).
        lock: a lock file written by ``prepuller lock``: every image the objects run (the
            images, and the helper, pause, docker and kubectl images in use) is rendered as
            ``<reference as written>@<digest>``, and with ``parallel_pulls`` the groups are
            balanced by bytes (``prepuller._groups``). An image missing from the lock, one
            found by ``images_from`` included, is a ``PrepullerError`` naming it and the file.
            Default: none (images as written).

    Raises:
        PrepullerError: any invalid option, naming it and quoting the value.
    """

    #: images_in() and images_from never read a prepuller's own objects (_tree.HIDES_OWN_OBJECTS).
    _prepuller_hides_own_objects = True

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        images: Sequence[str] | None = None,
        images_from: Sequence[Construct] | None = None,
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
        mode: str = "kubelet",
        docker_host_path: str | None = None,
        docker_image: str | None = None,
        keep_images: bool = False,
        keep_resources: Mapping[str, Mapping[str, str | None]] | None = None,
        parallel_pulls: int = 1,
        refresh_schedule: str | None = None,
        startup_taint: str | None = None,
        kubectl_image: str = KUBECTL_IMAGE,
        network_policy: bool = True,
        lock: str | os.PathLike[str] | None = None,
        **unknown: Never,
    ) -> None:
        _reject_unknown(unknown)
        if not isinstance(id, str) or id == "":
            raise PrepullerError("id", "must be a non-empty string (the construct id)", id)
        # Validate everything before the construct joins the tree, so that a bad option
        # leaves no half-built prepuller behind to be synthesized.
        self._images_from = (
            _validation.sequence(images_from, "images_from", _tree.scope) if images_from is not None else []
        )
        if images is None and not self._images_from:
            raise PrepullerError("images", "is required (a list of image references), unless images_from is given")
        self._references: list[ImageReference] = _validation.sequence(
            images if images is not None else [], "images", parse_reference, allow_empty=bool(self._images_from)
        )
        resolved_name = _validation.dns_label(
            name if name is not None else id, "name" if name is not None else "name (defaults to the construct id)"
        )
        chart = cdk8s.Chart.of(scope)
        resolved_namespace = _validation.dns_label(namespace, "namespace") if namespace is not None else chart.namespace
        self._pod_settings = PodSettings(
            node_selector=_validation.label_map(
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
        self._mode = _validation.one_of(mode, "mode", MODES)
        self._docker = _docker_settings(self._mode, docker_host_path, docker_image)
        extra_labels = _validation.label_map(labels or {}, "labels")
        self._annotations = _validation.annotation_map(annotations or {}, "annotations")
        _leave_room_for_skips(self._annotations)
        if self._docker is not None and keep_images is True:
            raise PrepullerError("keep_images", "applies only to mode 'kubelet' (mode is 'docker')", keep_images)
        self._keep_resources = _keep.keep_resources(keep_images, keep_resources)
        self._parallel_pulls = _groups.parallel_pulls(
            parallel_pulls,
            # Images found at synth are not known yet: then any K >= 1 is accepted.
            None if self._images_from else len(unique_references(self._references)),
        )
        daemon_set_names = [
            _groups.daemon_set_name(resolved_name, group, self._parallel_pulls)
            for group in range(1, self._parallel_pulls + 1)
        ]
        self._refresh_schedule = _refresh.schedule(refresh_schedule) if refresh_schedule is not None else None
        if self._refresh_schedule is not None:
            _refresh.refresh_name(resolved_name)  # fails now, not at synth, when the name is too long
            # stacklevel 3: past jsii's metaclass __call__, to the line that built the prepuller
            _refresh.warn_if_nothing_is_pulled_again(image_pull_policy, self._references, stacklevel=3)
        self._startup_taint = _taint.taint_key(startup_taint) if startup_taint is not None else None
        if self._startup_taint is not None and not resolved_namespace:
            raise PrepullerError(
                "startup_taint",
                "needs a namespace (set namespace= or the chart's namespace): the ClusterRoleBinding must name "
                "the namespace of the ServiceAccount",
                startup_taint,
            )
        self._kubectl_image = parse_reference(kubectl_image, "kubectl_image")
        self._lock = _read_lock_option(lock) if lock is not None else None
        if self._lock is not None:
            self._pin_own_images(self._lock)
            self._pinned(unique_references(self._references))  # fails now for a listed image
        if self._startup_taint is not None:
            _taint.refuse_parallel_pulls(self._startup_taint, self._parallel_pulls)
        _check_unique(scope, resolved_namespace, daemon_set_names)

        super().__init__(scope, id)
        self._name = resolved_name
        self._namespace = resolved_namespace
        self._labels = {
            APP_NAME_LABEL[0]: APP_NAME_LABEL[1],
            "app.kubernetes.io/instance": resolved_name,
            "app.kubernetes.io/component": "prepuller",
            "app.kubernetes.io/managed-by": "cdk8s",
            **extra_labels,
            NAME_LABEL: resolved_name,
        }
        self._daemon_set_names = daemon_set_names
        # With one group the id stays "Resource", so cdk8s.ApiObject.of(prepuller) finds it.
        self._daemon_sets: list[cdk8s.ApiObject] = [
            SynthesizedObject(
                self,
                "Resource" if self._parallel_pulls == 1 else f"Group{group}",
                api_version="apps/v1",
                kind="DaemonSet",
                metadata=cdk8s.ApiObjectMetadata(
                    name=daemon_set_name,
                    namespace=namespace,
                    labels={**self._labels, **_groups.group_labels(group, self._parallel_pulls)},
                    annotations=self._annotations or None,
                ),
                produce=functools.partial(self._daemon_set_body, group),
                annotate=self._checkov_skips,
            )
            for group, daemon_set_name in enumerate(daemon_set_names, start=1)
        ]
        # App.synth() validates before it writes anything: fail there, not halfway.
        self._synth_check = (
            _tree.check_before_synth(self, lambda: self._pinned(self._pulled_references()))
            if self._images_from
            else None
        )
        # Labels of the helper objects: not the pods' name= label, which selects prepuller pods.
        helper_labels = {key: value for key, value in self._labels.items() if key != NAME_LABEL}
        if self._refresh_schedule is not None:
            _refresh.add_refresh(
                self,
                name=resolved_name,
                namespace=namespace,
                labels={**helper_labels, "app.kubernetes.io/component": "refresh"},
                cron=self._refresh_schedule,
                kubectl_image=self._kubectl_image,
                image_pull_policy=self._pod_settings.image_pull_policy,
                image_pull_secrets=self._pod_settings.image_pull_secrets,
                daemon_set_names=lambda: [ds.metadata.name or "" for ds in self.daemon_sets],
                annotate=self._checkov_skips,
            )
        if self._startup_taint is not None:
            assert resolved_namespace is not None
            _taint.add_untaint_rbac(
                self,
                name=resolved_name,
                namespace=resolved_namespace,
                explicit_namespace=namespace,
                labels={**helper_labels, "app.kubernetes.io/component": "startup-taint"},
                annotate=self._checkov_skips,
            )
        if self._network_policy:
            _network.add_policies(
                self,
                name=resolved_name,
                namespace=namespace,
                labels={**helper_labels, "app.kubernetes.io/component": "network-policy"},
                pods={NAME_LABEL: resolved_name},
                untaint=self._startup_taint is not None,
                refresh_pods=_refresh.pod_selector(resolved_name) if self._refresh_schedule is not None else None,
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
        """The images that will be pulled, de-duplicated, in order, as written.

        Those of ``images_from`` are found at the time of the call: before synth, images of
        workloads not yet added below its scopes are missing (synth reads the tree again and
        pulls them). Read it once the app is complete, or after ``app.synth()``.
        """
        return [reference.text for reference in self._pulled_references(require=False)]

    @property
    def daemon_set(self) -> cdk8s.ApiObject:
        """The DaemonSet ``ApiObject``, for cdk8s's escape hatch (``add_json_patch``);
        ``cdk8s.ApiObject.of(prepuller)`` returns it too.

        Raises:
            PrepullerError: with ``parallel_pulls`` > 1, where there is no single DaemonSet
                (a patch meant for all of them must go to each of ``daemon_sets``).
        """
        if len(self._daemon_sets) > 1:
            raise PrepullerError(
                "daemon_set",
                "is ambiguous with parallel_pulls > 1: use daemon_sets, one DaemonSet per group",
                len(self._daemon_sets),
            )
        return self._daemon_sets[0]

    @property
    def daemon_sets(self) -> list[cdk8s.ApiObject]:
        """The DaemonSet ``ApiObject`` of each group, in group order (one unless
        ``parallel_pulls`` > 1). A new list each time: the DaemonSets are fixed at construction."""
        return list(self._daemon_sets)

    def add_images(self, *images: str) -> None:
        """Add images to pull after construction (and before synth).

        Raises:
            PrepullerError: an argument is not a valid image reference.
        """
        added = _validation.sequence(images, "add_images", parse_reference)
        if self._refresh_schedule is not None:
            _refresh.warn_if_nothing_is_pulled_again(self._pod_settings.image_pull_policy, added, stacklevel=2)
        self._pinned(added)
        self._references.extend(added)

    # --- synthesis ----------------------------------------------------------------------

    def _checkov_skips(self, obj: dict[str, Any]) -> Mapping[str, str]:
        context = _checkov.SkipContext(network_policy=self._network_policy)
        return _checkov.skip_annotations(obj, context, existing=self._annotations)

    def _daemon_set_body(self, group: int) -> dict[str, Any]:
        if self._synth_check is not None:
            self._synth_check.reset()
        try:
            references = self._pulled_references()
        except PrepullerError as error:  # the tree changed since the check: same one line first
            _tree.report_synth_error(self.node.path, error)
            raise
        if self._parallel_pulls > 1:
            # Grouped at synth: images may be added after construction. Grouped as written,
            # before pinning, so that a new digest moves no image to another group.
            references = self._split(references)[group - 1]
        references = self._pinned(references)
        group_labels = _groups.group_labels(group, self._parallel_pulls)
        selector = {NAME_LABEL: self._name, **group_labels}
        annotations = dict(self._annotations)
        if self._docker is not None:
            pod_spec = docker_pod_spec(self._pod_settings, self._docker, references)
            annotations.update(docker_pod_annotations(references))
        elif self._keep_resources is not None:
            pod_spec = _keep.keep_pod_spec(self._pod_settings, self._keep_resources, references)
        else:
            pod_spec = kubelet_pod_spec(self._pod_settings, references)
        return {
            "spec": {
                "selector": {"matchLabels": selector},
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": self._max_unavailable},
                },
                "template": {
                    "metadata": {
                        "labels": {**self._labels, **group_labels},
                        **({"annotations": annotations} if annotations else {}),
                    },
                    "spec": self._with_startup_taint(pod_spec),
                },
            }
        }

    def _pulled_references(self, *, require: bool = True) -> list[ImageReference]:
        references = list(self._references)
        if self._images_from:
            references += _tree.references_in(self._images_from, "images_from")
        unique = unique_references(references)
        if require and not unique:
            searched = ", ".join(repr(scope.node.path or "<app>") for scope in self._images_from)
            raise PrepullerError("images_from", f"found no container images below {searched}, and images is empty")
        return unique

    def _split(self, references: list[ImageReference]) -> list[list[ImageReference]]:
        if self._lock is None:
            return _groups.split(references, self._parallel_pulls)
        lock = self._lock
        sizes = [_locked(lock, reference).size for reference in references]
        return _groups.split_by_bytes(references, sizes, self._parallel_pulls)

    def _pinned(self, references: list[ImageReference]) -> list[ImageReference]:
        """``references`` pinned to the lock's digests; as they are without a lock."""
        if self._lock is None:
            return references
        lock = self._lock
        return [pin(reference, lock) for reference in references]

    def _pin_own_images(self, lock: Lock) -> None:
        """Pin the helper, pause, docker and kubectl images that the objects run."""
        settings = self._pod_settings
        self._pod_settings = dataclasses.replace(
            settings,
            helper_image=pin(settings.helper_image, lock) if self._docker is None else settings.helper_image,
            pause_image=pin(settings.pause_image, lock) if self._keep_resources is None else settings.pause_image,
        )
        if self._docker is not None:
            self._docker = dataclasses.replace(self._docker, image=pin(self._docker.image, lock))
        if self._refresh_schedule is not None or self._startup_taint is not None:
            self._kubectl_image = pin(self._kubectl_image, lock)

    def _with_startup_taint(self, pod_spec: dict[str, Any]) -> dict[str, Any]:
        if self._startup_taint is None:
            return pod_spec
        return _taint.with_untaint(
            pod_spec, settings=self._pod_settings, name=self._name, key=self._startup_taint, image=self._kubectl_image
        )


def _read_lock_option(path: object) -> Lock:
    if not isinstance(path, str | os.PathLike):
        raise PrepullerError("lock", "must be the path of a lock file (a string)", path)
    try:
        return read_lock(path)
    except PrepullerError as error:
        raise PrepullerError("lock", str(error)) from None


def _locked(lock: Lock, reference: ImageReference) -> LockedImage:
    entry = lock.find(reference)
    if entry is None:
        pin(reference, lock)  # raises, naming the image and the file
        raise AssertionError("unreachable")
    return entry


def _leave_room_for_skips(annotations: Mapping[str, str]) -> None:
    """The DaemonSet carries checkov's skip annotations beside the user's, and the API server
    refuses more than 256 KiB of annotations (bytes of UTF-8) in all: leave room for the most
    skips it may get (which depend on the images, known only at synth)."""

    def size(entries: Mapping[str, str]) -> int:
        return sum(len(key.encode()) + len(value.encode()) for key, value in entries.items())

    room = size(_checkov.most_skip_annotations(annotations))
    if size(annotations) + room > 256 * 1024:
        raise PrepullerError(
            "annotations",
            f"must be at most 256 KiB in total, less {room} bytes for the checkov.io/skip annotations prepuller adds",
            f"{len(annotations)} annotations",
        )


def _reject_unknown(unknown: Mapping[str, object]) -> None:
    for option in unknown:
        close = difflib.get_close_matches(option, _OPTIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PrepullerError(option, f"is not an option of ImagePrepuller{hint}", unknown[option])


def _docker_settings(mode: str, docker_host_path: str | None, docker_image: str | None) -> DockerSettings | None:
    if mode != "docker":
        for option, value in (("docker_host_path", docker_host_path), ("docker_image", docker_image)):
            if value is not None:
                raise PrepullerError(option, f"only applies to mode 'docker' (mode is {mode!r})", value)
        return None
    return DockerSettings(
        host_path=host_path(docker_host_path if docker_host_path is not None else DOCKER_HOST_PATH, "docker_host_path"),
        image=parse_reference(docker_image if docker_image is not None else DOCKER_IMAGE, "docker_image"),
    )


def _check_unique(scope: Construct, namespace: str | None, names: list[str]) -> None:
    """Two prepullers that would emit the same DaemonSet would overwrite each other."""
    # The tree is walked rather than kept in a Python-side registry: the cdk8s runtime hands
    # out a new Python proxy for a construct created on its side (``Testing.app()``), so
    # proxies cannot serve as registry keys.
    for construct in scope.node.root.node.find_all():
        if not isinstance(construct, ImagePrepuller) or construct.namespace != namespace:
            continue
        for name in names:
            if name in construct._daemon_set_names:
                where = f"namespace {namespace!r}" if namespace else "the default namespace"
                raise PrepullerError(
                    "name",
                    f"another ImagePrepuller ({construct.node.path}) already emits DaemonSet {name!r} in {where}",
                    name,
                )


#: The keyword options, for "did you mean" hints; read off the signature so it cannot drift.
_OPTIONS = tuple(
    name
    for name, parameter in inspect.signature(ImagePrepuller.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)
