"""Resolve image references to digests and sizes through the OCI distribution API.

For each registry host, once: ``GET /v2/`` tells how to authenticate (the distribution spec's
"API version check"):

- ``200``: anonymous;
- ``401`` with ``Basic``: the Docker config's credentials for the host, sent with every request
  (checked once more on ``/v2/`` so that a wrong password fails here, naming the host);
- ``401`` with ``Bearer realm=…,service=…``: the token flow (distribution's token spec). One
  token is asked for *all* of the host's repositories at once (a ``scope`` parameter per
  repository, at most :data:`SCOPES_PER_TOKEN` per request), with the host's credentials if the
  config has any. A request refused with that token asks for a token of its own scope once.

Then for each image, concurrently (a thread pool of ``jobs`` threads sharing one
connection pool): ``GET /v2/<repository>/manifests/<tag or digest>``, accepting OCI and Docker
indexes and manifests. Its digest is the SHA-256 of the bytes served (checked against
``Docker-Content-Digest`` and, for a digest reference, against the reference). An index gives
the platforms; each kept platform's manifest is fetched for its size. A single manifest's
platform is read from its config blob. So a single-platform image costs two requests once a
token is held; an index with P platforms costs 1 + P.

HTTPS by default (the system's CA store, plus ``ca_file``); plain HTTP only for hosts given as
insecure, as docker's ``insecure-registries``.

Why not a registry client library: oras-py (the maintained Python OCI client) is built on
``requests`` and returns a manifest as parsed JSON, not the bytes served, so the digest cannot
be checked; it also asks one token per repository. docker-py needs a Docker daemon. So the
protocol (a few requests) is written here, over httpx: pooled keep-alive connections shared
by threads, TLS with a CA file, timeouts.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._docker_config import Credentials, DockerAuths
from ._lockfile import LockedImage, PlatformImage
from ._references import ImageReference

__all__ = ["Failure", "RegistryClient", "ResolveError", "registry_url"]

#: How many repositories one token request may name (keeps the URL well under 8 KiB).
SCOPES_PER_TOKEN = 40

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_INDEXES = (OCI_INDEX, DOCKER_LIST)
_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
_ACCEPT = ", ".join((*_INDEXES, *_MANIFESTS))

_DOCKER_HUB_API = "registry-1.docker.io"
_CHALLENGE_PARAMETER = re.compile(r'(\w+)="([^"]*)"')
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
#: The largest manifest or image config read, as containerd's limit: a registry sending more is refused.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
#: Seconds to wait for a connection or a response.
DEFAULT_TIMEOUT = 30.0


class ResolveError(Exception):
    """One image (or a whole registry) could not be resolved; the message is one line."""


@dataclass(frozen=True)
class Failure:
    """An image that could not be resolved, and why (one line)."""

    reference: ImageReference
    reason: str


def registry_url(host: str, insecure: Collection[str]) -> str:
    """The base URL of registry ``host``: ``https://`` unless ``host`` is insecure; Docker
    Hub's API lives at ``registry-1.docker.io``."""
    scheme = "http" if host in insecure else "https"
    return f"{scheme}://{_DOCKER_HUB_API if host == 'docker.io' else host}"


@dataclass
class _Host:
    """What was learnt about one registry host."""

    url: str
    credentials: Credentials | None
    headers: dict[str, str] = field(default_factory=dict)  # Authorization, once known
    realm: str | None = None
    service: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # repository -> token
    failure: str | None = None


