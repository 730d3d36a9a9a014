"""Synth-time benchmark: ImagePrepuller against two floors measured in the same run.

For N = 1, 10, 100 and 1000 images it measures, each case in a fresh process:
- ``prepuller``: build the chart with ``ImagePrepuller`` and ``app.synth()`` to a temp dir;
- ``bare cdk8s`` floor: the very same manifests (the DaemonSet and the NetworkPolicy)
  emitted by a bare cdk8s app, each as one ``ApiObject`` (the spec added as one JSON patch),
  and ``app.synth()``;
- ``PyYAML`` floor: the same manifests as plain dicts, ``yaml.safe_dump_all`` to a file.

Time is the fastest of several repeats inside the process (imports and the jsii runtime's
start are not timed: they are the same for every cdk8s app). The minimum, not the median:
on a shared machine other load only ever adds time, so the fastest run is the best estimate
of the work itself, for the floors and for prepuller alike. Peak memory is the high-water
RSS of the Python process plus the jsii node process. It then prints the pod's effective
resource request per node for 1, 10 and 50 images (``footprint.py``). Run: ``make bench`` or
``.venv/bin/python benchmarks/synth.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import footprint  # the sibling script, for its table

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 10, 100, 1000)
CASES = ("prepuller", "bare-cdk8s", "pyyaml")


def images(count: int) -> list[str]:
    return [f"registry.example.com/team-{i % 7}/app-{i}:v{i}.0" for i in range(count)]


def _peak_rss_kib() -> int:
    """High-water RSS of this process and its children still running (the jsii node)."""
    total = 0
    pids = [str(os.getpid())]
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(children)
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def _manifest(count: int) -> list[dict[str, Any]]:
    import cdk8s

    from prepuller import ImagePrepuller

    chart = cdk8s.Chart(cdk8s.Testing.app(), "bench")
    ImagePrepuller(chart, "prepull", images=images(count))
    return list(cdk8s.Testing.synth(chart))


def _run_case(case: str, count: int, repeats: int) -> dict[str, float]:
    """Runs inside the child process."""
    import cdk8s
    import yaml

    from prepuller import ImagePrepuller

    documents = _manifest(count)  # also warms up the jsii runtime for every case alike
    timings = []
    with tempfile.TemporaryDirectory() as out:
        for repeat in range(repeats):
            outdir = f"{out}/{repeat}"
            start = time.perf_counter()
            if case == "prepuller":
                app = cdk8s.App(outdir=outdir)
                ImagePrepuller(cdk8s.Chart(app, "bench"), "prepull", images=images(count))
                app.synth()
            elif case == "bare-cdk8s":
                app = cdk8s.App(outdir=outdir)
                chart = cdk8s.Chart(app, "bench")
                for index, document in enumerate(documents):
                    obj = cdk8s.ApiObject(
                        chart,
                        f"object{index}",
                        api_version=document["apiVersion"],
                        kind=document["kind"],
                        metadata=cdk8s.ApiObjectMetadata(
                            name=document["metadata"]["name"],
                            labels=document["metadata"]["labels"],
                            annotations=document["metadata"].get("annotations"),
                        ),
                    )
                    obj.add_json_patch(cdk8s.JsonPatch.add("/spec", document["spec"]))
                app.synth()
            else:
                os.makedirs(outdir)
                with open(f"{outdir}/bench.k8s.yaml", "w") as stream:
                    yaml.safe_dump_all(documents, stream)
            timings.append(time.perf_counter() - start)
    return {"seconds": min(timings), "peak_mib": _peak_rss_kib() / 1024}


def _measure(case: str, count: int, repeats: int) -> dict[str, float]:
    environment = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK8S_CHECK_UPGRADE": "false"}
    result = subprocess.run(
        [sys.executable, __file__, "--child", case, str(count), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=ROOT,
    )
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per case (fastest counts); default 9")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, count, repeats = args.child
        print(json.dumps(_run_case(case, int(count), int(repeats))))
        return
    rows = []
    for count in SIZES:
        measured = {case: _measure(case, count, args.repeats) for case in CASES}
        ours, bare, plain = measured["prepuller"], measured["bare-cdk8s"], measured["pyyaml"]
        rows.append(
            [
                count,
                f"{ours['seconds'] * 1000:.1f}",
                f"{bare['seconds'] * 1000:.1f}",
                f"{plain['seconds'] * 1000:.1f}",
                f"{ours['seconds'] / bare['seconds']:.2f}x",
                f"{ours['peak_mib']:.0f}",
                f"{bare['peak_mib']:.0f}",
                f"{plain['peak_mib']:.0f}",
                f"{ours['peak_mib'] / bare['peak_mib']:.2f}x",
            ]
        )
    headers = [
        "images",
        "prepuller ms",
        "bare cdk8s ms",
        "PyYAML ms",
        "time vs bare",
        "prepuller MiB",
        "bare cdk8s MiB",
        "PyYAML MiB",
        "memory vs bare",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    print("\nGoal: time <= 1.1x the bare-cdk8s floor at 100 images, <= 1.5x at 1000.\n")
    print("Effective resource request per node (from synthesized manifests; benchmarks/footprint.py):\n")
    footprint.main()


if __name__ == "__main__":
    main()
