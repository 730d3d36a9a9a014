"""Byte-balanced groups (``parallel_pulls`` with a lock): balance, stability bound, and the
DaemonSets the construct emits with them."""

from __future__ import annotations

from pathlib import Path

import cdk8s
from hypothesis import example, given
from hypothesis import strategies as st

from prepuller import ImagePrepuller
from prepuller._groups import _rank, moved_bound, split, split_by_bytes
from prepuller._references import ImageReference, parse_reference

from .conftest import synth, validate_strictly
from .support.locks import fake_digest, write_lock
from .test_groups import _TEXT, IMAGES, _moved

SIZES = st.integers(1, 10**10)


def _weights(images: list[ImageReference], sizes: list[int]) -> dict[tuple[str, str, str], int]:
    return {reference.identity: size for reference, size in zip(images, sizes, strict=True)}


sized = IMAGES.flatmap(
    lambda images: st.tuples(st.just(images), st.lists(SIZES, min_size=len(images), max_size=len(images)))
)


@given(sized, st.integers(1, 12))
def test_every_image_in_one_group_and_each_group_within_the_heaviest_image_of_its_share(
    images_and_sizes: tuple[list[ImageReference], list[int]], k: int
) -> None:
    images, sizes = images_and_sizes
    groups = split_by_bytes(images, sizes, k)
    assert len(groups) == k
    assert sorted(r.text for group in groups for r in group) == sorted(r.text for r in images)
    if not images:
        return
    weight = _weights(images, sizes)
    total, heaviest = sum(sizes), max(sizes)
    for group in groups:
        group_bytes = sum(weight[r.identity] for r in group)
        # |group - T/K| <= M, in integers: |K*group - T| <= K*M
        assert abs(k * group_bytes - total) <= k * heaviest
    for group in groups:  # the user's order inside a group
        positions = [images.index(r) for r in group]
        assert positions == sorted(positions)


@given(sized, st.integers(1, 12), st.randoms(use_true_random=False))
def test_membership_depends_on_the_set_only(
    images_and_sizes: tuple[list[ImageReference], list[int]], k: int, random: st.Random
) -> None:
    images, sizes = images_and_sizes
    pairs = list(zip(images, sizes, strict=True))
    random.shuffle(pairs)
    shuffled = split_by_bytes([p[0] for p in pairs], [p[1] for p in pairs], k)
    original = split_by_bytes(images, sizes, k)
    assert [{r.text for r in g} for g in shuffled] == [{r.text for r in g} for g in original]


