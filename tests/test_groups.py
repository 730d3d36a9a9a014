"""parallel_pulls: the split into groups (properties) and the K DaemonSets it emits."""

from __future__ import annotations

from typing import Any

import cdk8s
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepuller import ImagePrepuller, PrepullerError
from prepuller._groups import GROUP_LABEL, _rank, split
from prepuller._references import ImageReference, parse_reference

from .conftest import synth, validate_strictly

# --- the split ------------------------------------------------------------------------

_COMPONENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_TEXT = st.builds(
    lambda registry, path, tag: f"{registry}{path}:{tag}",
    st.sampled_from(["", "ghcr.io/", "registry.example.com:5000/", "docker.io/library/"]),
    _COMPONENT,
    st.sampled_from(["1", "2.0", "latest", "nightly"]),
)


def _distinct(texts: list[str]) -> list[ImageReference]:
    seen: set[tuple[str, str, str]] = set()
    result = []
    for text in texts:
        reference = parse_reference(text, "images")
        if reference.identity not in seen:
            seen.add(reference.identity)
            result.append(reference)
    return result


IMAGES = st.lists(_TEXT, max_size=40).map(_distinct)


def _membership(groups: list[list[ImageReference]]) -> dict[tuple[str, str, str], int]:
    return {reference.identity: index for index, group in enumerate(groups) for reference in group}


def _moved(before: list[list[ImageReference]], after: list[list[ImageReference]]) -> int:
    old, new = _membership(before), _membership(after)
    return sum(1 for identity, group in old.items() if identity in new and new[identity] != group)


@given(IMAGES, st.integers(1, 12))
def test_every_image_is_in_exactly_one_group_and_groups_are_balanced(images: list[ImageReference], k: int) -> None:
    groups = split(images, k)
    assert len(groups) == k
    flat = [reference for group in groups for reference in group]
    assert sorted(r.text for r in flat) == sorted(r.text for r in images)
    assert len(flat) == len(images)
    sizes = [len(group) for group in groups]
    assert max(sizes) - min(sizes) <= 1


@given(IMAGES, st.integers(1, 12))
def test_inside_a_group_the_images_keep_the_users_order(images: list[ImageReference], k: int) -> None:
    position = {reference.identity: index for index, reference in enumerate(images)}
    for group in split(images, k):
        indices = [position[reference.identity] for reference in group]
        assert indices == sorted(indices)


@given(IMAGES, st.integers(1, 12), st.randoms(use_true_random=False))
def test_membership_does_not_depend_on_the_order_of_the_list(images: list[ImageReference], k: int, rnd: Any) -> None:
    shuffled = list(images)
    rnd.shuffle(shuffled)
    assert _membership(split(images, k)) == _membership(split(shuffled, k))


@given(IMAGES, _TEXT, st.integers(1, 12), st.integers(0, 40))
def test_adding_one_image_moves_at_most_k_minus_1_existing_images(
    images: list[ImageReference], text: str, k: int, where: int
) -> None:
    new = parse_reference(text, "images")
    if any(reference.identity == new.identity for reference in images):
        return  # not a new image: de-duplicated before splitting
    bigger = [*images[:where], new, *images[where:]]
    moved = _moved(split(images, k), split(bigger, k))
    assert moved <= k - 1
    # Removing it again is the same change backwards.
    assert _moved(split(bigger, k), split(images, k)) == moved


@given(IMAGES, _TEXT, st.integers(2, 12))
def test_a_moved_image_goes_to_a_neighbouring_group(images: list[ImageReference], text: str, k: int) -> None:
    new = parse_reference(text, "images")
    if any(reference.identity == new.identity for reference in images):
        return
    old, after = _membership(split(images, k)), _membership(split([*images, new], k))
    assert all(abs(after[identity] - group) <= 1 for identity, group in old.items())


