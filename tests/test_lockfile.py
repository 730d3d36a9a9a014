"""The lock file: reader (hypothesis), writer (deterministic, atomic), schema, docker config."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepuller import PrepullerError
from prepuller._docker_config import Credentials, normalise_key, read_docker_config
from prepuller._lockfile import (
    Lock,
    LockedImage,
    PlatformImage,
    dumps,
    lock_schema,
    parse_lock,
    read_lock,
    write_atomic,
)
from prepuller._references import parse_reference
from prepuller._registry import registry_url

# --- strategies -------------------------------------------------------------------------------

_HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
DIGESTS = _HEX.map(lambda text: f"sha256:{text}")
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
REFERENCES = st.builds(
    lambda registry, path, tag: f"{registry}{path}{tag}",
    st.sampled_from(["", "ghcr.io/", "127.0.0.1:5000/", "docker.io/library/"]),
    _WORD,
    st.sampled_from(["", ":1", ":1.25-alpine", ":latest"]),
)
PLATFORMS = st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "windows/amd64"])
ENTRIES = st.builds(
    LockedImage,
    digest=DIGESTS,
    platforms=st.dictionaries(
        PLATFORMS, st.builds(PlatformImage, digest=DIGESTS, size=st.integers(0, 2**45)), min_size=1, max_size=4
    ),
)


def _distinct(images: dict[str, LockedImage]) -> dict[str, LockedImage]:
    seen: set[tuple[str, str, str]] = set()
    kept = {}
    for text, entry in images.items():
        identity = parse_reference(text, "x").identity
        if identity not in seen:
            seen.add(identity)
            kept[text] = entry
    return kept


LOCKS = st.dictionaries(REFERENCES, ENTRIES, max_size=6).map(_distinct).map(lambda images: Lock(images=images))

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | DIGESTS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=10) | REFERENCES | PLATFORMS | st.sampled_from(["digest", "size"]), children)
    ),
    max_leaves=20,
)


def _mutations(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents one step away from a valid one: a value replaced, a key dropped or added."""
    paths: list[list[str]] = [[]]
    for text, entry in document["images"].items():
        paths += [["images"], ["images", text], ["images", text, "digest"], ["images", text, "platforms"]]
        for platform in entry["platforms"]:
            paths += [["images", text, "platforms", platform], ["images", text, "platforms", platform, "size"]]

    def mutate(path: list[str], value: Any, drop: bool) -> Any:
        copy = json.loads(json.dumps(document))
        if not path:
            return value
        parent = copy
        for key in path[:-1]:
            parent = parent[key]
        if drop:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return copy

    return st.builds(mutate, st.sampled_from(paths), JSON_VALUES, st.booleans())


# --- the reader -------------------------------------------------------------------------------


@given(LOCKS)
def test_what_the_writer_writes_the_reader_reads_back_byte_for_byte(lock: Lock) -> None:
    text = dumps(lock)
    read = parse_lock(text.encode())
    assert read.images == lock.images
    assert dumps(read) == text
    jsonschema.validate(json.loads(text), lock_schema())


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_prepuller_error(data: bytes) -> None:
    try:
        parse_lock(data, "lock file x.json")
    except PrepullerError as error:
        assert str(error).startswith("lock file x.json")


@given(JSON_VALUES)
def test_any_json_is_read_or_refused_with_a_prepuller_error(document: Any) -> None:
    try:
        lock = parse_lock(json.dumps(document).encode(), "lock file x.json")
    except PrepullerError as error:
        assert str(error).startswith("lock file x.json")
    else:
        jsonschema.validate(document, lock_schema())
        assert dumps(lock) == dumps(parse_lock(dumps(lock).encode()))


