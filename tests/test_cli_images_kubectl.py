"""The documented pipeline for real::

    kubectl get deploy,sts,ds,cronjob,job,pod -A -o json | prepuller images -

with the real kubectl 1.33 (``tests/support/kubectl.py``) against a stub API server on
127.0.0.1 that serves the objects of ``fixtures/kubectl-get-workloads-all-namespaces.json``
the way the API server does: legacy discovery, then one typed list per resource
(``DeploymentList``...) whose items carry no ``kind``/``apiVersion``. kubectl turns them into
one ``kind: List``; this checks the fixture has exactly that shape, and that the command reads
what kubectl really prints.
"""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from .support.kubectl import kubectl_binary
from .test_cli_images import CONSOLE_SCRIPT, KUBECTL_JSON, KUBECTL_LINES

pytestmark = pytest.mark.slow

_RESOURCES = {
    # kind: (group version, plural, short name)
    "Deployment": ("apps/v1", "deployments", "deploy"),
    "StatefulSet": ("apps/v1", "statefulsets", "sts"),
    "DaemonSet": ("apps/v1", "daemonsets", "ds"),
    "CronJob": ("batch/v1", "cronjobs", "cj"),
    "Job": ("batch/v1", "jobs", None),
    "Pod": ("v1", "pods", "po"),
}
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _discovery() -> dict[str, Any]:
    documents: dict[str, Any] = {
        "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.9", "platform": "linux/amd64"},
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": group,
                    "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
                    "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"},
                }
                for group in ("apps", "batch")
            ],
        },
    }
    for kind, (group_version, plural, short) in _RESOURCES.items():
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        resource_list = documents.setdefault(
            path, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": []}
        )
        resource: dict[str, Any] = {
            "name": plural,
            "singularName": kind.lower(),
            "namespaced": True,
            "kind": kind,
            "verbs": _VERBS,
            "categories": ["all"],
        }
        if short:
            resource["shortNames"] = [short]
        resource_list["resources"].append(resource)
    return documents


class _Server(ThreadingHTTPServer):
    documents: dict[str, Any]
    unknown: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        document = self.server.documents.get(path)
        if document is None:
            self.server.unknown.append(self.path)
            status, document = 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
        else:
            status = 200
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[_Server]:
    """Serves the fixture's objects as the API server lists them."""
    fixture = json.loads(KUBECTL_JSON.read_text())
    documents = _discovery()
    for kind, (group_version, plural, _) in _RESOURCES.items():
        items = []
        for item in fixture["items"]:
            if item["kind"] == kind:
                stored = copy.deepcopy(item)
                del stored["kind"], stored["apiVersion"]  # typed list items carry neither
                items.append(stored)
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        documents[f"{prefix}/{plural}"] = {
            "kind": f"{kind}List",
            "apiVersion": group_version,
            "metadata": {"resourceVersion": "987654"},
            "items": items,
        }
    server = _Server(("127.0.0.1", 0), _Handler)
    server.documents = documents
    server.unknown = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def kubectl_get(server: _Server, tmp_path: Path, *extra: str) -> str:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stub", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
                "users": [{"name": "stub", "user": {}}],
                "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "stub"}}],
                "current-context": "stub",
            }
        )
    )
    result = subprocess.run(
        [
            str(kubectl_binary()),
            "--kubeconfig",
            str(kubeconfig),
            "--cache-dir",
            str(tmp_path / "cache"),
            "get",
            "deploy,sts,ds,cronjob,job,pod",
            "-A",
            "-o",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def without_managed_fields(document: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(document)
    for item in stripped["items"]:
        del item["metadata"]["managedFields"]
    return stripped


def test_the_fixture_is_what_kubectl_prints(api_server: _Server, tmp_path: Path) -> None:
    """kubectl prints the fixture as it is, but for managedFields, which it drops unless asked."""
    fixture = json.loads(KUBECTL_JSON.read_text())
    assert json.loads(kubectl_get(api_server, tmp_path, "--show-managed-fields")) == fixture
    assert json.loads(kubectl_get(api_server, tmp_path)) == without_managed_fields(fixture)
    assert api_server.unknown == []


def test_kubectl_piped_into_the_command(api_server: _Server, tmp_path: Path) -> None:
    printed = kubectl_get(api_server, tmp_path)
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "images", "-"], input=printed, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, KUBECTL_LINES, "")
