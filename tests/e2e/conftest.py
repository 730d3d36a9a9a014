"""Fixtures of the end-to-end suite. Every test here is marked ``e2e`` and skipped (with the
command to run instead) unless ``tests/e2e/run`` prepared the engine, its configs and registry."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import images
from .engine import DockerApi, Environment, remove_images
from .podman import Player, PlayFn


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine() -> Environment:
    """The environment ``tests/e2e/run`` prepared; skips the test when there is none."""
    env = Environment.from_env()
    if env is None:
        pytest.skip("end-to-end: not prepared; run `make e2e` (tests/e2e/run) as root")
    return env


@pytest.fixture(scope="session")
def registry_images(engine: Environment) -> Environment:
    """The suite's test images, built and pushed to the local registry once per session."""
    for spec in images.suite_images(engine):
        images.build(engine, spec)
    return engine


@pytest.fixture(scope="session")
def node_name() -> str:
    """The name the kubelet would give the pod's ``spec.nodeName``: this machine's."""
    return socket.gethostname().split(".")[0].lower() or "e2e-node"


@pytest.fixture
def empty_store(registry_images: Environment) -> Environment:
    """No test image is in the engine's store: whatever is there afterwards was pulled."""
    remove_images(images.ALL)
    return registry_images


@pytest.fixture
def docker_host(engine: Environment) -> Iterator[Path]:
    """A node's ``docker_host_path``: a directory whose ``docker.sock`` is the engine's Docker API."""
    directory = Path(tempfile.mkdtemp(prefix="docker-host-", dir=engine.work))
    api = DockerApi(engine, directory)
    yield directory
    api.stop()


@pytest.fixture
def play_template(empty_store: Environment, node_name: str) -> Iterator[PlayFn]:
    """Plays a pod template on an empty store; the pods are removed after the test."""
    player = Player(node_name)
    yield player
    player.close()