@settings(max_examples=100)
@given(st.data())
def test_a_mutated_lock_is_refused_unless_still_valid(data: st.DataObject) -> None:
    lock = data.draw(LOCKS.filter(lambda lock: bool(lock.images)))
    document = data.draw(_mutations(lock.to_json()))
    try:
        jsonschema.validate(document, lock_schema())
        valid = True
    except jsonschema.ValidationError:
        valid = False
    try:
        parse_lock(json.dumps(document).encode(), "lock file x.json")
    except PrepullerError as error:
        assert str(error).startswith("lock file x.json: ")
    else:
        assert valid, document


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "lock file l.json: is not UTF-8 text (byte 0)"),
        (b"{", "lock file l.json: is not JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        (b"[]", "lock file l.json: (top level): must be of type object (got [])"),
        (b"{}", "lock file l.json: (top level): is missing 'images' (got {})"),
        (
            b'{"images": {"nginx": {"digest": "sha256:12", "platforms": {}}}}',
            "lock file l.json: images.nginx.digest: must be a digest: sha256: and 64 lowercase hex digits "
            "(or sha384, sha512) (got 'sha256:12')",
        ),
        (
            b'{"images": {"nginx": {"digest": "sha256:' + b"a" * 64 + b'", "platforms": {}}}}',
            "lock file l.json: images.nginx.platforms: must name at least one platform (got {})",
        ),
        (
            b'{"images": {"Nginx": {"digest": "sha256:' + b"a" * 64 + b'", "platforms": '
            b'{"linux/amd64": {"digest": "sha256:' + b"b" * 64 + b'", "size": 1}}}}}',
            "lock file l.json: images.Nginx: is not a valid image reference: the repository path must be "
            "lowercase (got 'Nginx')",
        ),
        (
            b'{"images": {"nginx@sha256:' + b"c" * 64 + b'": {"digest": "sha256:' + b"a" * 64 + b'", "platforms": '
            b'{"linux/amd64": {"digest": "sha256:' + b"b" * 64 + b'", "size": 1}}}}}',
            f"lock file l.json: images['nginx@sha256:{'c' * 64}'].digest: must be the reference's own digest "
            f"sha256:{'c' * 64} (got 'sha256:{'a' * 64}')",
        ),
        (
            b'{"images": {"nginx": {"digest": "sha256:' + b"a" * 64 + b'", "platforms": '
            b'{"linux/amd64": {"digest": "sha256:' + b"b" * 64 + b'", "size": 1}}}, '
            b'"docker.io/library/nginx:latest": {"digest": "sha256:' + b"d" * 64 + b'", "platforms": '
            b'{"linux/amd64": {"digest": "sha256:' + b"b" * 64 + b'", "size": 1}}}}}',
            "lock file l.json: images['docker.io/library/nginx:latest'].digest: differs from that of 'nginx', "
            f"the same image (sha256:{'a' * 64}) (got 'sha256:{'d' * 64}')",
        ),
    ],
)
def test_refusals_name_the_file_and_the_key(data: bytes, message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        parse_lock(data, "lock file l.json")
    assert str(caught.value) == message


def test_duplicate_keys_and_float_sizes() -> None:
    with pytest.raises(PrepullerError) as caught:
        parse_lock(b'{"images": {}, "images": {}}', "lock file l.json")
    assert str(caught.value) == "lock file l.json: has the key 'images' twice in one object"
    text = b'{"images": {"nginx": {"digest": "sha256:' + b"a" * 64 + b'", "platforms": '
    text += b'{"linux/amd64": {"digest": "sha256:' + b"b" * 64 + b'", "size": 5.0}}}}}'
    assert '"size": 5\n' in dumps(parse_lock(text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PrepullerError) as caught:
        read_lock(tmp_path / "none.json")
    assert str(caught.value) == f"lock file {tmp_path / 'none.json'}: cannot be read: No such file or directory"


def test_find_matches_the_written_text_then_the_same_image() -> None:
    entry = LockedImage(digest="sha256:" + "a" * 64, platforms={"linux/amd64": PlatformImage("sha256:" + "b" * 64, 5)})
    lock = Lock(images={"nginx": entry})
    assert lock.find(parse_reference("docker.io/library/nginx:latest", "x")) is entry
    assert lock.find(parse_reference("nginx:1.25", "x")) is None


def test_sizes_per_platform() -> None:
    entry = LockedImage(
        digest="sha256:" + "a" * 64,
        platforms={
            "linux/amd64": PlatformImage("sha256:" + "b" * 64, 100),
            "linux/arm64/v8": PlatformImage("sha256:" + "c" * 64, 300),
        },
    )
    assert entry.size == 300  # the heaviest platform
    assert (entry.size_for("linux/amd64"), entry.size_for("linux/arm64"), entry.size_for("linux/s390x")) == (
        100,
        300,
        None,
    )


# --- the writer -------------------------------------------------------------------------------


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "lock.json"
    target.write_text("old\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert list(tmp_path.iterdir()) == [target]


def test_write_atomic_leaves_the_old_file_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "lock.json"
    target.write_text("old\n")

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


# --- docker config and registry names --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("GHCR.io", "ghcr.io"),
    ],
)
def test_auths_keys_are_read_as_docker_reads_them(key: str, host: str) -> None:
    assert normalise_key(key) == host


def test_docker_config_auths_exact_and_wildcard(tmp_path: Path) -> None:
    def auth(user: str) -> str:
        return base64.b64encode(f"{user}:pw:with:colons".encode()).decode()

    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": auth("hub")},
                    "*.example.com": {"username": "wild", "password": "pw"},
                    "registry.example.com:5000": {"auth": auth("exact")},
                    "helper.example.org": {},
                },
                "credsStore": "desktop",
            }
        )
    )
    auths = read_docker_config(path)
    assert auths.for_host("docker.io") == Credentials("hub", "pw:with:colons")
    assert auths.for_host("registry.example.com:5000") == Credentials("exact", "pw:with:colons")
    assert auths.for_host("a.example.com") == Credentials("wild", "pw")
    assert auths.for_host("a.b.example.com") is None  # one label per *
    assert auths.for_host("a.example.com:5000") is None  # the port must match
    assert auths.for_host("helper.example.org") is None
    assert "pw" not in repr(auths.for_host("docker.io"))


