"""What a prepuller pod reserves on every node: default mode vs keep mode vs Eclipse Che.

Not a test: run ``.venv/bin/python benchmarks/footprint.py``. The figures are computed from
manifests synthesized by ``ImagePrepuller`` (not from the defaults in the code), with the
scheduler's rule for a pod's effective request; ``tests/test_footprint.py`` pins them.

Eclipse Che's kubernetes-image-puller is modelled from its documented defaults: one
``copy-sleep`` init container and one sleeping container per image, each with
``CACHING_CPU_REQUEST`` ``.05``, ``CACHING_MEMORY_REQUEST`` ``10Mi``, ``CACHING_CPU_LIMIT``
``.2`` and ``CACHING_MEMORY_LIMIT`` ``20Mi`` (README of che-incubator/kubernetes-image-puller,
``deploy/helm/values.yaml``), the memory limit raised to ``30Mi`` by
che-incubator/kubernetes-image-puller-operator#109 after eclipse-che/che#22446.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK8S_CHECK_UPGRADE", "false")

import cdk8s
from tabulate import tabulate

from prepuller import ImagePrepuller
from prepuller._validation import quantity_value

__all__ = ["IMAGE_COUNTS", "che_pod_spec", "effective_request", "footprint_rows", "prepuller_pod_spec"]

IMAGE_COUNTS = (1, 10, 50)
RESOURCES = ("cpu", "memory")

#: Eclipse Che's per-container defaults (see the module docstring for the sources).
CHE_RESOURCES = {"requests": {"cpu": ".05", "memory": "10Mi"}, "limits": {"cpu": ".2", "memory": "30Mi"}}


def effective_request(pod_spec: Mapping[str, Any], section: str = "requests") -> dict[str, Decimal]:
    """A pod's effective ``requests`` (or ``limits``) per resource, as the scheduler and
    ResourceQuota count them (``PodRequests`` in k8s.io/component-helpers/resource):

    ``max(max over init containers, sum over containers) + overhead`` per resource, where
    restartable init containers (sidecars, ``restartPolicy: Always``) add to the sum and to
    every later init container. CPU in cores, memory in bytes; resources no container sets
    are 0.
    """
    result = {}
    for resource in RESOURCES:
        sidecars = Decimal(0)
        init_peak = Decimal(0)
        for init in pod_spec.get("initContainers", []):
            amount = _amount(init, section, resource)
            if init.get("restartPolicy") == "Always":
                sidecars += amount
                init_peak = max(init_peak, sidecars)
            else:
                init_peak = max(init_peak, amount + sidecars)
        running = sum((_amount(c, section, resource) for c in pod_spec.get("containers", [])), Decimal(0)) + sidecars
        overhead = pod_spec.get("overhead", {}).get(resource)
        result[resource] = max(init_peak, running) + (quantity_value(str(overhead)) if overhead else 0)
    return result


def _amount(container: Mapping[str, Any], section: str, resource: str) -> Decimal:
    value = container.get("resources", {}).get(section, {}).get(resource)
    return quantity_value(str(value)) if value is not None else Decimal(0)


def _images(count: int) -> list[str]:
    return [f"registry.example.com/team/app-{index}:1.0" for index in range(count)]


def prepuller_pod_spec(count: int, **options: Any) -> dict[str, Any]:
    """The pod spec ``ImagePrepuller`` synthesizes for ``count`` images and ``options``."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "footprint")
    ImagePrepuller(chart, "prepull", images=_images(count), **options)
    [daemon_set] = [m for m in cdk8s.Testing.synth(chart) if m["kind"] == "DaemonSet"]
    spec: dict[str, Any] = daemon_set["spec"]["template"]["spec"]
    return spec


def che_pod_spec(count: int) -> dict[str, Any]:
    """Eclipse Che's puller pod with its default resources (containers reduced to what
    matters here: names, images, resources)."""
    return {
        "initContainers": [{"name": "copy-sleep", "resources": CHE_RESOURCES}],
        "containers": [
            {"name": f"image-{i}", "image": image, "resources": CHE_RESOURCES} for i, image in enumerate(_images(count))
        ],
    }


def footprint_rows(counts: Iterable[int] = IMAGE_COUNTS) -> list[dict[str, Any]]:
    """One row per (puller, number of images): effective requests and memory limits."""
    rows = []
    for count in counts:
        specs = {
            "prepuller default": prepuller_pod_spec(count),
            "prepuller keep_images": prepuller_pod_spec(count, keep_images=True),
            "Eclipse Che defaults": che_pod_spec(count),
        }
        for puller, spec in specs.items():
            requests = effective_request(spec)
            limits = effective_request(spec, "limits")
            rows.append(
                {
                    "puller": puller,
                    "images": count,
                    "cpu_millicores": requests["cpu"] * 1000,
                    "memory_mib": requests["memory"] / 2**20,
                    "memory_limit_mib": limits["memory"] / 2**20,
                }
            )
    return rows


def _plain(number: Decimal) -> str:
    """``5`` for ``Decimal('5.000')``, ``2500`` for ``Decimal('2.5E+3')``."""
    return format(number.normalize(), "f")


def main() -> None:
    rows = footprint_rows()
    che = {row["images"]: row for row in rows if row["puller"] == "Eclipse Che defaults"}
    table = [
        [
            row["puller"],
            row["images"],
            f"{_plain(row['cpu_millicores'])}m",
            f"{_plain(row['memory_mib'])}Mi",
            f"{_plain(row['memory_limit_mib'])}Mi",
            f"{row['cpu_millicores'] / che[row['images']]['cpu_millicores']:.3g}",
            f"{row['memory_mib'] / che[row['images']]['memory_mib']:.3g}",
        ]
        for row in rows
    ]
    headers = ["puller", "images", "CPU request", "memory request", "memory limits", "CPU vs Che", "memory vs Che"]
    print("Effective request per node of one prepuller pod (max(init), sum(containers)), from synthesized manifests")
    print(
        tabulate(
            table,
            headers=headers,
            tablefmt="github",
            colalign=("left", "right", "right", "right", "right", "right", "right"),
        )
    )


if __name__ == "__main__":
    main()
