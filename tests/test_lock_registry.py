"""``prepuller lock`` against a real registry on loopback (Debian's ``docker-registry``).

The tests push their own images through the registry's HTTP API: single-platform OCI and
Docker v2 images, a multi-platform OCI index (with a buildkit-style attestation entry), then
serve the same storage anonymously over HTTP, over TLS with basic auth (a CA made here), and
with token auth (a token server of our own). Ports are chosen at run time, on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from prepuller import _cli_lock
from prepuller._cli import main
from prepuller._lockfile import lock_schema
from prepuller._registry import RegistryClient
from tests.support.registry import Certificates, Pushed, Pusher, Registry, TokenServer, available, make_certificates

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not available(), reason="needs Debian's docker-registry and openssl"),
]

USER, PASSWORD = "alice", "s3cret"


class Store:
    """The registry storage the tests share, and what was pushed into it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.single: Pushed
        self.docker: Pushed
        self.amd64: Pushed
        self.arm64: Pushed
        self.index = ""
        self.many: list[Pushed] = []


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    work = tmp_path_factory.mktemp("registry")
    store = Store(work / "storage")
    store.folder.mkdir()
    registry = Registry(store.folder, work).start()
    pusher = Pusher(registry.url)
    try:
        store.single = pusher.image("test/single", "1", layers=[b"one" * 100, b"two" * 50])
        store.docker = pusher.image("test/docker", "1", platform="linux/arm64", docker=True)
        store.amd64 = pusher.image("test/multi", None, platform="linux/amd64", layers=[b"a" * 1000])
        store.arm64 = pusher.image("test/multi", None, platform="linux/arm64/v8", layers=[b"b" * 2000])
        store.index = pusher.index("test/multi", "1", [store.amd64, store.arm64])
        store.many = [pusher.image(f"many/image-{number}", "1.0", layers=[b"x" * number]) for number in range(20)]
    finally:
        pusher.close()
        registry.stop()
    yield store


def _serve(store: Store, tmp_path: Path, **options: Any) -> Iterator[Registry]:
    registry = Registry(store.folder, tmp_path, **options).start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def plain(store: Store, tmp_path: Path) -> Iterator[Registry]:
    """The store, anonymous, over plain HTTP."""
    yield from _serve(store, tmp_path)


@pytest.fixture
def basic(store: Store, tmp_path: Path, certificates: Certificates) -> Iterator[Registry]:
    """The store over TLS (certificate of the test CA) with basic auth (htpasswd, bcrypt)."""
    yield from _serve(store, tmp_path, tls=certificates, htpasswd={USER: PASSWORD})


@pytest.fixture
def token_server(certificates: Certificates) -> Iterator[TokenServer]:
    server = TokenServer(certificates, {USER: PASSWORD, "bob": "bobpass"}, allowed={"bob": ["test/single"]}).start()
    yield server
    server.stop()


@pytest.fixture
def token(store: Store, tmp_path: Path, certificates: Certificates, token_server: TokenServer) -> Iterator[Registry]:
    """The store over plain HTTP with token auth from ``token_server``."""
    yield from _serve(store, tmp_path, token=(token_server.realm, certificates.token_cert))


def docker_config(tmp_path: Path, host: str, user: str = USER, password: str = PASSWORD) -> Path:
    path = tmp_path / "docker-config.json"
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {f"https://{host}/v2/": {"auth": auth}}}))
    return path


def lock(*args: str) -> int:
    return main(["lock", *args])


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    jsonschema.validate(data, lock_schema())
    return data


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


# --- anonymous, plain HTTP ------------------------------------------------------------------


def test_locks_single_and_multi_platform_images(plain: Registry, store: Store, tmp_path: Path) -> None:
    out = tmp_path / "prepuller.lock.json"
    single, docker, multi = (f"{plain.host}/test/single:1", f"{plain.host}/test/docker:1", f"{plain.host}/test/multi:1")
    assert lock(single, docker, multi, "-o", str(out), "--insecure-registry", plain.host) == 0
    assert read(out) == {
        "images": {
            single: {
                "digest": store.single.digest,
                "platforms": {"linux/amd64": {"digest": store.single.digest, "size": store.single.size}},
            },
            docker: {
                "digest": store.docker.digest,
                "platforms": {"linux/arm64": {"digest": store.docker.digest, "size": store.docker.size}},
            },
            multi: {
                "digest": store.index,  # the index's digest; the attestation entry is not a platform
                "platforms": {
                    "linux/amd64": {"digest": store.amd64.digest, "size": store.amd64.size},
                    "linux/arm64/v8": {"digest": store.arm64.digest, "size": store.arm64.size},
                },
            },
        }
    }
    first = out.read_bytes()
    assert lock(multi, docker, single, "-o", str(out), "--insecure-registry", plain.host) == 0
    assert out.read_bytes() == first  # deterministic, whatever the order
    assert first.endswith(b"}\n") and first.startswith(b'{\n  "images": {\n')


