"""Properties that hold for any valid image list."""

from __future__ import annotations

import re

import cdk8s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepuller import ImagePrepuller
from prepuller._references import parse_reference
from tests.conftest import pod_spec, synth
from tests.strategies import image_references

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(image_references(), min_size=1, max_size=25))
def test_any_valid_list_gives_unique_dns_label_names_and_identical_output_on_repeat(images: list[str]) -> None:
    outputs = []
    for _ in range(2):
        chart = cdk8s.Chart(cdk8s.Testing.app(), "c")
        prepuller = ImagePrepuller(chart, "prepull", images=images)
        outputs.append(synth(chart))
    assert outputs[0] == outputs[1]
    containers = pod_spec(outputs[0])["initContainers"] + pod_spec(outputs[0])["containers"]
    names = [c["name"] for c in containers]
    assert len(names) == len(set(names))
    assert all(len(n) <= 63 and DNS_LABEL.match(n) for n in names)
    # every image is pulled exactly once, as first written, in order
    identities = {parse_reference(i, "images").identity for i in images}
    pulled = [c["image"] for c in containers[1:-1]]
    assert pulled == prepuller.images
    assert len(pulled) == len(identities)
    assert all(p in images for p in pulled)


@SETTINGS
@given(image_references())
def test_every_generated_reference_round_trips_as_written(text: str) -> None:
    assert parse_reference(text, "images").text == text
