"""The end-to-end suite's template changes (tests/e2e/podman.py), without podman: each does
what the kubelet would, and nothing else about a synthesized template changes."""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterator
from typing import Any

import cdk8s
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepuller import ImagePrepuller
from tests.e2e.podman import (
    INIT_CONTAINER_ANNOTATION,
    drop_long_annotations,
    expand,
    expand_variables,
    isolate_empty_dirs,
    keep_init_containers,
    kube_pod,
    pod_from_template,
    resolve_node_name,
    resolve_sub_paths,
    template_of,
    templates_of,
)

# The kubelet's own expectations (kubernetes third_party/forked/golang/expansion/expand_test.go),
# with variables A=a, B=b, EMPTY="" and REF="$(A)".
VARIABLES = {"A": "a", "B": "b", "EMPTY": "", "REF": "$(A)"}
EXPANSIONS = [
    ("$(A)", "a"),
    ("$(A)-$(A)", "a-a"),
    ("x$(B)y", "xby"),
    ("$(A)_$(B)", "a_b"),
    ("$$(B)_$(A)", "$(B)_a"),
    ("$$(A)_$$(B)", "$(A)_$(B)"),
    ("f-$$A", "f-$A"),
    ("foo\\$(B)bar", "foo\\bbar"),
    ("$(A$(B))", "$(A$(B))"),
    ("$(A$(B)", "$(A$(B)"),
    ("$(REF)", "$(A)"),
    ("foo$(EMPTY)bar", "foobar"),
    ("foo$(Awhoops!", "foo$(Awhoops!"),
    ("f__(A)__", "f__(A)__"),
    ("$?_x_$!", "$?_x_$!"),
    ("$A", "$A"),
    ("$(UNDEFINED)", "$(UNDEFINED)"),
    ("$$$$$$(UNDEFINED)", "$$$(UNDEFINED)"),
    ("$$$$$$(A)", "$$$(A)"),
    ("$$$$$$$(UNDEFINED)", "$$$$(UNDEFINED)"),
    ("$$$$$$$(A)", "$$$a"),
    ("$A)", "$A)"),
    ("${A}", "${A}"),
    ("$(B)___$(A", "b___$(A"),
    ("$(B)___$(", "b___$("),
    ("$(A)end$", "aend$"),
    ("--$($($($($--", "--$($($($($--"),
    ("$(foo$$var)", "$(foo$$var)"),
    ("\n", "\n"),
    ("$", "$"),
    ("$$", "$"),
]


@pytest.mark.parametrize(("text", "expected"), EXPANSIONS)
def test_expand_as_the_kubelet_does(text: str, expected: str) -> None:
    assert expand(text, VARIABLES) == expected


@given(st.text())
def test_escaped_text_expands_to_itself(text: str) -> None:
    assert expand(text.replace("$", "$$"), VARIABLES) == text


@given(st.text(alphabet=st.characters(blacklist_characters="$")))
def test_text_without_a_dollar_is_unchanged(text: str) -> None:
    assert expand(text, VARIABLES) == text


def _pod(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", **container}]},
    }


