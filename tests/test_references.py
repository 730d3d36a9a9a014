"""Image references: the distribution grammar, de-duplication, default pull policy."""

from __future__ import annotations

import pytest

from prepuller import PrepullerError
from prepuller._references import parse_reference, unique_references

SHA = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", None, None),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
        ("jupyter/scipy-notebook:2024-10-07", "docker.io", "jupyter/scipy-notebook", "2024-10-07", None),
        ("index.docker.io/library/busybox", "docker.io", "library/busybox", None, None),
        ("gcr.io/distroless/static:nonroot", "gcr.io", "distroless/static", "nonroot", None),
        ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        ("registry.example.com:443/a/b/c__d.e-f:_x", "registry.example.com:443", "a/b/c__d.e-f", "_x", None),
        (f"busybox@{SHA}", "docker.io", "library/busybox", None, SHA),
        (f"quay.io/org/app:1.0@{SHA}", "quay.io", "org/app", "1.0", SHA),
        ("Registry.Example/app", "Registry.Example", "app", None, None),
        # An uppercase first component can only be a registry host: path components are lowercase.
        ("Foo/bar", "Foo", "bar", None, None),
        ("Foo/bar/baz:1", "Foo", "bar/baz", "1", None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("registry-1.docker.io/org/app", "docker.io", "org/app", None, None),
        (f"busybox@sha384:{'b' * 96}", "docker.io", "library/busybox", None, f"sha384:{'b' * 96}"),
        (f"busybox@sha512:{'c' * 128}", "docker.io", "library/busybox", None, f"sha512:{'c' * 128}"),
    ],
)
def test_valid_references_parse_into_their_parts(text: str, domain: str, path: str, tag: str, digest: str) -> None:
    reference = parse_reference(text, "images[0]")
    assert (reference.text, reference.domain, reference.path, reference.tag, reference.digest) == (
        text,
        domain,
        path,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "images[0]: is not a valid image reference: it is empty (got '')"),
        (
            "Nginx:1.25",
            "images[0]: is not a valid image reference: the repository path must be lowercase (got 'Nginx:1.25')",
        ),
        (
            "busybox; rm -rf /",
            "images[0]: is not a valid image reference: it contains whitespace (got 'busybox; rm -rf /')",
        ),
        (
            "$(id)",
            "images[0]: is not a valid image reference: the repository path must be lowercase letters and digits separated by '.', '_', '__', '-' or '/' (got '$(id)')",
        ),
        (
            "busybox:`id`",
            "images[0]: is not a valid image reference: the tag must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-' (got 'busybox:`id`')",
        ),
        (
            "busybox:" + "x" * 129,
            "images[0]: is not a valid image reference: the tag must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-' (got 'busybox:"
            + "x" * 129
            + "')",
        ),
        (
            "busybox:.hidden",
            "images[0]: is not a valid image reference: the tag must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-' (got 'busybox:.hidden')",
        ),
        (
            "busybox@sha256:abc",
            "images[0]: is not a valid image reference: the digest must be 'algorithm:hex', e.g. 'sha256:' and 64 hex digits (got 'busybox@sha256:abc')",
        ),
        (
            "busybox@sha256:" + "a" * 63 + "0a",
            "images[0]: is not a valid image reference: a sha256 digest has 64 hex digits, not 65 (got 'busybox@sha256:"
            + "a" * 63
            + "0a')",
        ),
        (
            "busybox@sha256:" + "a" * 63,
            "images[0]: is not a valid image reference: a sha256 digest has 64 hex digits, not 63 (got 'busybox@sha256:"
            + "a" * 63
            + "')",
        ),
        (
            "busybox@sha512:" + "a" * 64,
            "images[0]: is not a valid image reference: a sha512 digest has 128 hex digits, not 64 (got 'busybox@sha512:"
            + "a" * 64
            + "')",
        ),
        (
            "busybox@md5:" + "a" * 32,
            "images[0]: is not a valid image reference: unsupported digest algorithm 'md5' (use one of sha256, sha384, sha512) (got 'busybox@md5:"
            + "a" * 32
            + "')",
        ),
        (
            "busybox@sha256:" + "A" * 64,
            "images[0]: is not a valid image reference: digest hex digits must be lowercase (got 'busybox@sha256:"
            + "A" * 64
            + "')",
        ),
        (
            "https://gcr.io/app",
            "images[0]: is not a valid image reference: it must not have a URL scheme (got 'https://gcr.io/app')",
        ),
        ("busybox\n", "images[0]: is not a valid image reference: it contains whitespace (got 'busybox\\n')"),
        (
            "a//b",
            "images[0]: is not a valid image reference: the repository path must be lowercase letters and digits separated by '.', '_', '__', '-' or '/' (got 'a//b')",
        ),
        (
            "-busybox",
            "images[0]: is not a valid image reference: the repository path must be lowercase letters and digits separated by '.', '_', '__', '-' or '/' (got '-busybox')",
        ),
        (42, "images[0]: must be an image reference string (got 42)"),
        (None, "images[0]: must be an image reference string (got None)"),
    ],
)
def test_invalid_references_name_the_rule_they_break(value: object, message: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        parse_reference(value, "images[0]")
    assert str(caught.value) == message
    assert caught.value.option == "images[0]"


def test_a_name_longer_than_255_characters_is_refused() -> None:
    assert parse_reference("a" * 255, "images[0]").path == "library/" + "a" * 255
    text = "a" * 256
    with pytest.raises(PrepullerError) as caught:
        parse_reference(text, "images[0]")
    assert str(caught.value) == (
        f"images[0]: is not a valid image reference: the name is longer than 255 characters (got '{text[:196]}...)"
    )
    assert (caught.value.option, caught.value.value) == ("images[0]", text)


_TAG_RULE = "the tag must be 1 to 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-'"
_DIGEST_RULE = "the digest must be 'algorithm:hex', e.g. 'sha256:' and 64 hex digits"
_LOWERCASE = "the repository path must be lowercase"
_PATH_RULE = "the repository path must be lowercase letters and digits separated by '.', '_', '__', '-' or '/'"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        # Only the part after the first '@' is the digest, and only the last path component has the tag.
        ("a@b:-x@c", _DIGEST_RULE),
        ("busybox@sha256:" + "a" * 64 + "@x", _DIGEST_RULE),
        ("a@x@sha256:" + "a" * 64, _DIGEST_RULE),
        ("busybox:1:2", _TAG_RULE),
        ("a/b:c/d", _PATH_RULE),
        ("localhost:5000/a//b", _PATH_RULE),
        # A registry host may have capitals; the path after it may not.
        ("Registry.Example/a//b", _PATH_RULE),
        ("gcr.io/Team/app", _LOWERCASE),
        ("gcr.io/team/App", _LOWERCASE),
        # A valid tag is set aside before the path is judged, capitals and all.
        ("localhost:5000/a//b:V1", _PATH_RULE),
        ("gcr.io/a//B:v1", _LOWERCASE),
    ],
)
def test_the_message_names_the_part_that_breaks_the_rule(value: str, rule: str) -> None:
    with pytest.raises(PrepullerError) as caught:
        parse_reference(value, "images[0]")
    assert str(caught.value) == f"images[0]: is not a valid image reference: {rule} (got {value!r})"


def test_references_naming_the_same_image_collapse_to_the_first_as_written() -> None:
    texts = [
        "busybox",
        "docker.io/library/busybox:latest",
        "index.docker.io/library/busybox",
        "library/busybox:latest",
        "busybox:1.36",
        "docker.io/busybox:1.36",
        f"busybox@{SHA}",
        f"busybox:1.36@{SHA}",
        "gcr.io/busybox",
    ]
    unique = unique_references([parse_reference(t, "images") for t in texts])
    assert [r.text for r in unique] == ["busybox", "busybox:1.36", f"busybox@{SHA}", "gcr.io/busybox"]


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        (f"busybox@{SHA}", "IfNotPresent"),
        (f"busybox:latest@{SHA}", "Always"),
        ("localhost:5000/app", "Always"),
    ],
)
def test_default_pull_policy_is_what_kubernetes_would_choose(text: str, policy: str) -> None:
    assert parse_reference(text, "images").default_pull_policy == policy
