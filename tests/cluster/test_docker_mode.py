"""``mode="docker"`` on the real cluster, in a privileged namespace: the chart's ``prepull``
init container pulls every image through a Docker API socket on the node (``podman system
service`` at the host path the option names), and ``kubectl logs`` shows the chart's lines."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.engine import MAPPED_PREFIXES, DockerApi, Environment, run
from tests.e2e.images import build, docker_cli_image

from . import testimages
from .kube import Cluster
from .synth import manifests

LISTED = [testimages.BUSYBOX, testimages.NO_SHELL, testimages.FILLER[1]]


def podman_configs(cluster: Cluster, directory: Path) -> dict[str, str]:
    """containers.conf and registries.conf of the node's "Docker engine": podman pulling from
    the cluster's registry under the real names, as containerd does."""
    (directory / "tmp").mkdir()
    (directory / "containers.conf").write_text(
        "[containers]\ndefault_ulimits = []\n\n"
        f'[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f'events_logfile_path = "{directory}/events.log"\ntmp_dir = "{directory}/tmp"\n'
    )
    registries = ['unqualified-search-registries = []\nshort-name-mode = "disabled"\n']
    for prefix in MAPPED_PREFIXES:
        registries.append(
            f'\n[[registry]]\nprefix = "{prefix}"\nlocation = "{cluster.registry}/{prefix}"\ninsecure = true\n'
        )
    (directory / "registries.conf").write_text("".join(registries))
    return {
        "CONTAINERS_CONF": str(directory / "containers.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(directory / "registries.conf"),
        "CONTAINERS_STORAGE_CONF": cluster.env["CONTAINERS_STORAGE_CONF"],
    }


@pytest.fixture
def docker_host(test_images: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A node directory whose ``docker.sock`` is podman's Docker API, and the docker CLI image
    (the docker mode's default reference) in the cluster's registry."""
    cluster = test_images
    directory = Path(tempfile.mkdtemp(prefix="docker-host-", dir=cluster.work))
    for name, value in podman_configs(cluster, directory).items():
        monkeypatch.setenv(name, value)
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail("the docker client is needed for the docker-mode image (Debian's docker.io, or the docker-ce-cli)")
    env = Environment(work=cluster.work, registry=cluster.registry, busybox=Path("/bin/busybox"),
                      pause=cluster.bin / "pause", docker_cli=Path(docker))  # fmt: skip
    (cluster.work / "logs").mkdir(exist_ok=True)
    build(env, docker_cli_image(env))
    run(["podman", "rmi", "--force", "--ignore", *LISTED])
    api = DockerApi(env, directory)
    yield directory
    api.stop()
    run(["podman", "rmi", "--force", "--ignore", *LISTED], check=False)


def test_images_are_pulled_through_the_docker_socket_with_the_charts_log_lines(
    docker_host: Path, cluster: Cluster, namespace: str
) -> None:
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=privileged", "--overwrite")
    cluster.remove_images(LISTED)
    cluster.apply(manifests(namespace, images=LISTED, mode="docker", docker_host_path=str(docker_host)))
    [pod] = cluster.wait_running(namespace, "name=prepull")

    log = cluster.kubectl("logs", "-n", namespace, pod["metadata"]["name"], "-c", "prepull").stdout
    ours = [line for line in log.splitlines() if line.startswith(("Pulling ", "Pulled all ", "Failed to pull "))]
    assert ours == [
        f"Pulling images on node '{cluster.node}'...",
        *(f"Pulling '{image}'..." for image in LISTED),
        f"Pulled all {len(LISTED)} images on node '{cluster.node}'.",
    ]
    # The images went into the "Docker engine's" store, not the kubelet's containerd.
    for image in LISTED:
        assert run(["podman", "image", "exists", image], check=False).returncode == 0, image
        assert not cluster.has_image(image), image
    assert os.environ["CONTAINERS_REGISTRIES_CONF"].startswith(str(docker_host))
