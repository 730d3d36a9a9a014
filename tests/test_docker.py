"""mode="docker": the Helm chart's pod, its script run for real, and injection attempts."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from syrupy.assertion import SnapshotAssertion

from prepuller import ImagePrepuller, PrepullerError
from prepuller._docker import PREPULL_SCRIPT, DockerSettings, docker_pod_spec
from prepuller._pods import PodSettings
from prepuller._references import ImageReference, parse_reference

from .conftest import only, synth, validate_strictly

IMAGES = ["gcr.io/google-containers/busybox:1.27", "busybox:1-musl"]

HOSTILE = [
    "busybox; rm -rf /",
    "$(id)",
    "`id`",
    "busybox\nid",
    "busybox && touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "'; touch PWNED; '",
    '"; touch PWNED; "',
    "-v",
    "--help",
    "$(NODE_NAME)",
    "$$",
    "*",
]


def docker_daemon_set(chart: cdk8s.Chart, **options: Any) -> dict[str, Any]:
    ImagePrepuller(chart, "prepull", images=options.pop("images", IMAGES), mode="docker", **options)
    manifests = synth(chart)
    validate_strictly(manifests)
    return only(manifests, "DaemonSet")


def prepull_container(daemon_set: dict[str, Any]) -> dict[str, Any]:
    [init] = daemon_set["spec"]["template"]["spec"]["initContainers"]
    assert isinstance(init, dict)
    return init


# --- the chart's shape ------------------------------------------------------------------


def test_docker_mode_has_the_charts_shape_field_by_field(chart: cdk8s.Chart) -> None:
    daemon_set = docker_daemon_set(chart)
    assert daemon_set["kind"] == "DaemonSet"
    assert daemon_set["metadata"]["name"] == "prepull"
    assert daemon_set["metadata"]["labels"]["name"] == "prepull"
    assert daemon_set["spec"]["selector"] == {"matchLabels": {"name": "prepull"}}
    assert daemon_set["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    template = daemon_set["spec"]["template"]
    assert template["metadata"]["labels"]["name"] == "prepull"
    spec = template["spec"]
    [init] = spec["initContainers"]
    assert init["name"] == "prepull"
    assert init["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert init["volumeMounts"] == [{"name": "docker", "mountPath": "/var/run/docker.sock", "subPath": "docker.sock"}]
    assert spec["volumes"] == [{"name": "docker", "hostPath": {"path": "/var/run", "type": "Directory"}}]
    assert init["image"] == "docker.io/library/docker:28.2.2-cli"
    assert init["command"] == ["sh", "-c", PREPULL_SCRIPT, "prepull"]
    assert init["args"] == IMAGES
    [main] = spec["containers"]
    assert (main["name"], main["image"]) == ("pause", "registry.k8s.io/pause:3.10")


def test_docker_host_path_and_docker_image_are_configurable(chart: cdk8s.Chart) -> None:
    daemon_set = docker_daemon_set(
        chart, docker_host_path="/run/docker", docker_image="registry.example.com/tools/docker:27.5.1-cli"
    )
    assert daemon_set["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == "/run/docker"
    assert prepull_container(daemon_set)["image"] == "registry.example.com/tools/docker:27.5.1-cli"


@pytest.mark.parametrize("path", ["/mnt/docker data", "/run/..docker", "/run/docker.d/~x"])
def test_a_host_path_may_hold_spaces_and_dots(chart: cdk8s.Chart, path: str) -> None:
    # Only control characters and a '..' component are refused: a space or dots are fine.
    daemon_set = docker_daemon_set(chart, docker_host_path=path)
    assert daemon_set["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == path


def test_docker_mode_validates_strictly_with_every_scheduling_option(chart: cdk8s.Chart) -> None:
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    daemon_set = docker_daemon_set(
        chart,
        namespace="prepull",
        labels={"team": "data"},
        annotations={"owner": "platform"},
        tolerations=[toleration],
        priority_class_name="low",
        image_pull_secrets=["regcred"],
        image_pull_policy="Always",
        max_unavailable=2,
    )
    # Each option lands where it belongs in docker mode too (validate_strictly ran in docker_daemon_set).
    metadata, template = daemon_set["metadata"], daemon_set["spec"]["template"]
    assert metadata["namespace"] == "prepull"
    assert metadata["labels"]["team"] == template["metadata"]["labels"]["team"] == "data"
    assert metadata["annotations"]["owner"] == "platform"
    assert template["metadata"]["annotations"]["owner"] == "platform"
    spec = template["spec"]
    assert spec["tolerations"] == [toleration]
    assert spec["priorityClassName"] == "low"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    containers = spec["initContainers"] + spec["containers"]
    assert [c["imagePullPolicy"] for c in containers] == ["Always"] * len(containers)
    assert daemon_set["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}


def test_only_the_prepull_container_runs_as_root_with_nothing_else(chart: cdk8s.Chart) -> None:
    daemon_set = docker_daemon_set(chart)
    assert prepull_container(daemon_set)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    spec = daemon_set["spec"]["template"]["spec"]
    pause = spec["containers"][0]["securityContext"]
    assert (pause["runAsNonRoot"], pause["runAsUser"], pause["readOnlyRootFilesystem"]) == (True, 65534, True)
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False


def test_kubelet_mode_stays_the_default_and_has_no_docker_parts(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=IMAGES)
    daemon_set = only(synth(chart), "DaemonSet")
    spec = daemon_set["spec"]["template"]["spec"]
    assert "annotations" not in daemon_set["spec"]["template"]["metadata"]
    assert all("hostPath" not in volume for volume in spec["volumes"])
    assert all(c["securityContext"]["runAsNonRoot"] for c in spec["initContainers"] + spec["containers"])


def test_docker_mode_snapshot(chart: cdk8s.Chart, snapshot: SnapshotAssertion) -> None:
    assert docker_daemon_set(chart, namespace="default") == snapshot


# --- the pod template changes with the image list ---------------------------------------


def template_of(images: list[str]) -> dict[str, Any]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    template = docker_daemon_set(chart, images=images)["spec"]["template"]
    assert isinstance(template, dict)
    return template


def test_checksum_annotation_follows_the_image_list() -> None:
    first = template_of(["busybox:1.36", "nginx:1.27"])
    checksum = first["metadata"]["annotations"]["checksum/images"]
    # The SHA-256 of the references as given, one a line: computable outside, e.g. to tell
    # whether a running DaemonSet already has a list.
    assert checksum == hashlib.sha256(b"busybox:1.36\nnginx:1.27").hexdigest()
    assert template_of(["busybox:1.36", "nginx:1.27"]) == first
    for changed in (["busybox:1.37", "nginx:1.27"], ["nginx:1.27", "busybox:1.36"], ["busybox:1.36"]):
        other = template_of(changed)
        assert other["metadata"]["annotations"]["checksum/images"] != checksum
        assert other["spec"]["initContainers"][0]["args"] == changed


def test_user_annotations_are_kept_beside_the_checksum(chart: cdk8s.Chart) -> None:
    annotations = docker_daemon_set(chart, annotations={"owner": "platform"})["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert set(annotations) == {"owner", "checksum/images"}


def test_duplicates_are_pulled_once(chart: cdk8s.Chart) -> None:
    daemon_set = docker_daemon_set(chart, images=["busybox", "docker.io/library/busybox:latest", "nginx:1"])
    assert prepull_container(daemon_set)["args"] == ["busybox", "nginx:1"]


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "podman"}, "mode: must be one of 'kubelet', 'docker' (got 'podman')"),
        ({"mode": "Docker"}, "mode: must be one of 'kubelet', 'docker' (got 'Docker')"),
        (
            {"docker_host_path": "/var/run"},
            "docker_host_path: only applies to mode 'docker' (mode is 'kubelet') (got '/var/run')",
        ),
        (
            {"docker_image": "docker:27-cli"},
            "docker_image: only applies to mode 'docker' (mode is 'kubelet') (got 'docker:27-cli')",
        ),
        (
            {"mode": "docker", "docker_host_path": "var/run"},
            "docker_host_path: must be an absolute directory path on the node, without '..' or control "
            "characters (got 'var/run')",
        ),
        (
            {"mode": "docker", "docker_host_path": "/var/../etc"},
            "docker_host_path: must be an absolute directory path on the node, without '..' or control "
            "characters (got '/var/../etc')",
        ),
        (
            {"mode": "docker", "docker_host_path": "/var/run\n"},
            "docker_host_path: must be an absolute directory path on the node, without '..' or control "
            "characters (got '/var/run\\n')",
        ),
        (
            {"mode": "docker", "docker_host_path": "/var/run\t"},
            "docker_host_path: must be an absolute directory path on the node, without '..' or control "
            "characters (got '/var/run\\t')",
        ),
        ({"mode": "docker", "docker_host_path": 7}, "docker_host_path: must be a string (got 7)"),
        (
            {"mode": "docker", "docker_image": "Docker:27"},
            "docker_image: is not a valid image reference: the repository path must be lowercase (got 'Docker:27')",
        ),
    ],
)
def test_docker_options_are_validated(chart: cdk8s.Chart, options: dict[str, Any], message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=IMAGES, **options)
    assert str(caught.value) == message
    assert synth(chart) == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_injection_attempts_are_rejected_as_invalid_references(chart: cdk8s.Chart, hostile: str) -> None:
    with pytest.raises(PrepullerError, match=r"^images\[1\]: (is not a valid image reference: .*)") as caught:
        ImagePrepuller(chart, "prepull", images=["busybox", hostile], mode="docker")
    assert str(caught.value).endswith(f"(got {hostile!r})")


# --- past validation: carried inertly ---------------------------------------------------


def unvalidated(text: str) -> ImageReference:
    """An ImageReference built by hand, as if validation had been bypassed."""
    return ImageReference(text=text, domain="docker.io", path="library/busybox", tag=None, digest=None)


def hostile_pod(images: list[str]) -> dict[str, Any]:
    settings = PodSettings(
        node_selector={},
        tolerations=[],
        affinity=None,
        priority_class_name=None,
        image_pull_secrets=[],
        image_pull_policy=None,
        resources={},
        pause_image=parse_reference("registry.k8s.io/pause:3.10", "pause_image"),
        helper_image=parse_reference("busybox:1.37.0-musl", "helper_image"),
    )
    docker = DockerSettings(host_path="/var/run", image=parse_reference("docker:28.2.2-cli", "docker_image"))
    return docker_pod_spec(settings, docker, [unvalidated(text) for text in images])


def test_unvalidated_hostile_images_are_separate_arguments_and_the_script_is_unchanged() -> None:
    [init] = hostile_pod(HOSTILE)["initContainers"]
    assert init["command"] == ["sh", "-c", PREPULL_SCRIPT, "prepull"]
    # One argument each, as written, with `$` doubled so the kubelet's $(VAR) expansion
    # gives back the literal text (see kubelet_expand below).
    assert init["args"] == [text.replace("$", "$$") for text in HOSTILE]
    assert [kubelet_expand(argument, {"NODE_NAME": "node-1"}) for argument in init["args"]] == HOSTILE


def test_the_script_has_nothing_the_kubelet_would_expand() -> None:
    assert "$(" not in PREPULL_SCRIPT
    assert "$$" not in PREPULL_SCRIPT
    assert kubelet_expand(PREPULL_SCRIPT, {"NODE_NAME": "node-1"}) == PREPULL_SCRIPT


def kubelet_expand(text: str, env: dict[str, str]) -> str:
    """What the kubelet does to ``command``/``args`` (k8s.io/kubernetes
    third_party/forked/golang/expansion): ``$$`` → ``$``, ``$(NAME)`` → the variable when
    defined, anything else as written."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            if text[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if text[i + 1] == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2 : end]
                    out.append(env.get(name, text[i : end + 1]))
                    i = end + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


