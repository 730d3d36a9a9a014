"""The committed dist/ is exactly what the real cdk8s CLI synthesizes from main.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CDK8S = ROOT / "node_modules" / ".bin" / "cdk8s"

pytestmark = pytest.mark.committed_output


@pytest.mark.slow
def test_dist_matches_a_fresh_cdk8s_synth(tmp_path: Path) -> None:
    assert CDK8S.exists(), "cdk8s-cli is missing: run `make setup` (npm ci)"
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK8S_CHECK_UPGRADE": "false",
    }
    environment.pop("PREPULLER_VALUES", None)
    result = subprocess.run(
        [str(CDK8S), "synth", "--output", str(tmp_path / "dist")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fresh = {p.name: p.read_bytes() for p in sorted((tmp_path / "dist").iterdir())}
    committed = {p.name: p.read_bytes() for p in sorted((ROOT / "dist").iterdir())}
    assert fresh == committed, "dist/ is stale: run `make synth` and commit dist/"


def test_cdk8s_yaml_declares_the_python_app_and_pinned_bindings() -> None:
    text = (ROOT / "cdk8s.yaml").read_text()
    assert "language: python" in text
    assert "app: python main.py" in text
    assert "k8s@1.27.0" in text
    assert (ROOT / "imports" / "k8s" / "__init__.py").exists()
    assert shutil.which("node") is not None
