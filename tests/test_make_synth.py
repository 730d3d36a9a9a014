"""``make synth``: installs only what synthesis needs, and never leaves ``dist/`` emptied.

The real Makefile runs in a copy of the repository's build files: ``make -n`` shows what
``make synth`` would install on a fresh machine, and a fake ``cdk8s`` (which, like the real
CLI, empties its output folder before the app runs, then fails) shows what a failed synth
leaves behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUILD_FILES = (
    "Makefile",
    "pyproject.toml",
    "constraints.txt",
    "constraints-checkov.txt",
    "package.json",
    "package-lock.json",
)

#: A cdk8s CLI that behaves as the real one towards its --output folder: emptied first,
#: then the app runs (here: writes one manifest, then fails or succeeds).
FAKE_CDK8S = """\
#!/bin/sh
set -e
[ "$1" = synth ] && [ "$2" = --output ]
rm -rf "$3" && mkdir -p "$3"
echo 'kind: Half' > "$3/prepuller.k8s.yaml"
if [ -n "$FAKE_CDK8S_FAIL" ]; then echo 'app failed' >&2; exit 1; fi
echo 'kind: New' > "$3/prepuller.k8s.yaml"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the build files, main.py and dist/, with a fake cdk8s where npm puts the real one."""
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "main.py", tmp_path / "main.py")
    shutil.copytree(ROOT / "dist", tmp_path / "dist")
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "cdk8s").write_text(FAKE_CDK8S)
    (bin_dir / "cdk8s").chmod(0o755)
    return tmp_path


def make_synth(repo: Path, *, fail: bool = False, values: str | None = None) -> subprocess.CompletedProcess[str]:
    """`make synth` with the installs taken as done (-o), this interpreter as the venv's."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PREPULLER_VALUES", "FAKE_CDK8S_FAIL", "MAKEFLAGS")}
    environment["PYTHONPATH"] = str(ROOT)
    if fail:
        environment["FAKE_CDK8S_FAIL"] = "1"
    if values is not None:
        environment["PREPULLER_VALUES"] = values
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.runtime",
            "-o",
            "node_modules/.installed",
            "synth",
            f"PY={sys.executable}",
        ],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dist_of(repo: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((repo / "dist").iterdir())}


def test_a_failed_synth_leaves_dist_as_it_was(repo: Path) -> None:
    before = dist_of(repo)
    done = make_synth(repo, fail=True)
    assert done.returncode != 0
    assert "app failed" in done.stderr
    assert dist_of(repo) == before


def test_a_bad_values_file_stops_before_cdk8s_runs(repo: Path) -> None:
    before = dist_of(repo)
    (repo / "bad.yml").write_text("images: ['Not An Image']\n")
    done = make_synth(repo, values="bad.yml")
    assert done.returncode != 0
    assert "main.py: error: bad.yml: images[0]: is not a valid image reference" in done.stderr
    assert "cdk8s synth" not in done.stdout
    assert dist_of(repo) == before


def test_a_successful_synth_replaces_dist(repo: Path) -> None:
    done = make_synth(repo)
    assert done.returncode == 0, done.stderr
    assert dist_of(repo) == {"prepuller.k8s.yaml": b"kind: New\n"}
    assert not (repo / ".dist-new").exists()


def test_synth_on_a_fresh_machine_installs_only_the_package_and_cdk8s_cli(tmp_path: Path) -> None:
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "synth"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    installs = [line for line in done.stdout.splitlines() if " install " in line or line.startswith("npm ")]
    assert installs == [
        ".venv/bin/python -m pip install --quiet --upgrade pip",
        ".venv/bin/python -m pip install --quiet -c constraints.txt -e .",
        "npm ci --no-audit --no-fund --loglevel=error",
    ]
    assert "checkov" not in done.stdout
