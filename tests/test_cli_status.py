"""``prepuller status`` through its real entry points, with a fake ``kubectl`` on PATH.

The fake is a small script written into a tmp dir: it records its argv (one JSON line per
call) and answers ``get pods`` with ``pods-1.json``, ``pods-2.json``... in turn (the last
one repeated), ``get nodes`` with ``nodes.json``; a ``.err`` file instead makes that call
fail with its text on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from prepuller import _cli_status
from prepuller._cli_status import parse_duration
from prepuller._status import status_report
from tests.status_support import (
    ERR_IMAGE_PULL,
    JSON,
    completed,
    kubelet_pod,
    load,
    node_list,
    pod_list,
    running,
    waiting,
)

pytestmark = pytest.mark.slow

CONSOLE_SCRIPT = Path(sys.executable).with_name("prepuller")

FAKE_KUBECTL = """\
#!{python}
import json, os, sys
from pathlib import Path
here = Path(os.environ["FAKE_KUBECTL_DIR"])
with open(here / "argv.log", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
kind = "pods" if "pods" in sys.argv else "nodes"
counter = here / (kind + ".count")
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
for stem in (f"{{kind}}-{{n}}", kind):
    for suffix, code in ((".err", 1), (".json", 0)):
        path = here / (stem + suffix)
        if path.exists():
            (sys.stderr if code else sys.stdout).write(path.read_text())
            sys.exit(code)
last = max(here.glob(kind + "-*.json"), key=lambda p: int(p.stem.split("-")[1]))
sys.stdout.write(last.read_text())
"""

FORBIDDEN = (
    'Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:ci:deployer" '
    'cannot list resource "nodes" in API group "" at the cluster scope\n'
)

READY = pod_list(
    kubelet_pod("node-a", completed(), completed(), completed()),
    kubelet_pod("node-b", completed(), completed(), completed()),
)
PULLING = pod_list(
    kubelet_pod("node-a", completed(), completed(), completed()),
    kubelet_pod("node-b", completed(), running()),
)
PENDING = pod_list(kubelet_pod("node-a", waiting("PodInitializing")), kubelet_pod("node-b"))
FAILED = pod_list(
    kubelet_pod("node-a", completed(), completed(), completed()),
    kubelet_pod("node-b", completed(), waiting("ErrImagePull", ERR_IMAGE_PULL)),
)


class Kubectl:
    """The fake kubectl's directory: what it will answer and what it was asked."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "kubectl"
        self.dir.mkdir()
        script = self.dir / "kubectl"
        script.write_text(FAKE_KUBECTL.format(python=sys.executable))
        script.chmod(0o755)

    def answer(self, name: str, document: JSON | str) -> None:
        text = document if isinstance(document, str) else json.dumps(document)
        (self.dir / name).write_text(text)

    @property
    def calls(self) -> list[list[str]]:
        log = self.dir / "argv.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    fake = Kubectl(tmp_path)
    fake.answer("nodes.json", node_list("node-a", "node-b", source="nodes.json"))
    return fake


def prepuller(
    *args: str, kubectl: Kubectl | None = None, stdin: str | None = None, script: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real command: ``python -m prepuller`` (or the console script) in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k not in ("PATH", "FAKE_KUBECTL_DIR")}
    env["PATH"] = str(kubectl.dir) if kubectl is not None else "/nonexistent"
    if kubectl is not None:
        env["FAKE_KUBECTL_DIR"] = str(kubectl.dir)
    argv = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "prepuller"]
    return subprocess.run(
        [*argv, "status", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


# --- kubectl: what is passed, and exit codes 0/1/4 ----------------------------------------


def test_ready_cluster_exits_0_and_passes_every_value_as_one_argv_entry(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", READY)
    done = prepuller(
        "--namespace", "prepuller", "--name", "prepull", "--kubeconfig", "/tmp/my config; rm -rf /",
        "--context", "-ctx $(whoami)", kubectl=kubectl,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.endswith("\n2/2 nodes ready, 3 images each\n")
    global_flags = ["--kubeconfig=/tmp/my config; rm -rf /", "--context=-ctx $(whoami)"]
    assert kubectl.calls == [
        [*global_flags, "--namespace=prepuller", "get", "pods", "--selector=name=prepull", "--output=json"],
        [*global_flags, "get", "nodes", "--output=json"],
    ]


def test_defaults_pass_only_the_selector(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", READY)
    assert prepuller(kubectl=kubectl).returncode == 0
    assert kubectl.calls == [
        ["get", "pods", "--selector=name=prepull", "--output=json"],
        ["get", "nodes", "--output=json"],
    ]


def test_failed_pull_exits_1_with_the_kubelet_message(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", FAILED)
    done = prepuller(kubectl=kubectl)
    assert done.returncode == 1
    assert f"failed    ErrImagePull: {ERR_IMAGE_PULL}\n" in done.stdout
    assert done.stdout.endswith("\n1/2 nodes ready: node-b failed 1 image\n")


def test_console_script_is_installed_and_works(kubectl: Kubectl) -> None:
    assert CONSOLE_SCRIPT.exists(), "make setup installs the package editable with its console script"
    kubectl.answer("pods-1.json", PULLING)
    done = prepuller(kubectl=kubectl, script=True)
    assert done.returncode == 1
    assert done.stdout.endswith("\n1/2 nodes ready: node-b waiting for 2 images\n")


def test_forbidden_node_listing_is_one_line_and_the_command_goes_on(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", READY)
    kubectl.answer("nodes.err", FORBIDDEN)
    (kubectl.dir / "nodes.json").unlink()
    done = prepuller(kubectl=kubectl)
    assert done.returncode == 0
    assert (
        "nodes not listed (`kubectl get nodes` failed: " + FORBIDDEN.strip() + "): "
        "nodes without a prepuller pod are not shown\n"
    ) in done.stdout


def test_node_without_pod_makes_it_not_ready(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", READY)
    kubectl.answer("nodes.json", node_list("node-a", "node-b", "node-c", "node-gpu"))
    done = prepuller(kubectl=kubectl)
    assert done.returncode == 1
    assert done.stdout.endswith("\n2/3 nodes ready: node-c has no prepuller pod; not counted: node-gpu (excluded)\n")


def test_kubectl_error_exits_4_with_its_message(kubectl: Kubectl) -> None:
    kubectl.answer("pods.err", 'error: context "prod" does not exist\n')
    done = prepuller("--context", "prod", kubectl=kubectl)
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr == 'prepuller status: error: `kubectl get pods` failed: error: context "prod" does not exist\n'


def test_kubectl_missing_exits_4() -> None:
    done = prepuller()
    assert done.returncode == 4
    assert done.stderr == (
        "prepuller status: error: kubectl not found on PATH; install it, or pass the pods' JSON with --from-file\n"
    )


def test_kubectl_printing_something_else_exits_4(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", "No resources found in default namespace.\n")
    done = prepuller(kubectl=kubectl)
    assert done.returncode == 4
    assert done.stderr == (
        "prepuller status: error: `kubectl get pods` printed something that is not JSON: "
        "Expecting value: line 1 column 1 (char 0)\n"
    )
    assert "Traceback" not in done.stderr


def test_json_output_for_scripts(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", FAILED)
    done = prepuller("--output", "json", kubectl=kubectl)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert (document["ready"], document["nodesCounted"], document["nodesReady"]) == (False, 2, 1)
    assert document["summary"] == "1/2 nodes ready: node-b failed 1 image"
    failed = document["nodes"][1]["images"][1]
    assert (failed["image"], failed["state"], failed["reason"], failed["message"]) == (
        "redis:7.2", "failed", "ErrImagePull", ERR_IMAGE_PULL,
    )  # fmt: skip


# --- --wait ------------------------------------------------------------------------------


def test_wait_polls_until_ready_and_shows_progress(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", PENDING)
    kubectl.answer("pods-2.err", "Unable to connect to the server: net/http: TLS handshake timeout\n")
    kubectl.answer("pods-3.json", PULLING)
    kubectl.answer("pods-4.json", READY)
    done = prepuller("-n", "prepuller", "--wait", "--timeout", "10m", "--interval", "10ms", kubectl=kubectl)
    assert done.returncode == 0, done.stderr
    progress = [line.split("] ", 1)[1] for line in done.stderr.splitlines()]
    assert progress == [
        "0/2 nodes ready: node-a waiting for 3 images, node-b waiting for 3 images",
        "kubectl failed, retrying: `kubectl get pods` failed: Unable to connect to the server: "
        "net/http: TLS handshake timeout",
        "1/2 nodes ready: node-b waiting for 2 images",
        "2/2 nodes ready, 3 images each",
    ]
    assert done.stdout.endswith("\n2/2 nodes ready, 3 images each\n")
    pods_calls = [call for call in kubectl.calls if "pods" in call]
    assert pods_calls == [["--namespace=prepuller", "get", "pods", "--selector=name=prepull", "--output=json"]] * 4


def test_wait_times_out_with_exit_3_and_prints_the_last_state(kubectl: Kubectl) -> None:
    kubectl.answer("pods-1.json", FAILED)
    done = prepuller("--wait", "--timeout", "200ms", "--interval", "20ms", "-o", "json", kubectl=kubectl)
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1].endswith("] timed out after 0.2s: 1/2 nodes ready: node-b failed 1 image")
    assert json.loads(done.stdout)["ready"] is False


def test_wait_fails_fast_when_the_first_poll_fails(kubectl: Kubectl) -> None:
    kubectl.answer("pods.err", "error: You must be logged in to the server (Unauthorized)\n")
    done = prepuller("--wait", "--timeout", "10m", kubectl=kubectl)
    assert done.returncode == 4
    assert len(kubectl.calls) == 1


def test_wait_cannot_read_a_file() -> None:
    done = prepuller("--wait", "--from-file", "-", stdin="{}")
    assert done.returncode == 2
    assert done.stderr == (
        "prepuller status: error: --wait polls the cluster through kubectl; it cannot be used with --from-file\n"
    )


# --- --from-file and --nodes-file ---------------------------------------------------------


def test_from_stdin_runs_no_kubectl(kubectl: Kubectl) -> None:
    done = prepuller("--from-file", "-", stdin=json.dumps(load("docker-pods.json")), kubectl=kubectl)
    assert done.returncode == 0
    assert done.stdout.endswith(
        "nodes not listed (no --nodes-file given): nodes without a prepuller pod are not shown\n"
        "1/1 node ready, 2 images each\n"
    )
    assert kubectl.calls == []


def test_from_files_with_nodes(tmp_path: Path) -> None:
    pods = write(tmp_path, "pods.json", load("keep-pods.json"))
    nodes = write(tmp_path, "nodes.json", node_list("node-a", "node-down"))
    done = prepuller("--from-file", pods, "--nodes-file", nodes)
    assert done.returncode == 0
    assert done.stdout.endswith("\n1/1 node ready, 3 images each; not counted: node-down (node not Ready)\n")


def kubectl_yaml(document: JSON) -> str:
    """``document`` as ``kubectl get -o yaml`` prints it; timestamps left unquoted, which YAML
    would otherwise read as dates."""
    text = yaml.safe_dump(document, sort_keys=False)
    return re.sub(r"'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)'", r"\1", text)


def test_kubectl_yaml_reads_as_its_json(tmp_path: Path) -> None:
    pods, nodes = load("keep-pods.json"), node_list("node-a", "node-down")
    yaml_text = kubectl_yaml(pods)
    assert re.search(r"startedAt: \d{4}-", yaml_text), "the fixture should carry unquoted timestamps"
    from_json = prepuller(
        "--from-file",
        write(tmp_path, "pods.json", pods),
        "--nodes-file",
        write(tmp_path, "nodes.json", nodes),
        "-o",
        "json",
    )
    from_yaml = prepuller(
        "--from-file",
        write(tmp_path, "pods.yaml", yaml_text),
        "--nodes-file",
        write(tmp_path, "nodes.yaml", kubectl_yaml(nodes)),
        "-o",
        "json",
    )
    assert (from_yaml.returncode, from_yaml.stderr) == (0, "")
    assert from_yaml.stdout == from_json.stdout
    on_stdin = prepuller("--from-file", "-", stdin=yaml_text)
    assert on_stdin.returncode == 0
    assert on_stdin.stdout.endswith("1/1 node ready, 3 images each\n")


def test_a_file_that_is_neither_json_nor_yaml_exits_5_with_the_position(tmp_path: Path) -> None:
    path = write(tmp_path, "pods.yaml", "kind: List\nitems: [a\n b: c\n")
    done = prepuller("--from-file", path)
    assert done.returncode == 5
    assert done.stderr.startswith(f"prepuller status: error: --from-file {path}: neither JSON nor YAML: ")
    assert "line 3, column 3" in done.stderr


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        (["-n", "prepuller"], "-n/--namespace"),
        (["--namespace=prepuller"], "-n/--namespace"),
        (["--context", "prod"], "--context"),
        (["--kubeconfig", "/tmp/config"], "--kubeconfig"),
    ],
)
def test_kubectl_options_with_from_file_are_a_usage_error(kubectl: Kubectl, option: list[str], shown: str) -> None:
    done = prepuller("--from-file", "-", *option, stdin=json.dumps(READY), kubectl=kubectl)
    assert (done.returncode, done.stdout) == (2, "")
    namespace = "-n NAMESPACE " if shown == "-n/--namespace" else ""
    assert done.stderr == (
        f"prepuller status: error: {shown} is for kubectl, which --from-file does not run: select the pods "
        f"when you write the file (kubectl get pods {namespace}-l name=NAME -o json)\n"
    )
    assert kubectl.calls == []


def test_bad_json_file_exits_5_with_the_position(tmp_path: Path) -> None:
    path = write(tmp_path, "pods.json", '{"kind": "List",\n "items": [}\n')
    done = prepuller("--from-file", path)
    assert done.returncode == 5
    assert done.stderr == (
        f"prepuller status: error: --from-file {path}: not JSON: Expecting value: line 2 column 12 (char 28)\n"
    )


def test_missing_file_exits_5(tmp_path: Path) -> None:
    done = prepuller("--from-file", str(tmp_path / "nope.json"))
    assert done.returncode == 5
    assert done.stderr.startswith(f"prepuller status: error: --from-file {tmp_path / 'nope.json'}: cannot read it: ")


def test_json_of_the_wrong_shape_exits_5_naming_the_place(tmp_path: Path) -> None:
    nodes = write(tmp_path, "nodes.json", {"kind": "List", "items": [{"kind": "Pod"}]})
    done = prepuller("--from-file", "-", "--nodes-file", nodes, stdin=json.dumps(READY))
    assert done.returncode == 5
    assert done.stderr == (
        f"prepuller status: error: --nodes-file {nodes}: not what `kubectl get -o json` prints: "
        "nodes.items[0].kind: must be 'Node' (got 'Pod')\n"
    )


# --- usage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--name", "prepull,app!=x"],
            "argument --name: must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit (got 'prepull,app!=x')",
        ),
        (
            ["--namespace", "Kube System"],
            "argument -n/--namespace: must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (got 'Kube System')",
        ),
        (
            ["--timeout", "10x"],
            "argument --timeout: must be a duration such as 10m, 1m30s, 45s or 500ms, or a number of seconds "
            "(got '10x')",
        ),
        (["--interval", "0s"], "argument --interval: must be more than 0 (got '0s')"),
        # (the list of choices after this is quoted differently by different Python versions)
        (["--output", "yaml"], "argument -o/--output: invalid choice: 'yaml'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    done = prepuller(*args)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(f"prepuller status: error: {message}")
    assert "Traceback" not in done.stderr


def test_help_documents_the_exit_codes() -> None:
    done = prepuller("--help")
    assert done.returncode == 0
    for line in (
        "  0    every image is on every node",
        "  3    --wait: the timeout passed",
        "  4    kubectl is missing",
    ):
        assert line in done.stdout


def test_the_command_line_does_not_start_the_cdk8s_runtime() -> None:
    code = "import sys, prepuller._cli; assert 'cdk8s' not in sys.modules and 'jsii' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- in process: durations and the wait loop's timing --------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600.0), ("1m30s", 90.0), ("500ms", 0.5), ("1.5h", 5400.0), ("45", 45.0), ("0", 0.0), ("2h0m5s", 7205.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10x", "1s2", "-1s", "-5", "nan", "inf", "1 m", "1m-30s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


class FakeClock:
    def __init__(self) -> None:
        self.time = 1000.0

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds


def test_wait_prints_when_nothing_changes_at_least_once_a_minute(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = status_report(PULLING)
    monkeypatch.setattr(_cli_status, "_report", lambda args: report)
    parser = argparse.ArgumentParser()
    _cli_status.add_parser(parser.add_subparsers())
    args = parser.parse_args(["status", "--wait", "--timeout", "2m", "--interval", "25s"])
    clock = FakeClock()
    assert _cli_status.run(args, clock=_cli_status._Clock(now=clock.now, sleep=clock.sleep)) == 3
    summary = "1/2 nodes ready: node-b waiting for 2 images"
    assert capsys.readouterr().err.splitlines() == [
        f"[0s] {summary}",
        f"[1m15s] {summary}",
        f"[2m00s] timed out after 2m00s: {summary}",
    ]
    assert clock.time == 1120.0  # the last sleep is cut short at the deadline
