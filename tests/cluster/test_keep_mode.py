"""Keep mode on the real cluster: one sleeper per image runs, so every image is used by a
running container; and the sleeper's real memory, read from its cgroup, stays under the
``keep_resources`` default request it is sized from."""

from __future__ import annotations

from pathlib import Path

from prepuller._keep import KEEP_PREFIX, KEEP_RESOURCES

from . import testimages
from .kube import Cluster
from .synth import manifests

LISTED = [testimages.BUSYBOX, testimages.NO_SHELL, testimages.FILLER[1]]
MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory/kubepods")


def mebibytes(quantity: str) -> float:
    assert quantity.endswith("Mi"), quantity
    return float(quantity[:-2])


def container_cgroup(container_id: str) -> Path:
    """The container's memory cgroup under the kubelet's cgroupfs hierarchy."""
    [found] = [path for path in MEMORY_CGROUPS.rglob(container_id) if path.is_dir()]
    return found


def memory_stat(cgroup: Path) -> dict[str, int]:
    return {
        key: int(value) for key, value in (line.split() for line in (cgroup / "memory.stat").read_text().splitlines())
    }


def test_sleepers_run_and_hold_every_image_in_use(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    cluster.apply(manifests(namespace, images=LISTED, keep_images=True))
    [pod] = cluster.wait_running(namespace, "name=prepull")

    sleepers = {s["image"]: s for s in pod["status"]["containerStatuses"] if s["name"].startswith(KEEP_PREFIX)}
    assert sorted(sleepers) == sorted(LISTED)
    running = cluster.running_images()
    for image, status in sleepers.items():
        assert status["state"]["running"], image
        assert status["restartCount"] == 0, image
        assert image in running, image

    # The images are in use: crictl's prune removes every image no container uses, and these stay.
    cluster.crictl("rmi", "--prune")
    for image in LISTED:
        assert cluster.has_image(image), image


def test_a_sleeper_stays_far_below_its_default_memory_request_and_limit(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    cluster.apply(manifests(namespace, images=LISTED, keep_images=True))
    [pod] = cluster.wait_running(namespace, "name=prepull")
    request = mebibytes(KEEP_RESOURCES["requests"]["memory"])
    limit = mebibytes(KEEP_RESOURCES["limits"]["memory"])
    for status in pod["status"]["containerStatuses"]:
        if not status["name"].startswith(KEEP_PREFIX):
            continue
        cgroup = container_cgroup(status["containerID"].removeprefix("containerd://"))
        usage = int((cgroup / "memory.usage_in_bytes").read_text()) / 2**20
        peak = int((cgroup / "memory.max_usage_in_bytes").read_text()) / 2**20
        assert int((cgroup / "memory.limit_in_bytes").read_text()) == limit * 2**20
        stat = memory_stat(cgroup)
        print(f"{status['name']}: usage {usage:.3f} MiB, peak {peak:.3f} MiB, rss {stat['rss'] / 2**20:.3f} MiB")
        # KEEP_RESOURCES (prepuller/_keep.py) is sized from these: the request at least 4x a
        # sleeper's settled usage, the limit at least 4x its peak (runc's container init,
        # charged to the container before `sleep` runs).
        assert usage * 4 <= request, (status["name"], usage)
        assert peak * 4 <= limit, (status["name"], peak)
