"""A missing image on the real cluster: the kubelet's own ErrImagePull / ImagePullBackOff, and
``prepuller status`` (real kubectl, real API server) naming the node, the image and the reason;
``--wait`` exits 3 on its timeout, and 0 once everything is pulled, with progress meanwhile."""

from __future__ import annotations

import json
import sys

from . import testimages
from .kube import Cluster
from .synth import manifests


def status(cluster: Cluster, namespace: str, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    result = cluster.run(
        [sys.executable, "-m", "prepuller", "status", "-n", namespace, *args], check=False, timeout=timeout
    )
    return result.returncode, result.stdout, result.stderr


def test_a_missing_image_is_reported_by_node_image_and_reason(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    cluster.apply(manifests(namespace, images=[testimages.FILLER[1], testimages.MISSING]))
    reason = cluster.wait_until("the kubelet's pull error", lambda: cluster.pull_error(namespace))
    assert reason in ("ErrImagePull", "ImagePullBackOff")
    failed = [e for e in cluster.events(namespace, reason="Failed") if testimages.MISSING in e["message"]]
    assert failed and "not found" in failed[0]["message"]

    code, out, _ = status(cluster, namespace, "-o", "json")
    assert code == 1
    report = json.loads(out)
    [node] = [n for n in report["nodes"] if n["name"] == cluster.node]
    images = {i["image"]: i for i in node["images"]}
    assert images[testimages.FILLER[1]]["state"] == "pulled"
    assert images[testimages.MISSING]["state"] == "failed"
    assert images[testimages.MISSING]["reason"] in ("ErrImagePull", "ImagePullBackOff")

    assert node["state"] == "failed" and report["ready"] is False

    code, out, _ = status(cluster, namespace)
    assert code == 1
    assert cluster.node in out and ("ErrImagePull" in out or "ImagePullBackOff" in out), out

    code, _, err = status(cluster, namespace, "--wait", "--timeout", "30s", "--interval", "2s", timeout=90)
    assert code == 3, err
    assert "timed out" in err or "timeout" in err, err


def test_wait_exits_0_once_everything_is_pulled_with_progress_lines(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    cluster.apply(manifests(namespace, images=[testimages.BUSYBOX, *testimages.FILLER.values()]))
    code, out, err = status(cluster, namespace, "--wait", "--timeout", "3m", "--interval", "1s", timeout=240)
    assert code == 0, err
    assert err.strip(), "no progress line on stderr"
    assert cluster.node in out
    for image in (testimages.BUSYBOX, *testimages.FILLER.values()):
        assert cluster.has_image(image)