def test_the_bound_k_minus_1_is_reached() -> None:
    # 5 images in 3 groups (sizes 2, 2, 1): a new image that sorts before all the others
    # pushes one image across each of the 2 boundaries.
    images = _distinct([f"registry.example.com/app-{i}:1" for i in range(5)])
    candidates = _distinct([f"registry.example.com/new-{i}:1" for i in range(200)])
    first = min(candidates, key=_rank)
    assert all(_rank(first) < _rank(reference) for reference in images)
    assert _moved(split(images, 3), split([*images, first], 3)) == 2


def test_the_split_is_pinned_so_it_is_the_same_in_every_run_and_version() -> None:
    # SHA-256 of the normalised identity, not Python's salted hash(): these groups must
    # never change, or every upgrade would restart pods. `busybox` is normalised to
    # docker.io/library/busybox:latest before hashing, so spelling does not matter.
    texts = ["nginx:1.25", "busybox", "redis:7", "python:3.12", "gcr.io/distroless/static:nonroot", "quay.io/a/b:1"]
    groups = [[r.text for r in group] for group in split(_distinct(texts), 3)]
    assert groups == [
        ["python:3.12", "gcr.io/distroless/static:nonroot"],
        ["nginx:1.25", "redis:7"],
        ["busybox", "quay.io/a/b:1"],
    ]
    respelled = ["docker.io/library/nginx:1.25", "docker.io/library/busybox:latest", *texts[2:]]
    assert [[r.identity for r in g] for g in split(_distinct(respelled), 3)] == [
        [r.identity for r in g] for g in split(_distinct(texts), 3)
    ]


def test_more_groups_than_images_leaves_the_last_groups_empty() -> None:
    assert [len(g) for g in split(_distinct(["a:1", "b:1"]), 4)] == [1, 1, 0, 0]


# --- the DaemonSets -----------------------------------------------------------------------

SEVEN = ["nginx:1.25", "busybox", "redis:7", "python:3.12", "gcr.io/distroless/static:nonroot", "quay.io/a/b:1", "c:2"]


def _daemon_sets(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == "DaemonSet"]


def _pulled(daemon_set: dict[str, Any]) -> list[str]:
    spec = daemon_set["spec"]["template"]["spec"]
    return [c["image"] for c in spec["initContainers"] if c["name"].startswith("pull-")]


def test_k_daemon_sets_named_labelled_and_selected_by_group(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=SEVEN, parallel_pulls=3)
    daemon_sets = _daemon_sets(synth(chart))
    assert [d["metadata"]["name"] for d in daemon_sets] == ["prepull-1", "prepull-2", "prepull-3"]
    for index, daemon_set in enumerate(daemon_sets, start=1):
        group = {"name": "prepull", GROUP_LABEL: str(index)}
        assert daemon_set["spec"]["selector"] == {"matchLabels": group}
        assert group.items() <= daemon_set["metadata"]["labels"].items()
        assert group.items() <= daemon_set["spec"]["template"]["metadata"]["labels"].items()
    # Disjoint selectors: no pod of one DaemonSet carries another's group value.
    assert len({d["spec"]["selector"]["matchLabels"][GROUP_LABEL] for d in daemon_sets}) == 3
    # Every image pulled by exactly one DaemonSet; sizes 3, 2, 2.
    pulled = [_pulled(d) for d in daemon_sets]
    assert sorted(image for images in pulled for image in images) == sorted(SEVEN)
    assert sorted(len(images) for images in pulled) == [2, 2, 3]
    assert [o.name for o in prepuller.daemon_sets] == ["prepull-1", "prepull-2", "prepull-3"]


def test_one_group_is_exactly_the_single_daemon_set(chart: cdk8s.Chart) -> None:
    other = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(chart, "prepull", images=SEVEN, parallel_pulls=1)
    ImagePrepuller(other, "prepull", images=SEVEN)
    assert synth(chart) == synth(other)
    [daemon_set] = _daemon_sets(synth(chart))
    assert daemon_set["spec"]["selector"] == {"matchLabels": {"name": "prepull"}}
    assert GROUP_LABEL not in daemon_set["metadata"]["labels"]


