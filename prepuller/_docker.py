"""``mode="docker"``: the Helm chart's pod, pulling through the node's Docker engine.

The shape is the chart's (``charts/images-prepuller``): one init container ``prepull``
with ``NODE_NAME`` from ``spec.nodeName`` and the node's ``docker.hostPath`` mounted with
``subPath: docker.sock`` at ``/var/run/docker.sock``, then a ``pause`` main container, so the
chart's README commands (``kubectl logs -lname=prepull -c prepull``) still work.

What differs from the chart, on purpose:

- The script is fixed text (:data:`PREPULL_SCRIPT`), run as
  ``sh -c SCRIPT prepull IMAGE...``: the images reach it only as separate arguments
  (``"$@"``) and are never interpolated into shell code, so no image string can run a
  command even if validation were bypassed. ``$`` in an argument is doubled, so the kubelet's
  own ``$(VAR)`` expansion leaves it literal too.
- Every image is tried; a closing summary names each one that failed and the container
  exits 1 (``Init:Error``), instead of ``set -e`` stopping at the first failure.
- The pod template carries ``checksum/images`` (like the chart's ``checksum/config``) and
  the images as ``args``, so any change to the list rolls the pods and re-pulls.
- Only the ``prepull`` container runs as root (it must, to use the root-owned socket), with
  every capability dropped, no privilege escalation, the RuntimeDefault seccomp profile and
  a read-only root filesystem; the pause container stays as restricted as in kubelet mode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import PrepullerError
from ._pods import PodSettings, container, node_name_env, pause_container, pod_spec_base
from ._references import ImageReference
from ._validation import string

__all__ = [
    "CHECKSUM_ANNOTATION",
    "DOCKER_SOCKET_MOUNT",
    "PREPULL_CONTAINER",
    "PREPULL_SCRIPT",
    "DockerSettings",
    "docker_pod_annotations",
    "docker_pod_spec",
    "host_path",
]

#: The init container's name, as in the chart: ``kubectl logs ... -c prepull``.
PREPULL_CONTAINER = "prepull"
#: The volume's name, as in the chart's template.
DOCKER_SOCKET_VOLUME = "docker"
DOCKER_SOCKET_MOUNT = "/var/run/docker.sock"
CHECKSUM_ANNOTATION = "checksum/images"

#: The script of the ``prepull`` container. Fixed text: images arrive only as ``"$@"``.
#: No ``set -e`` (a failed pull must not stop the others); ``docker image pull --`` ends
#: option parsing, so even an argument starting with ``-`` is read as an image. The failure
#: count is kept as a string of ``x`` (``${#count}``) because the script must contain no
#: ``$(`` — the kubelet expands ``$(VAR)`` in ``command`` — and so no ``$((...))`` either.
PREPULL_SCRIPT = """\
node="${NODE_NAME:-unknown}"
printf "Pulling images on node '%s'...\\n" "$node"
failed=""
count=""
for image in "$@"; do
  printf "\\nPulling '%s'...\\n" "$image"
  if ! docker image pull -- "$image"; then
    failed="$failed '$image'"
    count="${count}x"
  fi
done
printf "\\n"
if [ -n "$count" ]; then
  printf "Failed to pull %s of %s images on node '%s':%s\\n" "${#count}" "$#" "$node" "$failed"
  exit 1
fi
printf "Pulled all %s images on node '%s'.\\n" "$#" "$node"
"""


@dataclass(frozen=True)
class DockerSettings:
    """The validated docker-mode options (see ``ImagePrepuller``)."""

    host_path: str
    image: ImageReference


def host_path(value: object, option: str) -> str:
    """A directory on the node: absolute, with no ``..`` (which Kubernetes refuses)."""
    text = string(value, option)
    if (
        not text.startswith("/")
        or ".." in text.split("/")
        or any(ord(character) < 32 or character == "\x7f" for character in text)
    ):
        raise PrepullerError(
            option, "must be an absolute directory path on the node, without '..' or control characters", value
        )
    return text


def docker_pod_spec(settings: PodSettings, docker: DockerSettings, images: Sequence[ImageReference]) -> dict[str, Any]:
    """The chart's pod: one ``prepull`` init container running :data:`PREPULL_SCRIPT` with
    the images as arguments, the Docker socket mounted from the node, a pause container."""
    prepull = container(
        settings,
        PREPULL_CONTAINER,
        docker.image,
        command=["sh", "-c", PREPULL_SCRIPT, PREPULL_CONTAINER],
        args=[_literal(image.text) for image in images],
        env=node_name_env(),
        volumeMounts=[{"name": DOCKER_SOCKET_VOLUME, "mountPath": DOCKER_SOCKET_MOUNT, "subPath": "docker.sock"}],
        securityContext=_root_security_context(),
    )
    return {
        **pod_spec_base(settings),
        "volumes": [
            # `Directory`: a node without the directory fails the pod visibly instead of the
            # kubelet creating an empty one.
            {"name": DOCKER_SOCKET_VOLUME, "hostPath": {"path": docker.host_path, "type": "Directory"}}
        ],
        "initContainers": [prepull],
        "containers": [pause_container(settings)],
    }


def docker_pod_annotations(images: Sequence[ImageReference]) -> dict[str, str]:
    """``checksum/images``: a SHA-256 of the image list, as the chart's ``checksum/config``."""
    digest = hashlib.sha256("\n".join(image.text for image in images).encode()).hexdigest()
    return {CHECKSUM_ANNOTATION: digest}


def _literal(argument: str) -> str:
    """Keep an argument literal through the kubelet's ``$(VAR)`` expansion (``$$`` is ``$``).
    A valid image reference has no ``$``; this guards unvalidated ones."""
    return argument.replace("$", "$$")


def _root_security_context() -> dict[str, Any]:
    """The least the docker CLI needs: root (the socket is ``root:docker``, mode 0660, and
    the docker group's id differs between nodes), and nothing else. Root owns the socket, so
    no capability (not even ``CAP_DAC_OVERRIDE``) is needed; the CLI's pull writes no file
    (checked with strace against docker 28.2.2), so the root filesystem stays read-only."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
