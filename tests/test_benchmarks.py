"""The benchmark scripts still run (one tiny case each); nothing here is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("case", ["prepuller", "bare-cdk8s", "pyyaml"])
def test_each_synth_benchmark_case_runs(case: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "synth.py"), "--child", case, "3", "1"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK8S_CHECK_UPGRADE": "false"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(measured) == {"seconds", "peak_mib"}
    assert measured["seconds"] > 0 and measured["peak_mib"] > 0


@pytest.mark.slow
def test_the_lock_benchmark_runs() -> None:
    from tests.support.registry import available

    if not available():
        pytest.skip("needs Debian's docker-registry and openssl")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lock.py"), "--images", "3", "--runs", "1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "requests per single-platform image, once a token is held: 2.00 (goal <= 2)" in result.stdout
