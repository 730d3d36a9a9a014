"""Whole-manifest snapshots: the defaults and a fully customised prepuller.

Update deliberately with ``pytest tests/test_snapshots.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import cdk8s
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

from prepuller import ImagePrepuller
from tests.conftest import synth


def test_defaults(snapshot: SnapshotAssertion) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "prepuller")
    ImagePrepuller(chart, "prepull", images=["nginx:1.25", "gcr.io/distroless/static:nonroot"])
    assert synth(chart) == snapshot(extension_class=AmberSnapshotExtension)


def test_customised(snapshot: SnapshotAssertion) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "prepuller", namespace="apps", labels={"team": "platform"})
    ImagePrepuller(
        chart,
        "gpu-images",
        name="warm-gpu",
        namespace="prepuller",
        images=[
            "nvcr.io/nvidia/pytorch:24.10-py3",
            "quay.io/jupyter/pytorch-notebook@sha256:" + "ab" * 32,
            "localhost:5000/team/model-server",
        ],
        labels={"tier": "infra"},
        annotations={"owner": "platform@example.com"},
        node_selector={"nvidia.com/gpu.present": "true"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        affinity={
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "preference": {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]},
                    }
                ]
            }
        },
        priority_class_name="system-node-critical",
        image_pull_secrets=["nvcr-credentials"],
        image_pull_policy="IfNotPresent",
        resources={"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        pause_image="registry.example.com/mirror/pause:3.10",
        helper_image="registry.example.com/mirror/busybox:1.37.0-musl",
        max_unavailable="25%",
    )
    assert synth(chart) == snapshot(extension_class=AmberSnapshotExtension)
