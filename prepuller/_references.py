"""Container image references: validation against the distribution reference grammar,
normalisation for de-duplication, and the pull policy Kubernetes would choose.

The grammar (github.com/distribution/reference, ``reference.go``)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain '/'] remote-name
    domain           := host [':' port-number]
    remote-name      := path-component ['/' path-component]*
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]*/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" hex

It is hand-written rather than taken from a library because no maintained Python package
implements exactly this grammar without also pulling in a registry client; the regular
expressions below are transcribed from the Go source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import PrepullerError

__all__ = ["ImageReference", "parse_reference", "unique_references"]

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
# Go's \w is ASCII-only; Python's matches any script's letters and digits, so spell it out.
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_REFERENCE = re.compile(
    rf"^(?P<name>(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*))"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_PATH_ONLY = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_NAME_MAX = 255
# Digest algorithms the distribution project registers, with their exact hex lengths.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class ImageReference:
    """One image reference, exactly as written, with its parsed parts.

    Attributes:
        text: the reference as the user wrote it; this is what lands in the pod spec.
        domain: the registry host (and port), normalised (``docker.io`` when omitted).
        path: the repository path, normalised (``library/`` added for Docker Hub).
        tag: the tag, or ``None`` when the reference has none.
        digest: ``algorithm:hex``, or ``None``.
    """

    text: str
    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def identity(self) -> tuple[str, str, str]:
        """What decides whether two references name the same image.

        A digest pins the content, so ``name:tag@digest`` and ``name@digest`` are one
        image; without a digest the tag decides, ``latest`` when there is none.
        """
        repository = f"{self.domain}/{self.path}"
        if self.digest is not None:
            return (repository, "@", self.digest)
        return (repository, ":", self.tag or "latest")

    @property
    def short_name(self) -> str:
        """The last path component: ``static`` for ``gcr.io/distroless/static:nonroot``."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def default_pull_policy(self) -> str:
        """The policy Kubernetes itself defaults to for this reference.

        ``Always`` when the tag is ``latest`` or there is neither tag nor digest,
        otherwise ``IfNotPresent`` (``SetDefaults_Container`` in Kubernetes).
        """
        tag = self.tag if self.tag is not None else (None if self.digest else "latest")
        return "Always" if tag == "latest" else "IfNotPresent"


def parse_reference(value: object, option: str) -> ImageReference:
    """Parse and validate one image reference.

    Args:
        value: what the user passed; must be a ``str``.
        option: the option path used in error messages, e.g. ``images[3]``.

    Raises:
        PrepullerError: the value is not a string or not a valid reference.
    """
    if not isinstance(value, str):
        raise PrepullerError(option, "must be an image reference string", value)
    match = _REFERENCE.fullmatch(value)
    if match is None:
        raise PrepullerError(option, f"is not a valid image reference: {_explain(value)}", value)
    if len(match["name"]) > _NAME_MAX:
        raise PrepullerError(
            option, f"is not a valid image reference: the name is longer than {_NAME_MAX} characters", value
        )
    domain, path = match["domain"], match["path"]
    if domain is not None and not _looks_like_domain(domain):
        # `foo/bar`: the first component is part of the path on Docker Hub.
        path = f"{domain}/{path}"
        domain = None
        if not _PATH_ONLY.fullmatch(path):
            raise PrepullerError(option, f"is not a valid image reference: {_explain(value)}", value)
    digest = match["digest"]
    if digest is not None:
        digest = _check_digest(digest, value, option)
    if domain is None or domain in _DOCKER_HUB_ALIASES:
        domain = _DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    return ImageReference(text=value, domain=domain, path=path, tag=match["tag"], digest=digest)


def unique_references(references: list[ImageReference]) -> list[ImageReference]:
    """Drop references that name an image already listed; keep the first as written."""
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for reference in references:
        if reference.identity not in seen:
            seen.add(reference.identity)
            unique.append(reference)
    return unique


def _looks_like_domain(component: str) -> bool:
    # The rule docker and containerd use to tell a registry from a path component.
    return "." in component or ":" in component or component == "localhost" or component != component.lower()


def _check_digest(digest: str, value: str, option: str) -> str:
    algorithm, hex_part = digest.split(":", 1)
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise PrepullerError(
            option,
            f"is not a valid image reference: unsupported digest algorithm {algorithm!r} "
            f"(use one of {', '.join(sorted(_DIGEST_HEX_LENGTHS))})",
            value,
        )
    if len(hex_part) != expected:
        raise PrepullerError(
            option,
            f"is not a valid image reference: a {algorithm} digest has {expected} hex digits, not {len(hex_part)}",
            value,
        )
    if hex_part != hex_part.lower():
        raise PrepullerError(option, "is not a valid image reference: digest hex digits must be lowercase", value)
    return digest


def _explain(value: str) -> str:
    """Say which rule a reference breaks, for the error message."""
    if value == "":
        return "it is empty"
    if value != value.strip() or any(c.isspace() for c in value):
        return "it contains whitespace"
    if "://" in value:
        return "it must not have a URL scheme"
    name = value.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        if not re.fullmatch(_TAG, tag):
            return (
                "the tag must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-'"
            )
        name = name[: len(name) - len(tag) - 1]
    if "@" in value and not re.fullmatch(_DIGEST, value.split("@", 1)[1]):
        return "the digest must be 'algorithm:hex', e.g. 'sha256:' and 64 hex digits"
    path = name.split("/", 1)[1] if "/" in name and _looks_like_domain(name.split("/", 1)[0]) else name
    if path != path.lower():
        return "the repository path must be lowercase"
    return "the repository path must be lowercase letters and digits separated by '.', '_', '__', '-' or '/'"
