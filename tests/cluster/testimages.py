"""The cluster suite's own test images, pushed once per session to the cluster's registry
under quay.io and ghcr.io names (containerd maps both to it, besides the default images'
docker.io and registry.k8s.io), so that every mapped registry name is pulled for real."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.engine import Environment, registry_location
from tests.e2e.images import ImageFile, ImageSpec, build, busybox_image, filler_image

from .kube import Cluster

BUSYBOX = "quay.io/prepuller-test/busybox:1"
#: No shell and no libc: one static binary as the entrypoint.
NO_SHELL = "ghcr.io/prepuller-test/no-shell:1"
#: One layer of seeded random bytes each.
FILLER = {1: "quay.io/prepuller-test/filler:1mb", 10: "quay.io/prepuller-test/filler:10mb"}
#: Never pushed: the kubelet's pull fails with "not found".
MISSING = "quay.io/prepuller-test/missing:1"
#: The tag the refresh test re-pushes with new content.
MUTABLE = "quay.io/prepuller-test/mutable:latest"
#: Every image pushed here, so tests can remove them from the node before they run.
ALL = (BUSYBOX, NO_SHELL, *FILLER.values(), MUTABLE)


def environment(cluster: Cluster) -> Environment:
    """The e2e suite's image builder pointed at the cluster's registry and buildah store."""
    os.environ.setdefault("CONTAINERS_STORAGE_CONF", cluster.env["CONTAINERS_STORAGE_CONF"])
    return Environment(
        work=cluster.work / "run",
        registry=cluster.registry,
        busybox=Path("/bin/busybox"),
        pause=cluster.bin / "pause",
        docker_cli=Path(os.devnull),
    )


def push_all(cluster: Cluster) -> None:
    env = environment(cluster)
    build(env, busybox_image(env, (BUSYBOX,)))
    build(env, ImageSpec(names=(NO_SHELL,), files=(ImageFile("/app", source=env.busybox),), entrypoint=("/app",)))
    for size, name in FILLER.items():
        build(env, filler_image(name, size, seed=size))
    push_mutable(cluster, generation=0)


def push_mutable(cluster: Cluster, generation: int) -> None:
    """(Re)push MUTABLE with content of its own for ``generation``: a moved tag."""
    build(environment(cluster), filler_image(MUTABLE, 0.1, seed=1000 + generation))


def push_filler(cluster: Cluster, name: str, megabytes: float, seed: int) -> None:
    build(environment(cluster), filler_image(name, megabytes, seed=seed))


def location(cluster: Cluster, reference: str) -> str:
    """Where the registry serves ``reference``."""
    return registry_location(environment(cluster), reference)
