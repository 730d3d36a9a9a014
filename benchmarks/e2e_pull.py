"""End-to-end pull benchmark: the prepuller's pod on a real engine against two floors
measured in the same run.

For N = 5 and 20 images of mixed sizes (one layer each of 1, 5, 10, 20 and 50 MiB of
random-but-seeded bytes, cycling; built by the suite and served by its local registry):
- ``sequential`` floor: the engine pulls the same images directly, one after another, in
  one ``podman pull IMAGE...``; ``one by one`` is a ``podman pull`` per image (for
  reference: each pays the CLI's start-up, so it is no floor);
- ``parallel`` floor: the same ``podman pull``s, all started at once;
- ``kubelet``: the default ``ImagePrepuller`` pod template played with ``podman play kube``
  (see tests/e2e/podman.py). The helper and pause images
  are in the store already, as on a node that ran any prepuller pod before; the ``cold``
  column times the same play with them absent too;
- ``docker``: ``mode="docker"``, the chart's script pulling through the engine's Docker API
  (``podman system service``) mounted from ``docker_host_path``, same clock;
- ``kubelet K=4``: ``parallel_pulls=4``, its four pods played at once (a node whose kubelet
  pulls in parallel), against the parallel floor.
Every figure is the wall time from the start (the ``podman pull`` or the play) until the
last of the N images is in the engine's store, read from the store's image index by one
watcher for all cases. The N images are removed from the store before every run; each
figure is the median of
``--repeats`` runs. Goal: kubelet ≤ 1.3x the sequential floor.

Needs the suite's environment (root): ``make bench-e2e``, i.e.
``tests/e2e/run .venv/bin/python benchmarks/e2e_pull.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cdk8s
from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepuller import DOCKER_IMAGE, HELPER_IMAGE, PAUSE_IMAGE, ImagePrepuller  # noqa: E402
from tests.e2e import images as test_images  # noqa: E402
from tests.e2e.engine import DockerApi, Environment, image_exists, podman, remove_images  # noqa: E402
from tests.e2e.podman import kube_pod, play, tear_down, templates_of  # noqa: E402

COUNTS = (5, 20)
#: parallel_pulls for the last column: K DaemonSets, played as K pods at once.
GROUPS = 4
SIZES_MIB = (1, 5, 10, 20, 50)
GOAL = 1.3


def bench_images(count: int) -> list[tuple[str, int]]:
    """(name, MiB) of the benchmark's images, each with content of its own."""
    sizes = [SIZES_MIB[index % len(SIZES_MIB)] for index in range(count)]
    return [(f"e2e.example/bench-{index}:{mib}mib", mib) for index, mib in enumerate(sizes)]


def sequential(env: Environment, names: list[str]) -> float:
    """One ``podman pull`` of all the images: the engine pulls them one after another."""
    with StoreWatcher(env) as watcher:
        podman("pull", "--quiet", *names)
    return watcher.all_present(names)


def one_by_one(env: Environment, names: list[str]) -> float:
    """A ``podman pull`` per image, one after another (each pays the CLI's start-up)."""
    with StoreWatcher(env) as watcher:
        for name in names:
            podman("pull", "--quiet", name)
    return watcher.all_present(names)


def parallel(env: Environment, names: list[str]) -> float:
    """A ``podman pull`` per image, all started at once."""
    with StoreWatcher(env) as watcher:
        pulls = [subprocess.Popen(["podman", "pull", "--quiet", name], stdout=subprocess.DEVNULL) for name in names]
        if any(pull.wait() != 0 for pull in pulls):
            raise RuntimeError("a parallel pull failed")
    return watcher.all_present(names)


def prepuller(env: Environment, names: list[str], run: int, **options: Any) -> float:
    """Play the prepuller's pod templates (all at once when ``parallel_pulls`` makes several);
    seconds from the play until the last of ``names`` was pulled."""
    prepull = ImagePrepuller(cdk8s.Chart(cdk8s.Testing.app(), "bench"), "prepull", images=names, **options)
    pods = [kube_pod(template, f"bench-{run}-{i}", "bench-node") for i, template in enumerate(templates_of(prepull))]
    with StoreWatcher(env) as watcher, concurrent.futures.ThreadPoolExecutor(max_workers=len(pods)) as pool:
        played = list(pool.map(play, pods))
    try:
        failed = [result.report() for result in played if result.returncode != 0]
        if failed:
            raise RuntimeError("\n".join(failed))
        return watcher.all_present(names)
    finally:
        for result, pod in zip(played, pods, strict=True):
            tear_down(result, [volume["name"] for volume in pod["spec"]["volumes"] if "emptyDir" in volume])


