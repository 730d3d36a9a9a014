"""``prepuller status`` with the REAL kubectl 1.33 against a stub API server on 127.0.0.1.

Shows that the argv ``prepuller status`` builds is what kubectl understands (the request
it makes: ``GET /api/v1/namespaces/NS/pods?labelSelector=name%3DNAME``), that the fixtures
are exactly what kubectl prints for the API's ``PodList``/``NodeList``, and what a real
"forbidden" answer for nodes looks like by the time it reaches the user.

The kubectl binary comes from ``tests/support/kubectl.py`` (a pinned PyPI wheel, cached
outside the repo; see that module); where that helper is absent the tests are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.status_support import load, node_list

pytestmark = pytest.mark.slow

FORBIDDEN = {
    "apiVersion": "v1",
    "kind": "Status",
    "metadata": {},
    "status": "Failure",
    "message": 'nodes is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "nodes" '
    'in API group "" at the cluster scope',
    "reason": "Forbidden",
    "details": {"kind": "nodes"},
    "code": 403,
}


def _as_api_list(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """What the API server returns for a list: ``PodList``, items without apiVersion/kind
    (kubectl adds them back and wraps everything in a ``List`` when it prints JSON)."""
    items = [{k: v for k, v in item.items() if k not in ("apiVersion", "kind")} for item in document["items"]]
    return {"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "48300"}, "items": items}


class _Api:
    """The few paths ``kubectl get pods|nodes`` reads: discovery, then the two lists."""

    def __init__(self, nodes_forbidden: bool) -> None:
        self.requests: list[str] = []
        self.routes: dict[str, tuple[int, Any]] = {
            "/api": (200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            "/apis": (200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
            "/api/v1": (200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["list"]},
                {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "verbs": ["list"]},
            ]}),
            "/api/v1/namespaces/prepuller/pods": (200, _as_api_list(load("kubelet-pods.json"), "PodList")),
            "/api/v1/nodes": (403, FORBIDDEN) if nodes_forbidden else (
                200, _as_api_list(node_list("node-a", "node-b", source="nodes.json"), "NodeList")
            ),
        }  # fmt: skip


@pytest.fixture
def kubectl_binary() -> Path:
    support = pytest.importorskip("tests.support.kubectl", reason="tests/support/kubectl.py (real kubectl) not here")
    binary: Path = support.kubectl_binary()
    return binary


def _serve(api: _Api) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            api.requests.append(self.path)
            code, body = api.routes.get(self.path.split("?")[0], (404, {"kind": "Status", "code": 404}))
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _run(tmp_path: Path, kubectl: Path, nodes_forbidden: bool) -> tuple[subprocess.CompletedProcess[str], _Api, str]:
    """Run ``prepuller status`` against the stub, and kubectl alone to see what it prints."""
    api = _Api(nodes_forbidden)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").symlink_to(kubectl)
    for port in _serve(api):
        kubeconfig = tmp_path / "kube config"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: stub, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
            "contexts: [{name: stub ctx, context: {cluster: stub, user: ci}}]\n"
            "users: [{name: ci, user: {token: not-a-secret}}]\n"
            "current-context: ''\n"
        )
        env = {**os.environ, "PATH": str(bin_dir), "HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "prepuller", "status", "-n", "prepuller", "--kubeconfig", str(kubeconfig),
             "--context", "stub ctx", "-o", "json"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        printed = subprocess.run(
            [str(kubectl), f"--kubeconfig={kubeconfig}", "--context=stub ctx", "--namespace=prepuller",
             "get", "pods", "--selector=name=prepull", "--output=json"],
            capture_output=True, text=True, env=env, timeout=120, check=True,
        ).stdout  # fmt: skip
    return done, api, printed


def test_real_kubectl_lists_the_pods_by_label_and_prints_our_fixture_shape(
    tmp_path: Path, kubectl_binary: Path
) -> None:
    done, api, printed = _run(tmp_path, kubectl_binary, nodes_forbidden=False)
    assert done.returncode == 1, done.stderr  # node-b has no pod
    assert "/api/v1/namespaces/prepuller/pods?labelSelector=name%3Dprepull&limit=500" in api.requests
    assert "/api/v1/nodes?limit=500" in api.requests
    document = json.loads(done.stdout)
    assert document["summary"] == "1/2 nodes ready: node-b has no prepuller pod"
    # kubectl turns the API's PodList back into exactly the hand-written fixture:
    assert json.loads(printed) == load("kubelet-pods.json")


def test_real_kubectl_forbidden_nodes_is_one_line_and_the_pods_still_count(
    tmp_path: Path, kubectl_binary: Path
) -> None:
    done, _, _ = _run(tmp_path, kubectl_binary, nodes_forbidden=True)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["nodesListed"] is False
    assert document["nodesError"] == (
        "`kubectl get nodes` failed: Error from server (Forbidden): " + FORBIDDEN["message"]
    )
    assert document["summary"] == "1/1 node ready, 3 images each"
