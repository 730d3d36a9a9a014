"""Lock files with made-up digests, for construct and status tests that need no registry."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from prepuller._lockfile import Lock, LockedImage, PlatformImage, dumps


def fake_digest(text: str) -> str:
    """A well-formed digest derived from ``text``."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def fake_lock(references: Sequence[str], sizes: Mapping[str, Mapping[str, int]] | None = None) -> Lock:
    """A lock of ``references``: index digest ``fake_digest('index ' + ref)``; platforms from
    ``sizes[ref]`` (platform to bytes), else ``linux/amd64`` of 1000 bytes."""
    images = {}
    for reference in references:
        platforms = (sizes or {}).get(reference, {"linux/amd64": 1000})
        images[reference] = LockedImage(
            digest=fake_digest(f"index {reference}"),
            platforms={
                name: PlatformImage(fake_digest(f"{name} {reference}"), size) for name, size in platforms.items()
            },
        )
    return Lock(images=images)


def write_lock(path: Path, references: Sequence[str], sizes: Mapping[str, Mapping[str, int]] | None = None) -> Path:
    """Write :func:`fake_lock` to ``path``; return ``path``."""
    path.write_text(dumps(fake_lock(references, sizes)))
    return path
