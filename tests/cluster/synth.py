"""The prepuller's manifests for a test: one ``ImagePrepuller`` in a chart of the test's namespace."""

from __future__ import annotations

from typing import Any

import cdk8s

from prepuller import ImagePrepuller


def manifests(namespace: str, *, id: str = "prepull", **options: Any) -> list[dict[str, Any]]:
    """Synthesize ``ImagePrepuller(chart, id, **options)`` in a chart of ``namespace``."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "chart", namespace=namespace)
    ImagePrepuller(chart, id, **options)
    return list(cdk8s.Testing.synth(chart))


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]
