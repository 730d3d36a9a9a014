"""Fixtures of the real-cluster suite. Every test here is marked ``cluster``; it runs against
the one-node cluster ``tests/cluster/run`` starts (``tests/cluster/up``) and fails, naming the
command to run, when there is none: this suite never skips silently."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import testimages
from .kube import Cluster

WORK = Path(os.environ.get("PREPULLER_CLUSTER_WORK", "/var/tmp/prepuller-cluster"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/cluster/" in item.nodeid:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The running cluster; the test fails (never skips) when there is none."""
    found = Cluster.from_work(WORK)
    if found is None:
        pytest.fail(f"no cluster in {WORK}: run `make cluster` (tests/cluster/run) as root, or tests/cluster/up")
    return found


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace enforcing the restricted Pod Security level, deleted after the test."""
    name = "t-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:10]
    cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait", timeout=180)
    cluster.namespace(name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def test_images(cluster: Cluster) -> Cluster:
    """The suite's test images, pushed to the cluster's registry once per session."""
    testimages.push_all(cluster)
    return cluster


@pytest.fixture
def clean_node(test_images: Cluster) -> Cluster:
    """No test image is on the node: whatever is there afterwards was pulled by the kubelet."""
    test_images.remove_images(testimages.ALL)
    return test_images
