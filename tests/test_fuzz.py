"""Fuzzing the public surface with hypothesis.

Random values of every type and shape go into every keyword option of ``ImagePrepuller`` (read
from its signature, so a new option is fuzzed without a change here), into the construct id,
unknown options and ``add_images``. The contract: the only exception that escapes is
``PrepullerError``, its message starts with the option's name, and a failed construction leaves
nothing in the tree and writes nothing to the output directory. Valid-looking inputs drawn from
the grammars (image references, tolerations) must synthesize and validate strictly.

``PREPULLER_FUZZ_EXAMPLES=1000`` runs 1000 examples per test instead of 30.
"""

from __future__ import annotations

import inspect
import os
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prepuller
from prepuller import ImagePrepuller, PrepullerError
from prepuller._values import values_schema
from tests.conftest import validate_strictly
from tests.scenarios import SCENARIOS

#: Applied to every test here (not as a global profile, so other modules keep their own).
fuzz = settings(
    max_examples=int(os.environ.get("PREPULLER_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

IMAGE = "docker.io/library/nginx:1.25"
PARAMETERS = inspect.signature(ImagePrepuller.__init__).parameters
OPTIONS = [name for name, p in PARAMETERS.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]

# --- strategies ---------------------------------------------------------------------------------

#: Strings that reach deeper than random text: field names, enum values, edge numbers,
#: non-ASCII digits and letters, a lone surrogate, control characters, shell metacharacters.
TRICKY = [
    "", " ", "a", "A", "-", "0", "1", "-1", "--1", "²", "١٢", "1e999999999", "1e-999999999", "9" * 40,
    "100%", "0%", "101%", "1.5%", "nginx:1.25", "nginx:café", "busybox@sha256:" + "a" * 64, "a/b", "localhost:5000/x",
    "Exists", "Equal", "In", "NotIn", "Gt", "Lt", "DoesNotExist", "NoSchedule", "NoExecute", "Always", "Never",
    "IfNotPresent", "key", "operator", "value", "effect", "tolerationSeconds", "requests", "limits", "cpu", "memory",
    "ephemeral-storage", "nodeAffinity", "podAffinity", "podAntiAffinity", "weight", "preference", "topologyKey",
    "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution",
    "nodeSelectorTerms", "matchExpressions", "matchFields", "matchLabels", "labelSelector", "podAffinityTerm",
    "namespaces", "namespaceSelector", "values", "kubernetes.io/os", "example.com/a", "a" * 64, "a" * 254,
    "\x00", "\n", "\ud800", "é", "$(id)", "; rm -rf /", "checkov.io/skip1", "CKV_K8S_8=x=y",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None), max_size=20)
    | st.binary(max_size=10)
    | st.sampled_from(TRICKY)
)
keys = st.sampled_from(TRICKY) | st.text(max_size=10) | st.integers() | st.none() | st.booleans()
anything: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=4)
        | st.frozensets(st.integers() | st.text(max_size=5), max_size=3)
    ),
    max_leaves=12,
)

# Valid image references, from the distribution grammar (ASCII only, as Go's regexes are).
_alnum = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--"])
_component = st.builds(
    lambda a, rest: a + "".join(s + b for s, b in rest), _alnum, st.lists(st.tuples(_separator, _alnum), max_size=2)
)
_domain_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?", fullmatch=True)
_domain = st.one_of(
    st.builds(lambda a, b: f"{a}.{b}", _domain_label, _domain_label),
    st.just("localhost"),
    st.builds(
        lambda host, port: f"{host}:{port}",
        st.sampled_from(["localhost", "registry.example.com"]),
        st.integers(1, 65535),
    ),
)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_digest = st.builds(lambda h: "sha256:" + h, st.text("0123456789abcdef", min_size=64, max_size=64))


@st.composite
def image_references(draw: st.DrawFn) -> str:
    name = "/".join(draw(st.lists(_component, min_size=1, max_size=3)))
    if draw(st.booleans()):
        name = f"{draw(_domain)}/{name}"
    if draw(st.booleans()):
        name += ":" + draw(_tag)
    if draw(st.booleans()):
        name += "@" + draw(_digest)
    return name