class RegistryClient:
    """Resolve many references against their registries.

    Args:
        auths: credentials by host (see :mod:`prepuller._docker_config`).
        insecure: hosts (``host`` or ``host:port``) spoken to over plain HTTP.
        platforms: keep only these platforms (``os/arch[/variant]``); empty: all.
        ca_file: a PEM file of extra CAs to trust besides the system's. Default: none.
        jobs: how many images are resolved at once. Default: 8.
        timeout: seconds for a connection or a response. Default: :data:`DEFAULT_TIMEOUT`.
        on_request: called with every request sent (the benchmark counts them). Default: none.
    """

    def __init__(
        self,
        *,
        auths: DockerAuths | None = None,
        insecure: Collection[str] = (),
        platforms: Sequence[str] = (),
        ca_file: str | None = None,
        jobs: int = 8,
        timeout: float = DEFAULT_TIMEOUT,
        on_request: Callable[[httpx.Request], None] | None = None,
    ) -> None:
        self._auths = auths or DockerAuths(entries={})
        self._insecure = set(insecure)
        self._platforms = list(platforms)
        self._jobs = jobs
        context = ssl.create_default_context()
        if ca_file is not None:
            context.load_verify_locations(cafile=ca_file)
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [on_request]} if on_request is not None else {}
        self._http = httpx.Client(
            verify=context,
            timeout=timeout,
            follow_redirects=True,
            limits=httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs),
            headers={"User-Agent": "prepuller-lock"},
            event_hooks=hooks,
        )
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def resolve_all(self, references: Sequence[ImageReference]) -> tuple[dict[str, LockedImage], list[Failure]]:
        """Resolve every reference.

        Returns:
            The resolved images by reference text, and the failures in the order of ``references``.
        """
        by_host: dict[str, list[ImageReference]] = {}
        for reference in references:
            by_host.setdefault(reference.domain, []).append(reference)
        with ThreadPoolExecutor(max_workers=self._jobs) as pool:
            list(pool.map(lambda item: self._prepare(item[0], item[1]), by_host.items()))
            outcomes = list(pool.map(self._resolve_or_fail, references))
        resolved: dict[str, LockedImage] = {}
        failures: list[Failure] = []
        for reference, outcome in zip(references, outcomes, strict=True):
            if isinstance(outcome, LockedImage):
                resolved[reference.text] = outcome
            else:
                failures.append(Failure(reference, outcome))
        return resolved, failures

    # --- one host -----------------------------------------------------------------------

    def _prepare(self, domain: str, references: Sequence[ImageReference]) -> None:
        host = _Host(url=registry_url(domain, self._insecure), credentials=self._auths.for_host(domain))
        with self._lock:
            self._hosts[domain] = host
        try:
            response = self._send(host, "GET", "/v2/", headers={})
            if response.status_code == 401:
                scheme, parameters = _challenge(response)
                if scheme == "basic":
                    self._use_basic(domain, host)
                elif scheme == "bearer":
                    host.realm, host.service = parameters.get("realm"), parameters.get("service")
                    if not host.realm:
                        raise ResolveError(f"{host.url} asks for a bearer token but names no token server (realm)")
                    repositories = sorted({reference.path for reference in references})
                    for start in range(0, len(repositories), SCOPES_PER_TOKEN):
                        chunk = repositories[start : start + SCOPES_PER_TOKEN]
                        token = self._token(host, [f"repository:{path}:pull" for path in chunk])
                        host.tokens.update(dict.fromkeys(chunk, token))
                else:
                    raise ResolveError(f"{host.url} asks for an authentication scheme not supported: {scheme!r}")
            elif response.status_code != 200:
                raise ResolveError(f"{host.url}/v2/ answered HTTP {response.status_code}: not a registry API")
        except ResolveError as error:
            host.failure = str(error)

    def _use_basic(self, domain: str, host: _Host) -> None:
        if host.credentials is None:
            raise ResolveError(f"{domain} needs credentials (basic auth) and the docker config has none for it")
        authorization = httpx.BasicAuth(host.credentials.username, host.credentials.password)
        request = next(authorization.auth_flow(httpx.Request("GET", host.url)))
        host.headers = {"Authorization": request.headers["Authorization"]}
        response = self._send(host, "GET", "/v2/", headers=host.headers)
        if response.status_code in (401, 403):
            raise ResolveError(
                f"{domain} refused the credentials of user {host.credentials.username!r} (HTTP {response.status_code})"
            )

    def _token(self, host: _Host, scopes: Sequence[str]) -> str:
        assert host.realm is not None
        params: list[tuple[str, str | int | float | bool | None]] = [("scope", scope) for scope in scopes]
        if host.service:
            params.insert(0, ("service", host.service))
        auth = (host.credentials.username, host.credentials.password) if host.credentials else None
        try:
            response = self._http.get(host.realm, params=params, auth=auth)
        except httpx.HTTPError as error:
            raise ResolveError(f"token server {host.realm}: {_transport_reason(error)}") from None
        if response.status_code in (401, 403):
            who = f"the credentials of user {host.credentials.username!r}" if host.credentials else "anonymous access"
            raise ResolveError(f"token server {host.realm} refused {who} (HTTP {response.status_code})")
        if response.status_code != 200:
            raise ResolveError(f"token server {host.realm} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ResolveError(f"token server {host.realm} answered something that is not JSON") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ResolveError(f"token server {host.realm} answered no token")
        return token

    def _send(self, host: _Host, method: str, path: str, headers: Mapping[str, str]) -> httpx.Response:
        try:
            return self._http.request(method, host.url + path, headers=headers)
        except httpx.HTTPError as error:
            raise ResolveError(f"{host.url}: {_transport_reason(error)}") from None

    # --- one image ----------------------------------------------------------------------

    def _resolve_or_fail(self, reference: ImageReference) -> LockedImage | str:
        try:
            return self._resolve(reference)
        except ResolveError as error:
            return str(error)

    def _resolve(self, reference: ImageReference) -> LockedImage:
        host = self._hosts[reference.domain]
        if host.failure is not None:
            raise ResolveError(host.failure)
        target = reference.digest or reference.tag or "latest"
        body, media_type, digest = self._manifest(host, reference, target)
        if reference.digest is not None and digest != reference.digest:
            raise ResolveError(f"the registry served content of digest {digest} for it")
        document = _json_object(body, "manifest")
        if media_type in _INDEXES:
            platforms = self._index_platforms(host, reference, document)
        elif media_type in _MANIFESTS:
            platform = self._config_platform(host, reference, document)
            self._check_wanted([platform])
            platforms = {platform: PlatformImage(digest=digest, size=_image_size(document))}
        else:
            raise ResolveError(f"the registry served a manifest of type {media_type!r}, not an OCI or Docker v2 one")
        return LockedImage(digest=digest, platforms=platforms)

    def _index_platforms(
        self, host: _Host, reference: ImageReference, index: Mapping[str, Any]
    ) -> dict[str, PlatformImage]:
        entries: dict[str, str] = {}
        for entry in index.get("manifests") or []:
            platform = entry.get("platform") if isinstance(entry, dict) else None
            if not isinstance(platform, dict) or not isinstance(entry.get("digest"), str):
                continue
            name = _platform_name(platform.get("os"), platform.get("architecture"), platform.get("variant"))
            if name is None or name == "unknown/unknown":  # attestation manifests (buildkit)
                continue
            entries.setdefault(name, entry["digest"])
        if not entries:
            raise ResolveError("the index lists no platform images")
        wanted = [name for name in sorted(entries) if self._is_wanted(name)]
        self._check_wanted(sorted(entries))
        platforms: dict[str, PlatformImage] = {}
        for name in wanted:
            body, media_type, digest = self._manifest(host, reference, entries[name])
            if digest != entries[name]:
                raise ResolveError(f"the {name} manifest served has digest {digest}, not {entries[name]}")
            if media_type not in _MANIFESTS:
                raise ResolveError(f"the {name} entry of the index is of type {media_type!r}, not an image manifest")
            platforms[name] = PlatformImage(digest=digest, size=_image_size(_json_object(body, f"{name} manifest")))
        return platforms

    def _config_platform(self, host: _Host, reference: ImageReference, manifest: Mapping[str, Any]) -> str:
        config = manifest.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise ResolveError("the manifest has no config descriptor")
        response = self._get(host, reference, f"/v2/{reference.path}/blobs/{config['digest']}", accept="*/*")
        if response.status_code != 200:
            raise ResolveError(
                f"the config blob {config['digest']}: HTTP {response.status_code}{_error_codes(response)}"
            )
        body = _bounded(response, "image config")
        _check_digest(body, config["digest"], "config blob")
        document = _json_object(body, "image config")
        name = _platform_name(document.get("os"), document.get("architecture"), document.get("variant"))
        if name is None:
            raise ResolveError("the image config names no os and architecture")
        return name

    def _is_wanted(self, name: str) -> bool:
        if not self._platforms:
            return True
        base = "/".join(name.split("/")[:2])
        return any(wanted in (name, base) for wanted in self._platforms)

    def _check_wanted(self, available: Sequence[str]) -> None:
        missing = [wanted for wanted in self._platforms if not any(_matches(wanted, name) for name in available)]
        if missing:
            raise ResolveError(f"no {', '.join(missing)} image (it has {', '.join(available)})")

    def _manifest(self, host: _Host, reference: ImageReference, target: str) -> tuple[bytes, str, str]:
        response = self._get(host, reference, f"/v2/{reference.path}/manifests/{target}", accept=_ACCEPT)
        if response.status_code == 404:
            raise ResolveError(self._not_found(host, reference, target, response))
        if response.status_code in (401, 403):
            raise ResolveError(f"access denied (HTTP {response.status_code}){_error_codes(response)}")
        if response.status_code != 200:
            raise ResolveError(f"the registry answered HTTP {response.status_code}{_error_codes(response)}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        body = _bounded(response, "manifest")
        if not media_type:
            media_type = str(_json_object(body, "manifest").get("mediaType", ""))
        algorithm = target.split(":", 1)[0] if ":" in target and target.split(":", 1)[0] in _HASHES else "sha256"
        digest = f"{algorithm}:{_HASHES[algorithm](body).hexdigest()}"
        served = response.headers.get("Docker-Content-Digest")
        if served and served.split(":", 1)[0] == algorithm and served != digest:
            raise ResolveError(f"the registry says the manifest is {served}, but its bytes hash to {digest}")
        return body, media_type, digest

    def _not_found(self, host: _Host, reference: ImageReference, target: str, response: httpx.Response) -> str:
        codes = _codes(response)
        if "NAME_UNKNOWN" in codes:
            return f"repository {reference.domain}/{reference.path} not found"
        if reference.digest is None:
            # Registries answer MANIFEST_UNKNOWN for an unknown repository too: ask its tag list.
            tags = self._get(host, reference, f"/v2/{reference.path}/tags/list?n=1", accept="application/json")
            if tags.status_code == 404:
                return f"repository {reference.domain}/{reference.path} not found"
            return f"tag {target!r} not found in {reference.domain}/{reference.path}"
        return f"manifest {target} not found in {reference.domain}/{reference.path}"

    def _get(self, host: _Host, reference: ImageReference, path: str, *, accept: str) -> httpx.Response:
        headers = {"Accept": accept, **host.headers}
        token = host.tokens.get(reference.path)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self._send(host, "GET", path, headers)
        if response.status_code == 401 and host.realm is not None:
            # The shared token did not cover this repository (or expired): one of its own.
            scheme, parameters = _challenge(response)
            scope = parameters.get("scope") or f"repository:{reference.path}:pull"
            if scheme == "bearer":
                token = self._token(host, [scope])
                with self._lock:
                    host.tokens[reference.path] = token
                headers["Authorization"] = f"Bearer {token}"
                response = self._send(host, "GET", path, headers)
        return response


def _matches(wanted: str, name: str) -> bool:
    return wanted in (name, "/".join(name.split("/")[:2]))


def _platform_name(os_name: object, architecture: object, variant: object) -> str | None:
    if not isinstance(os_name, str) or not isinstance(architecture, str) or not os_name or not architecture:
        return None
    parts = [os_name, architecture] + ([variant] if isinstance(variant, str) and variant else [])
    return "/".join(part.lower() for part in parts)


def _image_size(manifest: Mapping[str, Any]) -> int:
    """Config plus compressed layers, in bytes: what a node downloads for the image."""
    descriptors = [manifest.get("config"), *(manifest.get("layers") or [])]
    total = 0
    for descriptor in descriptors:
        size = descriptor.get("size") if isinstance(descriptor, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ResolveError("the manifest has a descriptor without a valid size")
        total += size
    return total


def _bounded(response: httpx.Response, what: str) -> bytes:
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise ResolveError(f"the {what} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return response.content


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise ResolveError(f"the {what} is not JSON") from None
    if not isinstance(document, dict):
        raise ResolveError(f"the {what} is not a JSON object")
    return document


def _check_digest(body: bytes, digest: str, what: str) -> None:
    algorithm = digest.split(":", 1)[0]
    hasher = _HASHES.get(algorithm)
    if hasher is not None and f"{algorithm}:{hasher(body).hexdigest()}" != digest:
        raise ResolveError(f"the {what} served does not hash to {digest}")


def _challenge(response: httpx.Response) -> tuple[str, dict[str, str]]:
    header = response.headers.get("WWW-Authenticate", "")
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAMETER.findall(rest))


def _codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [str(error.get("code")) for error in errors or [] if isinstance(error, dict)]


def _error_codes(response: httpx.Response) -> str:
    codes = _codes(response)
    return f" ({', '.join(codes)})" if codes else ""


def _transport_reason(error: httpx.HTTPError) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text or "WRONG_VERSION_NUMBER" in text:
        return f"TLS error: {text}"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out: {text}"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect: {text}"
    return f"connection failed: {text}"
