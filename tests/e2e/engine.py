"""The container engine as the suite sees it: podman and buildah command lines run with the
environment ``tests/e2e/run`` prepared (its own configs, store and registry).

Everything here runs a subprocess; the pure template changes live in ``podman.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DockerApi",
    "EngineError",
    "Environment",
    "image_exists",
    "podman",
    "registry_location",
    "remove_images",
    "run",
]

#: The variables ``tests/e2e/run`` exports; without them the suite is not prepared.
REQUIRED = ("E2E_WORK", "E2E_REGISTRY", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF")

#: The registry names the suites map to their local registry (``<prefix>/x`` is served from
#: ``<registry>/<prefix>/x``): podman through the e2e suite's registries.conf, containerd
#: through the cluster suite's hosts.toml files (quay.io and ghcr.io there only).
MAPPED_PREFIXES = ("docker.io", "registry.k8s.io", "quay.io", "ghcr.io", "e2e.example")


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


class DockerApi:
    """``podman system service``: the engine's Docker-compatible API on ``<directory>/docker.sock``,
    where a docker-mode pod mounted from ``docker_host_path`` finds a node's Docker socket.

    Its PID is recorded in the suite's pid dir, so ``tests/e2e/run`` stops it even if the
    test process dies; ``stop`` stops it by that PID."""

    def __init__(self, env: Environment, directory: Path) -> None:
        self.socket = directory / "docker.sock"
        self._log = (env.work / "logs" / f"docker-api-{directory.name}.log").open("w")
        self._process = subprocess.Popen(
            ["podman", "system", "service", "--time", "0", f"unix://{self.socket}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._pid_file = env.pid_dir / f"docker-api-{self._process.pid}.pid"
        self._pid_file.write_text(str(self._process.pid))
        deadline = time.monotonic() + 30
        while not self.ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EngineError(f"podman system service did not answer on {self.socket}")
            time.sleep(0.1)

    def ping(self) -> bool:
        """``GET /_ping`` on the socket answers ``OK``."""
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(2)
                client.connect(str(self.socket))
                client.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                return b"OK" in client.recv(4096)
        except OSError:
            return False

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._pid_file.unlink(missing_ok=True)
        self._log.close()


def logs(container: str) -> str:
    """What the container wrote to stdout and stderr."""
    result = podman("logs", container)
    return result.stdout + result.stderr
