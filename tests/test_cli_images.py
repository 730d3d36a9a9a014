"""``prepuller images`` through its real entry points: the installed console script and
``python -m prepuller``, each run as a subprocess."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from prepuller import ImagePrepuller

from .conftest import pod_spec, synth, validate_strictly
from .test_discovery import KUBECTL_IMAGES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
KUBECTL_JSON = FIXTURES / "kubectl-get-workloads-all-namespaces.json"
HELM = FIXTURES / "helm-template.yaml"

#: `pip install -e .` (make setup) puts the console script next to the interpreter.
CONSOLE_SCRIPT = Path(sys.executable).parent / "prepuller"
ENTRY_POINTS = [
    pytest.param((str(CONSOLE_SCRIPT),), id="console-script"),
    pytest.param((sys.executable, "-m", "prepuller"), id="python-m"),
]


def run(
    *args: str | Path,
    stdin: str | bytes | None = None,
    entry: tuple[str, ...] = (str(CONSOLE_SCRIPT),),
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} is missing: run `make setup` (pip install -e .)"
    data = stdin.encode() if isinstance(stdin, str) else stdin
    process = subprocess.run(
        [*entry, *map(str, args)],
        input=data if data is not None else b"",
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        timeout=120,
        check=False,
    )
    result = subprocess.CompletedProcess(
        process.args, process.returncode, process.stdout.decode(), process.stderr.decode()
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


KUBECTL_LINES = "".join(f"{image}\n" for image, _, _ in KUBECTL_IMAGES)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_kubectl_json_on_stdin(entry: tuple[str, ...]) -> None:
    result = run("images", "-", stdin=KUBECTL_JSON.read_text(), entry=entry)
    assert (result.returncode, result.stdout, result.stderr) == (0, KUBECTL_LINES, "")


def test_stdin_is_the_default_input() -> None:
    result = run("images", stdin=KUBECTL_JSON.read_text())
    assert (result.returncode, result.stdout) == (0, KUBECTL_LINES)


def test_count_sorts_most_used_first_ties_in_first_seen_order() -> None:
    result = run("images", KUBECTL_JSON, "--count")
    expected = [f"{count}  {image}" for image, count, _ in KUBECTL_IMAGES if count == 2]
    expected += [f"{count}  {image}" for image, count, _ in KUBECTL_IMAGES if count == 1]
    assert result.returncode == 0
    assert result.stdout.splitlines() == expected


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_values_format_is_a_values_file_for_the_construct(entry: tuple[str, ...], chart: cdk8s.Chart) -> None:
    result = run(
        "images",
        "-",
        "--format",
        "values",
        "--exclude",
        "registry.k8s.io/*",
        stdin=KUBECTL_JSON.read_text(),
        entry=entry,
    )
    assert result.returncode == 0
    assert result.stdout == (
        "# Images to pre-pull, written by `prepuller images --format values`\n"
        "# from: <stdin>\n"
        "# Load with: python main.py -f THIS_FILE  (or PREPULLER_VALUES=THIS_FILE make synth)\n"
        "images:\n"
        "  - busybox:1.36\n"
        "  - nginx:1.25.3\n"
        "  - ghcr.io/example/log-shipper:2.4.0\n"
        "  - quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0\n"
        "  - quay.io/prometheus/prometheus:v2.48.0\n"
        "  - ghcr.io/example/report:1.0@sha256:845e91831319e89c4d656bdb80c278ac09a7230d61e5dfd2e1b1fbb436ac8917\n"
        "  - ghcr.io/example/web-migrate:3.1.0\n"
        "  - alpine:3.19\n"
        "  - nginx:1.25.2\n"
    )
    values = yaml.safe_load(result.stdout)
    assert list(values) == ["images"]
    # The keys are the construct's keyword arguments: the file feeds it directly.
    manifests = synth_with(chart, values)
    assert [c["image"] for c in pod_spec(manifests)["initContainers"]][1:] == values["images"]


def synth_with(chart: cdk8s.Chart, values: dict[str, Any]) -> list[dict[str, Any]]:
    ImagePrepuller(chart, "prepull", **values)
    manifests = synth(chart)
    validate_strictly(manifests)
    return manifests


def test_values_format_quotes_what_yaml_needs_and_counts_as_comments(tmp_path: Path) -> None:
    manifest = tmp_path / "pods.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        "spec: {containers: [{name: a, image: '[fd00::1]:5000/team/app:1'}, {name: b, image: 'app:1.0'}]}\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: a, image: 'app:1.0'}]}\n"
    )
    result = run("images", manifest, "--format", "values", "--count")
    assert result.stdout.splitlines()[3:] == [
        "images:",
        "  - app:1.0  # 2 workloads",
        "  - '[fd00::1]:5000/team/app:1'  # 1 workload",
    ]
    assert yaml.safe_load(result.stdout) == {"images": ["app:1.0", "[fd00::1]:5000/team/app:1"]}


def test_json_format() -> None:
    result = run("images", KUBECTL_JSON, HELM, "--format", "json", "--include", "*busybox*")
    assert result.returncode == 0
    assert json.loads(result.stdout) == [
        {
            "image": "busybox:1.36",
            "count": 2,
            "workloads": ["Deployment default/web", "Pod default/debug"],
            "sources": [str(KUBECTL_JSON)],
        },
        {
            "image": "busybox",
            "count": 1,
            "workloads": ["Pod release-name-webapp-test-connection"],
            "sources": [str(HELM)],
        },
    ]


def test_include_and_exclude_globs() -> None:
    result = run(
        "images",
        KUBECTL_JSON,
        "--include",
        "registry.k8s.io/*",
        "--include",
        "docker.io/library/*",
        "--exclude",
        "*:v1.29.0",
    )
    assert result.stdout.splitlines() == [
        "busybox:1.36",
        "nginx:1.25.3",
        "registry.k8s.io/coredns/coredns:v1.11.1",
        "alpine:3.19",
        "nginx:1.25.2",
        "registry.k8s.io/etcd:3.5.10-0",
    ]


def test_folders_are_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    def pod(image: str) -> str:
        return (
            f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, image: '{image}'}}]}}\n"
        )

    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "z.yaml").write_text(pod("top-z:1"))
    (tmp_path / "b" / "deeper" / "x.yml").write_text(pod("b-deeper-x:1"))
    (tmp_path / "b" / "a.json").write_text(json.dumps(yaml.safe_load(pod("b-a:1"))))
    (tmp_path / "a" / "m.YAML").write_text(pod("a-m:1"))
    (tmp_path / "a" / "notes.txt").write_text(pod("ignored-txt:1"))
    (tmp_path / "a" / "chart.tpl").write_text("{{ .Values.broken")
    result = run("images", tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["top-z:1", "a-m:1", "b-a:1", "b-deeper-x:1"]


def test_multi_document_yaml_with_comments_and_empty_documents(tmp_path: Path) -> None:
    manifest = tmp_path / "all.yaml"
    manifest.write_text(
        "# leading comment\n"
        "---\n"
        "---\n"
        "# a document with only a comment\n"
        "---\n"
        "apiVersion: apps/v1   # trailing comment\n"
        "kind: Deployment\n"
        "metadata:\n  name: web\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        # the app\n"
        "        - name: web\n          image: nginx:1.25 # pinned\n"
        "---\n"
        "...\n"
        "---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: 'Bad Image'}]\n"
    )
    result = run("images", manifest)
    assert (result.returncode, result.stdout) == (0, "nginx:1.25\n")
    assert result.stderr == (
        f"prepuller images: warning: {manifest}: document 6 at line 24 (Pod p): spec.containers[0].image: "
        "is not a valid image reference: it contains whitespace (got 'Bad Image') (left out)\n"
    )


def test_helm_template_output_on_stdin() -> None:
    result = run("images", "-", stdin=HELM.read_text())
    assert result.stdout.splitlines() == [
        "ghcr.io/example/webapp-migrations:1.16.0",
        "ghcr.io/example/webapp:1.16.0",
        "busybox",
    ]


def test_the_prepullers_own_objects_are_left_out_of_synthesized_output() -> None:
    """dist/ holds only a synthesized prepuller: its helper, pulled and pause images are not
    workloads to pre-pull for, so nothing is listed (and the empty result is a warning)."""
    result = run("images", "dist/")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "prepuller images: warning: no container images found\n"


def test_include_prepuller_lists_the_prepullers_own_images() -> None:
    result = run("images", "dist/", "--include-prepuller")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "docker.io/library/busybox:1.37.0-musl",
        "docker.io/library/python:3.12-slim",
        "quay.io/jupyter/scipy-notebook:2024-10-07",
        "gcr.io/distroless/static-debian12:nonroot",
        "registry.k8s.io/pause:3.10",
    ]


def test_a_clusters_prepuller_pods_and_refresh_cronjob_are_not_counted(tmp_path: Path) -> None:
    """What `kubectl get ds,cronjob,pod -o json` returns from a cluster running a prepuller with
    refresh_schedule beside one Deployment: only the Deployment's image is listed and counted."""
    app = cdk8s.Testing.app()
    chart = cdk8s.Chart(app, "c", namespace="tools")
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily")
    synthesized = synth(chart)
    [daemon_set] = [m for m in synthesized if m["kind"] == "DaemonSet"]
    [cron_job] = [m for m in synthesized if m["kind"] == "CronJob"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "prepull-x7k2q",
            "namespace": "tools",
            "labels": daemon_set["spec"]["template"]["metadata"]["labels"],
            "ownerReferences": [{"kind": "DaemonSet", "name": "prepull", "controller": True}],
        },
        "spec": daemon_set["spec"]["template"]["spec"],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}},
    }
    listing = tmp_path / "cluster.json"
    listing.write_text(json.dumps({"kind": "List", "items": [daemon_set, cron_job, pod, deployment]}))
    result = run("images", listing, "--count")
    assert (result.returncode, result.stdout, result.stderr) == (0, "1  nginx:1.25\n", "")
    everything = run("images", listing, "--count", "--include-prepuller")
    assert everything.stdout.splitlines() == [
        "2  nginx:1.25",
        "1  docker.io/library/busybox:1.37.0-musl",
        "1  registry.k8s.io/pause:3.10",
        "1  registry.k8s.io/kubectl:v1.33.9",
    ]


