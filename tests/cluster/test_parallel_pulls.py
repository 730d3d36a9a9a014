"""``parallel_pulls=K`` on the real cluster: K DaemonSets, one pod each on the node, whose
pulls run at the same time (the kubelet's Pulled events: each pull's interval overlaps the
others'; the kubelet runs with ``serializeImagePulls: false``)."""

from __future__ import annotations

import pytest

from . import testimages
from .kube import Cluster, PullEvent
from .synth import manifests

#: Big enough that one pull takes seconds on loopback, so overlaps are measurable with the
#: events' whole-second timestamps.
BIG = {f"quay.io/prepuller-test/big:{name}": seed for seed, name in enumerate(("a", "b"), start=500)}
MEGABYTES = 400


@pytest.fixture(scope="module")
def big_images(test_images: Cluster) -> Cluster:
    for name, seed in BIG.items():
        testimages.push_filler(test_images, name, MEGABYTES, seed=seed)
    return test_images


def test_the_k_pods_pull_at_the_same_time(big_images: Cluster, namespace: str) -> None:
    cluster = big_images
    cluster.remove_images(BIG)
    objects = manifests(namespace, images=list(BIG), parallel_pulls=2)
    assert sorted(o["metadata"]["name"] for o in objects if o["kind"] == "DaemonSet") == ["prepull-1", "prepull-2"]
    cluster.apply(objects)
    pods = cluster.wait_running(namespace, "name=prepull", count=2, timeout=300)
    assert len({pod["metadata"]["name"] for pod in pods}) == 2

    pulls: dict[str, PullEvent] = {e.image: e for e in cluster.pull_events(namespace) if e.image in BIG}
    assert sorted(pulls) == sorted(BIG)
    a, b = pulls.values()
    print(f"pulls: {a.image} {a.seconds:.2f}s ending {a.ended}, {b.image} {b.seconds:.2f}s ending {b.ended}")
    # Event times are whole seconds: allow 1 s each side. Sequential pulls would start at
    # least one whole pull apart; overlapping ones start closer than the shorter pull lasts.
    assert min(a.seconds, b.seconds) > 2, "pulls too short to tell overlap from sequence"
    assert abs(a.started - b.started) + 1 < min(a.seconds, b.seconds)
