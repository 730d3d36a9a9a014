"""main.py's command line: values files from -f and PREPULLER_VALUES, exit codes, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import main

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "chart-env-config" / "dev" / "images-prepuller.yml"
PROD = ROOT / "chart-env-config" / "prod" / "images-prepuller.yml"


def run(cwd: Path, *arguments: str, values_env: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGS`` in ``cwd`` (so it writes ``cwd/dist``), as a user would run it."""
    env = {key: value for key, value in os.environ.items() if key not in ("PREPULLER_VALUES", "CDK8S_OUTDIR")}
    env.update(JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK8S_CHECK_UPGRADE="false")
    if values_env is not None:
        env["PREPULLER_VALUES"] = values_env
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def written(cwd: Path) -> dict[str, object]:
    """The DaemonSet main.py wrote (its NetworkPolicy follows it in the same file)."""
    documents = list(yaml.safe_load_all((cwd / "dist" / "prepuller.k8s.yaml").read_text()))
    [document] = [d for d in documents if d["kind"] == "DaemonSet"]
    assert isinstance(document, dict)
    return document


def test_values_files_come_from_the_environment_first_then_from_f() -> None:
    env = {"PREPULLER_VALUES": os.pathsep.join(["a.yml", "", "b.yml"])}
    assert main.values_files(["c.yml", "d.yml"], env) == ["a.yml", "b.yml", "c.yml", "d.yml"]
    assert main.values_files([], {}) == []
    assert main.values_files([], {"PREPULLER_VALUES": ""}) == []


@pytest.mark.slow
def test_without_values_it_writes_the_committed_example_byte_for_byte(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "dist" / "prepuller.k8s.yaml").read_bytes() == (
        ROOT / "dist" / "prepuller.k8s.yaml"
    ).read_bytes()


@pytest.mark.slow
def test_f_writes_the_charts_values_file_in_docker_mode(tmp_path: Path) -> None:
    result = run(tmp_path, "-f", str(DEV))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    daemon_set = written(tmp_path)
    init = daemon_set["spec"]["template"]["spec"]["initContainers"]  # type: ignore[index]
    assert [c["name"] for c in init] == ["prepull"]
    assert init[0]["args"] == ["gcr.io/google-containers/busybox:1.27", "busybox:1-musl"]


@pytest.mark.slow
def test_the_environment_variable_means_the_same_and_f_wins(tmp_path: Path) -> None:
    override = tmp_path / "override.yml"
    override.write_text("docker:\n  images: [redis:7]\n")
    result = run(tmp_path, "--values", str(override), values_env=os.pathsep.join([str(DEV)]))
    assert result.returncode == 0, result.stderr
    init = written(tmp_path)["spec"]["template"]["spec"]["initContainers"]  # type: ignore[index]
    assert init[0]["args"] == ["redis:7"]


@pytest.mark.slow
def test_bad_values_exit_1_with_the_message_and_write_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "values" / "prod.yml"
    bad.parent.mkdir()
    bad.write_text("docker:\n  images:\n    - busybox:1.37\n    - nginx:1.27\n    - 'busybox; rm -rf /'\n")
    result = run(tmp_path, "-f", "values/prod.yml")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "main.py: error: values/prod.yml: docker.images[2]: is not a valid image reference: it contains "
        "whitespace (got 'busybox; rm -rf /')\n"
    )
    assert not (tmp_path / "dist").exists()


@pytest.mark.slow
def test_bad_values_from_the_environment_fail_the_same_way(tmp_path: Path) -> None:
    result = run(tmp_path, values_env="missing.yml")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "main.py: error: missing.yml: cannot be read: No such file or directory\n"
    assert not (tmp_path / "dist").exists()


@pytest.mark.slow
def test_check_validates_and_writes_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "--check", "-f", str(PROD))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (tmp_path / "dist").exists()
    unparseable = tmp_path / "broken.yml"
    unparseable.write_text("images: [busybox\n")
    result = run(tmp_path, "--check", "-f", "broken.yml")
    assert result.returncode == 1
    assert result.stderr == (
        "main.py: error: broken.yml: is not valid YAML: expected ',' or ']', but got '<stream end>' "
        "at line 2, column 1\n"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_usage_error_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: main.py [-h] [-f FILE] [--check]\n")
    assert result.stderr.endswith("main.py: error: unrecognized arguments: --bogus\n")
    assert not (tmp_path / "dist").exists()