_label_name = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?", fullmatch=True)
_label_key = st.one_of(_label_name, st.builds(lambda p, n: f"{p}.io/{n}", _domain_label, _label_name))


@st.composite
def tolerations(draw: st.DrawFn) -> dict[str, Any]:
    toleration: dict[str, Any] = {}
    if draw(st.booleans()):
        toleration["operator"] = "Exists"
        if draw(st.booleans()):
            toleration["key"] = draw(_label_key)
    else:
        toleration["key"] = draw(_label_key)
        if draw(st.booleans()):
            toleration["operator"] = "Equal"
        toleration["value"] = draw(st.just("") | _label_name)
    effect = draw(st.sampled_from([None, "NoSchedule", "PreferNoSchedule", "NoExecute"]))
    if effect is not None:
        toleration["effect"] = effect
    if effect == "NoExecute" and draw(st.booleans()):
        toleration["tolerationSeconds"] = draw(st.integers(-(2**53 - 1), 2**53 - 1))
    return toleration


# Valid examples of every option, from the scenario registry (so a new option brings its own),
# mutated in one place: a leaf replaced by anything, a character inserted, a key added.
EXAMPLES: dict[str, list[Any]] = {}
for _scenario in SCENARIOS.values():
    for _option, _value in _scenario.options.items():
        EXAMPLES.setdefault(_option, []).append(_value)


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one random change somewhere inside it."""
    if isinstance(value, dict) and value and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(value, key=repr)))
        if draw(st.integers(0, 4)) == 0:
            return {**{k: v for k, v in value.items() if k != key}, draw(keys): value[key]}
        return {**value, key: draw(mutated(value[key]))}
    if isinstance(value, list) and value and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], draw(mutated(value[index])), *value[index + 1 :]]
    if isinstance(value, str) and draw(st.integers(0, 2)):
        position = draw(st.integers(0, len(value)))
        return value[:position] + draw(st.characters(codec=None) | st.sampled_from("-_./:@%$ ")) + value[position:]
    return draw(anything)


class Reader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml, the parser Go's YAML (kubectl's) is ported from, rather than pure-Python PyYAML,
    which refuses tabs inside plain scalars; and ``=`` read as text, as Go reads it, not as
    YAML 1.1's ``!!value``."""


Reader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


# --- the contract -------------------------------------------------------------------------------


def attempt(build: Callable[[cdk8s.Chart], Any], expected_option: str | tuple[str, ...]) -> list[dict[str, Any]] | None:
    """Build a prepuller into a fresh app beside another chart and synthesize the app.

    On ``PrepullerError``: the message starts with ``expected_option``, the chart holds nothing
    and the prepuller's chart file is empty while the other chart's is intact. Returns the
    chart's manifests on success, ``None`` on a (clean) failure.
    """
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk8s.App(outdir=outdir)
        other = cdk8s.Chart(app, "other")
        cdk8s.ApiObject(other, "cm", api_version="v1", kind="ConfigMap", metadata=cdk8s.ApiObjectMetadata(name="keep"))
        chart = cdk8s.Chart(app, "target", namespace="ns")
        try:
            build(chart)
        except PrepullerError as error:
            assert str(error).startswith(expected_option), (expected_option, str(error))
            assert error.option.startswith(expected_option), (expected_option, error.option)
            assert chart.node.children == []
            app.synth()
            assert (Path(outdir) / "target.k8s.yaml").read_text() == ""
            assert "name: keep" in (Path(outdir) / "other.k8s.yaml").read_text()
            return None
        manifests = list(cdk8s.Testing.synth(chart))
        app.synth()
        written = [d for d in yaml.load_all((Path(outdir) / "target.k8s.yaml").read_text(), Loader=Reader) if d]
        assert written == manifests
        validate_strictly(manifests)
        return manifests


@pytest.mark.parametrize("option", OPTIONS)
@fuzz
@given(value=anything)
def test_any_value_for_any_option(option: str, value: Any) -> None:
    options = {"images": [IMAGE], option: value}
    attempt(lambda chart: ImagePrepuller(chart, "prepull", **options), option)


