"""startup_taint: toleration, the untaint init container, minimal RBAC, and the removal
script run for real (busybox sh + kubectl 1.33) against the stub API server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller, PrepullerError
from prepuller._defaults import KUBECTL_BINARY
from prepuller._pods import TOOLS_BINARY, PodSettings
from prepuller._references import parse_reference
from prepuller._taint import TOKEN_MOUNT, UNTAINT_CONTAINER, UNTAINT_SCRIPT, refuse_parallel_pulls, with_untaint
from tests.conftest import only, pod_spec, synth, validate_strictly
from tests.support.apiserver import StubApiServer, running_api_server
from tests.support.expansion import container_env, expand
from tests.support.kubectl import kubectl_binary

KEY = "example.com/prepull"
NODE = "node-1"
NODE_PATH = f"/api/v1/nodes/{NODE}"
OURS = {"key": KEY, "effect": "NoSchedule"}
# Taints that must survive: other keys, our key with another effect, a value on another key.
OTHERS = [
    {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
    {"key": KEY, "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"},
]


def tainted(chart_namespace: str | None = "prepuller", **options: Any) -> list[dict[str, Any]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=chart_namespace)
    ImagePrepuller(chart, "prepull", images=["nginx:1.25", "busybox:1.37"], startup_taint=KEY, **options)
    return synth(chart)


def untaint(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = pod_spec(manifests)["initContainers"][-1]
    return container


# --- the manifests -------------------------------------------------------------------------


def test_nothing_is_added_without_the_option(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], namespace="x")
    manifests = synth(chart)
    assert [m["kind"] for m in manifests] == ["DaemonSet", "NetworkPolicy"]  # the deny-all only
    spec = pod_spec(manifests)
    assert "serviceAccountName" not in spec and "tolerations" not in spec
    assert [v["name"] for v in spec["volumes"]] == ["prepuller-tools"]


def test_the_pods_tolerate_the_taint_and_keep_the_users_tolerations() -> None:
    user = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    spec = pod_spec(tainted(tolerations=[user]))
    assert spec["tolerations"] == [user, {"key": KEY, "operator": "Exists", "effect": "NoSchedule"}]


def test_the_untaint_container_runs_last_after_every_pull() -> None:
    spec = pod_spec(tainted())
    names = [c["name"] for c in spec["initContainers"]]
    assert names[0] == "prepuller-tools"
    assert names[-1] == UNTAINT_CONTAINER
    assert all(name.startswith("pull-") for name in names[1:-1]) and len(names) == 4
    assert [c["name"] for c in spec["containers"]] == ["pause"]


def test_the_untaint_container() -> None:
    container = untaint(tainted())
    assert container["image"] == "registry.k8s.io/kubectl:v1.33.9"
    # A fixed script; the key and node reach it only through the environment.
    assert container["command"] == [
        TOOLS_BINARY, "sh", "-c", UNTAINT_SCRIPT.replace("$", "$$"), UNTAINT_CONTAINER, KUBECTL_BINARY, TOOLS_BINARY
    ]  # fmt: skip
    assert "args" not in container
    assert KEY not in container["command"][3]
    assert container["env"] == [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "TAINT_KEY", "value": KEY},
        {"name": "UNTAINT_ATTEMPTS", "value": "8"},
        {"name": "UNTAINT_FIRST_DELAY_SECONDS", "value": "1"},
        {"name": "UNTAINT_MAX_DELAY_SECONDS", "value": "60"},
    ]
    assert container["resources"] == {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "250m", "memory": "256Mi"},
    }


def test_the_untaint_container_is_restricted() -> None:
    spec = pod_spec(tainted())
    security = untaint(tainted())["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 65534
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_only_the_untaint_container_gets_a_token() -> None:
    spec = pod_spec(tainted())
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "prepull-untaint"
    token_volume = {
        "name": "prepuller-api-access",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ]
        },
    }
    assert spec["volumes"][-1] == token_volume
    for container in spec["initContainers"] + spec["containers"]:
        mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
        if container["name"] == UNTAINT_CONTAINER:
            assert mounts["prepuller-api-access"] == {
                "name": "prepuller-api-access",
                "mountPath": TOKEN_MOUNT,
                "readOnly": True,
            }
        else:
            assert "prepuller-api-access" not in mounts, container["name"]


def test_the_rbac_is_minimal() -> None:
    manifests = tainted()
    account = only(manifests, "ServiceAccount")
    assert account["metadata"] == {
        "name": "prepull-untaint",
        "namespace": "prepuller",
        "labels": account["metadata"]["labels"],
    }
    assert account["automountServiceAccountToken"] is False
    role = only(manifests, "ClusterRole")
    assert role["metadata"]["name"] == "prepuller:prepuller:prepull-untaint"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]
    binding = only(manifests, "ClusterRoleBinding")
    assert binding["metadata"]["name"] == role["metadata"]["name"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prepull-untaint", "namespace": "prepuller"}]
    # Cluster-scoped objects carry no namespace, even in a chart that has one.
    assert "namespace" not in role["metadata"] and "namespace" not in binding["metadata"]
    for manifest in manifests[1:]:
        assert "name" not in manifest["metadata"]["labels"]
        component = "network-policy" if manifest["kind"] == "NetworkPolicy" else "startup-taint"
        assert manifest["metadata"]["labels"]["app.kubernetes.io/component"] == component


def test_the_explicit_namespace_is_the_one_bound() -> None:
    manifests = tainted(chart_namespace=None, namespace="warm")
    assert only(manifests, "ServiceAccount")["metadata"]["namespace"] == "warm"
    assert only(manifests, "ClusterRoleBinding")["subjects"][0]["namespace"] == "warm"
    assert only(manifests, "ClusterRole")["metadata"]["name"] == "prepuller:warm:prepull-untaint"


def test_each_rbac_object_keeps_its_construct_id_for_json_patches(chart: cdk8s.Chart) -> None:
    # The ids are the escape hatch to each object: prepuller.node.find_child(id).add_json_patch(...).
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1.25"], namespace="images", startup_taint=KEY)
    children = [child for child in prepuller.node.children if isinstance(child, cdk8s.ApiObject)]
    assert {child.node.id: (child.kind, child.name) for child in children if child.kind != "NetworkPolicy"} == {
        "Resource": ("DaemonSet", "prepull"),
        "UntaintServiceAccount": ("ServiceAccount", "prepull-untaint"),
        "UntaintClusterRole": ("ClusterRole", "prepuller:images:prepull-untaint"),
        "UntaintClusterRoleBinding": ("ClusterRoleBinding", "prepuller:images:prepull-untaint"),
    }
    for construct_id in ("UntaintServiceAccount", "UntaintClusterRole", "UntaintClusterRoleBinding"):
        child = prepuller.node.find_child(construct_id)
        assert isinstance(child, cdk8s.ApiObject)
        child.add_json_patch(cdk8s.JsonPatch.add("/metadata/annotations", {"owner": "platform"}))
    manifests = synth(chart)
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        assert only(manifests, kind)["metadata"]["annotations"] == {"owner": "platform"}, kind


def test_every_object_validates_strictly() -> None:
    manifests = tainted()
    validate_strictly(manifests)
    assert [m["kind"] for m in manifests] == [
        "DaemonSet",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "NetworkPolicy",
    ]
    assert untaint(manifests)["name"] == UNTAINT_CONTAINER
    both = tainted(refresh_schedule="@daily", image_pull_policy="Always")
    validate_strictly(both)
    assert {m["kind"] for m in both} >= {"CronJob", "ClusterRole", "Role"}
    assert untaint(both)["imagePullPolicy"] == "Always"
    assert only(both, "CronJob")["spec"]["schedule"] == "@daily"


@pytest.mark.parametrize("chart_namespace", [None, ""], ids=["no-namespace", "empty-namespace"])
def test_a_namespace_is_required(chart_namespace: str | None) -> None:
    # An empty chart namespace is none: the binding would name namespace "", which the API refuses.
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=chart_namespace)
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=["nginx:1.25"], startup_taint=KEY)
    assert str(error.value) == (
        "startup_taint: needs a namespace (set namespace= or the chart's namespace): the ClusterRoleBinding must "
        "name the namespace of the ServiceAccount (got 'example.com/prepull')"
    )
    assert chart.node.children == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("example.com/prepull:NoSchedule", "startup_taint: must be the taint's key only (the effect is always "
         "NoSchedule; values are ignored) (got 'example.com/prepull:NoSchedule')"),
        ("prepull=true", "startup_taint: must be the taint's key only (the effect is always NoSchedule; values are "
         "ignored) (got 'prepull=true')"),
        ("-bad", "startup_taint: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 "
         "letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '-bad')"),
        ("", "startup_taint: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 "
         "letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got '')"),
        ("a b", "startup_taint: must be a label key: an optional DNS subdomain prefix and '/', then at most 63 "
         "letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'a b')"),
    ],
)  # fmt: skip
def test_invalid_keys_fail_at_construction(value: str, message: str) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="x")
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=["nginx:1.25"], startup_taint=value)
    assert str(error.value) == message


# --- the removal, run for real -------------------------------------------------------------


def busybox() -> str:
    """Debian's static busybox (package busybox-static), standing in for the one the pod
    copies from the helper image: the script runs under the same shell, ash."""
    found = shutil.which("busybox")
    assert found, "busybox is needed: apt-get install busybox-static (`make test` installs it as root)"
    return found


def run_untaint(
    server: StubApiServer, tmp_path: Path, container: dict[str, Any], **retry: str
) -> subprocess.CompletedProcess[str]:
    """The container's exact argv and environment as the kubelet resolves them, with the
    pod's two binaries swapped for local ones, and a kubeconfig in place of the projected
    token (kubectl's in-cluster configuration reads fixed paths under /var/run/secrets)."""
    env = container_env(container, {"spec.nodeName": NODE})
    env.update({"UNTAINT_FIRST_DELAY_SECONDS": "0", **retry})
    local = {TOOLS_BINARY: busybox(), KUBECTL_BINARY: str(kubectl_binary())}
    argv = [local.get(part, part) for part in (expand(arg, env) for arg in container["command"])]
    assert argv[3] == UNTAINT_SCRIPT  # the kubelet hands the shell the script exactly as written
    env.update(
        {
            "KUBECONFIG": str(server.write_kubeconfig(tmp_path / "kubeconfig", namespace="prepuller")),
            "HOME": str(tmp_path / "no-home"),
            "PATH": "/nonexistent",  # the kubectl image has no PATH tools: the script needs none
        }
    )
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


def node_taints(server: StubApiServer) -> list[dict[str, Any]]:
    taints: list[dict[str, Any]] = server.get(NODE_PATH)["spec"].get("taints", [])
    return taints


def json_patches(server: StubApiServer) -> list[Any]:
    return [r.json() for r in server.requests_to("PATCH", NODE_PATH)]


@pytest.fixture
def container() -> dict[str, Any]:
    return untaint(tainted())


@pytest.mark.slow
@pytest.mark.parametrize("position", [0, 1, 3])
def test_removes_only_that_taint(tmp_path: Path, container: dict[str, Any], position: int) -> None:
    taints = [*OTHERS]
    taints.insert(position, OURS)
    with running_api_server() as server:
        server.add_node(NODE, taints)
        result = run_untaint(server, tmp_path, container)
        assert result.returncode == 0, result.stderr
        assert node_taints(server) == OTHERS
        assert result.stdout.endswith(f"prepuller: removed the taint {KEY}:NoSchedule from node {NODE}\n")
        [patch] = json_patches(server)
        assert patch == [
            {"op": "test", "path": f"/spec/taints/{position}/key", "value": KEY},
            {"op": "test", "path": f"/spec/taints/{position}/effect", "value": "NoSchedule"},
            {"op": "remove", "path": f"/spec/taints/{position}"},
        ]
        [request] = server.requests_to("PATCH", NODE_PATH)
        assert request.headers["content-type"] == "application/json-patch+json"
        # Every call is discovery, or get/patch of its own node: what the ClusterRole allows.
        for request in server.requests:
            assert request.path in ("/api", "/apis", "/api/v1", "/apis/apps/v1", NODE_PATH)
            assert request.method in ("GET", "PATCH")
        assert server.unanswered() == []


@pytest.mark.slow
def test_removing_the_only_taint_leaves_none(tmp_path: Path, container: dict[str, Any]) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [OURS])
        assert run_untaint(server, tmp_path, container).returncode == 0
        assert node_taints(server) == []