def test_invalid_references_warn_and_strict_makes_them_an_error(tmp_path: Path) -> None:
    manifest = tmp_path / "list.json"
    manifest.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok", "namespace": "ns"},
                     "spec": {"containers": [{"name": "c", "image": "ok:1"}]}},
                    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad", "namespace": "ns"},
                     "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "Ok:1"}]}}}},
                ],
            }
        )
    )  # fmt: skip
    warning = (
        f"prepuller images: warning: {manifest}: document 1, items[1] (Deployment ns/bad): "
        "spec.template.spec.containers[0].image: is not a valid image reference: the repository path must be "
        "lowercase (got 'Ok:1') (left out)\n"
    )
    assert (run("images", manifest).returncode, run("images", manifest).stderr) == (0, warning)
    strict = run("images", manifest, "--strict")
    assert (strict.returncode, strict.stdout, strict.stderr) == (1, "ok:1\n", warning)


def test_no_images_found_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    result = run("images", tmp_path / "svc.yaml", "--format", "values")
    assert (result.returncode, result.stderr) == (0, "prepuller images: warning: no container images found\n")
    assert yaml.safe_load(result.stdout) == {"images": []}
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("images", empty, "--strict")
    assert result.returncode == 1
    assert result.stderr == (
        f"prepuller images: warning: {empty}: no *.yaml, *.yml or *.json files in this folder\n"
        "prepuller images: warning: no container images found\n"
    )