def test_daemon_set_property_with_one_and_with_k_groups(chart: cdk8s.Chart) -> None:
    single = ImagePrepuller(chart, "single", images=SEVEN)
    assert single.daemon_sets == [single.daemon_set]
    assert cdk8s.ApiObject.of(single) is single.daemon_set
    grouped = ImagePrepuller(chart, "grouped", images=SEVEN, parallel_pulls=2)
    assert len(grouped.daemon_sets) == 2
    with pytest.raises(PrepullerError) as caught:
        _ = grouped.daemon_set
    assert str(caught.value) == (
        "daemon_set: is ambiguous with parallel_pulls > 1: use daemon_sets, one DaemonSet per group (got 2)"
    )


def test_json_patches_apply_per_group(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=SEVEN, parallel_pulls=2)
    prepuller.daemon_sets[1].add_json_patch(cdk8s.JsonPatch.add("/metadata/annotations", {"a": "b"}))
    first, second = _daemon_sets(synth(chart))
    # The patch replaced the second's annotations (checkov's skips included); the first keeps them.
    assert all(key.startswith("checkov.io/skip") for key in first["metadata"]["annotations"])
    assert second["metadata"]["annotations"] == {"a": "b"}


def test_images_added_after_construction_are_grouped_at_synth(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=SEVEN[:2], parallel_pulls=2)
    prepuller.add_images(*SEVEN[2:])
    pulled = [_pulled(d) for d in _daemon_sets(synth(chart))]
    assert sorted(image for images in pulled for image in images) == sorted(SEVEN)
    assert [[r.text for r in g] for g in split(_distinct(SEVEN), 2)] == pulled


def test_grouped_daemon_sets_validate_strictly(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "plain", images=SEVEN, parallel_pulls=3)
    ImagePrepuller(chart, "keep", images=SEVEN, parallel_pulls=2, keep_images=True)
    manifests = synth(chart)
    daemon_sets = _daemon_sets(manifests)
    assert [d["metadata"]["name"] for d in daemon_sets] == ["plain-1", "plain-2", "plain-3", "keep-1", "keep-2"]
    # Each prepuller's groups pull every image exactly once between them.
    for name, count in (("plain", 3), ("keep", 2)):
        groups = [_pulled(d) for d in daemon_sets if d["metadata"]["name"].startswith(f"{name}-")]
        assert len(groups) == count
        assert sorted(image for group in groups for image in group) == sorted(SEVEN)
    validate_strictly(manifests)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "parallel_pulls: must be at least 1 (got 0)"),
        (-2, "parallel_pulls: must be at least 1 (got -2)"),
        ("3", "parallel_pulls: must be a whole number (got '3')"),
        (True, "parallel_pulls: must be a whole number (got True)"),
        (2.0, "parallel_pulls: must be a whole number (got 2.0)"),
        (
            3,
            "parallel_pulls: must be at most the number of distinct images (2): each group needs an image (got 3)",
        ),
    ],
)
def test_invalid_parallel_pulls(chart: cdk8s.Chart, value: Any, message: str) -> None:
    # busybox and docker.io/library/busybox:latest are one image: 2 distinct, not 3.
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(
            chart, "prepull", images=["busybox", "docker.io/library/busybox:latest", "nginx:1"], parallel_pulls=value
        )
    assert str(caught.value) == message
    assert synth(chart) == []


def test_group_daemon_set_names_must_not_clash_with_another_prepuller(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=SEVEN, parallel_pulls=2)
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull-2", images=SEVEN)
    assert str(caught.value) == (
        "name: another ImagePrepuller (test/prepull) already emits DaemonSet 'prepull-2' "
        "in the default namespace (got 'prepull-2')"
    )


def test_snapshot_of_three_groups(chart: cdk8s.Chart, snapshot: Any) -> None:
    ImagePrepuller(chart, "prepull", images=SEVEN, parallel_pulls=3)
    assert synth(chart) == snapshot