@pytest.mark.slow
@pytest.mark.parametrize("taints", [[], OTHERS], ids=["no-taints", "other-taints"])
def test_a_taint_already_gone_is_success_without_a_write(
    tmp_path: Path, container: dict[str, Any], taints: list[dict[str, Any]]
) -> None:
    with running_api_server() as server:
        server.add_node(NODE, taints)
        result = run_untaint(server, tmp_path, container)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"prepuller: node {NODE} has no taint {KEY}:NoSchedule (any more): nothing to do\n"
        assert json_patches(server) == []
        assert node_taints(server) == taints


@pytest.mark.slow
def test_runs_twice_idempotently(tmp_path: Path, container: dict[str, Any]) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [*OTHERS, OURS])
        assert run_untaint(server, tmp_path, container).returncode == 0
        again = run_untaint(server, tmp_path, container)
        assert again.returncode == 0 and "nothing to do" in again.stdout
        assert len(json_patches(server)) == 1
        assert node_taints(server) == OTHERS


@pytest.mark.slow
@pytest.mark.parametrize("status", [409, 500, 503, 422, 403])
def test_retries_after_a_failed_patch(tmp_path: Path, container: dict[str, Any], status: int) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [*OTHERS, OURS])
        server.fail("PATCH", NODE_PATH, status, message=f"injected {status}")
        result = run_untaint(server, tmp_path, container)
        assert result.returncode == 0, result.stderr
        assert f"injected {status}" in result.stderr
        assert f"attempt 1 of 8 to remove the taint {KEY}:NoSchedule from node {NODE} failed" in result.stderr
        assert node_taints(server) == OTHERS
        assert len(json_patches(server)) == 2


