"""Bugs the fuzzer (tests/test_fuzz.py) found, pinned as plain tests with exact messages."""

from __future__ import annotations

import cdk8s
import pytest
import yaml

from prepuller import ImagePrepuller, PrepullerError

from .conftest import only, pod_spec, synth

IMAGE = "nginx:1.25"


@pytest.mark.parametrize("value", [None, 5, b"x", ""])
def test_construct_id_must_be_a_non_empty_string(chart: cdk8s.Chart, value: object) -> None:
    # Before: a jsii TypeError ("type of argument id must be str") escaped when name= was given.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, value, images=[IMAGE], name="prepull")  # type: ignore[arg-type]
    assert str(error.value) == f"id: must be a non-empty string (the construct id) (got {value!r})"
    assert chart.node.children == []


def test_toleration_seconds_beyond_javascript_precision_are_refused(chart: cdk8s.Chart) -> None:
    # Before: 2**53 + 1 was accepted and written as 9007199254740992 (cdk8s synthesizes in JavaScript).
    toleration = {"key": "k", "effect": "NoExecute", "tolerationSeconds": 2**53 + 1}
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], tolerations=[toleration])
    assert (
        str(error.value) == "tolerations[0].tolerationSeconds: must be at most 9007199254740991 (got 9007199254740993)"
    )


def test_max_unavailable_is_an_int32(chart: cdk8s.Chart) -> None:
    # Before: any size was accepted; the API server refuses more than int32 holds.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], max_unavailable=2**31)
    assert str(error.value) == "max_unavailable: must be at most 2147483647 (got 2147483648)"


def test_annotation_values_must_be_valid_unicode(chart: cdk8s.Chart) -> None:
    # Before: a lone surrogate passed and was mangled when the YAML was written.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], annotations={"a": "x\ud800"})
    assert (
        str(error.value) == "annotations['a']: must be valid Unicode text (it holds a lone surrogate) (got 'x\\ud800')"
    )


def test_annotation_size_is_counted_in_bytes(chart: cdk8s.Chart) -> None:
    # Before: 140,000 'é' (280,000 bytes) passed as 140,000 characters; the API server counts bytes.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], annotations={"a": "é" * 140_000})
    assert str(error.value) == "annotations: must be at most 256 KiB in total (got '1 annotations')"
    ImagePrepuller(chart, "prepull", images=[IMAGE], annotations={"a": "é" * 130_000})


@pytest.mark.parametrize("amount", ["1e999999999", "1e99999999999999999999", 1e300, "9" * 40, "8Ei"])
def test_huge_quantities_are_refused(chart: cdk8s.Chart, amount: object) -> None:
    # Before: "1e999999999" raised decimal.Overflow when compared with the default limit.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], resources={"requests": {"memory": amount}})
    assert (
        str(error.value)
        == f"resources.requests.memory: must be at most 2^63-1 (the kubelet's int64 range) (got {amount!r})"
    )


@pytest.mark.parametrize("amount", ["1e-999999999", "7Ei", "0.000000001", "1e3"])
def test_extreme_but_valid_quantities(chart: cdk8s.Chart, amount: str) -> None:
    ImagePrepuller(chart, "prepull", images=[IMAGE], resources={"requests": {"cpu": None}, "limits": {"cpu": amount}})
    spec = pod_spec(synth(chart))
    for container in spec["initContainers"] + spec["containers"]:
        # Written as given (no float round trip); the removed request is gone, memory keeps its default.
        assert container["resources"] == {"limits": {"cpu": amount, "memory": "64Mi"}, "requests": {"memory": "16Mi"}}


def _node_affinity(operator: str, values: list[str]) -> dict[str, object]:
    expression = {"key": "example.com/generation", "operator": operator, "values": values}
    terms = [{"matchExpressions": [expression]}]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


@pytest.mark.parametrize("value", ["²", "١٢", "--5", "9223372036854775808", "1.5", ""])
def test_gt_lt_need_an_int64_in_ascii_digits(chart: cdk8s.Chart, value: str) -> None:
    # Before: "²" and "١٢" (str.isdigit) and "--5" (lstrip) passed; the API server refuses them.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], affinity=_node_affinity("Gt", [value]))
    option = (
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"
    )
    assert str(error.value) == f"{option}.values: must be one integer when operator is 'Gt' (got [{value!r}])"


@pytest.mark.parametrize("value", ["5", "-5", "+5", "9223372036854775807"])
def test_gt_lt_accept_what_kubernetes_accepts(chart: cdk8s.Chart, value: str) -> None:
    ImagePrepuller(chart, "prepull", images=[IMAGE], affinity=_node_affinity("Lt", [value]))
    assert pod_spec(synth(chart))["affinity"] == _node_affinity("Lt", [value])


@pytest.mark.parametrize("image", ["nginx:café", "nginx:\u0661", "nginx:x\u212a"])
def test_tags_are_ascii(chart: cdk8s.Chart, image: str) -> None:
    # Before: Python's Unicode \w let these through; Go's (distribution/reference) is ASCII.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[image])
    assert str(error.value) == (
        "images[0]: is not a valid image reference: the tag must be 1 to 128 characters of letters, digits, "
        f"'_', '.' or '-', not starting with '.' or '-' (got {image!r})"
    )


@pytest.mark.parametrize("text", ["\x7fx", "a\x85b", "\x00", "\x1b[31m", "a\u2028b", "\uffff"])
def test_annotation_values_must_be_printable(chart: cdk8s.Chart, text: str) -> None:
    # Before: cdk8s wrote them unescaped, and YAML readers refused the file (or read a line break).
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=[IMAGE], annotations={"a": text})
    assert str(error.value) == (
        "annotations['a']: must be printable text: no control characters (tab, newline and CR are fine) "
        f"or line separators (got {text!r})"
    )


def test_tabs_newlines_and_unicode_stay_allowed_in_annotations(chart: cdk8s.Chart) -> None:
    text = "tab\there\nnew line\r, é 😀 ="
    ImagePrepuller(chart, "prepull", images=[IMAGE], annotations={"a": text})
    assert only(synth(chart), "DaemonSet")["metadata"]["annotations"]["a"] == text
    # The YAML file cdk8s writes reads back to the same text.
    app = cdk8s.Testing.app()
    ImagePrepuller(cdk8s.Chart(app, "test"), "prepull", images=[IMAGE], annotations={"a": text})
    written = yaml.safe_load_all(app.synth_yaml())
    assert next(d for d in written if d["kind"] == "DaemonSet")["metadata"]["annotations"]["a"] == text
