"""benchmarks/footprint.py: the effective-request rule and the figures it reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from benchmarks.footprint import che_pod_spec, effective_request, footprint_rows, prepuller_pod_spec

MI = 2**20


def _container(cpu: str, memory: str, **fields: str) -> dict[str, object]:
    return {"resources": {"requests": {"cpu": cpu, "memory": memory}}, **fields}


def test_rule_max_of_init_containers_and_sum_of_containers() -> None:
    spec = {
        "initContainers": [_container("300m", "10Mi"), _container("100m", "50Mi")],
        "containers": [_container("100m", "20Mi"), _container("100m", "20Mi")],
    }
    assert effective_request(spec) == {"cpu": Decimal("0.3"), "memory": 50 * MI}


def test_rule_sidecars_add_to_containers_and_to_later_init_containers() -> None:
    spec = {
        "initContainers": [
            _container("100m", "10Mi", restartPolicy="Always"),
            _container("250m", "1Mi"),
        ],
        "containers": [_container("100m", "5Mi")],
        "overhead": {"cpu": "10m"},
    }
    assert effective_request(spec) == {"cpu": Decimal("0.36"), "memory": 15 * MI}


def test_unset_resources_count_as_zero() -> None:
    assert effective_request({"containers": [{"name": "x"}]}) == {"cpu": 0, "memory": 0}


@pytest.mark.parametrize(
    ("count", "cpu", "memory"),
    [(1, "0.005", 16), (10, "0.005", 16), (50, "0.005", 16)],
)
def test_default_mode_reserves_one_init_container_whatever_the_number_of_images(
    count: int, cpu: str, memory: int
) -> None:
    assert effective_request(prepuller_pod_spec(count)) == {"cpu": Decimal(cpu), "memory": memory * MI}


@pytest.mark.parametrize(
    ("count", "cpu", "memory", "memory_limits"),
    [(1, "0.005", 16, 64), (10, "0.010", 40, 640), (50, "0.050", 200, 3200)],
)
def test_keep_mode_reserves_1m_and_4mi_per_image(count: int, cpu: str, memory: int, memory_limits: int) -> None:
    spec = prepuller_pod_spec(count, keep_images=True)
    assert len(spec["containers"]) == count
    assert effective_request(spec) == {"cpu": Decimal(cpu), "memory": memory * MI}
    assert effective_request(spec, "limits")["memory"] == memory_limits * MI


def test_keep_mode_with_50_images_is_far_below_eclipse_ches_defaults() -> None:
    keep = effective_request(prepuller_pod_spec(50, keep_images=True))
    che = effective_request(che_pod_spec(50))
    assert che == {"cpu": Decimal("2.5"), "memory": 500 * MI}
    assert keep["cpu"] * 50 == che["cpu"]
    assert keep["memory"] * 5 == che["memory"] * 2


def test_rows_cover_every_puller_and_count() -> None:
    rows = footprint_rows((1, 10))
    assert [(row["puller"], row["images"]) for row in rows] == [
        ("prepuller default", 1),
        ("prepuller keep_images", 1),
        ("Eclipse Che defaults", 1),
        ("prepuller default", 10),
        ("prepuller keep_images", 10),
        ("Eclipse Che defaults", 10),
    ]
    assert rows[4]["cpu_millicores"] == 10 and rows[4]["memory_mib"] == 40 and rows[4]["memory_limit_mib"] == 640