@pytest.mark.slow
def test_retries_after_failed_reads(tmp_path: Path, container: dict[str, Any]) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [OURS, *OTHERS])
        server.fail("GET", NODE_PATH, 500, times=2)
        result = run_untaint(server, tmp_path, container)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("retrying in 0s") == 2
        assert node_taints(server) == OTHERS


@pytest.mark.slow
def test_a_taint_list_changed_between_read_and_write_is_never_clobbered(
    tmp_path: Path, container: dict[str, Any]
) -> None:
    """Another controller adds a taint in front of ours after the script read the node:
    the JSON patch's test ops fail (422) instead of removing the wrong element, and the
    next attempt removes ours from its new position."""
    added = {"key": "ToBeDeletedByClusterAutoscaler", "value": "1", "effect": "NoSchedule"}
    with running_api_server() as server:
        server.add_node(NODE, [OTHERS[0], OURS])
        original = server.handle

        def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
            if method == "PATCH" and path == NODE_PATH and len(server.requests_to("PATCH", NODE_PATH)) == 1:
                node = server.objects[NODE_PATH]
                node["spec"]["taints"].insert(0, added)  # lands between the script's GET and PATCH
            return original(method, path, headers, body)

        server.handle = handle  # type: ignore[method-assign]
        result = run_untaint(server, tmp_path, container)
        assert result.returncode == 0, result.stderr
        assert "attempt 1 of 8" in result.stderr
        assert node_taints(server) == [added, OTHERS[0]]


