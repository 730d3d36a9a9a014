"""``prepuller status --lock FILE``: how many bytes each node downloads, per image and in all.

A node's platform is read from the node list (``status.nodeInfo.operatingSystem`` and
``architecture``, else the ``kubernetes.io/os`` and ``kubernetes.io/arch`` labels). An image's
bytes on that node are the lock's ``size`` for that platform (``config`` plus compressed
layers); when the node's platform is unknown (nodes not listed), the heaviest locked platform
counts, as for byte-balanced groups. An image the lock does not know, or not for the node's
platform, counts as unknown and is named; the total then says "at least".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import PrepullerError
from ._lockfile import Lock, LockedImage
from ._references import parse_reference
from ._status import Report

__all__ = ["NodeBytes", "bytes_json", "human", "node_bytes", "node_platforms", "render_bytes_table"]


@dataclass(frozen=True)
class NodeBytes:
    """One node's downloads.

    Attributes:
        node: the node's name.
        platform: ``os/arch``, or ``None`` when unknown.
        images: (image as in the pod spec, bytes or ``None`` when unknown, why unknown).
    """

    node: str
    platform: str | None
    images: tuple[tuple[str, int | None, str | None], ...]

    @property
    def total(self) -> int:
        """The known bytes, summed."""
        return sum(size for _, size, _ in self.images if size is not None)

    @property
    def complete(self) -> bool:
        return all(size is not None for _, size, _ in self.images)


def node_platforms(nodes: object) -> dict[str, str]:
    """Node name to ``os/arch`` from a ``kubectl get nodes -o json`` document (malformed
    entries are skipped: the status report has already refused a malformed document)."""
    platforms: dict[str, str] = {}
    items = nodes.get("items") if isinstance(nodes, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        metadata = _mapping(item.get("metadata"))
        info = _mapping(_mapping(item.get("status")).get("nodeInfo"))
        labels = _mapping(metadata.get("labels"))
        os_name = info.get("operatingSystem") or labels.get("kubernetes.io/os")
        architecture = info.get("architecture") or labels.get("kubernetes.io/arch")
        name = metadata.get("name")
        if isinstance(name, str) and isinstance(os_name, str) and isinstance(architecture, str):
            platforms[name] = f"{os_name}/{architecture}"
    return platforms


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _entry(lock: Lock, image: str) -> LockedImage | None:
    written, at, digest = image.rpartition("@")
    if at and written in lock.images and lock.images[written].digest == digest:
        return lock.images[written]  # <reference as written>@<digest>, as the construct renders it
    try:
        return lock.find(parse_reference(image, "image"))
    except PrepullerError:
        return None


def node_bytes(report: Report, lock: Lock, platforms: Mapping[str, str]) -> list[NodeBytes]:
    """Each node's images and their bytes, in the report's order."""
    result = []
    for node in report.nodes:
        platform = platforms.get(node.name)
        images: list[tuple[str, int | None, str | None]] = []
        for status in node.images:
            entry = _entry(lock, status.image)
            if entry is None:
                images.append((status.image, None, "not in the lock"))
            elif platform is None:
                images.append((status.image, entry.size, None))
            else:
                size = entry.size_for(platform)
                images.append((status.image, size, None if size is not None else f"no {platform} image in the lock"))
        result.append(NodeBytes(node.name, platform, tuple(images)))
    return result


def human(size: int) -> str:
    """``71.0 MB``: decimal units, as registries and ``docker images`` show sizes."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def render_bytes_table(rows: list[NodeBytes], lock_name: str) -> str:
    """NODE, PLATFORM, IMAGE, BYTES, then a total line per node."""
    table: list[tuple[str, str, str, str]] = [("NODE", "PLATFORM", "IMAGE", "BYTES")]
    for row in rows:
        platform = row.platform or "unknown (heaviest locked)"
        for index, (image, size, why) in enumerate(row.images):
            first = index == 0
            table.append(
                (
                    row.node if first else "",
                    platform if first else "",
                    image,
                    human(size) if size is not None else f"? ({why})",
                )
            )
        if not row.images:  # no pod there: nothing to count yet
            table.append((row.node, platform, "-", "-"))
            continue
        total = ("" if row.complete else "at least ") + human(row.total)
        table.append(("", "", "total", f"{total} ({row.total} bytes)"))
    widths = [max(len(line[column]) for line in table) for column in range(3)]
    lines = ["   ".join([*(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True)), line[3]]).rstrip()
             for line in table]  # fmt: skip
    return f"bytes to download per node (lock {lock_name}):\n" + "\n".join(lines) + "\n"


def bytes_json(rows: list[NodeBytes]) -> dict[str, Any]:
    """The ``bytes`` key of ``--output json`` with ``--lock``."""
    return {
        row.node: {
            "platform": row.platform,
            "totalBytes": row.total,
            "complete": row.complete,
            "images": [{"image": image, "bytes": size, "unknown": why} for image, size, why in row.images],
        }
        for row in rows
    }
