"""``prepuller status --lock``: bytes per image and per node, for each node's platform."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from prepuller._cli import main
from prepuller._status_bytes import human

from .status_support import load, pod_list
from .support.locks import write_lock

SIZES = {"nginx:1.25": {"linux/amd64": 71_000_000, "linux/arm64": 68_000_000}, "redis:7.2": {"linux/arm64": 40_000_000}}


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    pod = load("kubelet-pods.json")["items"][0]
    arm = copy.deepcopy(pod)
    arm["metadata"]["name"] = "prepull-arm"
    arm["spec"]["nodeName"] = "node-b"
    pods = tmp_path / "pods.json"
    pods.write_text(json.dumps(pod_list(pod, arm)))
    node_list = load("nodes.json")
    node_list["items"] = node_list["items"][:2]
    node_list["items"][1]["status"]["nodeInfo"]["architecture"] = "arm64"
    nodes = tmp_path / "nodes.json"
    nodes.write_text(json.dumps(node_list))
    lock = write_lock(tmp_path / "lock.json", ["nginx:1.25", "redis:7.2"], SIZES)
    return pods, nodes, lock


def test_table_adds_bytes_per_image_and_a_total_per_node(
    inputs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pods, nodes, lock = inputs
    code = main(["status", "--from-file", str(pods), "--nodes-file", str(nodes), "--lock", str(lock)])
    assert code == 0
    out = capsys.readouterr().out
    assert out.split("2/2 nodes ready, 3 images each\n")[1] == (
        f"bytes to download per node (lock {lock}):\n"
        "NODE     PLATFORM      IMAGE                              BYTES\n"
        "node-a   linux/amd64   nginx:1.25                         71.0 MB\n"
        "                       redis:7.2                          ? (no linux/amd64 image in the lock)\n"
        "                       gcr.io/distroless/static:nonroot   ? (not in the lock)\n"
        "                       total                              at least 71.0 MB (71000000 bytes)\n"
        "node-b   linux/arm64   nginx:1.25                         68.0 MB\n"
        "                       redis:7.2                          40.0 MB\n"
        "                       gcr.io/distroless/static:nonroot   ? (not in the lock)\n"
        "                       total                              at least 108.0 MB (108000000 bytes)\n"
    )


def test_json_adds_bytes_and_pinned_images_are_found(
    inputs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pods, _, lock = inputs
    locked = json.loads(lock.read_text())["images"]
    document: dict[str, Any] = json.loads(pods.read_text())
    for pod in document["items"]:  # as the construct renders them with the lock
        for container in pod["spec"]["initContainers"]:
            if container["image"] in locked:
                container["image"] += "@" + locked[container["image"]]["digest"]
    pods.write_text(json.dumps(document))
    assert main(["status", "--from-file", str(pods), "--lock", str(lock), "-o", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lock"] == str(lock)
    node_a = result["bytes"]["node-a"]
    assert node_a["platform"] is None  # no node list: the heaviest locked platform counts
    assert (node_a["totalBytes"], node_a["complete"]) == (71_000_000 + 40_000_000, False)
    assert [image["bytes"] for image in node_a["images"]] == [71_000_000, 40_000_000, None]


def test_a_bad_lock_file_exits_5(inputs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    pods, _, lock = inputs
    lock.write_text("{}")
    assert main(["status", "--from-file", str(pods), "--lock", str(lock)]) == 5
    assert capsys.readouterr().err == (
        f"prepuller status: error: --lock: lock file {lock}: (top level): is missing 'images' (got {{}})\n"
    )


def test_human_sizes() -> None:
    assert [human(n) for n in (0, 999, 1000, 71_000_000, 1_650_000_000, 3 * 10**15)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "71.0 MB",
        "1.6 GB",
        "3000.0 TB",
    ]
