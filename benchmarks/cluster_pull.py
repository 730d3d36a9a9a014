"""Real-cluster pull benchmark: the prepuller on the one-node cluster (kubelet + containerd)
against ``crictl pull`` floors measured in the same run, from the same local registry.

Cases (N images of random-but-seeded bytes, one layer each, 320 MiB in all):
- ``N=5`` (5 x 64 MiB) and ``N=20`` (20 x 16 MiB), kubelet mode, ``parallel_pulls=1``: the
  time from ``kubectl apply`` until the DaemonSet's pod is Ready (every init container has
  pulled its image and exited), on a warm node (the helper and pause images present);
  floor: ``crictl pull`` of the same N images one after another (goal ≤ 1.15x);
- ``N=20, K=4``: ``parallel_pulls=4`` until all four pods are Ready, against the same
  sequential floor and against all N ``crictl pull`` at once (the parallel floor);
- ``startup taint``: the node registers anew with the taint; from the node's Ready
  condition to the taint's removal (both read from the API: the condition's
  ``lastTransitionTime``, the audit log's patch time), minus the N=5 sequential floor
  (goal ≤ 5 s: the gating's own overhead).
Before every run the N images are removed from the node's store. Each figure is the median
of ``--repeats`` runs (default 3); every run's figure is printed.

Needs the cluster: ``make bench-cluster``, i.e.
``tests/cluster/run .venv/bin/python benchmarks/cluster_pull.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster import testimages  # noqa: E402
from tests.cluster.kube import Cluster  # noqa: E402
from tests.cluster.synth import manifests  # noqa: E402

MIB_TOTAL = 320
TAINT = "prepuller.bench/images"


def image_set(count: int) -> list[str]:
    names = [f"quay.io/prepuller-bench/n{count}:{index}" for index in range(count)]
    return names


def push(cluster: Cluster, count: int) -> list[str]:
    names = image_set(count)
    for index, name in enumerate(names):
        testimages.push_filler(cluster, name, MIB_TOTAL / count, seed=10_000 * count + index)
    return names


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def crictl_sequential(cluster: Cluster, images: list[str]) -> float:
    cluster.remove_images(images)
    return timed(lambda: [cluster.crictl("pull", image) for image in images])


def crictl_parallel(cluster: Cluster, images: list[str]) -> float:
    cluster.remove_images(images)

    def all_at_once() -> None:
        with concurrent.futures.ThreadPoolExecutor(len(images)) as pool:
            list(pool.map(lambda image: cluster.crictl("pull", image), images))

    return timed(all_at_once)


def namespace(cluster: Cluster) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    cluster.namespace(name)
    return name


def prepuller(cluster: Cluster, images: list[str], groups: int) -> tuple[float, float]:
    """(seconds until every image is in the node's store, seconds until every pod is Ready)."""
    cluster.remove_images(images)
    ns = namespace(cluster)
    objects = manifests(ns, images=images, parallel_pulls=groups)
    try:
        start = time.monotonic()
        cluster.apply(objects)
        cluster.wait_until(
            "every image on the node", lambda: set(images) <= set(cluster.images()), timeout=600, interval=0.1
        )
        stored = time.monotonic() - start
        cluster.wait_running(ns, "name=prepull", count=groups, timeout=600)
        return stored, time.monotonic() - start
    finally:
        # Waited for: the pods' containers hold their images until they are gone.
        cluster.kubectl("delete", "namespace", ns, "--wait=true", timeout=300)


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def taint_gating(cluster: Cluster, images: list[str]) -> float:
    """Seconds from the node's Ready condition to the removal of its startup taint."""
    cluster.remove_images(images)
    ns = namespace(cluster)
    try:
        cluster.apply(manifests(ns, images=images, startup_taint=TAINT))
        cluster.register_node([f"{TAINT}=:NoSchedule"])
        cluster.wait_until(
            "the taint's removal", lambda: TAINT not in [t["key"] for t in cluster.node_taints()], timeout=600
        )
        node = cluster.get("node", cluster.node)
        [ready] = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        account = f"system:serviceaccount:{ns}:prepull-untaint"
        [patch] = [
            e
            for e in cluster.audit(verb="patch", resource="nodes", name=cluster.node)
            if e["user"]["username"] == account and e["responseStatus"]["code"] == 200
        ]
        return _time(patch["stageTimestamp"]) - _time(ready["lastTransitionTime"])
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=true", timeout=300)
        cluster.register_node()


def median_of(repeats: int, label: str, run: Callable[[], float]) -> float:
    figures = [run() for _ in range(repeats)]
    print(f"  {label}: {', '.join(f'{f:.2f}' for f in figures)} s", file=sys.stderr)
    return statistics.median(figures)


def medians_of(repeats: int, label: str, run: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """The medians of a (images stored, pods Ready) pair."""
    figures = [run() for _ in range(repeats)]
    print(f"  {label}: " + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in figures) + " s (stored/Ready)", file=sys.stderr)
    return statistics.median(a for a, _ in figures), statistics.median(b for _, b in figures)


def row(case: str, ours: float, floor: float, goal: str) -> list[str]:
    return [case, f"{ours:.2f}", f"{floor:.2f}", f"{ours / floor:.2f}x", goal]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (default: 3)")
    args = parser.parse_args()
    work = Path(os.environ.get("PREPULLER_CLUSTER_WORK", "/var/tmp/prepuller-cluster"))
    cluster = Cluster.from_work(work)
    if cluster is None:
        sys.exit(f"no cluster in {work}: run through tests/cluster/run (make bench-cluster)")
    testimages.push_all(cluster)  # the helper and pause images are pushed by `up`
    five, twenty = push(cluster, 5), push(cluster, 20)
    rows = []
    seq: dict[int, float] = {}
    ours: dict[int, tuple[float, float]] = {}
    for images in (five, twenty):
        n = len(images)
        seq[n] = median_of(args.repeats, f"crictl sequential N={n}", partial(crictl_sequential, cluster, images))
        ours[n] = medians_of(args.repeats, f"prepuller N={n}", partial(prepuller, cluster, images, 1))
        rows.append(row(f"kubelet N={n} K=1: images stored", ours[n][0], seq[n], "≤ 1.15x"))
        rows.append(row(f"kubelet N={n} K=1: pod Ready", ours[n][1], seq[n], ""))
    all20 = median_of(args.repeats, "crictl all at once N=20", lambda: crictl_parallel(cluster, twenty))
    k4 = medians_of(args.repeats, "prepuller N=20 K=4", lambda: prepuller(cluster, twenty, 4))
    rows.append(row("kubelet N=20 K=4 vs sequential", k4[0], seq[20], ""))
    rows.append(row("kubelet N=20 K=4 vs all at once", k4[0], all20, ""))
    rows.append(row("kubelet N=20 K=4 vs K=1", k4[0], ours[20][0], ""))
    seq5 = seq[5]
    gating = median_of(args.repeats, "startup taint Ready -> removed N=5", lambda: taint_gating(cluster, five))
    rows.append(
        ["startup taint N=5, minus the floor", f"{gating:.2f}", f"{seq5:.2f}", f"+{gating - seq5:.2f} s", "≤ +5 s"]
    )
    print(tabulate(rows, headers=["case", "seconds", "floor (s)", "ratio", "goal"], tablefmt="github"))
    print(f"\n(median of {args.repeats} runs each; {MIB_TOTAL} MiB per image set)")


if __name__ == "__main__":
    main()