# --- input errors: exit 1, a message with file and position, nothing on stdout -------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_unparseable_yaml(entry: tuple[str, ...], tmp_path: Path) -> None:
    good = tmp_path / "a-good.yaml"
    good.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'x:1'}]}\n")
    bad = tmp_path / "b-bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n   labels: {}\n")
    result = run("images", tmp_path, entry=entry)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"prepuller images: error: {bad}:5:10: cannot parse YAML: mapping values are not allowed here\n"
    )


def test_unparseable_yaml_on_stdin_names_the_flow_start() -> None:
    result = run("images", "-", stdin="kind: Pod\nspec:\n  containers: [\n    {name: a, image: b\n")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "prepuller images: error: <stdin>:5:1: cannot parse YAML: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping started at 4:5)\n"
    )


def test_unparseable_json(tmp_path: Path) -> None:
    bad = tmp_path / "list.json"
    bad.write_text('{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod",}\n  ]\n}\n')
    result = run("images", bad)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"prepuller images: error: {bad}:4:20: cannot parse JSON: Expecting property name enclosed in double quotes\n"
    )


def test_unparseable_json_on_stdin_reports_the_json_error() -> None:
    result = run("images", "-", stdin='{"kind": "List", "items": [}')
    assert (result.returncode, result.stderr) == (
        1,
        "prepuller images: error: <stdin>:1:28: cannot parse JSON: Expecting value\n",
    )


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    result = run("images", tmp_path / "nope.yaml")
    assert (result.returncode, result.stderr) == (
        1,
        f"prepuller images: error: {tmp_path / 'nope.yaml'}: no such file or folder\n",
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"kind: Pod\n# caf\xe9\n")
    result = run("images", latin)
    assert (result.returncode, result.stderr) == (
        1,
        f"prepuller images: error: {latin}: not UTF-8 text (byte 0xe9 at offset 15)\n",
    )


