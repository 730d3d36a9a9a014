"""Registry credentials from a Docker config file's ``auths``, read as docker, podman and the
kubelet read them.

Which file: ``--docker-config PATH``, else ``$REGISTRY_AUTH_FILE`` (podman, skopeo and buildah's
``auth.json``, same ``auths`` format), else ``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``; a missing default file means no credentials.

Which entry: each key of ``auths`` is reduced to a host (and port) as docker does
(``https://index.docker.io/v1/`` → ``docker.io``; scheme and path dropped; ``index.docker.io``
and ``registry-1.docker.io`` are Docker Hub); an exact match wins, else a kubelet-style
wildcard key (``*.example.com``: one ``*`` glob per dot-separated label, the same number of
labels, the same port). An entry's credentials are ``auth`` (base64 of ``user:password``) or
``username`` and ``password``. Credential helpers (``credsStore``, ``credHelpers``) and
``identitytoken`` are not run or used: the lock command never executes programs named by a
file.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._errors import PrepullerError

__all__ = ["Credentials", "DockerAuths", "default_config_path", "read_docker_config"]

_DOCKER_HUB_KEYS = {"docker.io", "index.docker.io", "registry-1.docker.io"}


@dataclass(frozen=True)
class Credentials:
    """A user name and password for basic auth or a token server."""

    username: str
    password: str

    def __repr__(self) -> str:  # never print a password
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class DockerAuths:
    """Credentials by registry host, with :meth:`for_host` doing the matching.

    Attributes:
        entries: normalised key (``host[:port]``, maybe with ``*`` globs) to credentials.
        source: the file they came from, for messages (``None``: no file).
    """

    entries: Mapping[str, Credentials]
    source: str | None = None

    def for_host(self, host: str) -> Credentials | None:
        """The credentials for registry ``host`` (``docker.io``, ``localhost:5000``), or ``None``."""
        exact = self.entries.get(host)
        if exact is not None:
            return exact
        name, _, port = host.partition(":")
        labels = name.split(".")
        for key, credentials in sorted(self.entries.items()):
            if "*" not in key:
                continue
            key_name, _, key_port = key.partition(":")
            key_labels = key_name.split(".")
            if (
                key_port == port
                and len(key_labels) == len(labels)
                and all(fnmatch.fnmatchcase(label, pattern) for label, pattern in zip(labels, key_labels, strict=True))
            ):
                return credentials
        return None


def default_config_path() -> Path:
    """``$REGISTRY_AUTH_FILE`` when set, else ``$DOCKER_CONFIG/config.json`` when ``DOCKER_CONFIG``
    is set, else ``~/.docker/config.json``."""
    auth_file = os.environ.get("REGISTRY_AUTH_FILE")
    if auth_file:
        return Path(auth_file)
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def normalise_key(key: str) -> str:
    """An ``auths`` key as the host it names: ``https://index.docker.io/v1/`` → ``docker.io``."""
    host = key.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in _DOCKER_HUB_KEYS else host


def read_docker_config(path: str | os.PathLike[str] | None) -> DockerAuths:
    """Read the ``auths`` of a Docker config file.

    Args:
        path: the file; ``None`` for the default (a missing default file gives no credentials,
            a missing named file is an error).

    Raises:
        PrepullerError: the file cannot be read, is not JSON, or an entry is malformed.
    """
    explicit = path is not None
    file = Path(path) if path is not None else default_config_path()
    where = f"docker config {file}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise PrepullerError(where, "does not exist") from None
        return DockerAuths(entries={}, source=None)
    except (OSError, UnicodeDecodeError) as error:
        raise PrepullerError(where, f"cannot be read: {getattr(error, 'strerror', None) or error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PrepullerError(where, f"is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    if not isinstance(document, dict):
        raise PrepullerError(where, "must be a JSON object")
    auths = document.get("auths") or {}
    if not isinstance(auths, dict):
        raise PrepullerError(f"{where}: auths", "must be an object of registry to credentials")
    entries: dict[str, Credentials] = {}
    for key, entry in auths.items():
        credentials = _credentials(entry, f"{where}: auths[{key!r}]")
        if credentials is not None:
            entries.setdefault(normalise_key(key), credentials)
    return DockerAuths(entries=entries, source=str(file))


def _credentials(entry: object, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        raise PrepullerError(where, "must be an object with 'auth' or 'username' and 'password'")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise PrepullerError(f"{where}.auth", "is not base64 of 'user:password'") from None
        user, colon, secret = decoded.partition(":")
        if not colon:
            raise PrepullerError(f"{where}.auth", "is not base64 of 'user:password' (no ':')")
        return Credentials(user, secret)
    username: object = entry.get("username")
    password: object = entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username, password)
    return None
