"""Pod specs: the fields every prepuller pod shares, and the containers of each mode.

Everything here is a plain ``dict`` in the Kubernetes JSON shape; ``_construct`` wraps it
in the DaemonSet at synth time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._defaults import HELPER_BINARY, RUN_AS_UID
from ._names import container_names
from ._references import ImageReference

__all__ = ["TOOLS_BINARY", "TOOLS_MOUNT", "TOOLS_VOLUME", "PodSettings", "kubelet_pod_spec"]

#: The emptyDir the helper copies its static binary into; every image container mounts
#: it read-only and executes the binary from there.
TOOLS_VOLUME = "prepuller-tools"
TOOLS_MOUNT = "/.prepuller"
TOOLS_BINARY = f"{TOOLS_MOUNT}/busybox"
HELPER_CONTAINER = "prepuller-tools"
PAUSE_CONTAINER = "pause"
PULL_PREFIX = "pull-"


@dataclass(frozen=True)
class PodSettings:
    """The validated pod-level options (see ``ImagePrepuller`` for their meaning)."""

    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    affinity: dict[str, Any] | None
    priority_class_name: str | None
    image_pull_secrets: list[str]
    image_pull_policy: str | None
    resources: dict[str, dict[str, str]]
    pause_image: ImageReference
    helper_image: ImageReference


def pod_spec_base(settings: PodSettings) -> dict[str, Any]:
    """The fields every prepuller pod has, whatever its mode."""
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 0,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_UID,
            "runAsGroup": RUN_AS_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "nodeSelector": dict(settings.node_selector) or None,
        "tolerations": list(settings.tolerations) or None,
        "affinity": settings.affinity or None,
        "priorityClassName": settings.priority_class_name,
        "imagePullSecrets": [{"name": name} for name in settings.image_pull_secrets] or None,
    }
    return spec


def restricted_container_security() -> dict[str, Any]:
    """The container security context that meets Pod Security *restricted*."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_UID,
        "runAsGroup": RUN_AS_UID,
    }


def container(settings: PodSettings, name: str, image: ImageReference, **fields: Any) -> dict[str, Any]:
    """A container with the shared fields: pull policy, resources, security context."""
    return {
        "name": name,
        "image": image.text,
        "imagePullPolicy": settings.image_pull_policy or image.default_pull_policy,
        "resources": settings.resources,
        "securityContext": restricted_container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        **fields,
    }


def pause_container(settings: PodSettings) -> dict[str, Any]:
    return container(settings, PAUSE_CONTAINER, settings.pause_image)


def node_name_env() -> list[dict[str, Any]]:
    return [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]


def tools_volume() -> dict[str, Any]:
    # Busybox is about 1 MiB; the limit keeps a misbehaving helper from filling the node.
    return {"name": TOOLS_VOLUME, "emptyDir": {"sizeLimit": "8Mi"}}


def helper_container(settings: PodSettings) -> dict[str, Any]:
    """The first init container: copies the static binary into the shared emptyDir."""
    return container(
        settings,
        HELPER_CONTAINER,
        settings.helper_image,
        command=[HELPER_BINARY, "cp", HELPER_BINARY, TOOLS_BINARY],
        volumeMounts=[{"name": TOOLS_VOLUME, "mountPath": TOOLS_MOUNT}],
    )


def image_container(settings: PodSettings, name: str, image: ImageReference, command: list[str]) -> dict[str, Any]:
    """A container of a listed image running the copied binary (no shell involved)."""
    return container(
        settings,
        name,
        image,
        command=[TOOLS_BINARY, *command],
        env=node_name_env(),
        volumeMounts=[{"name": TOOLS_VOLUME, "mountPath": TOOLS_MOUNT, "readOnly": True}],
    )


def pulled_message(image: ImageReference) -> str:
    """What an image's container logs. ``$(NODE_NAME)`` is expanded by the kubelet, not a
    shell; a valid reference cannot contain ``$``, and ``$$`` escaping keeps even an
    unvalidated one literal."""
    return f"Pulled '{image.text.replace('$', '$$')}' on node '$(NODE_NAME)'"


def kubelet_pod_spec(settings: PodSettings, images: list[ImageReference]) -> dict[str, Any]:
    """The default mode: the kubelet pulls each image by running it as an init container."""
    names = container_names(images, PULL_PREFIX, reserved=(HELPER_CONTAINER, PAUSE_CONTAINER))
    init = [helper_container(settings)] + [
        image_container(settings, name, image, ["echo", pulled_message(image)])
        for name, image in zip(names, images, strict=True)
    ]
    return {
        **pod_spec_base(settings),
        "volumes": [tools_volume()],
        "initContainers": init,
        "containers": [pause_container(settings)],
    }
