"""Container names: DNS labels, unique, readable, deterministic."""

from __future__ import annotations

import re

from prepuller._names import container_names
from prepuller._references import parse_reference

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def names(*texts: str, reserved: tuple[str, ...] = ()) -> list[str]:
    return container_names([parse_reference(t, "images") for t in texts], "pull-", reserved)


def test_names_are_readable_from_the_image_name_and_tag() -> None:
    assert names("nginx:1.25", "gcr.io/distroless/static:nonroot", "busybox") == [
        "pull-nginx-1-25",
        "pull-static-nonroot",
        "pull-busybox",
    ]


def test_digests_contribute_a_short_readable_part() -> None:
    assert names("app@sha256:" + "0123456789" * 6 + "abcd") == ["pull-app-01234567"]


def test_colliding_names_all_get_a_hash_so_order_does_not_matter() -> None:
    first = names("a.io/x/nginx:1", "b.io/y/nginx:1")
    second = names("b.io/y/nginx:1", "a.io/x/nginx:1")
    assert first[0].startswith("pull-nginx-1-") and first[1].startswith("pull-nginx-1-")
    assert first[0] != first[1]
    assert first == list(reversed(second))


def test_long_names_are_cut_to_63_with_a_hash() -> None:
    long = "registry.io/" + "a" * 100 + ":" + "t" * 100
    [name] = names(long)
    assert len(name) == 63
    assert DNS_LABEL.match(name)
    assert name.startswith("pull-aaaa")


def test_reserved_names_are_avoided() -> None:
    [name] = names("pause", reserved=("pull-pause",))
    assert name != "pull-pause" and name.startswith("pull-pause-")


def test_names_only_use_dns_label_characters() -> None:
    for name in names("a__b.c:V1.0_rc", "x/y-z:_-_", "q:___"):
        assert DNS_LABEL.match(name), name