@given(sized, st.integers(1, 12), _TEXT, SIZES)
@example(([], []), 3, "nginx:1", 5)
def test_adding_one_image_moves_at_most_the_stated_bound(
    images_and_sizes: tuple[list[ImageReference], list[int]], k: int, new_text: str, new_size: int
) -> None:
    images, sizes = images_and_sizes
    new = parse_reference(new_text, "images")
    if any(r.identity == new.identity for r in images) or not images:
        return
    before = split_by_bytes(images, sizes, k)
    after = split_by_bytes([*images, new], [*sizes, new_size], k)
    moved = _moved(before, after)
    assert moved <= moved_bound(new_size, min(sizes), k)
    assert moved_bound(new_size, min(sizes), k) <= (k - 1) * -(-new_size // min(sizes))
    # Removing it again is the reverse move.
    assert _moved(after, split_by_bytes(images, sizes, k)) == moved


@given(IMAGES, st.integers(1, 12), _TEXT, st.integers(1, 10**6))
def test_equal_sizes_move_at_most_k_minus_1_like_the_count_split(
    images: list[ImageReference], k: int, new_text: str, size: int
) -> None:
    new = parse_reference(new_text, "images")
    if any(r.identity == new.identity for r in images):
        return
    before = split_by_bytes(images, [size] * len(images), k)
    after = split_by_bytes([*images, new], [size] * (len(images) + 1), k)
    assert moved_bound(size, size, k) == max(k - 1, 0)
    assert _moved(before, after) <= k - 1


def test_the_bound_can_be_reached_and_a_heavy_image_moves_many() -> None:
    """A heavy image added among light ones must push bytes out of every group: the bound
    grows with s/m, as stated, and is reached (K = 2, s = 10 m: ceil(s / 2m) = 5)."""
    images = [parse_reference(f"img{number}:1", "images") for number in range(40)]
    sizes = [10] * 40
    reached = 0
    for number in range(200):
        new = parse_reference(f"heavy{number}:1", "images")
        before = split_by_bytes(images, sizes, 2)
        after = split_by_bytes([*images, new], [*sizes, 100], 2)
        moved = _moved(before, after)
        assert moved <= moved_bound(100, 10, 2) == 5
        reached = max(reached, moved)
    assert reached == 5


def test_each_image_goes_to_the_share_that_holds_the_middle_of_its_bytes() -> None:
    """The split worked by hand: the images in rank order laid end to end, the total cut
    into K equal shares, each image in the share holding its midpoint. Sizes 1, 1, 1, 1, 1, 4
    in rank order, K = 2: T = 9, midpoints 0.5 to 4.5 and 7; a midpoint on a cut (4.5)
    belongs to the share after it. A size below 1 counts as 1."""
    images = sorted((parse_reference(f"img{number}:1", "images") for number in range(6)), key=_rank)
    assert split_by_bytes(images, [1, 1, 1, 1, 1, 4], 2) == [images[:4], images[4:]]
    assert split_by_bytes(images, [0, -7, 1, 1, 1, 4], 2) == [images[:4], images[4:]]
    assert split_by_bytes(images, [1] * 6, 3) == [images[:2], images[2:4], images[4:]]


def test_the_stated_bound_worked_by_hand() -> None:
    """ceil(max(j, K - j) * s / (K * m)) summed over the cuts j; sizes below 1 count as 1."""
    assert moved_bound(10, 1, 2) == 5
    assert moved_bound(10, 0, 2) == 5
    assert moved_bound(0, 1, 2) == 1
    assert moved_bound(30, 4, 3) == 5 + 5  # j = 1, 2: ceil(2 * 30 / 12) each


def test_without_sizes_differing_the_count_split_is_unchanged() -> None:
    """No lock: the count split of before; the byte split is used only with a lock."""
    images = [parse_reference(f"img{number}:1", "images") for number in range(10)]
    assert [len(g) for g in split(images, 3)] == [4, 3, 3]


# --- the construct ----------------------------------------------------------------------------


def _daemon_set_images(manifests: list[dict[str, object]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for manifest in manifests:
        if manifest["kind"] == "DaemonSet":
            spec = manifest["spec"]["template"]["spec"]  # type: ignore[index]
            result[manifest["metadata"]["name"]] = [c["image"] for c in spec["initContainers"]]  # type: ignore[index]
    return result


def test_locked_groups_are_balanced_by_bytes_and_pinned(tmp_path: Path) -> None:
    images = [f"app{number}:1" for number in range(8)]
    sizes = {image: {"linux/amd64": 10_000_000} for image in images}
    sizes["app0:1"] = {"linux/amd64": 70_000_000, "linux/arm64": 90_000_000}  # the heaviest platform counts
    defaults = ["registry.k8s.io/pause:3.10", "docker.io/library/busybox:1.37.0-musl"]
    lock = write_lock(tmp_path / "lock.json", [*images, *defaults], sizes)
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(chart, "prepull", images=images, parallel_pulls=2, lock=str(lock))
    manifests = synth(chart)
    validate_strictly(manifests)
    groups = _daemon_set_images(manifests)
    assert sorted(groups) == ["prepull-1", "prepull-2"]
    pulled = {name: [i for i in group if not i.startswith(("registry.k8s.io/pause", "docker.io/library/busybox"))]
              for name, group in groups.items()}  # fmt: skip
    heavy = next(name for name, group in pulled.items() if f"app0:1@{fake_digest('index app0:1')}" in group)
    # 90 MB + 7 x 10 MB = 160 MB: the heavy image's group gets it alone or with at most one other.
    assert len(pulled[heavy]) <= 2
    assert sorted(i for group in pulled.values() for i in group) == sorted(
        f"{image}@{fake_digest('index ' + image)}" for image in images
    )

    # New digests (same sizes) move no image: groups are made from the references as written.
    relocked = tmp_path / "relocked.json"
    relocked.write_text(lock.read_text().replace(fake_digest("index app3:1"), fake_digest("x")))
    chart2 = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(chart2, "prepull", images=images, parallel_pulls=2, lock=str(relocked))
    regrouped = _daemon_set_images(synth(chart2))
    assert {n: [i.split("@")[0] for i in g] for n, g in regrouped.items()} == {
        n: [i.split("@")[0] for i in g] for n, g in groups.items()
    }
