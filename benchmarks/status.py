"""How long `prepuller status` takes to read a large cluster, as a ratio to parsing its JSON.

A 1,000-node cluster with a 30-image prepuller: ``kubectl get pods -o json`` prints about
60 MB. The floor is ``json.loads`` of that text (which the command must do anyway); the
figure is how many times longer ``status_report`` plus rendering the table take on top.
Run: ``.venv/bin/python benchmarks/status.py``.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prepuller._status import render_json, render_table, status_report
from tests.status_support import completed, container_status, load

NODES = 1000
IMAGES = 30


def cluster() -> tuple[str, str]:
    base = load("kubelet-pods.json")["items"][0]
    pull = base["spec"]["initContainers"][1]
    base["spec"]["initContainers"] = base["spec"]["initContainers"][:1] + [
        {**copy.deepcopy(pull), "name": f"pull-app-{i}", "image": f"registry.example.com/team/app-{i}:1.0"}
        for i in range(IMAGES)
    ]
    base["status"]["initContainerStatuses"] = [
        container_status(base, c["name"], completed()) for c in base["spec"]["initContainers"]
    ]
    node = load("nodes.json")["items"][0]
    pods, nodes = [], []
    for n in range(NODES):
        pod = copy.deepcopy(base)
        pod["metadata"]["name"] = f"prepull-{n:05d}"
        pod["spec"]["nodeName"] = f"node-{n:05d}"
        pods.append(pod)
        item = copy.deepcopy(node)
        item["metadata"]["name"] = f"node-{n:05d}"
        nodes.append(item)
    return json.dumps({"kind": "List", "items": pods}), json.dumps({"kind": "List", "items": nodes})


def best(function: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    pods_text, nodes_text = cluster()
    pods, nodes = json.loads(pods_text), json.loads(nodes_text)
    floor = best(lambda: (json.loads(pods_text), json.loads(nodes_text)))
    report = status_report(pods, nodes)
    assert report.ready, report.summary
    work = best(lambda: render_table(status_report(pods, nodes)))
    work_json = best(lambda: render_json(status_report(pods, nodes)))
    size = (len(pods_text) + len(nodes_text)) / 1e6
    print(f"{NODES} nodes x {IMAGES} images, {size:.1f} MB of JSON: {report.summary}")
    print(f"floor json.loads: {floor * 1000:.0f} ms")
    print(f"status_report + table: {work * 1000:.0f} ms = {work / floor:.2f} x floor")
    print(f"status_report + json:  {work_json * 1000:.0f} ms = {work_json / floor:.2f} x floor")


if __name__ == "__main__":
    main()
