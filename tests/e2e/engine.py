"""The container engine as the suite sees it: podman and buildah command lines run with the
environment ``tests/e2e/run`` prepared (its own configs, store and registry).

Everything here runs a subprocess; the pure template changes live in ``podman.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EngineError", "Environment", "image_exists", "podman", "registry_location", "remove_images", "run"]

#: The variables ``tests/e2e/run`` exports; without them the suite is not prepared.
REQUIRED = ("E2E_WORK", "E2E_REGISTRY", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF")

#: The registry names the suite's registries.conf maps to the local registry
#: (``<prefix>/x`` is served from ``<registry>/<prefix>/x``).
MAPPED_PREFIXES = ("docker.io", "registry.k8s.io", "e2e.example")


class EngineError(RuntimeError):
    """A command of the engine failed; the message holds its output."""


@dataclass(frozen=True)
class Environment:
    """What ``tests/e2e/run`` prepared: the work dir, the registry and the static binaries."""

    work: Path
    registry: str
    busybox: Path
    pause: Path
    docker_cli: Path

    @classmethod
    def from_env(cls) -> Environment | None:
        """The prepared environment, or ``None`` when the suite was not started by ``tests/e2e/run``."""
        if any(not os.environ.get(name) for name in REQUIRED) or os.geteuid() != 0:
            return None
        return cls(
            work=Path(os.environ["E2E_WORK"]),
            registry=os.environ["E2E_REGISTRY"],
            busybox=Path(os.environ.get("E2E_BUSYBOX", "/bin/busybox")),
            pause=Path(os.environ.get("E2E_PAUSE", "/usr/bin/catatonit")),
            docker_cli=Path(os.environ.get("E2E_DOCKER_CLI") or shutil.which("docker") or "/usr/bin/docker"),
        )

    @property
    def pid_dir(self) -> Path:
        """Where processes started by the tests record their PID; ``tests/e2e/run`` stops them on exit."""
        return self.work / "pids"


def run(
    args: Sequence[str], *, check: bool = True, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure (with ``check``) raise EngineError with its whole output."""
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, input=input, check=False)
    if check and result.returncode != 0:
        raise EngineError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], check=check, timeout=timeout)


def image_exists(reference: str) -> bool:
    """``podman image exists``: the image is in the engine's store."""
    return podman("image", "exists", reference, check=False).returncode == 0


def remove_images(references: Iterable[str]) -> None:
    """Remove images from the engine's store (not from the registry); absent ones are fine."""
    references = list(references)
    if references:
        podman("rmi", "--force", "--ignore", *references)


def inspect(*names: str) -> list[dict[str, Any]]:
    """``podman container inspect`` of each container."""
    found: list[dict[str, Any]] = json.loads(podman("container", "inspect", *names).stdout)
    return found


def registry_location(env: Environment, reference: str) -> str:
    """Where the local registry serves ``reference`` (mirrors the suite's registries.conf)."""
    for prefix in MAPPED_PREFIXES:
        if reference.startswith(prefix + "/"):
            return f"{env.registry}/{reference}"
    raise ValueError(f"{reference!r} is not under a prefix the suite maps to the local registry: {MAPPED_PREFIXES}")


def logs(container: str) -> str:
    """What the container wrote to stdout and stderr."""
    result = podman("logs", container)
    return result.stdout + result.stderr
