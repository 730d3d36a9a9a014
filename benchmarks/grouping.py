"""How many images move, and how many DaemonSets change, when one image is added.

Not a test: run ``.venv/bin/python benchmarks/grouping.py``. For each K and list size it
adds one random image to a random list of distinct images, many times (seeded, so the
figures are the same on every run), and reports the mean and maximum number of existing
images that change group, beside the proven bound K - 1 (``prepuller/_groups.py``), and
the DaemonSets whose image list changes (their pods restart).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK8S_CHECK_UPGRADE", "false")

from tabulate import tabulate

from prepuller._groups import split
from prepuller._references import ImageReference, parse_reference

__all__ = ["addition_effects"]

TRIALS = 2000


def addition_effects(k: int, n: int, trials: int = TRIALS, seed: int = 7) -> tuple[list[int], list[int]]:
    """Per trial: images moved to another group, and groups whose list changed."""
    rnd = random.Random(seed)
    moved, changed = [], []
    for _ in range(trials):
        images = _random_images(rnd, n)
        new = parse_reference(f"registry.example.com/new-{rnd.randrange(10**12)}:1", "images")
        before, after = split(images, k), split([*images, new], k)
        old_group = {r.identity: i for i, group in enumerate(before) for r in group}
        new_group = {r.identity: i for i, group in enumerate(after) for r in group}
        moved.append(sum(old_group[identity] != new_group[identity] for identity in old_group))
        changed.append(sum(before[i] != after[i] for i in range(k)))
    return moved, changed


def _random_images(rnd: random.Random, n: int) -> list[ImageReference]:
    names = {f"registry.example.com/team/app-{rnd.randrange(10**12)}:1" for _ in range(n)}
    return [parse_reference(name, "images") for name in sorted(names)]


def main() -> None:
    rows = []
    for k in (2, 3, 4, 8):
        for n in (10, 50):
            moved, changed = addition_effects(k, n)
            rows.append(
                [
                    k,
                    n,
                    f"{statistics.mean(moved):.2f}",
                    max(moved),
                    k - 1,
                    f"{statistics.mean(changed):.2f}",
                    max(changed),
                ]
            )
    headers = ["K", "images", "moved (mean)", "moved (max)", "bound K-1", "DaemonSets changed (mean)", "(max)"]
    print(f"Adding one image to a list of distinct images, {TRIALS} seeded trials each")
    print(tabulate(rows, headers=headers, tablefmt="github"))


if __name__ == "__main__":
    main()
