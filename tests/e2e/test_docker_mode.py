"""``mode="docker"`` on a real engine: the chart's ``prepull`` init container pulls every
image through a Docker-compatible socket (``podman system service``) mounted from the
``docker_host_path``, logs as the chart did, and a missing image fails the pod while every
other image is still pulled and the summary names it."""

from __future__ import annotations

from pathlib import Path

import cdk8s
import pytest

from prepuller import ImagePrepuller

from . import images
from .engine import image_exists, inspect, logs
from .podman import PlayFn, template_of

LISTED = [images.BUSYBOX, images.NO_SHELL, *images.SIZED.values()]
MISSING = "e2e.example/missing:1"


def chart_lines(node: str, pulled: list[str]) -> list[str]:
    """The lines of the Helm chart's script (``Pulling images on node ...``, ``Pulling '...'...``)."""
    return [f"Pulling images on node '{node}'...", *(f"Pulling '{image}'..." for image in pulled)]


def _ours(log: str) -> list[str]:
    """The script's own lines, without the docker CLI's pull progress."""
    return [line for line in log.splitlines() if line.startswith(("Pulling ", "Pulled all ", "Failed to pull "))]


def _docker_prepuller(chart: cdk8s.Chart, host: Path, listed: list[str]) -> ImagePrepuller:
    return ImagePrepuller(chart, "prepull", images=listed, mode="docker", docker_host_path=str(host))


def test_every_image_is_pulled_through_the_docker_socket(
    chart: cdk8s.Chart, docker_host: Path, play_template: PlayFn, node_name: str
) -> None:
    template = template_of(_docker_prepuller(chart, docker_host, LISTED))
    result = play_template(template)
    assert result.returncode == 0, result.report()

    for image in LISTED:
        assert image_exists(image), image
        # podman play pulled only the pod's own images; the listed ones came through the socket.
        assert f"Trying to pull {image}..." not in result.output
    log = logs(result.container("prepull"))
    assert _ours(log) == [*chart_lines(node_name, LISTED), f"Pulled all {len(LISTED)} images on node '{node_name}'."]
    assert inspect(result.container("pause"))[0]["State"]["Status"] == "running"


def test_the_prepull_container_finds_the_socket_at_the_charts_path(
    chart: cdk8s.Chart, docker_host: Path, play_template: PlayFn
) -> None:
    result = play_template(template_of(_docker_prepuller(chart, docker_host, [images.BUSYBOX])))
    assert result.returncode == 0, result.report()
    [prepull] = inspect(result.container("prepull"))
    socket_mounts = [m for m in prepull["Mounts"] if m["Destination"] == "/var/run/docker.sock"]
    assert [m["Source"] for m in socket_mounts] == [str(docker_host / "docker.sock")]
    assert prepull["HostConfig"]["ReadonlyRootfs"] is True
    assert not prepull["EffectiveCaps"]


def test_a_missing_image_fails_the_pod_but_every_other_image_is_pulled(
    chart: cdk8s.Chart, docker_host: Path, play_template: PlayFn, node_name: str
) -> None:
    listed = [images.BUSYBOX, MISSING, *images.SIZED.values()]
    template = template_of(_docker_prepuller(chart, docker_host, listed))
    result = play_template(template)

    assert result.returncode != 0, result.output
    [prepull] = inspect(result.container("prepull"))
    assert prepull["State"]["ExitCode"] == 1
    assert inspect(result.container("pause"))[0]["State"]["Status"] != "running"
    for image in listed:
        assert image_exists(image) == (image != MISSING), image
    log = logs(result.container("prepull"))
    assert _ours(log) == [
        *chart_lines(node_name, listed),
        f"Failed to pull 1 of {len(listed)} images on node '{node_name}': '{MISSING}'",
    ]


def test_without_a_socket_the_pod_fails(
    chart: cdk8s.Chart, play_template: PlayFn, node_name: str, tmp_path: Path
) -> None:
    """A node without Docker (the chart's failure since Kubernetes 1.24): the pod fails visibly."""
    (tmp_path / "docker.sock").touch()  # the subPath exists, but nothing listens
    result = play_template(template_of(_docker_prepuller(chart, tmp_path, [images.BUSYBOX])))
    assert result.returncode != 0
    assert not image_exists(images.BUSYBOX)
    log = logs(result.container("prepull"))
    assert "Cannot connect to the Docker daemon" in log or "docker.sock" in log, log
    assert _ours(log)[-1] == f"Failed to pull 1 of 1 images on node '{node_name}': '{images.BUSYBOX}'"


pytestmark = pytest.mark.usefixtures("registry_images")