def test_resolve_node_name_gives_the_field_ref_a_literal_value_only() -> None:
    other = {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    secret = {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    pod = _pod(env=[{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}, other, secret])
    before = copy.deepcopy(pod)
    resolved = resolve_node_name(pod, "node-1")
    assert resolved["spec"]["containers"][0]["env"] == [{"name": "NODE_NAME", "value": "node-1"}, other, secret]
    assert pod == before  # pure


def test_expand_variables_in_env_command_and_args_from_the_containers_env() -> None:
    pod = _pod(
        env=[
            {"name": "FOO", "value": "bar"},
            {"name": "ZOO", "value": "$(FOO)-1"},
            {"name": "BLU", "value": "$(ZOO)-2"},
            {"name": "EARLY", "value": "$(LATE)"},
            {"name": "LATE", "value": "late"},
        ],
        command=["/x", "$(BLU)", "$$(FOO)"],
        args=["$(NOPE)", "$(LATE)"],
    )
    before = copy.deepcopy(pod)
    container = expand_variables(pod)["spec"]["containers"][0]
    assert [v["value"] for v in container["env"]] == ["bar", "bar-1", "bar-1-2", "$(LATE)", "late"]
    assert container["command"] == ["/x", "bar-1-2", "$(FOO)"]
    assert container["args"] == ["$(NOPE)", "late"]
    assert pod == before


def test_expand_variables_leaves_containers_without_command_alone() -> None:
    pod = _pod(env=[{"name": "A", "value": "a"}])
    assert expand_variables(pod) == pod


def test_keep_init_containers_adds_the_annotation_and_keeps_the_others() -> None:
    pod = _pod()
    pod["metadata"]["annotations"] = {"a": "b"}
    kept = keep_init_containers(pod)
    assert kept["metadata"]["annotations"] == {"a": "b", INIT_CONTAINER_ANNOTATION: "always"}
    assert pod["metadata"]["annotations"] == {"a": "b"}
    assert keep_init_containers(_pod())["metadata"]["annotations"] == {INIT_CONTAINER_ANNOTATION: "always"}


def test_isolate_empty_dirs_renames_empty_dirs_and_their_mounts_only() -> None:
    pod = _pod(volumeMounts=[{"name": "tools", "mountPath": "/t"}, {"name": "host", "mountPath": "/h"}])
    pod["spec"]["initContainers"] = [
        {"name": "i", "image": "i", "volumeMounts": [{"name": "tools", "mountPath": "/t"}]}
    ]
    pod["spec"]["volumes"] = [{"name": "tools", "emptyDir": {}}, {"name": "host", "hostPath": {"path": "/var/run"}}]
    before = copy.deepcopy(pod)
    isolated = isolate_empty_dirs(pod)
    assert isolated["spec"]["volumes"] == [
        {"name": "p-tools", "emptyDir": {}},
        {"name": "host", "hostPath": {"path": "/var/run"}},
    ]
    assert isolated["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "p-tools", "mountPath": "/t"},
        {"name": "host", "mountPath": "/h"},
    ]
    assert isolated["spec"]["initContainers"][0]["volumeMounts"] == [{"name": "p-tools", "mountPath": "/t"}]
    assert pod == before


def test_drop_long_annotations_leaves_out_only_values_podman_refuses() -> None:
    pod = _pod()
    pod["metadata"]["annotations"] = {"short": "x" * 63, "checksum/images": "f" * 64, "empty": ""}
    dropped = drop_long_annotations(pod)
    assert dropped["metadata"]["annotations"] == {"short": "x" * 63, "empty": ""}
    assert pod["metadata"]["annotations"]["checksum/images"] == "f" * 64
    assert drop_long_annotations(_pod()) == _pod()


def test_resolve_sub_paths_mounts_the_host_path_joined_with_the_sub_path() -> None:
    socket_mount = {"name": "docker", "mountPath": "/var/run/docker.sock", "subPath": "docker.sock"}
    pod = _pod(volumeMounts=[socket_mount, {"name": "docker", "mountPath": "/d"}])
    pod["spec"]["initContainers"] = [{"name": "i", "image": "i", "volumeMounts": [dict(socket_mount)]}]
    pod["spec"]["volumes"] = [{"name": "docker", "hostPath": {"path": "/var/run", "type": "Directory"}}]
    before = copy.deepcopy(pod)
    resolved = resolve_sub_paths(pod)
    assert resolved["spec"]["volumes"] == [
        {"name": "docker", "hostPath": {"path": "/var/run", "type": "Directory"}},
        {"name": "docker-subpath-1", "hostPath": {"path": "/var/run/docker.sock"}},
    ]
    assert resolved["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "docker-subpath-1", "mountPath": "/var/run/docker.sock"},
        {"name": "docker", "mountPath": "/d"},
    ]
    assert resolved["spec"]["initContainers"][0]["volumeMounts"] == [
        {"name": "docker-subpath-1", "mountPath": "/var/run/docker.sock"}
    ]
    assert pod == before
    assert resolve_sub_paths(_pod()) == _pod()


def test_resolve_sub_paths_refuses_other_volumes() -> None:
    pod = _pod(volumeMounts=[{"name": "tools", "mountPath": "/t", "subPath": "x"}])
    pod["spec"]["volumes"] = [{"name": "tools", "emptyDir": {}}]
    with pytest.raises(ValueError, match="subPath on a volume that is not a hostPath"):
        resolve_sub_paths(pod)


def test_pod_from_template_runs_the_template_once() -> None:
    template = {"metadata": {"labels": {"name": "prepull"}}, "spec": {"containers": []}}
    pod = pod_from_template(template, "e2e-1")
    assert pod == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": {"name": "prepull"}, "name": "e2e-1"},
        "spec": {"containers": [], "restartPolicy": "Never"},
    }
    assert template == {"metadata": {"labels": {"name": "prepull"}}, "spec": {"containers": []}}


# --- nothing else about a synthesized template changes -----------------------------------


def _templates() -> Iterator[tuple[str, dict[str, Any]]]:
    """Synthesized templates of every mode (and option) the suite plays."""
    images = ["e2e.example/busybox:1", "e2e.example/no-shell:1", "quay.io/x/y@sha256:" + "a" * 64]
    chart = cdk8s.Chart(cdk8s.Testing.app(), "t")
    yield "docker", template_of(ImagePrepuller(chart, "docker", images=images, mode="docker", docker_host_path="/run"))
    keep = ImagePrepuller(chart, "keep", images=images, keep_images=True, parallel_pulls=2)
    for group, template in enumerate(templates_of(keep), start=1):
        yield f"keep, group {group}", template
    yield "kubelet", template_of(ImagePrepuller(cdk8s.Chart(cdk8s.Testing.app(), "t"), "prepull", images=images))
    yield (
        "kubelet, options",
        template_of(
            ImagePrepuller(
                cdk8s.Chart(cdk8s.Testing.app(), "t", namespace="ns"),
                "prepull",
                images=images,
                annotations={"a": "b", "checksum/config": "0" * 64},
                image_pull_policy="Always",
                image_pull_secrets=["regcred"],
            )
        ),
    )


def _differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """Paths where two JSON documents differ (a key only on one side counts)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _differences(before.get(key, "<absent>"), after.get(key, "<absent>"), f"{path}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (left, right) in enumerate(zip(before, after, strict=True)):
            yield from _differences(left, right, f"{path}[{index}]")
    elif before != after:
        yield path


@pytest.mark.parametrize(
    ("mode", "template"), list(_templates()), ids=lambda value: value if isinstance(value, str) else ""
)
def test_kube_pod_changes_only_what_the_kubelet_resolves(mode: str, template: dict[str, Any]) -> None:
    original = copy.deepcopy(template)
    pod = kube_pod(template, "e2e-1", "node-1")
    assert template == original

    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    changed = set(
        _differences(
            {"metadata": template["metadata"], "spec": template["spec"]},
            {"metadata": pod["metadata"], "spec": pod["spec"]},
        )
    )
    expected: set[str] = {".metadata.name", f".metadata.annotations.{INIT_CONTAINER_ANNOTATION}", ".spec.restartPolicy"}
    annotations = template["metadata"].get("annotations") or {}
    expected |= {f".metadata.annotations.{key}" for key, value in annotations.items() if len(value) > 63}
    if not annotations:
        expected = {".metadata.name", ".metadata.annotations", ".spec.restartPolicy"}
    spec = template["spec"]
    empty_dirs = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        if "emptyDir" in volume:
            expected.add(f".spec.volumes[{index}].name")
            empty_dirs.add(volume["name"])
    for kind in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(kind) or []):
            where = f".spec.{kind}[{index}]"
            for number, variable in enumerate(container.get("env") or []):
                if variable.get("valueFrom") == {"fieldRef": {"fieldPath": "spec.nodeName"}}:
                    expected |= {f"{where}.env[{number}].valueFrom", f"{where}.env[{number}].value"}
            for key in ("command", "args"):
                for number, item in enumerate(container.get(key) or []):
                    if "$" in item:
                        expected.add(f"{where}.{key}[{number}]")
            for number, mount in enumerate(container.get("volumeMounts") or []):
                if mount["name"] in empty_dirs:
                    expected.add(f"{where}.volumeMounts[{number}].name")
                if mount.get("subPath"):
                    expected |= {f"{where}.volumeMounts[{number}].name", f"{where}.volumeMounts[{number}].subPath"}
                    expected.add(".spec.volumes")  # one more volume: checked below
    assert changed <= expected
    # ... and each change is the one the kubelet makes.
    for kind in ("initContainers", "containers"):
        for before, after in zip(spec.get(kind) or [], pod["spec"].get(kind) or [], strict=True):
            variables = {v["name"]: v["value"] for v in after.get("env") or []}
            assert all(v.get("value") == "node-1" for v in after.get("env") or [] if v["name"] == "NODE_NAME")
            for key in ("command", "args"):
                assert after.get(key) == ([expand(item, variables) for item in before[key]] if key in before else None)
    assert pod["metadata"]["annotations"] == {
        **{key: value for key, value in (template["metadata"].get("annotations") or {}).items() if len(value) <= 63},
        INIT_CONTAINER_ANNOTATION: "always",
    }
    assert {v["name"] for v in pod["spec"].get("volumes") or [] if "emptyDir" in v} == {
        f"e2e-1-{n}" for n in empty_dirs
    }
    volumes = pod["spec"].get("volumes") or []
    originals = spec.get("volumes") or []
    for before, after in zip(originals, volumes, strict=False):
        assert after == ({**before, "name": f"e2e-1-{before['name']}"} if "emptyDir" in before else before)
    host_paths = {v["name"]: v["hostPath"]["path"] for v in originals if "hostPath" in v}
    sub_paths = {
        posixpath.join(host_paths[m["name"]], m["subPath"])
        for kind in ("initContainers", "containers")
        for c in spec.get(kind) or []
        for m in c.get("volumeMounts") or []
        if m.get("subPath")
    }
    assert [v["hostPath"] for v in volumes[len(originals) :]] == [{"path": path} for path in sorted(sub_paths)]


def test_kube_pod_of_the_default_template_logs_the_node_name() -> None:
    template = template_of(ImagePrepuller(cdk8s.Chart(cdk8s.Testing.app(), "t"), "prepull", images=["e2e.example/a:1"]))
    pod = kube_pod(template, "e2e-1", "node-1")
    pull = pod["spec"]["initContainers"][1]
    assert pull["command"][-1] == "Pulled 'e2e.example/a:1' on node 'node-1'"
    assert pull["env"] == [{"name": "NODE_NAME", "value": "node-1"}]