class StoreWatcher:
    """Records when each image name first appears in the engine's store, by reading the
    store's image index (``overlay-images/images.json``) every 20 ms in a thread: one clock
    for the floors and the prepuller alike. (Podman's ``pull`` events carry the time a pull
    *started*, so they cannot tell when the last image was in.)"""

    def __init__(self, env: Environment) -> None:
        self._index = env.work / "storage" / "overlay-images" / "images.json"
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> StoreWatcher:
        self.start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._scan()

    def _scan(self) -> None:
        try:
            entries = json.loads(self._index.read_text())
        except (OSError, ValueError):  # absent, or caught mid-write: the next scan sees it
            return
        now = time.monotonic()
        for entry in entries:
            for name in entry.get("names") or []:
                self.seen.setdefault(name, now)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self._scan()

    def all_present(self, names: list[str]) -> float:
        """Seconds from the start until the last of ``names`` was in the store."""
        missing = [name for name in names if name not in self.seen or not image_exists(name)]
        if missing:
            raise RuntimeError(f"not pulled: {missing}")
        return max(self.seen[name] for name in names) - self.start


def measure(label: str, how: Callable[[int], float], names: list[str], repeats: int, keep: tuple[str, ...]) -> float:
    """Median of ``repeats`` runs of ``how``, each on a store without ``names`` (``keep`` present)."""
    timings = []
    for run in range(repeats):
        remove_images(names)
        for image in keep:
            if not image_exists(image):
                podman("pull", "--quiet", image)
        timings.append(how(run))
    print(f"  {label}: {' '.join(f'{t:.2f}' for t in timings)} s", file=sys.stderr)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median); default 3")
    args = parser.parse_args()
    env = Environment.from_env()
    if env is None:
        sys.exit("e2e_pull: needs the end-to-end environment (root): run `make bench-e2e`")

    print("building test images ...", file=sys.stderr)
    for spec in test_images.suite_images(env):
        test_images.build(env, spec)
    for index, (name, mib) in enumerate(bench_images(max(COUNTS))):
        test_images.build(env, test_images.filler_image(name, mib, seed=1000 + index))

    runs = itertools.count()
    docker_host = Path(tempfile.mkdtemp(prefix="docker-host-", dir=env.work))
    docker_api = DockerApi(env, docker_host)
    try:
        rows = [row(env, docker_host, count, args.repeats, runs) for count in COUNTS]
    finally:
        docker_api.stop()
    headers = [
        "images",
        "MiB",
        "sequential s",
        "one by one s",
        "parallel s",
        "kubelet s",
        "kubelet vs sequential",
        "kubelet cold s",
        "docker s",
        "docker vs sequential",
        f"kubelet K={GROUPS} s",
        f"K={GROUPS} vs parallel",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    print(f"\nGoal: kubelet <= {GOAL}x the sequential floor. Median of {args.repeats} runs each.")


def row(env: Environment, docker_host: Path, count: int, repeats: int, runs: Iterator[int]) -> list[object]:
    """One line of the table: the floors and the prepuller for the first ``count`` images."""
    chosen = bench_images(count)
    names = [name for name, _ in chosen]
    support = (HELPER_IMAGE, PAUSE_IMAGE, DOCKER_IMAGE)

    def cold(_run: int) -> float:
        remove_images(support)
        return prepuller(env, names, next(runs))

    print(f"N={count}: floors ...", file=sys.stderr)
    floor_seq = measure("sequential", lambda _run: sequential(env, names), names, repeats, support)
    each = measure("one by one", lambda _run: one_by_one(env, names), names, repeats, support)
    floor_par = measure("parallel", lambda _run: parallel(env, names), names, repeats, support)
    print(f"N={count}: prepuller ...", file=sys.stderr)
    kubelet = measure("kubelet", lambda _run: prepuller(env, names, next(runs)), names, repeats, support)
    kubelet_cold = measure("kubelet cold", cold, names, repeats, ())
    docker = measure(
        "docker",
        lambda _run: prepuller(env, names, next(runs), mode="docker", docker_host_path=str(docker_host)),
        names,
        repeats,
        support,
    )
    groups = measure(
        f"kubelet K={GROUPS}",
        lambda _run: prepuller(env, names, next(runs), parallel_pulls=GROUPS),
        names,
        repeats,
        support,
    )
    return [
        count,
        sum(mib for _, mib in chosen),
        f"{floor_seq:.2f}",
        f"{each:.2f}",
        f"{floor_par:.2f}",
        f"{kubelet:.2f}",
        f"{kubelet / floor_seq:.2f}x",
        f"{kubelet_cold:.2f}",
        f"{docker:.2f}",
        f"{docker / floor_seq:.2f}x",
        f"{groups:.2f}",
        f"{groups / floor_par:.2f}x",
    ]


if __name__ == "__main__":
    main()
