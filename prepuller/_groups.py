"""``parallel_pulls``: the images split into K groups, one DaemonSet per group.

The kubelet pulls the images of one pod one after the other (one init container at a
time), so K DaemonSets whose pods each pull a K-th of the images let a node pull up to K
images at once where the kubelet allows parallel pulls (``serializeImagePulls: false``).

The split rule
    Sort the distinct images by the SHA-256 of their normalised identity (the key that
    de-duplicates them: ``docker.io/library/nginx:1.25``, ``repo@sha256:...``), then cut
    the sorted list into K contiguous runs; the first ``n mod K`` runs get one image more.
    Inside a group the images keep the user's order.

What that guarantees (tested with hypothesis in ``tests/test_groups.py``)
    - every image is in exactly one group, and group sizes differ by at most one;
    - deterministic: SHA-256, not Python's per-process salted ``hash()``; membership
      depends only on the *set* of images, so reordering the list moves no image to
      another DaemonSet (it does reorder the init containers inside a group);
    - stable: adding one image moves at most ``K - 1`` of the existing images to another
      group, whatever the number of images; removing one likewise. Proof: with
      ``q, r = divmod(n, K)`` the run boundaries sit at ``b_j = j*q + min(j, r)`` for
      ``j = 1..K-1``; for ``n + 1`` images they sit at ``j*q + min(j, r + 1)`` (also when
      ``r + 1 == K``), so boundary ``j`` shifts by one place exactly when ``j > r``. The
      new image shifts every image sorted after it by one place. An existing image changes
      group only if it crosses a boundary, and across each boundary at most the one image
      next to it can cross: at most one moved image per boundary, ``K - 1`` in all, each
      to a neighbouring group. The bound is reached (``tests/test_groups.py`` shows a case).

With a lock: byte-balanced groups (:func:`split_by_bytes`)
    Each image weighs ``w`` bytes: its locked ``size`` (config plus compressed layers) for
    the heaviest platform it is locked for, when nodes of several platforms pull different
    bytes (lock with ``--platform`` to count only your nodes' platforms); at least 1. Take the
    images in the same SHA-256 order, laid end to end on a line of length ``T`` (the total
    weight); image ``i`` covers ``[C_i, C_i + w_i)`` and its midpoint is ``μ_i = C_i + w_i/2``.
    The group of ``i`` is ``floor(K * μ_i / T)``: the cuts sit at ``b_j = j*T/K`` and each
    image goes to the part its midpoint falls in (integer arithmetic, no rounding).

    Balance: every group weighs within ``M`` of ``T/K``, where ``M`` is the heaviest image
    (the images whose midpoints lie in a window of length ``T/K`` cover it but for at most
    half an image at each end). No split can promise better in general: an image heavier than
    ``T/K`` alone overloads its group. A group may be empty when some image weighs more than
    ``T/K``; it still emits its DaemonSet (see below).

    Stability: adding one image of weight ``s`` moves at most
    ``sum over j = 1..K-1 of ceil(max(j, K-j) * s / (K*m))`` existing images, and so at most
    ``(K-1) * ceil(s/m)``, where ``m`` is the lightest existing image; ``K - 1`` when all
    images weigh the same, as for the count split. Removing an image of weight ``s`` is the
    reverse move, bounded alike. Proof: let the new image ``x`` go in at some place of the
    order. The total becomes ``T + s``, so cut ``j`` moves to ``b'_j = b_j + j*s/K``. An
    image before ``x`` keeps its midpoint; it is on the other side of cut ``j`` exactly when
    ``b_j <= μ_i < b_j + j*s/K``. An image after ``x`` has its midpoint pushed to ``μ_i + s``;
    it changes side exactly when ``b_j - (K-j)*s/K <= μ_i < b_j``. Since the images before
    ``x`` have smaller midpoints than those after it, only one of the two cases occurs at a
    given cut, so the images moved across cut ``j`` have their (old) midpoints in a half-open
    window of length at most ``max(j, K-j)*s/K``. Consecutive midpoints lie
    ``(w_i + w_{i+1})/2 >= m`` apart, so such a window holds at most
    ``ceil(max(j, K-j)*s/(K*m))`` of them. Summing over the ``K - 1`` cuts bounds the moved
    images (one moved across two cuts is counted twice, so the sum is an upper bound).
    ``tests/test_groups.py`` checks the bound and the balance with hypothesis.

    The count split's bound (``K - 1`` whatever the images) cannot hold for bytes: a
    multi-gigabyte image added among small ones must push ``s/K`` bytes' worth of them out of
    each group for the groups to stay balanced.

Empty groups: none today, because K may not exceed the distinct images given at
construction and images are only ever added. Should images discovered at synth time allow
an empty ``images=``, relax :func:`parallel_pulls` to ``K >= 1``: a group left without
images still emits its DaemonSet (helper and pause only in the default mode, pause only in
keep mode), so that the set of objects and their names do not depend on what was found.

Why not plain rendezvous (highest-random-weight) hashing: each image going to its
highest-scoring group is perfectly stable but unbalanced (group sizes vary like a
multinomial, about ``sqrt(n/K)`` apart), and rebalancing it to within one image loses the
bound above. Why hash the identity instead of sorting names: related images (one
registry, one vendor's multi-gigabyte images) would land in one group and make that
group's pulls the slowest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ._errors import PrepullerError
from ._references import ImageReference
from ._validation import integer

__all__ = ["GROUP_LABEL", "daemon_set_name", "group_labels", "moved_bound", "parallel_pulls", "split", "split_by_bytes"]

#: The label that tells the K DaemonSets' pods apart (value ``"1"``…``"K"``); it is part of
#: each DaemonSet's selector, so the selectors are disjoint. Not set when K == 1.
GROUP_LABEL = "prepuller.io/group"


def parallel_pulls(value: object, distinct_images: int | None) -> int:
    """Validate ``parallel_pulls``: a whole number from 1 to the number of distinct images
    (any whole number from 1 when ``distinct_images`` is ``None``: images found at synth).

    More groups than images would only emit DaemonSets with nothing to pull, so it is an
    error rather than a silent cap (a cap would also change the number of DaemonSets, and
    so their names, when images are added later).
    """
    count = integer(value, "parallel_pulls", minimum=1)
    if distinct_images is not None and count > distinct_images:
        raise PrepullerError(
            "parallel_pulls",
            f"must be at most the number of distinct images ({distinct_images}): each group needs an image",
            value,
        )
    return count


def daemon_set_name(name: str, group: int, groups: int) -> str:
    """``<name>`` when there is one group, else ``<name>-<group>`` (groups count from 1)."""
    return name if groups == 1 else f"{name}-{group}"


def group_labels(group: int, groups: int) -> dict[str, str]:
    """The group label of DaemonSet ``group``; none when there is one group, so that the
    single DaemonSet, its pods and its (immutable) selector stay as without the option."""
    return {} if groups == 1 else {GROUP_LABEL: str(group)}


def split(references: Sequence[ImageReference], groups: int) -> list[list[ImageReference]]:
    """The references in ``groups`` balanced lists (see the module docstring).

    Args:
        references: distinct images, in the user's order.
        groups: K, at least 1. More groups than references leaves the last ones empty.

    Returns:
        K lists; list ``i`` holds group ``i + 1``'s images in the order of ``references``.
    """
    ranked = sorted(range(len(references)), key=lambda index: _rank(references[index]))
    size, extra = divmod(len(references), groups)
    group_of = [0] * len(references)
    start = 0
    for group in range(groups):
        end = start + size + (1 if group < extra else 0)
        for index in ranked[start:end]:
            group_of[index] = group
        start = end
    result: list[list[ImageReference]] = [[] for _ in range(groups)]
    for index, reference in enumerate(references):
        result[group_of[index]].append(reference)
    return result


def split_by_bytes(
    references: Sequence[ImageReference], sizes: Sequence[int], groups: int
) -> list[list[ImageReference]]:
    """The references in ``groups`` lists balanced by bytes (see the module docstring).

    Args:
        references: distinct images, in the user's order.
        sizes: the bytes of each image (same order); a size below 1 counts as 1.
        groups: K, at least 1.

    Returns:
        K lists; list ``i`` holds group ``i + 1``'s images in the order of ``references``.
        Some may be empty when an image weighs more than a K-th of the total.
    """
    weights = [max(int(size), 1) for size in sizes]
    total = sum(weights)
    offset = 0
    group_of = [0] * len(references)
    for index in sorted(range(len(references)), key=lambda index: _rank(references[index])):
        weight = weights[index]
        # floor(K * midpoint / T) with midpoint = offset + weight / 2, in integers.
        group_of[index] = min(groups - 1, groups * (2 * offset + weight) // (2 * total))
        offset += weight
    result: list[list[ImageReference]] = [[] for _ in range(groups)]
    for index, reference in enumerate(references):
        result[group_of[index]].append(reference)
    return result


def moved_bound(added: int, lightest: int, groups: int) -> int:
    """The most existing images that adding an image of ``added`` bytes may move to another
    group in :func:`split_by_bytes`, when the lightest existing image has ``lightest`` bytes
    (sizes below 1 count as 1; the proof is in the module docstring)."""
    s, m = max(added, 1), max(lightest, 1)
    # ceil(max(j, K-j) * s / (K*m)) for each cut j, in integers.
    return sum(-(-max(j, groups - j) * s // (groups * m)) for j in range(1, groups))


def _rank(reference: ImageReference) -> tuple[bytes, str]:
    identity = "".join(reference.identity)
    # The identity itself breaks (astronomically unlikely) hash ties, keeping the order total.
    return hashlib.sha256(identity.encode()).digest(), identity