# --- the script, run for real ------------------------------------------------------------

FAKE_DOCKER = r"""#!/bin/sh
# A stand-in for the docker CLI: records its argv (NUL-separated, one record per call)
# and answers like `docker image pull` does; images containing "missing" fail.
printf '%s\0' "$@" >> "$FAKE_DOCKER_LOG"
printf '\n' >> "$FAKE_DOCKER_LOG"
case "$4" in
  *missing*)
    echo "Error response from daemon: pull access denied for $4, repository does not exist" >&2
    exit 1 ;;
esac
echo "1.0: Pulling from library/fake"
echo "Status: Downloaded newer image for $4"
"""

SHELLS = [
    pytest.param(["sh"], id="sh"),
    pytest.param(
        ["busybox", "sh"],
        id="busybox-sh",
        marks=pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox not installed"),
    ),
]


def run_prepull(tmp_path: Path, shell: list[str], images: list[str]) -> tuple[int, str, list[list[str]]]:
    """Run the synthesized container's command as the kubelet would, with a fake docker."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    log = tmp_path / "docker.log"
    log.write_bytes(b"")
    [init] = hostile_pod(images)["initContainers"]
    env = {"NODE_NAME": "node-1"}
    argv = [kubelet_expand(part, env) for part in init["command"] + init["args"]]
    assert argv[0] == "sh"
    result = subprocess.run(
        [*shell, *argv[1:]],
        cwd=tmp_path,
        env={**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_DOCKER_LOG": str(log)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    calls = [record.split("\0") for record in log.read_text().split("\0\n")[:-1]]
    return result.returncode, result.stdout, calls


@pytest.mark.parametrize("shell", SHELLS)
def test_script_pulls_every_image_and_says_so(tmp_path: Path, shell: list[str]) -> None:
    code, output, calls = run_prepull(tmp_path, shell, ["busybox:1.37", "nginx:1.27"])
    assert output == (
        "Pulling images on node 'node-1'...\n"
        "\n"
        "Pulling 'busybox:1.37'...\n"
        "1.0: Pulling from library/fake\n"
        "Status: Downloaded newer image for busybox:1.37\n"
        "\n"
        "Pulling 'nginx:1.27'...\n"
        "1.0: Pulling from library/fake\n"
        "Status: Downloaded newer image for nginx:1.27\n"
        "\n"
        "Pulled all 2 images on node 'node-1'.\n"
    )
    assert code == 0
    assert calls == [["image", "pull", "--", "busybox:1.37"], ["image", "pull", "--", "nginx:1.27"]]


@pytest.mark.parametrize("shell", SHELLS)
def test_script_goes_on_after_a_failure_and_exits_1_naming_each_failure(tmp_path: Path, shell: list[str]) -> None:
    images = ["missing/one:1", "busybox:1.37", "missing/two:2"]
    code, output, calls = run_prepull(tmp_path, shell, images)
    assert output == (
        "Pulling images on node 'node-1'...\n"
        "\n"
        "Pulling 'missing/one:1'...\n"
        "Error response from daemon: pull access denied for missing/one:1, repository does not exist\n"
        "\n"
        "Pulling 'busybox:1.37'...\n"
        "1.0: Pulling from library/fake\n"
        "Status: Downloaded newer image for busybox:1.37\n"
        "\n"
        "Pulling 'missing/two:2'...\n"
        "Error response from daemon: pull access denied for missing/two:2, repository does not exist\n"
        "\n"
        "Failed to pull 2 of 3 images on node 'node-1': 'missing/one:1' 'missing/two:2'\n"
    )
    assert code == 1
    assert [call[3] for call in calls] == images


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_images_reach_docker_verbatim_as_one_argument_and_never_run(tmp_path: Path, shell: list[str]) -> None:
    code, output, calls = run_prepull(tmp_path, shell, HOSTILE)
    assert calls == [["image", "pull", "--", text] for text in HOSTILE]
    assert not (tmp_path / "PWNED").exists()
    assert "uid=" not in output  # `id` never ran
    for text in HOSTILE:
        assert f"Pulling '{text}'...\n" in output
    assert output.endswith("Pulled all 14 images on node 'node-1'.\n")
    assert code == 0
