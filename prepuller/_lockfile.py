"""The lock file: image references pinned to the digests a registry served for them.

Format (``prepuller/schema/lock.schema.json``, shipped in the package)::

    {"images": {"<reference as written>": {
        "digest": "sha256:…",                       # what the registry serves for the reference
        "platforms": {"linux/amd64": {"digest": "sha256:…", "size": 12345}, …}}}}

``prepuller lock`` writes it (:func:`dumps`, :func:`write_atomic`); ``ImagePrepuller(lock=…)``,
the ``lock`` values key and ``prepuller status --lock`` read it (:func:`read_lock`). The reader
refuses anything the writer would not write, with a :class:`PrepullerError` naming the file,
the key and the value: not UTF-8, not JSON, a schema violation, a key that is not an image
reference, a digest reference locked to another digest, two spellings of one image locked to
different digests.

Why the libraries: ``json`` (standard library) reads and writes; ``jsonschema`` (already a
runtime dependency for the values schema) checks the shipped schema, so the schema is the one
definition of the format.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from ._errors import PrepullerError
from ._references import ImageReference, parse_reference

__all__ = [
    "Lock",
    "LockedImage",
    "PlatformImage",
    "dumps",
    "lock_schema",
    "parse_lock",
    "pin",
    "read_lock",
    "write_atomic",
]


@dataclass(frozen=True)
class PlatformImage:
    """One platform's image of a locked reference.

    Attributes:
        digest: the image manifest's digest.
        size: bytes a node of this platform downloads (config plus compressed layers).
    """

    digest: str
    size: int


@dataclass(frozen=True)
class LockedImage:
    """What one reference resolved to.

    Attributes:
        digest: the digest the registry serves for the reference (an index's for a
            multi-platform image); the construct renders ``<reference>@<digest>``.
        platforms: ``os/arch[/variant]`` to that platform's image.
    """

    digest: str
    platforms: Mapping[str, PlatformImage]

    @property
    def size(self) -> int:
        """The largest download among the platforms: what a node of the heaviest platform
        pulls. Byte-balanced groups count this size (``prepuller._groups``)."""
        return max(platform.size for platform in self.platforms.values())

    def size_for(self, platform: str) -> int | None:
        """Bytes a node of ``platform`` (``linux/amd64``; ``linux/arm64/v8`` also matches an
        entry without the variant, and the reverse) downloads; ``None`` when not locked."""
        if platform in self.platforms:
            return self.platforms[platform].size
        base = "/".join(platform.split("/")[:2])
        for name, image in sorted(self.platforms.items()):
            if "/".join(name.split("/")[:2]) == base:
                return image.size
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "platforms": {
                name: {"digest": image.digest, "size": image.size} for name, image in sorted(self.platforms.items())
            },
        }


@dataclass(frozen=True)
class Lock:
    """A lock file's content.

    Attributes:
        images: reference as written to what it resolved to.
        where: the file it was read from, for error messages (``"<lock>"`` when built in memory).
    """

    images: Mapping[str, LockedImage]
    where: str = "<lock>"

    def find(self, reference: ImageReference) -> LockedImage | None:
        """The entry for ``reference``: the one written exactly as it is, else one naming the
        same image (``nginx`` and ``docker.io/library/nginx:latest``); ``None`` when missing."""
        entry = self.images.get(reference.text)
        if entry is not None:
            return entry
        return self._by_identity.get(reference.identity)

    @functools.cached_property
    def _by_identity(self) -> dict[tuple[str, str, str], LockedImage]:
        return {parse_reference(text, "lock").identity: entry for text, entry in sorted(self.images.items())}

    def to_json(self) -> dict[str, Any]:
        return {"images": {text: entry.to_json() for text, entry in sorted(self.images.items())}}


def pin(reference: ImageReference, lock: Lock, option: str = "lock") -> ImageReference:
    """``reference`` pinned to its locked digest: ``<reference as written>@<digest>`` (the tag
    stays for readers); a digest reference is returned as it is.

    Raises:
        PrepullerError: ``reference`` is not in the lock; names it and the lock file.
    """
    entry = lock.find(reference)
    if entry is None:
        raise PrepullerError(
            option, f"{lock.where} has no entry for image {reference.text!r}; run `prepuller lock` with it again"
        )
    if reference.digest is not None:
        return reference
    return ImageReference(
        text=f"{reference.text}@{entry.digest}",
        domain=reference.domain,
        path=reference.path,
        tag=reference.tag,
        digest=entry.digest,
    )


@functools.cache
def lock_schema() -> dict[str, Any]:
    """The JSON Schema of a lock file (``prepuller/schema/lock.schema.json``)."""
    text = resources.files("prepuller").joinpath("schema/lock.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def dumps(lock: Lock) -> str:
    """The lock as the file's text: keys sorted, two-space indent, UTF-8 as is, a final
    newline; the same lock always gives the same bytes."""
    return json.dumps(lock.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never a
    part: a temporary file in the same folder, flushed to disk, then renamed over ``path``."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_lock(path: str | os.PathLike[str]) -> Lock:
    """Read and check a lock file.

    Raises:
        PrepullerError: the file cannot be read, or its content is refused (see the module
            docstring); the message names the file and the key.
    """
    where = f"lock file {os.fspath(path)}"
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise PrepullerError(where, f"cannot be read: {error.strerror or error}") from None
    except ValueError as error:  # a NUL byte or a lone surrogate in the path
        raise PrepullerError(where, f"is not a usable path: {error}") from None
    return parse_lock(data, where)


def parse_lock(data: bytes, where: str = "lock file") -> Lock:
    """Check a lock file's bytes and return its content (what :func:`read_lock` does after reading).

    Args:
        data: the file's content.
        where: how messages name the file.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PrepullerError(where, f"is not UTF-8 text (byte {error.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as error:
        raise PrepullerError(where, f"has the key {error.args[0]!r} twice in one object") from None
    except json.JSONDecodeError as error:
        raise PrepullerError(where, f"is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise PrepullerError(where, "is not JSON this reader accepts: nested too deeply") from None
    validator = jsonschema.Draft202012Validator(lock_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(part) for part in e.absolute_path])
    if errors:
        first = errors[0]
        raise PrepullerError(f"{where}: {_key_path(list(first.absolute_path))}", _schema_reason(first), first.instance)
    images: dict[str, LockedImage] = {}
    seen: dict[tuple[str, str, str], tuple[str, str]] = {}
    for text_key, entry in document["images"].items():
        option = f"{where}: {_key_path(['images', text_key])}"
        reference = parse_reference(text_key, option)
        digest = entry["digest"]
        if reference.digest is not None and reference.digest != digest:
            raise PrepullerError(f"{option}.digest", f"must be the reference's own digest {reference.digest}", digest)
        earlier = seen.get(reference.identity)
        if earlier is not None and earlier[1] != digest:
            raise PrepullerError(
                f"{option}.digest", f"differs from that of {earlier[0]!r}, the same image ({earlier[1]})", digest
            )
        seen[reference.identity] = (text_key, digest)
        images[text_key] = LockedImage(
            digest=digest,
            platforms={
                name: PlatformImage(
                    digest=platform["digest"], size=int(platform["size"])
                )  # 5.0 is an integer to JSON Schema
                for name, platform in entry["platforms"].items()
            },
        )
    return Lock(images=images, where=where)


class _DuplicateKey(Exception):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` keeps the last of two equal keys silently; a lock file must not."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _schema_reason(error: jsonschema.ValidationError) -> str:
    expected: Any = error.validator_value
    if error.validator == "required":
        return f"is missing {error.message.split(' ')[0]}"
    if error.validator == "additionalProperties":
        return f"has a key this format does not know: {error.message}"
    if error.validator == "type":
        return f"must be of type {expected}"
    if error.validator == "pattern" and isinstance(error.instance, str) and expected.startswith("^(sha256"):
        return "must be a digest: sha256: and 64 lowercase hex digits (or sha384, sha512)"
    if error.validator == "propertyNames":
        return "platform names must be os/arch or os/arch/variant, in lowercase"
    if error.validator == "minimum":
        return "must be 0 or more"
    if error.validator == "minProperties":
        return "must name at least one platform"
    return error.message


def _key_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(top level)"
