"""Container names derived from image references.

Container names are DNS-1123 labels (at most 63 characters of ``[a-z0-9-]``, starting and
ending with an alphanumeric) and must be unique within a pod; image references are neither.
Names are readable (``pull-nginx-1-25`` for ``nginx:1.25``) and deterministic. Where two
images would get the same name, or a name had to be cut, a short hash of the whole
reference is appended, so a name never depends on the order of the list.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ._references import ImageReference

__all__ = ["DNS_LABEL_MAX", "container_names"]

DNS_LABEL_MAX = 63
_HASH_LENGTH = 6
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def container_names(references: Sequence[ImageReference], prefix: str, reserved: Iterable[str] = ()) -> list[str]:
    """One unique container name per reference, in the same order.

    Args:
        references: the images, already de-duplicated.
        prefix: put in front of every name, e.g. ``pull-``.
        reserved: names already used in the pod (the helper and pause containers);
            an image whose name would clash gets the hashed form instead.
    """
    bases = [_readable(reference, prefix) for reference in references]
    counts = Counter(bases)
    taken = set(reserved)
    names = []
    for reference, base in zip(references, bases, strict=True):
        name = base
        if counts[base] > 1 or name in taken or len(name) > DNS_LABEL_MAX:
            name = _hashed(base, reference, _HASH_LENGTH)
        length = _HASH_LENGTH
        while name in taken:  # a hash prefix collision: astronomically rare, still handled
            length += 2
            name = _hashed(base, reference, length)
        taken.add(name)
        names.append(name)
    return names


def _readable(reference: ImageReference, prefix: str) -> str:
    parts = [reference.short_name]
    if reference.tag is not None:
        parts.append(reference.tag)
    if reference.digest is not None:
        parts.append(reference.digest.split(":", 1)[1][:8])
    slug = _NOT_ALLOWED.sub("-", "-".join(parts).lower()).strip("-")
    return f"{prefix}{slug}"


def _hashed(base: str, reference: ImageReference, length: int) -> str:
    digest = hashlib.sha256(reference.text.encode()).hexdigest()[:length]
    head = base[: DNS_LABEL_MAX - length - 1].rstrip("-")
    return f"{head}-{digest}"
