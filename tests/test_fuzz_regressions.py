"""Bugs the fuzzer (tests/test_fuzz.py) found, pinned as plain tests with exact messages."""

from __future__ import annotations

import cdk8s
import pytest

from prepuller import ImagePrepuller, PrepullerError

IMAGE = "nginx:1.25"


@pytest.mark.parametrize("value", [None, 5, b"x", ""])
def test_construct_id_must_be_a_non_empty_string(chart: cdk8s.Chart, value: object) -> None:
    # Before: a jsii TypeError ("type of argument id must be str") escaped when name= was given.
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, value, images=[IMAGE], name="prepull")  # type: ignore[arg-type]
    assert str(error.value) == f"id: must be a non-empty string (the construct id) (got {value!r})"
    assert chart.node.children == []
