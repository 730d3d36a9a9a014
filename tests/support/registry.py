"""A real registry on loopback for the lock tests: Debian's ``docker-registry`` (the
distribution registry), started on a free port with its own storage, TLS, htpasswd or token
auth as asked; images pushed through its HTTP API; a token server of our own.

Everything listens on 127.0.0.1 only, on ports chosen at run time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import httpx

REGISTRY_BINARY = "docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def available() -> bool:
    """Whether the registry binary and openssl are installed."""
    return shutil.which(REGISTRY_BINARY) is not None and shutil.which("openssl") is not None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- certificates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """A test CA, a server certificate for 127.0.0.1 it signed, and an RSA token-signing pair."""

    ca: Path
    server_cert: Path
    server_key: Path
    token_cert: Path
    token_key: Path


def make_certificates(folder: Path) -> Certificates:
    """Create the CA, the server certificate and the token key with the openssl command."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=prepuller test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "server.ext")  # fmt: skip
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.crt",
            "-days", "2", "-subj", "/CN=prepuller test token issuer")  # fmt: skip
    return Certificates(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        token_cert=folder / "token.crt",
        token_key=folder / "token.key",
    )


# --- the registry --------------------------------------------------------------------------


class Registry:
    """One ``docker-registry serve`` process on 127.0.0.1.

    Args:
        storage: the storage folder (several registries may share one, one after the other).
        workdir: where its config file goes.
        tls: serve HTTPS with these certificates. Default: plain HTTP.
        htpasswd: basic auth with these users (name to password). Default: none.
        token: token auth: (realm URL, certificate that signs the tokens). Default: none.
    """

    SERVICE = "prepuller-test-registry"
    ISSUER = "prepuller-test-issuer"

    def __init__(
        self,
        storage: Path,
        workdir: Path,
        *,
        tls: Certificates | None = None,
        htpasswd: dict[str, str] | None = None,
        token: tuple[str, Path] | None = None,
    ) -> None:
        self.storage = storage
        self.workdir = workdir
        self.tls = tls
        self.htpasswd = htpasswd
        self.token = token
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the domain of image references on this registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def start(self) -> Registry:
        """Start on a free port; wait until it answers."""
        for _ in range(5):
            self.port = free_port()
            config = self.workdir / f"registry-{self.port}.yml"
            config.write_text(json.dumps(self._config()))  # JSON is YAML
            # REGISTRY_* variables override the config file (podman's REGISTRY_AUTH_FILE would
            # become auth.file): the registry gets none of them.
            environment = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
            with (self.workdir / f"registry-{self.port}.log").open("wb") as log:  # the child keeps its own copy
                self._process = subprocess.Popen(
                    [REGISTRY_BINARY, "serve", str(config)], stdout=log, stderr=log, env=environment
                )
            try:
                ready = self._wait_ready()
            except BaseException:  # never leave a registry behind
                self.stop()
                raise
            if ready:
                return self
            self.stop()
        raise RuntimeError(f"docker-registry did not start; see {self.workdir}/registry-*.log")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 30  # generous: the machine may be busy
        verify: Any = ssl.create_default_context(cafile=str(self.tls.ca)) if self.tls else False
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                return False
            try:
                httpx.get(f"{self.url}/v2/", verify=verify, timeout=1)
                return True
            except httpx.HTTPError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop the process (and wait for it)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "prepuller-test"},
        }
        if self.tls is not None:
            config["http"]["tls"] = {"certificate": str(self.tls.server_cert), "key": str(self.tls.server_key)}
        if self.htpasswd is not None:
            path = self.workdir / "htpasswd"
            path.write_text(
                "".join(
                    f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
                    for user, password in self.htpasswd.items()
                )
            )
            config["auth"] = {"htpasswd": {"realm": "prepuller-test", "path": str(path)}}
        if self.token is not None:
            realm, certificate = self.token
            config["auth"] = {
                "token": {
                    "realm": realm,
                    "service": self.SERVICE,
                    "issuer": self.ISSUER,
                    "rootcertbundle": str(certificate),
                }
            }
        return config


# --- pushing images ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    """An image manifest pushed: its digest, its size (config + layers) and its platform."""

    digest: str
    size: int
    platform: str
    manifest_size: int
    media_type: str
    config_digest: str


