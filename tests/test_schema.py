"""Every synthesized manifest passes `kubernetes-validate --strict` (1.27 and the newest),
through the library API and through the real command-line validator on the committed dist/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller
from tests.conftest import SCHEMA_VERSIONS, only, pod_spec, synth, validate_strictly

ROOT = Path(__file__).resolve().parent.parent


_ANTI_AFFINITY = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"a": "b"}}}
        ]
    }
}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"images": ["nginx:1.25"]}, {"nodeSelector": {"kubernetes.io/os": "linux"}}),
        (
            {"images": ["busybox", "quay.io/a/b@sha256:" + "0" * 64], "node_selector": {}, "max_unavailable": 3},
            {"nodeSelector": None},
        ),
        (
            {
                "images": ["nginx:1.25"],
                "tolerations": [{"operator": "Exists"}],
                "affinity": _ANTI_AFFINITY,
                "priority_class_name": "high",
                "image_pull_secrets": ["a", "b"],
                "resources": {"requests": {"ephemeral-storage": "1Mi"}, "limits": {"cpu": "1", "memory": None}},
            },
            {
                "tolerations": [{"operator": "Exists"}],
                "affinity": _ANTI_AFFINITY,
                "priorityClassName": "high",
                "imagePullSecrets": [{"name": "a"}, {"name": "b"}],
            },
        ),
    ],
)
def test_manifests_validate_strictly(options: dict[str, Any], expected: dict[str, Any]) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "prepuller", namespace="ns")
    ImagePrepuller(chart, "prepull", **options)
    manifests = synth(chart)
    validate_strictly(manifests)
    # What was validated is the feature's output: every image pulled, every option in place.
    daemon_set = only(manifests, "DaemonSet")
    assert daemon_set["metadata"]["namespace"] == "ns"
    spec = pod_spec(manifests)
    assert [c["image"] for c in spec["initContainers"][1:]] == options["images"]
    for field, value in expected.items():
        assert spec.get(field) == value, field
    strategy = daemon_set["spec"]["updateStrategy"]["rollingUpdate"]
    assert strategy == {"maxUnavailable": options.get("max_unavailable", "100%")}
    if "resources" in options:
        for container in spec["initContainers"] + spec["containers"]:
            assert container["resources"] == {
                "requests": {"cpu": "5m", "memory": "16Mi", "ephemeral-storage": "1Mi"},
                "limits": {"cpu": "1"},
            }


@pytest.mark.committed_output
@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_committed_dist_passes_the_kubernetes_validate_command(version: str) -> None:
    files = sorted(str(p) for p in (ROOT / "dist").glob("*.yaml"))
    assert files
    result = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", "--kubernetes-version", version, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