@pytest.mark.parametrize("option", OPTIONS)
@fuzz
@given(data=st.data())
def test_almost_valid_value_for_any_option(option: str, data: st.DataObject) -> None:
    assert option in EXAMPLES, f"no scenario in tests/scenarios.py sets {option!r}"
    value = data.draw(st.sampled_from(EXAMPLES[option]).flatmap(mutated))
    options = {"images": [IMAGE], option: value}
    attempt(lambda chart: ImagePrepuller(chart, "prepull", **options), option)


@fuzz
@given(value=anything)
def test_any_construct_id(value: Any) -> None:
    attempt(lambda chart: ImagePrepuller(chart, value, images=[IMAGE], name="prepull"), "id")


@fuzz
@given(value=anything)
def test_any_construct_id_as_the_name(value: Any) -> None:
    attempt(lambda chart: ImagePrepuller(chart, value, images=[IMAGE]), ("id", "name (defaults to the construct id)"))


@fuzz
@given(option=st.text(min_size=1, max_size=20).filter(lambda o: o not in PARAMETERS), value=anything)
def test_unknown_options(option: str, value: Any) -> None:
    attempt(lambda chart: ImagePrepuller(chart, "prepull", images=[IMAGE], **{option: value}), option)


@fuzz
@given(values=st.lists(anything, max_size=4))
def test_add_images_with_anything(values: list[Any]) -> None:
    def build(chart: cdk8s.Chart) -> None:
        prepuller = ImagePrepuller(chart, "prepull", images=[IMAGE])
        try:
            prepuller.add_images(*values)
        except PrepullerError as error:
            assert str(error).startswith("add_images"), str(error)
            assert prepuller.images == [IMAGE]  # nothing half-added

    attempt(build, "add_images")


@fuzz
@given(images=st.lists(image_references(), min_size=1, max_size=5), more=st.lists(image_references(), max_size=3))
def test_valid_image_references_synthesize(images: list[str], more: list[str]) -> None:
    def build(chart: cdk8s.Chart) -> None:
        ImagePrepuller(chart, "prepull", images=images).add_images(*more)

    manifests = attempt(build, "<no error expected>")
    assert manifests is not None
    spec = next(m for m in manifests if m["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    pulled = {c["image"] for c in spec["initContainers"][1:]}
    assert pulled <= set(images + more)


@fuzz
@given(value=st.lists(tolerations(), max_size=4))
def test_valid_tolerations_synthesize(value: list[dict[str, Any]]) -> None:
    manifests = attempt(lambda chart: ImagePrepuller(chart, "prepull", images=[IMAGE], tolerations=value), "-")
    assert manifests is not None
    spec = next(m for m in manifests if m["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    assert spec.get("tolerations", []) == value


# --- values files (prepuller.load_values) ---------------------------------------------------------


def fuzz_values_file(load_values: Callable[[Path], Any], document: Any, directory: Path) -> None:
    """Write ``document`` as a values file and load it: a ``PrepullerError`` or options that
    build a prepuller (or fail with a ``PrepullerError``) are the only outcomes allowed. So the
    loader must reject what the constructor cannot take as keywords (a missing ``images``)."""
    path = directory / "values.yaml"
    if isinstance(document, bytes):
        path.write_bytes(document)
    elif isinstance(document, str):
        path.write_text(document, errors="surrogatepass")
    else:
        path.write_text(yaml.safe_dump(document))
    try:
        values = load_values(path)
    except PrepullerError:
        return
    if isinstance(values, dict):
        attempt(lambda chart: ImagePrepuller(chart, "prepull", **values), "")


#: The keys of a values file (camelCase, ``docker.images``, ...) and the options' own names.
VALUES_KEYS = sorted({*values_schema()["properties"], "images", "hostPath", *OPTIONS})

_yaml_able = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(TRICKY[:40]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(VALUES_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=15,
)


@fuzz
@given(document=_yaml_able | st.binary(max_size=40) | st.text(max_size=40))
def test_any_values_file(document: Any) -> None:
    with tempfile.TemporaryDirectory() as directory:
        fuzz_values_file(prepuller.load_values, document, Path(directory))