class Pusher:
    """Push blobs and manifests to a registry through its HTTP API (anonymous access)."""

    def __init__(self, url: str, *, verify: Any = False) -> None:
        self._http = httpx.Client(base_url=url, verify=verify, timeout=30)

    def close(self) -> None:
        self._http.close()

    def blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        start = self._http.post(f"/v2/{repository}/blobs/uploads/")
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        separator = "&" if "?" in location else "?"
        done = self._http.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        return digest

    def manifest(self, repository: str, reference: str, document: dict[str, Any], media_type: str) -> str:
        body = json.dumps(document, sort_keys=True).encode()
        response = self._http.put(
            f"/v2/{repository}/manifests/{reference}", content=body, headers={"Content-Type": media_type}
        )
        assert response.status_code == 201, response.text
        digest = digest_of(body)
        assert response.headers["Docker-Content-Digest"] == digest
        return digest

    def image(
        self,
        repository: str,
        tag: str | None,
        *,
        platform: str = "linux/amd64",
        layers: Sequence[bytes] = (b"layer",),
        docker: bool = False,
    ) -> Pushed:
        """A single-platform image (OCI, or Docker v2 with ``docker=True``); tagged unless ``tag`` is None."""
        os_name, architecture, *variant = platform.split("/")
        config = {
            "architecture": architecture,
            "os": os_name,
            **({"variant": variant[0]} if variant else {}),
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer) for layer in layers]},
            "config": {},
            "created": uuid.uuid4().hex,  # a fresh config, so a re-push gives a new digest
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        descriptors = [
            {
                "mediaType": DOCKER_LAYER if docker else OCI_LAYER,
                "digest": self.blob(repository, layer),
                "size": len(layer),
            }
            for layer in layers
        ]
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        config_digest = self.blob(repository, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": descriptors,
        }
        body = json.dumps(manifest, sort_keys=True).encode()
        digest = self.manifest(repository, tag or digest_of(body), manifest, media_type)
        size = len(config_bytes) + sum(len(layer) for layer in layers)
        return Pushed(
            digest=digest,
            size=size,
            platform=platform,
            manifest_size=len(body),
            media_type=media_type,
            config_digest=config_digest,
        )

    def index(self, repository: str, tag: str, images: Sequence[Pushed], *, attestation: bool = True) -> str:
        """An OCI index of ``images`` (pushed by digest first), plus an ``unknown/unknown``
        attestation entry as buildkit writes, which locking must skip."""
        entries = []
        for image in images:
            os_name, architecture, *variant = image.platform.split("/")
            platform = {"os": os_name, "architecture": architecture, **({"variant": variant[0]} if variant else {})}
            entries.append(
                {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": image.manifest_size,
                    "platform": platform,
                }
            )
        if attestation:
            extra = self.image(repository, None, platform="linux/amd64", layers=[b"attestation"])
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": extra.digest,
                    "size": extra.manifest_size,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                }
            )
        return self.manifest(
            repository, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX
        )


# --- a token server --------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """The distribution token flow's token server, on 127.0.0.1: checks basic auth against
    ``users`` and grants ``pull`` on the repositories asked for (all of them, or those of
    ``allowed`` for a user). Tokens are RS256 JWTs whose ``x5c`` is the signing certificate,
    which the registry trusts as its ``rootcertbundle``.

    Attributes:
        requests: the query strings received (scopes asked for), for assertions.
    """

    def __init__(self, certificates: Certificates, users: dict[str, str], allowed: dict[str, list[str]] | None = None):
        self._certificates = certificates
        self._users = users
        self._allowed = allowed or {}
        self.requests: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        pem = certificates.token_cert.read_text()
        body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
        self._x5c = [body]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        with self._lock:
            self.requests.append(query)
        user = self._authenticate(handler.headers.get("Authorization", ""))
        if user is None:
            handler.send_response(401)
            handler.send_header("Content-Type", "application/json")
            handler.end_headers()
            handler.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository":
                continue
            allowed = self._allowed.get(user)
            if allowed is not None and name not in allowed:
                continue
            access.append({"type": "repository", "name": name, "actions": ["pull"] if "pull" in actions else []})
        token = self._token(user, query.get("service", [""])[0], access)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _authenticate(self, header: str) -> str | None:
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user if self._users.get(user) == password else None

    def _token(self, user: str, service: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self._x5c}
        claims = {
            "iss": Registry.ISSUER,
            "sub": user,
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self._certificates.token_key)],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"


def running(registry: Registry) -> Iterator[Registry]:
    """Start ``registry``, yield it, stop it (for fixtures)."""
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()
