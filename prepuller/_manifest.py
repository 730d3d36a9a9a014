"""An ``ApiObject`` whose body is produced by Python code at synth time.

Why not the typed bindings (``cdk8s_plus_27.k8s.KubeDaemonSet``) or the cdk8s-plus L2
``DaemonSet``: the L2 lacks ``updateStrategy``, ``enableServiceLinks`` and seccomp fields
(each would be a JSON patch), and the L1 classes check their arguments' types at runtime,
so a ``Lazy`` spec — needed for ``add_images`` after construction and for images
discovered in constructs added later — cannot be passed from Python. Overriding
``to_json`` is cdk8s's own extension point: the body crosses from Python to the cdk8s
runtime once, as plain JSON, which also keeps synth time at the bare-``ApiObject`` floor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import cdk8s
from constructs import Construct

__all__ = ["SynthesizedObject", "clean"]


class SynthesizedObject(cdk8s.ApiObject):
    """An API object whose fields besides ``metadata`` come from ``produce()`` at synth.

    JSON patches added with :meth:`add_json_patch` (cdk8s's escape hatch) apply to the
    whole object, body included, exactly as on any other ``ApiObject``. ``annotate``, when
    given, receives the finished object (before those patches) and returns annotations to add
    to its metadata: for what depends on the final body, such as checkov skips.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_version: str,
        kind: str,
        metadata: cdk8s.ApiObjectMetadata,
        produce: Callable[[], dict[str, Any]],
        annotate: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(scope, id, api_version=api_version, kind=kind, metadata=metadata)
        self._produce = produce
        self._annotate = annotate
        self._patches: list[cdk8s.JsonPatch] = []

    def add_json_patch(self, *ops: cdk8s.JsonPatch) -> None:
        """Apply RFC-6902 JSON-Patch operations to the synthesized object (body included)."""
        self._patches.extend(ops)

    def to_json(self) -> Any:
        head = super().to_json()  # apiVersion, kind, metadata with the chart's namespace and labels
        document = {**head, **clean(self._produce())}
        if self._annotate is not None:
            _add_annotations(document, self._annotate(document))
        if self._patches:
            return cdk8s.JsonPatch.apply(document, *self._patches)
        return document


def _add_annotations(document: dict[str, Any], extra: Mapping[str, str]) -> None:
    """Merge annotations computed from the finished object (e.g. checkov skips) into its metadata."""
    if extra:
        metadata = document.setdefault("metadata", {})
        merged = {**(metadata.get("annotations") or {}), **extra}
        metadata["annotations"] = {key: merged[key] for key in sorted(merged)}


def clean(value: Any) -> Any:
    """Sort mapping keys and drop ``None`` values, recursively, as cdk8s does for its own
    objects, so that the output is byte-identical for the same input.

    The C-accelerated ``json`` module sorts and copies in one pass, several times faster
    than a Python walk over a manifest with hundreds of containers; the walk runs only
    when there is a ``None`` to drop."""
    text = json.dumps(value, sort_keys=True)
    return json.loads(text) if "null" not in text else _drop_none(json.loads(text))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in value]
    return value