def test_a_digest_reference_is_checked_and_kept(
    plain: Registry, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lock.json"
    pinned = f"{plain.host}/test/multi:1@{store.index}"
    assert lock(pinned, "-o", str(out), "--insecure-registry", plain.host) == 0
    assert read(out)["images"][pinned]["digest"] == store.index
    absent = f"{plain.host}/test/multi@sha256:{'0' * 64}"
    capsys.readouterr()
    assert lock(absent, "-o", str(out), "--insecure-registry", plain.host) == 3
    assert stderr_lines(capsys) == [
        f"prepuller lock: {absent}: manifest sha256:{'0' * 64} not found in {plain.host}/test/multi",
        "prepuller lock: 1 of 1 images could not be resolved",
    ]


def test_platforms_can_be_restricted(
    plain: Registry, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lock.json"
    multi = f"{plain.host}/test/multi:1"
    assert lock(multi, "-o", str(out), "--insecure-registry", plain.host, "--platform", "linux/arm64") == 0
    assert read(out)["images"][multi]["platforms"] == {
        "linux/arm64/v8": {"digest": store.arm64.digest, "size": store.arm64.size}
    }
    single = f"{plain.host}/test/single:1"
    capsys.readouterr()
    assert lock(single, "-o", str(out), "--insecure-registry", plain.host, "--platform", "linux/arm64") == 3
    assert stderr_lines(capsys)[0] == f"prepuller lock: {single}: no linux/arm64 image (it has linux/amd64)"


def test_a_tag_moved_between_two_runs_is_reported_by_check(
    plain: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pusher = Pusher(plain.url)
    first = pusher.image("test/moving", "stable", layers=[b"first"])
    out = tmp_path / "lock.json"
    moving, single = f"{plain.host}/test/moving:stable", f"{plain.host}/test/single:1"
    args = ["-o", str(out), "--insecure-registry", plain.host]
    assert lock(moving, single, *args) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert lock(moving, single, *args, "--check") == 0
    assert stderr_lines(capsys) == [f"prepuller lock: {out} is current (2 images)"]

    second = pusher.image("test/moving", "stable", layers=[b"second"])
    pusher.close()
    assert second.digest != first.digest
    assert lock(moving, single, *args, "--check") == 1
    assert stderr_lines(capsys) == [
        f"prepuller lock: {moving}: locked {first.digest}, now resolves to {second.digest}",
        f"prepuller lock: {out} is not current: 1 of 2 images",
    ]
    assert out.read_bytes() == before  # --check writes nothing
    extra = f"{plain.host}/test/docker:1"
    assert lock(single, extra, *args, "--check") == 1
    assert stderr_lines(capsys)[0].startswith(f"prepuller lock: {extra}: missing from {out} (resolves to sha256:")
    assert lock(moving, single, *args) == 0
    assert read(out)["images"][moving]["digest"] == second.digest


def test_unknown_repository_and_tag_fail_and_leave_the_lock_untouched(
    plain: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "lock.json"
    out.parent.mkdir()
    out.write_text("previous\n")
    good, repo, tag = (f"{plain.host}/test/single:1", f"{plain.host}/test/nothing:1", f"{plain.host}/test/single:9")
    assert lock(good, repo, tag, "-o", str(out), "--insecure-registry", plain.host) == 3
    assert stderr_lines(capsys) == [
        f"prepuller lock: {repo}: repository {plain.host}/test/nothing not found",
        f"prepuller lock: {tag}: tag '9' not found in {plain.host}/test/single",
        "prepuller lock: 2 of 3 images could not be resolved",
    ]
    assert out.read_text() == "previous\n"
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_https_is_the_default(plain: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{plain.host}/test/single:1"
    assert lock(image, "-o", str(tmp_path / "lock.json")) == 3
    line = stderr_lines(capsys)[0]
    assert line.startswith(f"prepuller lock: {image}: https://{plain.host}: TLS error: "), line
    assert "Traceback" not in line


def test_the_registry_stopped_mid_run(
    plain: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def stop_at_the_fourth(request: httpx.Request) -> None:
        sent.append(request.url.path)
        if len(sent) == 4:  # /v2/, then the first image's manifest and config: stop before the next
            plain.stop()

    monkeypatch.setattr(_cli_lock, "RegistryClient", partial(RegistryClient, on_request=stop_at_the_fourth))
    out = tmp_path / "lock.json"
    out.write_text("previous\n")
    images = [f"{plain.host}/test/single:1", f"{plain.host}/test/docker:1", f"{plain.host}/test/multi:1"]
    assert lock(*images, "-o", str(out), "--insecure-registry", plain.host, "--jobs", "1") == 3
    lines = stderr_lines(capsys)
    assert len(lines) == 3, lines
    for image, line in zip(images[1:], lines, strict=False):
        assert line.startswith(f"prepuller lock: {image}: http://{plain.host}: "), line
        assert "cannot connect" in line or "connection failed" in line, line
    assert lines[-1] == "prepuller lock: 2 of 3 images could not be resolved"
    assert out.read_text() == "previous\n"


# --- TLS and basic auth -----------------------------------------------------------------------


def test_basic_auth_over_tls_with_a_test_ca(
    basic: Registry, store: Store, certificates: Certificates, tmp_path: Path
) -> None:
    out = tmp_path / "lock.json"
    config = docker_config(tmp_path, basic.host)
    image = f"{basic.host}/test/multi:1"
    assert lock(image, "-o", str(out), "--docker-config", str(config), "--ca-file", str(certificates.ca)) == 0
    assert read(out)["images"][image]["digest"] == store.index


def test_basic_auth_wrong_password_missing_credentials_and_untrusted_ca(
    basic: Registry, certificates: Certificates, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = f"{basic.host}/test/single:1"
    out = str(tmp_path / "lock.json")
    wrong = docker_config(tmp_path, basic.host, password="nope")
    assert lock(image, "-o", out, "--docker-config", str(wrong), "--ca-file", str(certificates.ca)) == 3
    assert stderr_lines(capsys)[0] == (
        f"prepuller lock: {image}: {basic.host} refused the credentials of user 'alice' (HTTP 401)"
    )
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert lock(image, "-o", out, "--docker-config", str(empty), "--ca-file", str(certificates.ca)) == 3
    assert stderr_lines(capsys)[0] == (
        f"prepuller lock: {image}: {basic.host} needs credentials (basic auth) and the docker config has none for it"
    )
    right = docker_config(tmp_path, basic.host)
    assert lock(image, "-o", out, "--docker-config", str(right)) == 3
    line = stderr_lines(capsys)[0]
    assert line.startswith(f"prepuller lock: {image}: https://{basic.host}: TLS error: "), line
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert not Path(out).exists()


# --- token auth -------------------------------------------------------------------------------


def counting(requests: list[httpx.Request]) -> Callable[..., RegistryClient]:
    return partial(RegistryClient, on_request=requests.append)


def test_token_auth_with_one_token_for_all_repositories(
    token: Registry,
    token_server: TokenServer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    requests: list[httpx.Request] = []
    monkeypatch.setattr(_cli_lock, "RegistryClient", counting(requests))
    out = tmp_path / "lock.json"
    config = docker_config(tmp_path, token.host)
    images = [f"{token.host}/many/image-{number}:1.0" for number in range(20)]
    args = ["-o", str(out), "--insecure-registry", token.host, "--docker-config", str(config)]
    assert lock(*images, *args) == 0
    locked = read(out)["images"]
    assert [locked[image]["digest"] for image in images] == [pushed.digest for pushed in store.many]
    # One token request naming every repository, then two requests per single-platform image.
    assert len(token_server.requests) == 1
    assert sorted(token_server.requests[0]["scope"]) == sorted(f"repository:many/image-{n}:pull" for n in range(20))
    to_registry = [request for request in requests if request.url.netloc.decode() == token.host]
    assert [request.url.path for request in to_registry].count("/v2/") == 1
    assert len(to_registry) - 1 == 2 * len(images)


def test_concurrency_is_bounded_by_jobs(token: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_flight, most = 0, 0
    guard = threading.Lock()
    send = RegistryClient._send

    def counting_send(self: RegistryClient, *args: Any, **kwargs: Any) -> httpx.Response:
        nonlocal in_flight, most
        with guard:
            in_flight += 1
            most = max(most, in_flight)
        try:
            return send(self, *args, **kwargs)
        finally:
            with guard:
                in_flight -= 1

    monkeypatch.setattr(RegistryClient, "_send", counting_send)
    config = docker_config(tmp_path, token.host)
    images = [f"{token.host}/many/image-{number}:1.0" for number in range(20)]
    out = tmp_path / "lock.json"
    args = ["-o", str(out), "--insecure-registry", token.host, "--docker-config", str(config), "--jobs", "3"]
    assert lock(*images, *args) == 0
    assert 1 <= most <= 3
    assert len(read(out)["images"]) == 20


def test_token_auth_wrong_password_and_denied_repository(
    token: Registry, token_server: TokenServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image, other = f"{token.host}/test/single:1", f"{token.host}/test/multi:1"
    args = ["-o", str(tmp_path / "lock.json"), "--insecure-registry", token.host]
    wrong = docker_config(tmp_path, token.host, password="nope")
    assert lock(image, *args, "--docker-config", str(wrong)) == 3
    assert stderr_lines(capsys)[0] == (
        f"prepuller lock: {image}: token server {token_server.realm} refused the credentials of user 'alice' (HTTP 401)"
    )
    bob = docker_config(tmp_path, token.host, user="bob", password="bobpass")
    assert lock(image, other, *args, "--docker-config", str(bob)) == 3
    assert stderr_lines(capsys) == [
        f"prepuller lock: {other}: access denied (HTTP 401) (UNAUTHORIZED)",
        "prepuller lock: 1 of 2 images could not be resolved",
    ]
