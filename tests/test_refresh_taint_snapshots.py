"""Whole-manifest snapshot of a prepuller with refresh_schedule and startup_taint.

Update deliberately with ``pytest tests/test_refresh_taint_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import cdk8s
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

from prepuller import ImagePrepuller
from tests.conftest import synth


def test_refresh_and_startup_taint(snapshot: SnapshotAssertion) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "prepuller", namespace="prepuller")
    ImagePrepuller(
        chart,
        "prepull",
        images=["quay.io/jupyter/scipy-notebook:latest", "nginx:1.25"],
        refresh_schedule="30 3 * * *",
        startup_taint="prepuller.example.com/not-ready",
    )
    assert synth(chart) == snapshot(extension_class=AmberSnapshotExtension)