@pytest.mark.slow
def test_why_not_kubectl_taint_it_replaces_the_whole_list(tmp_path: Path) -> None:
    """The evidence for the design: `kubectl taint node N key:NoSchedule-` sends the whole
    remaining taint list as a strategic-merge patch with no resourceVersion, so a taint
    added by someone else between its GET and its PATCH would be dropped."""
    with running_api_server() as server:
        server.add_node(NODE, [OTHERS[0], OURS])
        config = server.write_kubeconfig(tmp_path / "kubeconfig")
        result = subprocess.run(
            [str(kubectl_binary()), "taint", "node", NODE, f"{KEY}:NoSchedule-"],
            capture_output=True,
            text=True,
            env={"KUBECONFIG": str(config), "HOME": str(tmp_path / "no-home")},
        )
        assert result.returncode == 0, result.stderr
        [request] = server.requests_to("PATCH", NODE_PATH)
        assert request.headers["content-type"] == "application/strategic-merge-patch+json"
        assert request.json() == {
            "spec": {"taints": [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "value": "present"}]}
        }


@pytest.mark.slow
def test_gives_up_loudly_after_the_attempts_for_the_kubelet_to_restart_it(
    tmp_path: Path, container: dict[str, Any]
) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [OURS])
        server.fail("PATCH", NODE_PATH, 403, times=100, message='nodes "node-1" is forbidden')
        result = run_untaint(server, tmp_path, container, UNTAINT_ATTEMPTS="3")
        assert result.returncode == 1
        assert result.stderr.count('nodes "node-1" is forbidden') == 3
        assert result.stderr.rstrip().endswith(
            f"prepuller: could not remove the taint {KEY}:NoSchedule from node {NODE} in 3 attempts (errors above); "
            "exiting for the kubelet to restart this container"
        )
        assert node_taints(server) == [OURS]


@pytest.mark.slow
def test_the_backoff_doubles_up_to_its_cap(tmp_path: Path, container: dict[str, Any]) -> None:
    with running_api_server() as server:
        server.add_node(NODE, [OURS])
        server.fail("GET", NODE_PATH, 500, times=4)
        result = run_untaint(
            server, tmp_path, container, UNTAINT_FIRST_DELAY_SECONDS="1", UNTAINT_MAX_DELAY_SECONDS="2"
        )
        assert result.returncode == 0, result.stderr
        delays = [line.rsplit(" ", 1)[-1] for line in result.stderr.splitlines() if "retrying in" in line]
        assert delays == ["1s", "2s", "2s", "2s"]


