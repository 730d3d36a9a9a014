"""The default (kubelet) mode on a real engine: the synthesized pod template, played as a
Pod, pulls every listed image, logs each pull, and runs as uid 65534 with a read-only root."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import HELPER_IMAGE, PAUSE_IMAGE, ImagePrepuller

from . import images
from .engine import Environment, image_exists, inspect, logs, podman, remove_images
from .podman import Played, Player, PlayFn, template_of

UID = 65534
LISTED = [images.BUSYBOX, images.NO_SHELL, *images.SIZED.values()]


def pull_containers(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(container name, image) of each image's init container, in order."""
    return [(c["name"], c["image"]) for c in template["spec"]["initContainers"][1:]]


@pytest.fixture
def prepuller(chart: cdk8s.Chart) -> ImagePrepuller:
    return ImagePrepuller(chart, "prepull", images=LISTED)


@pytest.fixture(scope="module")
def played(registry_images: Environment, node_name: str) -> Iterator[tuple[Played, dict[str, Any]]]:
    """The default prepuller of LISTED, played once on an empty store for the tests that read it."""
    remove_images(images.ALL)
    template = template_of(ImagePrepuller(cdk8s.Chart(cdk8s.Testing.app(), "e2e"), "prepull", images=LISTED))
    player = Player(node_name)
    try:
        result = player(template)
        assert result.returncode == 0, result.report()
        yield result, template
    finally:
        player.close()


def test_every_listed_image_is_in_the_store_afterwards(played: tuple[Played, dict[str, Any]]) -> None:
    for image in [*LISTED, HELPER_IMAGE, PAUSE_IMAGE]:
        assert image_exists(image), image


def test_each_init_container_logs_its_pull(played: tuple[Played, dict[str, Any]], node_name: str) -> None:
    result, template = played
    pulls = pull_containers(template)
    assert [image for _, image in pulls] == LISTED
    for name, image in pulls:
        assert logs(result.container(name)) == f"Pulled '{image}' on node '{node_name}'\n"


def test_every_container_exited_zero_and_pause_runs(played: tuple[Played, dict[str, Any]]) -> None:
    result, template = played
    init = [c["name"] for c in template["spec"]["initContainers"]]
    states = {c["Name"]: c["State"] for c in inspect(*(result.container(n) for n in [*init, "pause"]))}
    for name in init:
        assert states[result.container(name)]["Status"] == "exited", name
        assert states[result.container(name)]["ExitCode"] == 0, name
    assert states[result.container("pause")]["Status"] == "running"
    assert podman("pod", "inspect", result.name, "--format", "{{.State}}").stdout.strip() == "Running"


def test_containers_run_as_nobody_with_a_read_only_root(played: tuple[Played, dict[str, Any]]) -> None:
    result, template = played
    names = [c["name"] for c in template["spec"]["initContainers"]] + ["pause"]
    for container in inspect(*(result.container(n) for n in names)):
        assert container["Config"]["User"] == f"{UID}:{UID}", container["Name"]
        assert container["HostConfig"]["ReadonlyRootfs"] is True, container["Name"]
        assert not container["EffectiveCaps"], container["Name"]

    # Probes, not just the engine's word: the pause process as the kernel sees it ...
    pid = inspect(result.container("pause"))[0]["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == [str(UID)] * 4
    root_mount = next(
        line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines() if line.split()[4] == "/"
    )
    assert "ro" in root_mount[5].split(","), root_mount
    # ... and the helper's copy in the emptyDir, owned by the uid that wrote it.
    volume = next(v["name"] for v in _pod_volumes(result) if v["name"].endswith("prepuller-tools"))
    mountpoint = Path(podman("volume", "inspect", volume, "--format", "{{.Mountpoint}}").stdout.strip())
    copied = (mountpoint / "busybox").stat()
    assert (copied.st_uid, copied.st_gid) == (UID, UID)


#: Ways to break the shell-less image's container, and what the engine says about each.
BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a shell command in the shell-less image": (
        lambda spec: _set_command(spec, images.NO_SHELL, ["sh", "-c", "echo pulled"]),
        'exec: "sh": executable file not found',
    ),
    "a wrong path to the copied binary": (
        lambda spec: _set_command(spec, images.NO_SHELL, ["/.prepuller/bin/busybox", "echo", "pulled"]),
        "/.prepuller/bin/busybox",
    ),
    "the no-op without the copied binary mounted": (
        lambda spec: _drop_mounts(spec, images.NO_SHELL),
        "/.prepuller/busybox",
    ),
}


@pytest.mark.parametrize("breakage", list(BROKEN))
def test_a_broken_template_fails(prepuller: ImagePrepuller, play_template: PlayFn, breakage: str) -> None:
    template = copy.deepcopy(template_of(prepuller))
    breaks, message = BROKEN[breakage]
    breaks(template["spec"])
    result = play_template(template)
    assert message in result.output
    _assert_failed_at(result, template, images.NO_SHELL)


def test_a_helper_image_without_the_binary_fails(chart: cdk8s.Chart, play_template: PlayFn) -> None:
    """The construct's own option, misused: the helper image has no /bin/busybox to copy."""
    broken = ImagePrepuller(chart, "prepull", images=LISTED, helper_image=images.NO_SHELL)
    template = template_of(broken)
    result = play_template(template)
    assert "/bin/busybox" in result.output
    for image in LISTED:
        _assert_failed_at(result, template, image)


def _assert_failed_at(result: Played, template: dict[str, Any], image: str) -> None:
    """The play failed, the image's container logged no pull, and the pod never got to pause."""
    assert result.returncode != 0, result.output
    name = next(n for n, i in pull_containers(template) if i == image)
    assert "Pulled" not in logs(result.container(name))
    assert inspect(result.container("pause"))[0]["State"]["Status"] != "running"
    assert podman("pod", "inspect", result.name, "--format", "{{.State}}").stdout.strip() != "Running"


def _set_command(spec: dict[str, Any], image: str, command: list[str]) -> None:
    next(c for c in spec["initContainers"] if c["image"] == image)["command"] = command


def _drop_mounts(spec: dict[str, Any], image: str) -> None:
    del next(c for c in spec["initContainers"] if c["image"] == image)["volumeMounts"]


def _pod_volumes(result: Played) -> list[dict[str, Any]]:
    names = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    return [{"name": n} for n in names if n.startswith(result.name + "-")]
