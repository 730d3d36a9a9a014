"""Why the API-server egress policies open no DNS port: kubectl in a pod (client-go's in-cluster
configuration) reaches the API server at ``$KUBERNETES_SERVICE_HOST``, an IP address, and
resolves no name.

Run for real: the refresh CronJob's exact argv, with the real kubectl 1.33, in a private mount
namespace (``unshare -m``, root only) where the projected token volume is recreated at its
in-cluster path on a private tmpfs over ``/run``, and ``/etc/resolv.conf`` names an unreachable
server (192.0.2.1, TEST-NET-1); ``strace`` records every ``connect``. Nothing outside the test's
temporary directory changes: the mounts vanish with the namespace.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import cdk8s
import pytest

from prepuller import ImagePrepuller
from prepuller._taint import TOKEN_MOUNT
from tests.conftest import only, synth
from tests.support.apiserver import TOKEN, running_api_server
from tests.support.expansion import expand
from tests.support.kubectl import kubectl_binary

pytestmark = pytest.mark.slow

_SCRIPT = r"""set -eu
mount -t tmpfs tmpfs /run
mkdir -p "$TOKEN_MOUNT"
cp "$SOURCE/token" "$SOURCE/ca.crt" "$SOURCE/namespace" "$TOKEN_MOUNT/"
mount --bind "$SOURCE/resolv.conf" /etc/resolv.conf
exec strace -f -qq -e trace=connect -o "$TRACE" "$@"
"""


def _can_run() -> bool:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("strace")):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


def run_in_cluster(tmp_path: Path, service_host: str | None) -> tuple[subprocess.CompletedProcess[str], set[int], int]:
    """The refresh CronJob's argv as its pod runs it: (result, ports it connected to, the API
    server's port). ``service_host`` replaces the stub's IP address (``None``: keep it)."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="apps")
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily")
    container = only(synth(chart), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert [m["mountPath"] for m in container["volumeMounts"]] == [TOKEN_MOUNT]
    argv = [str(kubectl_binary()), *(expand(part, {}) for part in container["args"])]

    source, trace = tmp_path / "volume", tmp_path / "connect.trace"
    source.mkdir()
    with running_api_server() as server:
        server.add_daemon_set("prepull", "apps")
        (source / "token").write_text(TOKEN)
        (source / "ca.crt").write_bytes(server.certificate)
        (source / "namespace").write_text("apps")
        (source / "resolv.conf").write_text("nameserver 192.0.2.1\noptions timeout:1 attempts:1\n")
        host, port = server.url.removeprefix("https://").rsplit(":", 1)
        env = {
            "KUBERNETES_SERVICE_HOST": service_host or host,  # the kubelet sets the Service's ClusterIP
            "KUBERNETES_SERVICE_PORT": port,
            "HOME": str(tmp_path / "no-home"),
            "PATH": os.environ["PATH"],
            "TOKEN_MOUNT": TOKEN_MOUNT,
            "SOURCE": str(source),
            "TRACE": str(trace),
        }
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", _SCRIPT, "sh", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if result.returncode == 0:
            assert any(r.method == "PATCH" for r in server.requests)
    ports = {int(found) for found in re.findall(r"sin6?_port=htons\((\d+)\)", trace.read_text())}
    return result, ports, int(port)


@pytest.mark.skipif(not _can_run(), reason="needs root, unshare -m and strace")
def test_in_cluster_kubectl_resolves_no_name(tmp_path: Path) -> None:
    result, ports, api_port = run_in_cluster(tmp_path, None)
    assert (result.returncode, result.stdout) == (0, "daemonset.apps/prepull restarted\n"), result.stderr
    assert ports == {api_port}  # only the API server; never 53


@pytest.mark.skipif(not _can_run(), reason="needs root, unshare -m and strace")
def test_the_trace_would_show_a_dns_lookup(tmp_path: Path) -> None:
    """The check above is not vacuous: a host name is looked up on port 53 (and fails here)."""
    result, ports, _ = run_in_cluster(tmp_path, "apiserver.invalid.example")
    assert result.returncode != 0
    assert 53 in ports
