"""The suite's test images are what the other tests rely on them being."""

from __future__ import annotations

import struct
from pathlib import Path

from prepuller import HELPER_IMAGE, PAUSE_IMAGE

from . import images
from .engine import Environment, inspect, podman


def _files(image: str) -> tuple[Path, list[str]]:
    root = Path(podman("image", "mount", image).stdout.strip())
    return root, sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def _is_static_elf(binary: bytes) -> bool:
    """An ELF executable with no program interpreter (PT_INTERP): no dynamic loader, no libc."""
    assert binary[:4] == b"\x7fELF" and binary[4] == 2, "expected a 64-bit ELF"
    (phoff,) = struct.unpack_from("<Q", binary, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", binary, 0x36)
    types = [struct.unpack_from("<I", binary, phoff + i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP


def test_the_shell_less_image_holds_one_static_binary(registry_images: Environment) -> None:
    """No /bin/sh, no libc: running the no-op in it proves the construct needs no shell."""
    podman("pull", "--quiet", images.NO_SHELL)
    root, files = _files(images.NO_SHELL)
    try:
        assert files == ["app"]
        assert not (root / "bin" / "sh").exists()
        assert _is_static_elf((root / "app").read_bytes())
    finally:
        podman("image", "unmount", images.NO_SHELL)


def test_the_helper_image_has_a_static_busybox_where_the_official_one_does(registry_images: Environment) -> None:
    podman("pull", "--quiet", HELPER_IMAGE)
    root, files = _files(HELPER_IMAGE)
    try:
        assert "bin/busybox" in files
        assert _is_static_elf((root / "bin" / "busybox").read_bytes())
    finally:
        podman("image", "unmount", HELPER_IMAGE)


def test_the_pause_image_runs_until_sigterm(registry_images: Environment) -> None:
    """Its entrypoint alone (the construct sets no command) sleeps, as a non-root user with a
    read-only root, and exits 0 on SIGTERM (a kill after the stop timeout would be 137)."""
    podman("pull", "--quiet", PAUSE_IMAGE)
    name = "e2e-pause-probe"
    podman("run", "--detach", "--name", name, "--network", "none", "--user", "65534:65534", "--read-only", PAUSE_IMAGE)
    try:
        assert inspect(name)[0]["State"]["Status"] == "running"
        podman("stop", "--time", "30", name)
        assert inspect(name)[0]["State"]["ExitCode"] == 0
    finally:
        podman("rm", "--force", name, check=False)
