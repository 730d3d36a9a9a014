"""Test images, built by the suite from files on the machine (``buildah from scratch``) and
pushed to the local registry; no image comes from the internet.

Each image is pushed under the name the manifests use (``docker.io/library/busybox:...``,
``registry.k8s.io/pause:...``, ``e2e.example/...``); the suite's registries.conf maps those
names to the local registry, so the synthesized manifests keep their real default names.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prepuller import DOCKER_IMAGE, HELPER_IMAGE, PAUSE_IMAGE

from .engine import Environment, registry_location, run

__all__ = [
    "ALL",
    "BUSYBOX",
    "DOCKER_CLI",
    "NO_SHELL",
    "SIZED",
    "ImageFile",
    "ImageSpec",
    "build",
    "filler_image",
    "suite_images",
]

BUSYBOX = "e2e.example/busybox:1"
NO_SHELL = "e2e.example/no-shell:1"
#: The docker CLI image, under the docker mode's default name.
DOCKER_CLI = DOCKER_IMAGE
#: Images of several sizes: one layer of random-but-seeded bytes each.
SIZED = {1: "e2e.example/filler:1mb", 10: "e2e.example/filler:10mb", 50: "e2e.example/filler:50mb"}
MIB = 1024 * 1024
#: Every image the suite pushes under a fixed name, and so may find in the store from an earlier test.
ALL = (HELPER_IMAGE, PAUSE_IMAGE, BUSYBOX, NO_SHELL, DOCKER_CLI, *SIZED.values())

#: PATH of the images with a shell, as in the official busybox and docker images.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The applets the busybox-based images get as links (a shell and what scripts use).
APPLETS = ("sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "test", "[", "printf", "env")


@dataclass(frozen=True)
class ImageFile:
    """A file in an image: copied from ``source`` on the machine, or ``content`` bytes."""

    path: str
    source: Path | None = None
    content: bytes | None = None
    mode: int = 0o755


@dataclass(frozen=True)
class ImageSpec:
    """An image built ``FROM scratch``: its files, links, entrypoint and cmd."""

    names: tuple[str, ...]
    files: tuple[ImageFile, ...]
    links: dict[str, str] = field(default_factory=dict)  # link path -> target
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def build(env: Environment, spec: ImageSpec) -> None:
    """Build ``spec`` with buildah and push it to the local registry under each of its names.

    Nothing stays in the engine's store: the tests must see the prepuller pull it.
    """
    container = run(["buildah", "from", "--quiet", "scratch"]).stdout.strip()
    try:
        with tempfile.TemporaryDirectory(dir=env.work) as tmp:
            root = Path(tmp)
            for index, item in enumerate(spec.files):
                local = item.source
                if local is None:
                    local = root / f"file-{index}"
                    local.write_bytes(item.content or b"")
                run(["buildah", "copy", "--quiet", "--chmod", f"{item.mode:o}", container, str(local), item.path])
            if spec.links:
                # No shell in the image to run `ln` with: make the links in its mounted root.
                mount = Path(run(["buildah", "mount", container]).stdout.strip())
                for link, target in spec.links.items():
                    path = mount / link.lstrip("/")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.symlink_to(target)
            config = ["buildah", "config"]
            if spec.entrypoint:
                config += ["--entrypoint", json.dumps(list(spec.entrypoint))]
            if spec.cmd:
                config += ["--cmd", json.dumps(list(spec.cmd))]
            for variable, value in spec.env.items():
                config += ["--env", f"{variable}={value}"]
            if len(config) > 2:
                run([*config, container])
            image_id = run(["buildah", "commit", "--quiet", "--rm", container]).stdout.strip()
            container = ""
        try:
            for name in spec.names:
                run(
                    [
                        "buildah",
                        "push",
                        "--quiet",
                        "--tls-verify=false",
                        image_id,
                        f"docker://{registry_location(env, name)}",
                    ]
                )
        finally:
            run(["buildah", "rmi", "--force", image_id])
    finally:
        if container:
            run(["buildah", "rm", container], check=False)


def busybox_image(env: Environment, names: Sequence[str]) -> ImageSpec:
    """Debian's static busybox at ``/bin/busybox`` (where the official ``-musl`` image has it)."""
    return ImageSpec(
        names=tuple(names),
        files=(ImageFile("/bin/busybox", source=env.busybox),),
        links={f"/bin/{applet}": "busybox" for applet in APPLETS},
        cmd=("sh",),
        env={"PATH": PATH},
    )


def no_shell_image(env: Environment) -> ImageSpec:
    """One static binary, no shell, no libc: ``/app`` (busybox renamed, so it is no applet)."""
    return ImageSpec(names=(NO_SHELL,), files=(ImageFile("/app", source=env.busybox),), entrypoint=("/app",))


def pause_image(env: Environment) -> ImageSpec:
    """A static binary that sleeps until SIGTERM as the entrypoint (the construct sets no
    command for pause): catatonit in pause mode, which podman itself uses as its infra process."""
    return ImageSpec(names=(PAUSE_IMAGE,), files=(ImageFile("/pause", source=env.pause),), entrypoint=("/pause", "-P"))


def docker_cli_image(env: Environment, names: Sequence[str] = (DOCKER_CLI,)) -> ImageSpec:
    """The docker client and busybox (``sh``), for the docker mode. A dynamically linked client
    gets the shared libraries ``ldd`` names, at the same paths."""
    files = [ImageFile("/usr/local/bin/docker", source=env.docker_cli), ImageFile("/bin/busybox", source=env.busybox)]
    for library in _shared_libraries(env.docker_cli):
        files.append(ImageFile(str(library), source=library.resolve()))
    return ImageSpec(
        names=tuple(names),
        files=tuple(files),
        links={f"/bin/{applet}": "busybox" for applet in APPLETS},
        cmd=("sh",),
        env={"PATH": PATH},
    )


def filler_image(name: str, megabytes: float, seed: int) -> ImageSpec:
    """An image of one layer holding ``megabytes`` of random bytes from ``seed`` (no shell).

    Different seeds give different layers, so no two filler images share a blob."""
    generator, size = random.Random(seed), int(megabytes * MIB)
    # In chunks: one randbytes() call of hundreds of MiB overflows a C int.
    content = b"".join(generator.randbytes(min(MIB, size - start)) for start in range(0, size, MIB))
    return ImageSpec(names=(name,), files=(ImageFile("/filler", content=content, mode=0o644),))


def suite_images(env: Environment) -> list[ImageSpec]:
    """Every image the end-to-end tests use."""
    return [
        busybox_image(env, (BUSYBOX, HELPER_IMAGE)),
        pause_image(env),
        no_shell_image(env),
        docker_cli_image(env),
        *(filler_image(name, size, seed=size) for size, name in SIZED.items()),
    ]


def _shared_libraries(binary: Path) -> list[Path]:
    result = run(["ldd", str(binary)], check=False)
    if result.returncode != 0:  # "not a dynamic executable"
        return []
    libraries = []
    for line in result.stdout.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            libraries.append(Path(path))
    return libraries
