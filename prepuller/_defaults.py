"""Pinned default images and fixed identities. Change a pin here and nowhere else."""

from __future__ import annotations

#: The main container of every prepuller pod: it only keeps the pod Running.
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"

#: Where the static binary that runs inside every listed image comes from: an official,
#: statically linked busybox (the ``-musl`` variant), so it runs in images with no shell
#: and no libc (scratch, distroless).
HELPER_IMAGE = "docker.io/library/busybox:1.37.0-musl"

#: Path of busybox inside the helper image.
HELPER_BINARY = "/bin/busybox"

#: The non-root user and group every container runs as (``nobody``/``nogroup``, the ids
#: JupyterHub's image puller uses too). Any uid works: the copied binary is world-executable.
RUN_AS_UID = 65534

#: Label every prepuller pod carries with the prepuller's name, as the Helm chart did
#: (``kubectl get pods -lname=prepull``).
NAME_LABEL = "name"

#: The recommended label every object of a prepuller carries (DaemonSets, their pods, the
#: refresh CronJob, its Jobs and pods, RBAC objects, NetworkPolicies): how ``prepuller images``
#: recognises a synthesized or deployed prepuller among other manifests.
APP_NAME_LABEL = ("app.kubernetes.io/name", "image-prepuller")

#: The docker CLI that ``mode="docker"`` runs against the node's Docker engine (the Helm
#: chart used ``docker:18.09.1``). The ``-cli`` variant has no daemon; this is the release
#: the docker-mode script was verified with (its pull writes no files: read-only root works).
DOCKER_IMAGE = "docker.io/library/docker:28.2.2-cli"

#: The node directory holding ``docker.sock``: the chart's ``docker.hostPath`` default.
DOCKER_HOST_PATH = "/var/run"

#: How the images get pulled: ``kubelet`` (the default: init containers, any runtime) or
#: ``docker`` (the Helm chart's way, through the node's Docker socket).
MODES = ("kubelet", "docker")

#: The image the refresh CronJob and the startup-taint remover run ``kubectl`` from: the
#: Kubernetes project's own distroless image (``/bin/kubectl``, no shell), the same
#: release as the kubectl 1.33.9 binary the tests run (tests/support/kubectl.py).
KUBECTL_IMAGE = "registry.k8s.io/kubectl:v1.33.9"

#: Path of kubectl inside ``KUBECTL_IMAGE``.
KUBECTL_BINARY = "/bin/kubectl"

#: Resources of every container that runs kubectl. Measured: kubectl 1.33 peaks at
#: 48 MiB RSS for ``get``/``patch``/``rollout restart`` against a small API server
#: (tests/support/apiserver.py); discovery grows with the number of API resources (CRDs),
#: hence a limit well above that. They run for seconds, once per node or per refresh.
#: The ``cpu: 250m`` limit lets namespaces whose ResourceQuota counts ``limits.cpu`` admit
#: the pods and satisfies policy scanners (checkov CKV_K8S_11); a limit reserves nothing,
#: and kubectl's fraction of a CPU-second for a get and a patch is then spread over well
#: under two seconds at worst.
KUBECTL_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "10m", "memory": "64Mi"},
    "limits": {"cpu": "250m", "memory": "256Mi"},
}