@pytest.mark.parametrize(
    ("name", "text", "language"),
    [("deep.yaml", "a: " + "[" * 5000 + "]" * 5000, "YAML"), ("deep.json", "[" * 100000 + "]" * 100000, "JSON")],
)
def test_input_nested_too_deeply(tmp_path: Path, name: str, text: str, language: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = run("images", path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"prepuller images: error: {path}: cannot parse {language}: nested too deeply\n"


def test_output_that_cannot_be_written() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "images", str(HELM)], stdout=full, stderr=subprocess.PIPE, text=True, check=False
        )
    assert (result.returncode, result.stderr) == (
        1,
        "prepuller images: error: cannot write the output: No space left on device\n",
    )


# --- usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("images", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
        (("images", "--bogus"), "unrecognized arguments: --bogus"),
        ((), "the following arguments are required: COMMAND"),
        (("frobnicate",), "argument COMMAND: invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: prepuller")
    assert message in result.stderr


def test_no_input_on_a_terminal_is_a_usage_error() -> None:
    """Without PATH the command reads stdin, unless stdin is a terminal: then it would hang."""
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "images"], stdin=terminal, capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: prepuller images [-h]")
    assert result.stderr.endswith(
        "prepuller images: error: no input: give a PATH, or - and pipe manifests into stdin\n"
    )


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_help_documents_the_exit_codes(entry: tuple[str, ...]) -> None:
    result = run("images", "--help", entry=entry)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: prepuller images [-h]")
    assert (
        "exit codes:\n"
        "  0  images listed (warnings about invalid references may have been printed)\n"
        "  1  an input could not be read or parsed; with --strict also any warning\n"
        "  2  usage error (unknown option, no input given on a terminal)\n"
    ) in result.stdout
    top = run("--help", entry=entry)
    assert top.returncode == 0
    assert "images" in top.stdout


def test_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    """`prepuller images ... | head -1`: more output than a pipe buffer, reader gone early."""
    items = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
         "spec": {"containers": [{"name": "c", "image": f"registry.example.com/team/app-{i}:1.0.{i}"}]}}
        for i in range(5000)
    ]  # fmt: skip
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, "-c", f'set -o pipefail; "{CONSOLE_SCRIPT}" images "{big}" | head -n 1'],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.stdout == "registry.example.com/team/app-0:1.0.0\n"
    assert result.stderr == ""


def test_the_command_does_not_start_the_cdk8s_runtime() -> None:
    """Reading YAML needs neither Node.js nor jsii: the package imports cdk8s lazily."""
    code = (
        "import sys; from prepuller._cli import main; "
        f"code = main(['images', {str(HELM)!r}]); "
        "print(code, 'cdk8s' in sys.modules, 'jsii' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout.splitlines()[-1] == "0 False False"
