"""``keep_images=True`` (and ``parallel_pulls``) on a real engine: after the pulls, one
sleeping container per image stays up, as uid 65534 with a read-only root, so every image
is in the store and in use (the engine refuses to remove it)."""

from __future__ import annotations

from typing import Any

import cdk8s

from prepuller import ImagePrepuller

from . import images
from .engine import image_exists, inspect, logs, podman
from .podman import PlayFn, templates_of

UID = 65534
LISTED = [images.BUSYBOX, images.NO_SHELL, *images.SIZED.values()]


def _containers(template: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [(c["name"], c["image"]) for c in template["spec"][kind]]


def test_keep_mode_keeps_a_sleeper_per_image_running(chart: cdk8s.Chart, play_template: PlayFn, node_name: str) -> None:
    [template] = templates_of(ImagePrepuller(chart, "prepull", images=LISTED, keep_images=True))
    result = play_template(template)
    assert result.returncode == 0, result.report()

    pulls = _containers(template, "initContainers")[1:]
    for name, image in pulls:
        assert logs(result.container(name)) == f"Pulled '{image}' on node '{node_name}'\n"
    sleepers = _containers(template, "containers")
    assert [image for _, image in sleepers] == LISTED
    for container in inspect(*(result.container(name) for name, _ in sleepers)):
        assert container["State"]["Status"] == "running", container["Name"]
        assert container["Config"]["User"] == f"{UID}:{UID}"
        assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert podman("pod", "inspect", result.name, "--format", "{{.State}}").stdout.strip() == "Running"
    for image in LISTED:
        assert image_exists(image), image
        running = podman("ps", "--filter", f"ancestor={image}", "--filter", "status=running", "--format", "{{.Names}}")
        assert result.container(dict((i, n) for n, i in sleepers)[image]) in running.stdout.split()
    # In use by a running container, the engine will not remove an image (nor would image GC).
    # (Not the busybox one: it shares its ID with the helper, so rmi would only untag it.)
    for image in [images.NO_SHELL, *images.SIZED.values()]:
        refused = podman("rmi", image, check=False)
        assert refused.returncode != 0 and "in use" in refused.stderr, refused.stderr
        assert image_exists(image)


def test_parallel_pulls_split_the_images_over_pods_that_all_pull(
    chart: cdk8s.Chart, play_template: PlayFn, node_name: str
) -> None:
    templates = templates_of(ImagePrepuller(chart, "prepull", images=LISTED, keep_images=True, parallel_pulls=2))
    assert len(templates) == 2
    pulled = []
    for template in templates:
        result = play_template(template)
        assert result.returncode == 0, result.report()
        for name, image in _containers(template, "initContainers")[1:]:
            assert logs(result.container(name)) == f"Pulled '{image}' on node '{node_name}'\n"
            pulled.append(image)
    assert sorted(pulled) == sorted(LISTED)
    assert all(image_exists(image) for image in LISTED)
