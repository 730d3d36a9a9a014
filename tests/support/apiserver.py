"""A stub Kubernetes API server on 127.0.0.1, for running the real ``kubectl`` against.

It serves what ``kubectl`` 1.33 asks for before it acts (``/version``, legacy discovery at
``/api``, ``/apis``, ``/api/v1`` and ``/apis/apps/v1``; it answers the aggregated-discovery
``Accept`` header with plain ``application/json``, which makes kubectl fall back to the
legacy documents, as it does against any server older than 1.26), then GET and PATCH of
DaemonSets and Nodes, with the three patch types the API server accepts:

- ``application/strategic-merge-patch+json`` and ``application/merge-patch+json``: applied
  as an RFC 7386 merge patch. For the fields kubectl patches here (annotations, and node
  taints, a list without a patch merge key, so replaced whole) the strategic merge is the
  same; a ``$patch``-style directive is refused with 400 so that a test notices.
- ``application/json-patch+json``: RFC 6902, with the ``jsonpatch`` library; a failing
  ``test`` op answers 422 as the API server does.

A ``metadata.resourceVersion`` in a merge patch is a precondition (409 if stale), as in the
real server. Every request is recorded (method, path, query, headers, body) for assertions,
and failures can be queued per method and path (``fail("PATCH", path, 409)``).

Why a hand-written server and not a library: what the tests check is exactly what kubectl
sends, so the server must be small enough to read in one sitting; ``http.server`` in a
thread is enough and keeps the tests free of network services.
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonpatch
import yaml

__all__ = ["Recorded", "StubApiServer", "running_api_server"]

TOKEN = "prepuller-test-token"
_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.9",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_CORE_RESOURCES = [
    {
        "name": "nodes",
        "singularName": "node",
        "namespaced": False,
        "kind": "Node",
        "verbs": _VERBS,
        "shortNames": ["no"],
    },
    {
        "name": "nodes/status",
        "singularName": "",
        "namespaced": False,
        "kind": "Node",
        "verbs": ["get", "patch", "update"],
    },
    {
        "name": "namespaces",
        "singularName": "namespace",
        "namespaced": False,
        "kind": "Namespace",
        "verbs": _VERBS,
        "shortNames": ["ns"],
    },
    {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": _VERBS,
        "shortNames": ["po"],
        "categories": ["all"],
    },
]
_APPS_RESOURCES = [
    {
        "name": "daemonsets",
        "singularName": "daemonset",
        "namespaced": True,
        "kind": "DaemonSet",
        "verbs": _VERBS,
        "shortNames": ["ds"],
        "categories": ["all"],
    },
    {
        "name": "daemonsets/status",
        "singularName": "",
        "namespaced": True,
        "kind": "DaemonSet",
        "verbs": ["get", "patch", "update"],
    },
    {
        "name": "deployments",
        "singularName": "deployment",
        "namespaced": True,
        "kind": "Deployment",
        "verbs": _VERBS,
        "shortNames": ["deploy"],
        "categories": ["all"],
    },
]
_DISCOVERY: dict[str, dict[str, Any]] = {
    "/version": _VERSION,
    "/api": {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    },
    "/apis": {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
            }
        ],
    },
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": _CORE_RESOURCES},
    "/apis/apps/v1": {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "apps/v1",
        "resources": _APPS_RESOURCES,
    },
}
_MERGE_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json")
_JSON_PATCH = "application/json-patch+json"
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    times: int
    message: str


@dataclass
class StubApiServer:
    """The objects it holds, the requests it saw, and the failures still to inject."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _resource_version: int = 1000
    url: str = ""
    #: PEM of the self-signed certificate when serving HTTPS, for the kubeconfig.
    certificate: bytes = b""
    #: Answer 401 to requests without ``Authorization: Bearer <TOKEN>``: only over HTTPS,
    #: because kubectl (client-go) never sends a bearer token over plain HTTP.
    require_token: bool = False

    # --- setting up ---------------------------------------------------------------------

    def add_daemon_set(self, name: str, namespace: str) -> str:
        """A minimal DaemonSet; returns its API path."""
        path = f"/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"
        self._put(
            path,
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": 1},
                "spec": {
                    "selector": {"matchLabels": {"name": name}},
                    "template": {
                        "metadata": {"labels": {"name": name}},
                        "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}]},
                    },
                },
            },
        )
        return path

    def add_node(self, name: str, taints: list[dict[str, Any]] | None = None) -> str:
        """A Node with ``taints`` (left out when none, as the API server does); returns its path."""
        path = f"/api/v1/nodes/{name}"
        spec: dict[str, Any] = {"podCIDR": "10.0.0.0/24"}
        if taints:
            spec["taints"] = copy.deepcopy(taints)
        self._put(
            path,
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "uid": f"uid-{name}", "labels": {"kubernetes.io/hostname": name}},
                "spec": spec,
            },
        )
        return path

    def fail(self, method: str, path: str, status: int, *, times: int = 1, message: str = "injected failure") -> None:
        """Answer the next ``times`` ``method`` requests to ``path`` with ``status``."""
        with self._lock:
            self._failures.append(_Failure(method, path, status, times, message))

    def get(self, path: str) -> dict[str, Any]:
        """The object stored at ``path`` now (a copy)."""
        with self._lock:
            return copy.deepcopy(self.objects[path])

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def unanswered(self) -> list[Recorded]:
        """Requests for paths the server does not know: each is a gap in this stub."""
        return [
            r
            for r in self.requests
            if r.path not in _DISCOVERY and r.path not in self.objects and not _is_collection(r.path)
        ]

    def write_kubeconfig(self, path: Path, *, namespace: str = "default", token: str = TOKEN) -> Path:
        """A kubeconfig for this server: its CA when on HTTPS, a bearer token, one context."""
        cluster: dict[str, str] = {"server": self.url}
        if self.certificate:
            cluster["certificate-authority-data"] = base64.b64encode(self.certificate).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stub", "cluster": cluster}],
            "users": [{"name": "stub", "user": {"token": token}}],
            "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub", "namespace": namespace}}],
            "current-context": "stub",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # --- serving ------------------------------------------------------------------------

    def _put(self, path: str, obj: dict[str, Any]) -> None:
        with self._lock:
            self._resource_version += 1
            obj["metadata"]["resourceVersion"] = str(self._resource_version)
            self.objects[path] = obj

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.method == method and failure.path == path and failure.times > 0:
                    failure.times -= 1
                    return failure
        return None

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if self.require_token and headers.get("authorization") != f"Bearer {TOKEN}":
            return _status(401, "Unauthorized")
        failure = self._take_failure(method, path)
        if failure is not None:
            return _status(failure.status, failure.message)
        if method == "GET" and path in _DISCOVERY:
            return 200, _DISCOVERY[path]
        if method == "GET" and path not in self.objects and _is_collection(path):
            return 200, self._list(path)
        if path not in self.objects:
            return _status(404, f"{path} not found")
        if method == "GET":
            return 200, self.get(path)
        if method == "PATCH":
            return self._patch(path, headers.get("content-type", ""), body)
        return _status(405, f"{method} is not served by the stub")

    def _list(self, collection: str) -> dict[str, Any]:
        """A ``<Kind>List`` of the objects directly under ``collection`` (no selectors)."""
        with self._lock:
            items = [
                copy.deepcopy(obj) for path, obj in sorted(self.objects.items()) if path.rsplit("/", 1)[0] == collection
            ]
            version = str(self._resource_version)
        kind = next(
            (r["kind"] for r in _CORE_RESOURCES + _APPS_RESOURCES if r["name"] == collection.rsplit("/", 1)[-1]), ""
        )
        api_version = "v1" if collection.startswith("/api/v1") else "apps/v1"
        return {
            "kind": f"{kind}List",
            "apiVersion": api_version,
            "metadata": {"resourceVersion": version},
            "items": items,
        }

    def _patch(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            patch = json.loads(body)
        except ValueError as error:
            return _status(400, f"invalid JSON in the patch: {error}")
        with self._lock:
            current = self.objects[path]
            if content_type in _MERGE_TYPES:
                if _has_directive(patch):
                    return _status(400, "the stub does not apply strategic-merge directives")
                wanted = patch.get("metadata", {}).get("resourceVersion")
                if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
                    return _status(
                        409,
                        "the object has been modified; please apply your changes to the latest version and try again",
                    )
                updated = _merge(copy.deepcopy(current), patch)
            elif content_type == _JSON_PATCH:
                try:
                    updated = jsonpatch.apply_patch(current, patch)
                except jsonpatch.JsonPatchTestFailed as error:
                    return _status(422, f"the server rejected our request due to an error in our request: {error}")
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
                    return _status(422, f"the server rejected our request due to an error in our request: {error}")
            else:
                return _status(415, f"the body of the request was in an unknown format: {content_type}")
            if updated.get("spec") != current.get("spec") and "generation" in current["metadata"]:
                updated["metadata"]["generation"] = current["metadata"]["generation"] + 1
            self._resource_version += 1
            updated["metadata"]["resourceVersion"] = str(self._resource_version)
            self.objects[path] = updated
            return 200, copy.deepcopy(updated)


def _is_collection(path: str) -> bool:
    """``/api/v1/nodes``, ``/apis/apps/v1/namespaces/<ns>/daemonsets`` and the like."""
    parts = path.strip("/").split("/")
    names = {r["name"] for r in _CORE_RESOURCES + _APPS_RESOURCES}
    return bool(parts) and parts[-1] in names


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target


def _has_directive(patch: Any) -> bool:
    if isinstance(patch, dict):
        return any(key.startswith("$") or _has_directive(value) for key, value in patch.items())
    if isinstance(patch, list):
        return any(_has_directive(item) for item in patch)
    return False


def _status(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "Unknown"),
        "code": code,
    }


def _handler(server: StubApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            server.requests.append(Recorded(self.command, parts.path, parse_qs(parts.query), headers, body))
            code, payload = server.handle(self.command, parts.path, headers, body)
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

    return Handler


@contextmanager
def running_api_server(*, tls: bool = True) -> Iterator[StubApiServer]:
    """Start a :class:`StubApiServer` on a free port of 127.0.0.1; stop it on exit.

    With ``tls`` (the default, as in a cluster) it serves HTTPS with a throw-away
    self-signed certificate made by the ``openssl`` CLI and requires the bearer token;
    without, plain HTTP and no authentication (kubectl sends no token over HTTP).
    """
    state = StubApiServer(require_token=tls)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    scheme = "http"
    if tls:
        state.certificate, context = _self_signed()
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    state.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="stub-apiserver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _self_signed() -> tuple[bytes, ssl.SSLContext]:
    """A certificate for 127.0.0.1 and a server context using it (the stdlib cannot make
    certificates; the ``openssl`` CLI is on every Debian machine)."""
    with tempfile.TemporaryDirectory(prefix="stub-apiserver-") as directory:
        cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return cert.read_bytes(), context