@pytest.mark.slow
@pytest.mark.parametrize("key", ['a"},{"op":"remove","path":"/spec"}', "a b", "$(reboot)"])
def test_the_script_refuses_a_key_that_is_not_a_taint_key(tmp_path: Path, container: dict[str, Any], key: str) -> None:
    """Defence in depth: the construct validates the key, and the script checks it again
    before it goes into the JSON patch, in case someone edits the manifest."""
    # '$$': the kubelet expands $(VAR) in env values too; the script must see the key as is.
    escaped = {"name": "TAINT_KEY", "value": key.replace("$", "$$")}
    edited = {**container, "env": [escaped if e["name"] == "TAINT_KEY" else e for e in container["env"]]}
    with running_api_server() as server:
        server.add_node(NODE, [OURS])
        result = run_untaint(server, tmp_path, edited)
        assert result.returncode == 2
        assert result.stderr == f"prepuller: TAINT_KEY '{key}' is not a taint key\n"
        assert server.requests == []


@pytest.mark.slow
def test_the_documented_recovery_command_untaints_every_node(tmp_path: Path) -> None:
    """docs/guide/refresh-taint.md (startup taint): `kubectl taint nodes --all <key>:NoSchedule-` after the
    prepuller is gone. It untaints every node that has the taint, leaves other taints alone,
    and exits 1 with 'not found' for nodes without it (expected, and documented)."""
    with running_api_server() as server:
        server.add_node("node-1", [OTHERS[0], OURS])
        server.add_node("node-2", [OURS])
        server.add_node("node-3", [OTHERS[0]])
        config = server.write_kubeconfig(tmp_path / "kubeconfig")
        result = subprocess.run(
            [str(kubectl_binary()), "taint", "nodes", "--all", f"{KEY}:NoSchedule-"],
            capture_output=True,
            text=True,
            env={"KUBECONFIG": str(config), "HOME": str(tmp_path / "no-home")},
        )
        assert result.returncode == 1
        assert result.stdout == "node/node-1 untainted\nnode/node-2 untainted\n"
        assert f'taint "{KEY}:NoSchedule" not found' in result.stderr
        assert [server.get(f"/api/v1/nodes/node-{n}")["spec"].get("taints", []) for n in (1, 2, 3)] == [
            [OTHERS[0]],
            [],
            [OTHERS[0]],
        ]


# --- other pod shapes ----------------------------------------------------------------------


def _settings() -> PodSettings:
    """The validated pod settings of a default prepuller (robust to new PodSettings fields)."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="x")
    settings: PodSettings = ImagePrepuller(chart, "prepull", images=["nginx:1.25"])._pod_settings
    return settings


def test_a_pod_without_the_tools_volume_gets_it_and_the_helper_before_the_untaint_step() -> None:
    """The Docker-socket mode's pod: one `prepull` init container, no shared busybox."""
    docker_like = {
        "volumes": [{"name": "docker-socket", "hostPath": {"path": "/var/run", "type": "Directory"}}],
        "initContainers": [{"name": "prepull", "image": "docker:cli"}],
        "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}],
    }
    image = parse_reference("registry.k8s.io/kubectl:v1.33.9", "kubectl_image")
    spec = with_untaint(docker_like, settings=_settings(), name="prepull", key=KEY, image=image)
    assert [c["name"] for c in spec["initContainers"]] == ["prepull", "prepuller-tools", UNTAINT_CONTAINER]
    assert [v["name"] for v in spec["volumes"]] == ["docker-socket", "prepuller-tools", "prepuller-api-access"]
    assert docker_like["initContainers"] == [{"name": "prepull", "image": "docker:cli"}]  # not modified


def test_a_pod_with_the_tools_volume_gets_no_second_helper() -> None:
    spec = pod_spec(tainted())
    assert [c["name"] for c in spec["initContainers"]].count("prepuller-tools") == 1
    assert [v["name"] for v in spec["volumes"]] == ["prepuller-tools", "prepuller-api-access"]


@pytest.mark.parametrize("parallel_pulls", [2, 3])
def test_parallel_pulls_are_refused(parallel_pulls: int) -> None:
    refuse_parallel_pulls(KEY, 1)
    with pytest.raises(PrepullerError) as error:
        refuse_parallel_pulls(KEY, parallel_pulls)
    assert str(error.value) == (
        f"startup_taint: cannot be combined with parallel_pulls={parallel_pulls}: each DaemonSet's pods would "
        "remove the taint as soon as their own group of images is pulled (got 'example.com/prepull')"
    )