def test_docker_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PrepullerError) as caught:
        read_docker_config(tmp_path / "none.json")
    assert str(caught.value) == f"docker config {tmp_path / 'none.json'}: does not exist"
    bad = tmp_path / "bad.json"
    bad.write_text('{"auths": {"x": {"auth": "!!"}}}')
    with pytest.raises(PrepullerError) as caught:
        read_docker_config(bad)
    assert str(caught.value) == f"docker config {bad}: auths['x'].auth: is not base64 of 'user:password'"
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nowhere"))
    assert read_docker_config(None).entries == {}  # a missing default file: no credentials


def test_the_default_file_is_podmans_auth_file_then_dockers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    podman, docker = tmp_path / "auth.json", tmp_path / "docker" / "config.json"
    docker.parent.mkdir()
    podman.write_text('{"auths": {"a.example": {"username": "podman", "password": "p"}}}')
    docker.write_text('{"auths": {"a.example": {"username": "docker", "password": "d"}}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(docker.parent))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(podman))
    assert read_docker_config(None).for_host("a.example") == Credentials("podman", "p")
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    assert read_docker_config(None).for_host("a.example") == Credentials("docker", "d")


def test_docker_hub_names_are_normalised_and_https_is_the_default() -> None:
    nginx = parse_reference("nginx", "x")
    assert (nginx.domain, nginx.path, nginx.tag) == ("docker.io", "library/nginx", None)
    assert registry_url(nginx.domain, ()) == "https://registry-1.docker.io"
    assert registry_url("127.0.0.1:5000", ()) == "https://127.0.0.1:5000"
    assert registry_url("127.0.0.1:5000", ["127.0.0.1:5000"]) == "http://127.0.0.1:5000"
