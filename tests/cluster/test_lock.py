"""A lock on the real cluster: ``prepuller lock`` resolves images through the cluster's
registry (the distribution API, plain HTTP with ``--insecure-registry``), the construct renders
``<reference>@<digest>`` for every container, and the kubelet pulls those pinned references."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prepuller import HELPER_IMAGE, PAUSE_IMAGE

from . import testimages
from .kube import Cluster
from .synth import manifests


def test_the_kubelet_pulls_the_locked_digests(clean_node: Cluster, namespace: str, tmp_path: Path) -> None:
    cluster = clean_node
    registry = cluster.registry
    # The registry under its own name: the images the lock resolves are the ones the node pulls.
    listed = [f"{registry}/{name}" for name in (testimages.BUSYBOX, testimages.NO_SHELL, testimages.FILLER[1])]
    helper, pause = f"{registry}/{HELPER_IMAGE}", f"{registry}/{PAUSE_IMAGE}"
    lock = tmp_path / "prepuller.lock.json"
    result = cluster.run(
        [sys.executable, "-m", "prepuller", "lock", *listed, helper, pause,
         "--insecure-registry", registry, "-o", str(lock)],
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    locked = json.loads(lock.read_text())["images"]
    assert sorted(locked) == sorted([*listed, helper, pause])
    for reference in listed:
        [platform] = locked[reference]["platforms"].values()
        assert platform["size"] > 0

    cluster.remove_images(listed)
    objects = manifests(namespace, images=listed, helper_image=helper, pause_image=pause, lock=str(lock))
    [daemon_set] = [o for o in objects if o["kind"] == "DaemonSet"]
    spec = daemon_set["spec"]["template"]["spec"]
    images = [c["image"] for c in [*spec["initContainers"], *spec["containers"]]]
    assert all("@sha256:" in image for image in images), images
    cluster.apply(objects)
    [pod] = cluster.wait_running(namespace, "name=prepull")

    store = cluster.images()
    for reference in listed:
        digest = locked[reference]["digest"]
        assert f"{reference}@{digest}" in [c["image"] for c in pod["spec"]["initContainers"]]
        repository = reference.rsplit(":", 1)[0]
        assert f"{repository}@{digest}" in store, reference
    statuses = {s["name"]: s for s in pod["status"]["initContainerStatuses"]}
    for container in pod["spec"]["initContainers"]:
        terminated = statuses[container["name"]]["state"]["terminated"]
        assert terminated["exitCode"] == 0, container["image"]
        # The kubelet ran the pinned image: the status names the locked digest.
        digest = container["image"].rsplit("@", 1)[1]
        assert statuses[container["name"]]["imageID"].endswith(digest), statuses[container["name"]]

    # --check: current now; a moved tag is named and exits 1.
    check = [sys.executable, "-m", "prepuller", "lock", *listed, helper, pause,
             "--insecure-registry", registry, "-o", str(lock), "--check"]  # fmt: skip
    assert cluster.run(check, check=False).returncode == 0
    testimages.push_filler(cluster, testimages.FILLER[1], 1, seed=4242)
    try:
        moved = cluster.run(check, check=False)
    finally:
        testimages.push_filler(cluster, testimages.FILLER[1], 1, seed=1)  # as push_all left it
    assert moved.returncode == 1, moved.stderr
    assert listed[2] in moved.stderr
