"""Benchmark image discovery (not a test): prints times and ratios against floors measured in
the same run, on this machine.

1. `prepuller images` on a large `kubectl get -A -o json` List, against the floor of only
   parsing the same file (`json.loads`; the YAML floor `yaml.load_all(CSafeLoader)` for YAML).
2. Synth of an app (a chart of cdk8s-plus Deployments, a chart with an
   ImagePrepuller(images_from=[that chart])), against the same app whose prepuller lists the
   images explicitly: the cost of reading the tree (read twice per synth of the prepuller's
   chart: cdk8s's validation step, then the DaemonSet body).

Usage: python benchmarks/discovery.py [--workloads N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK8S_CHECK_UPGRADE", "false")

import yaml

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "kubectl-get-workloads-all-namespaces.json"


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def big_list(copies: int) -> dict[str, object]:
    fixture = json.loads(FIXTURE.read_text())
    items = []
    for copy_index in range(copies):
        for item in fixture["items"]:
            clone = json.loads(json.dumps(item))
            clone["metadata"]["namespace"] = f"{clone['metadata']['namespace']}-{copy_index}"
            items.append(clone)
    return {**fixture, "items": items}


def cli(path: Path) -> None:
    from prepuller._cli import main

    with redirect_stdout(io.StringIO()):
        assert main(["images", str(path)]) == 0


def synth_figures(workloads: int) -> tuple[float, float]:
    import cdk8s
    import cdk8s_plus_27 as kplus

    from prepuller import ImagePrepuller

    def build(discover: bool) -> cdk8s.Chart:
        app = cdk8s.Testing.app()
        chart = cdk8s.Chart(app, "apps")
        images = [f"registry.example.com/team/app-{i}:1.0" for i in range(workloads)]
        for i, image in enumerate(images):
            kplus.Deployment(chart, f"d{i}", containers=[kplus.ContainerProps(image=image)])
        infra = cdk8s.Chart(app, "infra")
        if discover:
            ImagePrepuller(infra, "prepull", images_from=[chart])
        else:
            ImagePrepuller(infra, "prepull", images=images)
        return infra

    def synth_app(infra: cdk8s.Chart) -> None:
        for chart in infra.node.root.node.children:
            cdk8s.Testing.synth(chart)  # type: ignore[arg-type]

    explicit = build(False)
    discovering = build(True)
    floor = best_of(3, lambda: synth_app(explicit))
    measured = best_of(3, lambda: synth_app(discovering))
    return floor, measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", type=int, default=100, help="Deployments in the synth benchmark")
    parser.add_argument("--copies", type=int, default=200, help="copies of the kubectl fixture in the JSON List")
    parser.add_argument("--yaml-copies", type=int, default=20, help="copies in the YAML List (PyYAML is slow)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        document = big_list(args.copies)
        json_path = Path(tmp) / "big.json"
        json_path.write_text(json.dumps(document))
        size = json_path.stat().st_size / 1e6
        items = len(document["items"])  # type: ignore[arg-type]
        floor = best_of(3, lambda: json.loads(json_path.read_text()))
        measured = best_of(3, lambda: cli(json_path))
        print(
            f"prepuller images, JSON, {items} objects, {size:.1f} MB: {measured:.3f} s; "
            f"json.loads floor {floor:.3f} s; ratio {measured / floor:.2f}"
        )
        document = big_list(args.yaml_copies)
        yaml_path = Path(tmp) / "big.yaml"
        yaml_path.write_text(yaml.safe_dump(document))
        items = len(document["items"])  # type: ignore[arg-type]
        floor = best_of(3, lambda: list(yaml.load_all(yaml_path.read_text(), Loader=yaml.CSafeLoader)))
        measured = best_of(3, lambda: cli(yaml_path))
        print(
            f"prepuller images, YAML, {items} objects: {measured:.3f} s; "
            f"CSafeLoader floor {floor:.3f} s; ratio {measured / floor:.2f}"
        )

    floor, measured = synth_figures(args.workloads)
    print(
        f"synth of the app, {args.workloads} Deployments: images_from {measured:.3f} s; "
        f"explicit images floor {floor:.3f} s; ratio {measured / floor:.2f}"
    )


if __name__ == "__main__":
    main()
