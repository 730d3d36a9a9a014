"""Every synthesized manifest passes `kubernetes-validate --strict` (1.27 and the newest),
through the library API and through the real command-line validator on the committed dist/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cdk8s
import pytest

from prepuller import ImagePrepuller
from tests.conftest import SCHEMA_VERSIONS, synth, validate_strictly

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "options",
    [
        {"images": ["nginx:1.25"]},
        {"images": ["busybox", "quay.io/a/b@sha256:" + "0" * 64], "node_selector": {}, "max_unavailable": 3},
        {
            "images": ["nginx:1.25"],
            "tolerations": [{"operator": "Exists"}],
            "affinity": {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"a": "b"}}}
                    ]
                }
            },
            "priority_class_name": "high",
            "image_pull_secrets": ["a", "b"],
            "resources": {"requests": {"ephemeral-storage": "1Mi"}, "limits": {"cpu": "1", "memory": None}},
        },
    ],
)
def test_manifests_validate_strictly(options: dict[str, object]) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "prepuller", namespace="ns")
    ImagePrepuller(chart, "prepull", **options)  # type: ignore[arg-type]
    validate_strictly(synth(chart))


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
