"""prepuller/_checkov.py: the skip table, the annotations it produces, and its documentation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller, _checkov
from prepuller._checkov import SkipContext, skip_annotations
from tests.conftest import only, synth

DOCS = Path(__file__).resolve().parent.parent / "docs" / "security.md"


def daemon_set(*images: str, policy: str | None = "IfNotPresent", namespace: str | None = "ns") -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image, "imagePullPolicy": policy} for i, image in enumerate(images)]
    return {
        "kind": "DaemonSet",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"template": {"spec": {"containers": containers[:1], "initContainers": containers[1:]}}},
    }


def skipped(obj: dict[str, Any], context: SkipContext | None = None) -> list[str]:
    annotations = skip_annotations(obj, context or SkipContext())
    return [value.split("=", 1)[0] for value in annotations.values()]


def test_reasons_are_single_lines_checkov_can_parse() -> None:
    # checkov 3.3.30 does `value.split("=")` into exactly two parts and crashes on a second '='.
    for skip in _checkov.SKIPS:
        assert re.fullmatch(r"CKV2?_K8S_[0-9]+", skip.check_id)
        assert "=" not in skip.reason and "\n" not in skip.reason and skip.reason
        assert "|" not in skip.reason + skip.when  # the Markdown table
    assert len({skip.check_id for skip in _checkov.SKIPS}) == len(_checkov.SKIPS)


def test_docs_carry_the_table() -> None:
    assert _checkov.markdown_table() in DOCS.read_text(), (
        "docs/security.md must contain prepuller._checkov.markdown_table() verbatim:\n" + _checkov.markdown_table()
    )


def test_pinned_images_need_only_the_probe_skips() -> None:
    digest = "@sha256:" + "a" * 64
    assert skipped(daemon_set("a:1" + digest, "b" + digest)) == ["CKV_K8S_8", "CKV_K8S_9"]


def test_tags_without_digest_skip_digest_and_pull_policy() -> None:
    assert skipped(daemon_set("a:1", "b:2")) == ["CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_15", "CKV_K8S_43"]
    assert skipped(daemon_set("a:1", policy="Always")) == ["CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_43"]


@pytest.mark.parametrize("image", ["busybox", "busybox:latest", "localhost:5000/busybox", "r.io:5000/x/y:latest"])
def test_mutable_tags_skip_the_fixed_tag_check(image: str) -> None:
    assert "CKV_K8S_14" in skipped(daemon_set(image))


@pytest.mark.parametrize("image", ["busybox:1", "localhost:5000/busybox:1", "busybox@sha256:" + "a" * 64])
def test_fixed_tags_do_not_skip_the_fixed_tag_check(image: str) -> None:
    assert "CKV_K8S_14" not in skipped(daemon_set(image))


def test_no_namespace_skips_the_default_namespace_check_on_checked_kinds_only() -> None:
    assert "CKV_K8S_21" in skipped(daemon_set("a:1", namespace=None))
    assert "CKV_K8S_21" not in skipped(daemon_set("a:1"))
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "p"}, "spec": {}}
    assert skipped(policy) == []


def test_network_policy_off_skips_the_network_policy_check_on_pods_only() -> None:
    off = SkipContext(network_policy=False)
    assert "CKV2_K8S_6" in skipped(daemon_set("a:1"), off)
    assert "CKV2_K8S_6" not in skipped(daemon_set("a:1"))
    assert skipped({"kind": "Role", "metadata": {"namespace": "ns"}}, off) == []


def test_cron_jobs_are_not_asked_for_probes() -> None:
    job = {
        "kind": "CronJob",
        "metadata": {"namespace": "ns"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "a:1"}]}}}}},
    }
    assert skipped(job) == ["CKV_K8S_15", "CKV_K8S_43"]


def test_numbers_continue_past_the_users_own_skips() -> None:
    annotations = skip_annotations(daemon_set("a:1"), SkipContext(), existing={"checkov.io/skip1": "CKV_K8S_99=x"})
    assert list(annotations) == ["checkov.io/skip2", "checkov.io/skip3", "checkov.io/skip4", "checkov.io/skip5"]


def test_annotations_land_on_the_daemon_set_not_its_pods(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], annotations={"checkov.io/skip1": "CKV_K8S_99=mine"})
    ds = only(synth(chart), "DaemonSet")
    annotations = ds["metadata"]["annotations"]
    assert annotations["checkov.io/skip1"] == "CKV_K8S_99=mine"
    assert annotations["checkov.io/skip2"] == "CKV_K8S_8=" + _checkov.reason("CKV_K8S_8")
    assert list(annotations) == sorted(annotations)
    assert ds["spec"]["template"]["metadata"]["annotations"] == {"checkov.io/skip1": "CKV_K8S_99=mine"}


def test_added_images_change_the_skips(chart: cdk8s.Chart) -> None:
    digest = "@sha256:" + "b" * 64
    prepuller = ImagePrepuller(
        chart, "prepull", images=["a" + digest], pause_image="p" + digest, helper_image="h" + digest
    )
    assert "CKV_K8S_43" not in str(only(synth(chart), "DaemonSet")["metadata"])
    prepuller.add_images("nginx:1.25")
    assert "CKV_K8S_43" in str(only(synth(chart), "DaemonSet")["metadata"])


def skip_ids(manifest: dict[str, Any]) -> list[str]:
    annotations = manifest["metadata"].get("annotations") or {}
    return [value.split("=", 1)[0] for key, value in annotations.items() if key.startswith("checkov.io/skip")]


def test_every_object_of_every_feature_carries_its_own_skips() -> None:
    """Without a namespace: the namespaced objects skip CKV_K8S_21, the cluster-scoped ones and
    the NetworkPolicies need nothing, the CronJob is not asked for probes, each DaemonSet of
    ``parallel_pulls`` has its own annotations."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(chart, "prepull", images=["a:1", "b:1"], parallel_pulls=2, refresh_schedule="@daily")
    ImagePrepuller(chart, "tainted", images=["a:1"], namespace="ns", startup_taint="pulling", mode="docker")
    found = {(m["kind"], m["metadata"]["name"]): skip_ids(m) for m in synth(chart)}
    pulled = ["CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_15", "CKV_K8S_43"]
    assert found == {
        ("DaemonSet", "prepull-1"): [*pulled, "CKV_K8S_21"],
        ("DaemonSet", "prepull-2"): [*pulled, "CKV_K8S_21"],
        ("ServiceAccount", "prepull-refresh"): ["CKV_K8S_21"],
        ("Role", "prepull-refresh"): ["CKV_K8S_21"],
        ("RoleBinding", "prepull-refresh"): ["CKV_K8S_21"],
        ("CronJob", "prepull-refresh"): ["CKV_K8S_15", "CKV_K8S_43", "CKV_K8S_21"],
        ("NetworkPolicy", "prepull-deny-all"): [],
        ("NetworkPolicy", "prepull-refresh-api"): [],
        ("DaemonSet", "tainted"): pulled,
        ("ServiceAccount", "tainted-untaint"): [],
        ("ClusterRole", "prepuller:ns:tainted-untaint"): [],
        ("ClusterRoleBinding", "prepuller:ns:tainted-untaint"): [],
        ("NetworkPolicy", "tainted-deny-all"): [],
        ("NetworkPolicy", "tainted-untaint-api"): [],
    }
