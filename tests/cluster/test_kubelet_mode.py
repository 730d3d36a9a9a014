"""Kubelet mode on the real cluster: the DaemonSet controller and scheduler place the pod, the
kubelet pulls each listed image through containerd from the registry, and a changed list rolls
the DaemonSet and pulls the new image."""

from __future__ import annotations

import json
import urllib.request

from prepuller import HELPER_IMAGE, PAUSE_IMAGE

from . import testimages
from .kube import Cluster
from .synth import manifests, of_kind

LISTED = [testimages.BUSYBOX, testimages.NO_SHELL, *testimages.FILLER.values()]


def registry_digest(cluster: Cluster, reference: str) -> str:
    """The manifest digest the registry serves for ``reference`` (a tag)."""
    location = testimages.location(cluster, reference)
    host, _, rest = location.partition("/")
    repository, _, tag = rest.rpartition(":")
    request = urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers["Docker-Content-Digest"])


def init_logs(cluster: Cluster, namespace: str, pod: str, container: str) -> str:
    return cluster.kubectl("logs", "-n", namespace, pod, "-c", container).stdout


def test_pod_runs_and_the_kubelet_pulls_every_listed_image(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    cluster.apply(manifests(namespace, images=LISTED))
    [pod] = cluster.wait_running(namespace, "name=prepull")

    assert pod["spec"]["nodeName"] == cluster.node
    store = cluster.images()
    for reference in [*LISTED, HELPER_IMAGE, PAUSE_IMAGE]:
        assert reference in store, reference
    # The node's copy is the registry's: same manifest digest as the local registry serves.
    for reference in LISTED:
        repository = reference.rsplit(":", 1)[0]
        assert f"{repository}@{registry_digest(cluster, reference)}" in store, reference
    # The kubelet itself pulled each one (its Pulled event), none was already present.
    pulled = {event.image for event in cluster.pull_events(namespace)}
    assert set(LISTED) <= pulled
    # Every init container ran to completion, the shell-less image's included, and logged its pull.
    statuses = {s["name"]: s for s in pod["status"]["initContainerStatuses"]}
    pulls = [c for c in pod["spec"]["initContainers"] if c["image"] in LISTED]
    assert [c["image"] for c in pulls] == LISTED
    for container in pulls:
        terminated = statuses[container["name"]]["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed"), container["name"]
        assert init_logs(cluster, namespace, pod["metadata"]["name"], container["name"]) == (
            f"Pulled '{container['image']}' on node '{cluster.node}'\n"
        )
    [main] = pod["status"]["containerStatuses"]
    assert main["image"] == PAUSE_IMAGE and main["state"]["running"]


def test_equivalent_references_are_pulled_once(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    short, long = "prepuller-test/hub:1", "docker.io/prepuller-test/hub:1"
    testimages.push_filler(cluster, long, 0.5, seed=77)
    cluster.remove_images([long])
    objects = manifests(namespace, images=[short, long])
    [daemon_set] = of_kind(objects, "DaemonSet")
    pulls = [c["image"] for c in daemon_set["spec"]["template"]["spec"]["initContainers"][1:]]
    assert pulls == [short]

    cluster.apply(objects)
    cluster.wait_running(namespace, "name=prepull")
    events = [e for e in cluster.pull_events(namespace) if "prepuller-test/hub" in e.image]
    assert [e.image for e in events] == [short]
    assert long in cluster.images()


def test_a_changed_list_rolls_the_daemon_set_and_pulls_the_new_image(clean_node: Cluster, namespace: str) -> None:
    cluster = clean_node
    first, added = testimages.FILLER[1], testimages.FILLER[10]
    cluster.apply(manifests(namespace, images=[first]))
    [before] = cluster.wait_running(namespace, "name=prepull")
    assert added not in cluster.images()

    cluster.apply(manifests(namespace, images=[first, added]))
    cluster.kubectl("rollout", "status", "-n", namespace, "daemonset/prepull", "--timeout=180s", timeout=200)
    [after] = cluster.wait_running(namespace, "name=prepull")

    assert after["metadata"]["name"] != before["metadata"]["name"]
    assert [c["image"] for c in after["spec"]["initContainers"][1:]] == [first, added]
    assert added in cluster.images()
    assert added in {e.image for e in cluster.pull_events(namespace)}
    daemon_set = cluster.get("daemonset", "-n", namespace, "prepull")
    assert daemon_set["metadata"]["generation"] == 2
    assert daemon_set["status"]["updatedNumberScheduled"] == 1
    assert json.dumps(daemon_set["spec"]["template"]).count(added) >= 1
