"""prepuller._discovery: the images of the pod specs in manifests, in order, with counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from prepuller._discovery import Discovery, canonical, matches
from prepuller._references import parse_reference

FIXTURES = Path(__file__).parent / "fixtures"


def pod_spec(*images: str, init: tuple[str, ...] = (), ephemeral: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": image} for i, image in enumerate(init)]
    if ephemeral:
        spec["ephemeralContainers"] = [{"name": f"e{i}", "image": image} for i, image in enumerate(ephemeral)]
    return spec


def workload(
    kind: str, name: str, spec: dict[str, Any], *, namespace: str = "default", **metadata: Any
) -> dict[str, Any]:
    api_version = {
        "Pod": "v1",
        "PodTemplate": "v1",
        "ReplicationController": "v1",
        "Job": "batch/v1",
        "CronJob": "batch/v1",
    }.get(kind, "apps/v1")
    document: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, **metadata},
    }
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    if kind == "Pod":
        document["spec"] = spec
    elif kind == "PodTemplate":
        document["template"] = template
    elif kind == "CronJob":
        document["spec"] = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
    else:
        document["spec"] = {"selector": {"matchLabels": {"app": name}}, "template": template}
    return document


def owned_by(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def discover(*documents: object) -> Discovery:
    discovery = Discovery()
    for index, document in enumerate(documents, 1):
        discovery.add(document, source="test.yaml", where=f"test.yaml: document {index}")
    return discovery


def images(*documents: object) -> list[str]:
    return [found.image for found in discover(*documents).images()]


def counts(*documents: object) -> dict[str, int]:
    return {found.image: found.count for found in discover(*documents).images()}


# --- which documents and fields are read ------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["Pod", "PodTemplate", "ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet",
             "Job", "CronJob"]
)  # fmt: skip
def test_every_workload_kind_is_read(kind: str) -> None:
    assert images(workload(kind, "w", pod_spec("app:1", init=("init:1",)))) == ["init:1", "app:1"]


def test_init_then_regular_then_ephemeral_containers() -> None:
    spec = pod_spec("main:1", "sidecar:1", init=("init-a:1", "init-b:1"), ephemeral=("debug:1",))
    assert images(workload("Pod", "p", spec)) == ["init-a:1", "init-b:1", "main:1", "sidecar:1", "debug:1"]


@pytest.mark.parametrize(
    "document",
    [
        None,
        "just a string",
        ["a", "list"],
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"image": "nginx:1"}},
        {"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"template": {"spec": pod_spec("crd:1")}}},
        {"apiVersion": "v1", "kind": "Deployment", "spec": {"template": {"spec": pod_spec("wrong-group:1")}}},
        {"apiVersion": 1, "kind": "Pod", "spec": pod_spec("numeric-api-version:1")},
        {"apiVersion": "example.com/v1", "kind": "Catalog", "items": [workload("Pod", "p", pod_spec("in-items:1"))]},
        {"items": [workload("Pod", "p", pod_spec("no-kind:1"))]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": "not a mapping"},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": "oops"}}}},
        {"kind": 42},
    ],
)
def test_documents_that_are_not_workloads_are_skipped_silently(document: object) -> None:
    discovery = discover(document)
    assert discovery.images() == []
    assert discovery.problems == []


def test_the_old_extensions_group_and_a_missing_api_version_are_read() -> None:
    old = {"apiVersion": "extensions/v1beta1", "kind": "DaemonSet", "spec": {"template": {"spec": pod_spec("old:1")}}}
    bare = {"kind": "Pod", "spec": pod_spec("bare:1")}
    assert images(old, bare) == ["old:1", "bare:1"]


def test_a_container_without_image_is_skipped() -> None:
    spec = {"containers": [{"name": "filled-in-later"}, {"name": "null", "image": None}, {"name": "x", "image": "x:1"}]}
    discovery = discover(workload("Deployment", "d", spec))
    assert [found.image for found in discovery.images()] == ["x:1"]
    assert discovery.problems == []


def test_kind_list_and_nested_lists_are_read() -> None:
    inner = {"apiVersion": "v1", "kind": "List", "items": [workload("Pod", "b", pod_spec("b:1"))]}
    outer = {"apiVersion": "v1", "kind": "List", "items": [workload("Pod", "a", pod_spec("a:1")), inner, None, 3]}
    assert images(outer) == ["a:1", "b:1"]


def test_typed_lists_from_the_api_server_have_items_without_kind() -> None:
    pods = {
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": {"resourceVersion": "12345"},
        "items": [{"metadata": {"name": "p", "namespace": "default"}, "spec": pod_spec("from-pod-list:1")}],
    }
    deployments = {
        "apiVersion": "apps/v1",
        "kind": "DeploymentList",
        "items": [{"metadata": {"name": "d"}, "spec": {"template": {"spec": pod_spec("from-deployment-list:1")}}}],
    }
    assert images(pods, deployments) == ["from-pod-list:1", "from-deployment-list:1"]


@pytest.mark.parametrize("list_kind", ["List", "PodList"])
def test_list_items_that_name_their_kind_are_read_as_written(list_kind: str) -> None:
    """An item with its own kind is not given the list's apiVersion: without one of its own it
    is matched by its kind alone."""
    deployment = workload("Deployment", "d", pod_spec("in-a-list:1"))
    del deployment["apiVersion"]
    assert images({"apiVersion": "v1", "kind": list_kind, "items": [deployment]}) == ["in-a-list:1"]


def test_items_of_a_typed_list_from_another_api_group_are_skipped() -> None:
    """The items of a typed list take its apiVersion: a custom resource's list is not read as
    the workload kind it shares a name with."""
    custom = {
        "apiVersion": "example.com/v1",
        "kind": "DeploymentList",
        "items": [{"metadata": {"name": "d"}, "spec": {"template": {"spec": pod_spec("crd:1")}}}],
    }
    discovery = discover(custom)
    assert discovery.images() == []
    assert discovery.problems == []


def test_status_images_are_not_read() -> None:
    pod = workload("Pod", "p", pod_spec("nginx:1.25"))
    pod["status"] = {"containerStatuses": [{"name": "c0", "image": "docker.io/library/nginx:1.25", "imageID": "x"}]}
    assert images(pod) == ["nginx:1.25"]


def test_skip_prepullers_leaves_out_only_the_prepullers_own_objects() -> None:
    """What `prepuller images` does without --include-prepuller: objects labelled
    app.kubernetes.io/name=image-prepuller are not workloads to pre-pull for."""
    prepuller = workload(
        "DaemonSet", "prepull", pod_spec("busybox:1.37"), labels={"app.kubernetes.io/name": "image-prepuller"}
    )
    other = workload("Deployment", "web", pod_spec("nginx:1.25"), labels={"app.kubernetes.io/name": "web"})
    skipping = Discovery(skip_prepullers=True)
    reading = Discovery()
    for discovery in (skipping, reading):
        for index, document in enumerate((prepuller, other), 1):
            discovery.add(document, source="test.yaml", where=f"test.yaml: document {index}")
    assert [found.image for found in skipping.images()] == ["nginx:1.25"]
    assert [found.image for found in reading.images()] == ["busybox:1.37", "nginx:1.25"]


@pytest.mark.parametrize("metadata", [None, "web", ["web"]], ids=["null", "a string", "a list"])
def test_skip_prepullers_reads_a_workload_whose_metadata_is_not_a_mapping(metadata: object) -> None:
    """Hand-written or damaged input: no labels, so not a prepuller's object, and its images count."""
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec("nginx:1.25")}
    skipping = Discovery(skip_prepullers=True)
    skipping.add(document, source="test.yaml", where="test.yaml: document 1")
    assert [found.image for found in skipping.images()] == ["nginx:1.25"]


# --- order, de-duplication ----------------------------------------------------------------


def test_duplicates_are_listed_once_as_first_written() -> None:
    first = workload("Deployment", "a", pod_spec("busybox", "nginx:1.25"))
    second = workload("Pod", "b", pod_spec("docker.io/library/busybox:latest", "index.docker.io/library/nginx:1.25"))
    assert images(first, second) == ["busybox", "nginx:1.25"]


def test_digest_pins_the_image_whatever_the_tag() -> None:
    digest = "sha256:" + "a" * 64
    assert images(workload("Pod", "p", pod_spec(f"app:1@{digest}", f"app@{digest}", f"app:2@{digest}"))) == [
        f"app:1@{digest}"
    ]


_REFERENCE_SPELLINGS = {
    "busybox": ["busybox", "busybox:latest", "docker.io/library/busybox", "index.docker.io/library/busybox:latest"],
    "nginx": ["nginx:1.25", "docker.io/library/nginx:1.25", "registry-1.docker.io/library/nginx:1.25"],
    "app": ["ghcr.io/example/app:1.0"],
    "pause": ["registry.k8s.io/pause:3.10"],
    "local": ["localhost:5000/team/tool:dev"],
}


@given(
    st.lists(st.sampled_from(sorted(_REFERENCE_SPELLINGS)), min_size=1, max_size=12).flatmap(
        lambda images: st.tuples(
            st.just(images),
            st.lists(st.sampled_from(images), max_size=20),
            st.permutations(range(len(images) + 20)),
            st.randoms(use_true_random=False),
        )
    )
)
def test_shuffled_duplicates_never_change_the_first_seen_order(case: Any) -> None:
    """Whatever duplicates (in any spelling) are added after an image's first use, and however the
    documents are split, the result is each image once, in the order of first use, as first written."""
    names, extra, _, rnd = case
    sequence = [rnd.choice(_REFERENCE_SPELLINGS[name]) for name in names]
    first_seen = list(dict.fromkeys(names))
    # Duplicates only after the first occurrence of every image: the order must not move.
    sequence += [rnd.choice(_REFERENCE_SPELLINGS[name]) for name in extra]
    documents = []
    position = 0
    while position < len(sequence):
        size = rnd.randint(1, 4)
        kind = rnd.choice(["Pod", "Deployment", "CronJob", "StatefulSet"])
        documents.append(workload(kind, f"w{position}", pod_spec(*sequence[position : position + size])))
        position += size
    found = discover({"apiVersion": "v1", "kind": "List", "items": documents}).images()
    assert [parse_reference(f.image, "x").identity for f in found] == [
        parse_reference(_REFERENCE_SPELLINGS[name][0], "x").identity for name in first_seen
    ]
    # Every input image appears exactly once, spelled as its first occurrence.
    firsts: dict[tuple[str, str, str], str] = {}
    for text in sequence:
        firsts.setdefault(parse_reference(text, "x").identity, text)
    assert [f.image for f in found] == list(firsts.values())


# --- invalid references -------------------------------------------------------------------


def test_an_invalid_reference_is_a_problem_naming_document_and_field() -> None:
    deployment = workload("Deployment", "web", pod_spec("nginx:1", "Nginx:Latest"), namespace="shop")
    discovery = discover(deployment)
    assert [found.image for found in discovery.images()] == ["nginx:1"]
    assert [str(problem) for problem in discovery.problems] == [
        "test.yaml: document 1 (Deployment shop/web): spec.template.spec.containers[1].image: is not a valid image "
        "reference: the repository path must be lowercase (got 'Nginx:Latest')"
    ]


def test_every_invalid_reference_is_a_problem_and_the_images_after_one_are_read() -> None:
    discovery = discover(workload("Pod", "p", pod_spec("Bad Image", "nginx:1", "Nginx:Latest")))
    assert [found.image for found in discovery.images()] == ["nginx:1"]
    assert [problem.field for problem in discovery.problems] == ["spec.containers[0].image", "spec.containers[2].image"]


def test_a_non_string_image_is_a_problem() -> None:
    discovery = discover({"kind": "List", "items": [{"kind": "Pod", "spec": {"containers": [{"image": 1.25}]}}]})
    assert [str(problem) for problem in discovery.problems] == [
        "test.yaml: document 1, items[0]: spec.containers[0].image: must be an image reference string (got 1.25)"
    ]


# --- counting workloads -----------------------------------------------------------------


def test_a_deployment_its_replica_sets_and_pods_count_once() -> None:
    deployment = workload("Deployment", "web", pod_spec("nginx:1"))
    replica_set = workload("ReplicaSet", "web-abc", pod_spec("nginx:1"), ownerReferences=owned_by("Deployment", "web"))
    pods = [
        workload("Pod", f"web-abc-{i}", pod_spec("nginx:1"), ownerReferences=owned_by("ReplicaSet", "web-abc"))
        for i in range(3)
    ]
    other = workload("Pod", "standalone", pod_spec("nginx:1"))
    found = discover(deployment, replica_set, *pods, other).images()
    assert [(f.image, f.count, f.workloads) for f in found] == [
        ("nginx:1", 2, ["Deployment default/web", "Pod default/standalone"])
    ]


def test_pods_of_a_replica_set_not_in_the_input_count_with_their_deployment() -> None:
    """`kubectl get deploy,pod` lists no ReplicaSets: the pod-template-hash names the Deployment."""
    deployment = workload("Deployment", "web", pod_spec("nginx:1"))
    new = workload(
        "Pod", "web-7d4b9c8f5d-x", pod_spec("nginx:1"), labels={"pod-template-hash": "7d4b9c8f5d"},
        ownerReferences=owned_by("ReplicaSet", "web-7d4b9c8f5d"),
    )  # fmt: skip
    old = workload(
        "Pod", "web-5f6d7c8b9a-y", pod_spec("nginx:0.9"), labels={"pod-template-hash": "5f6d7c8b9a"},
        ownerReferences=owned_by("ReplicaSet", "web-5f6d7c8b9a"),
    )  # fmt: skip
    found = discover(deployment, new, old).images()
    assert [(f.image, f.workloads) for f in found] == [
        ("nginx:1", ["Deployment default/web"]),
        ("nginx:0.9", ["Deployment default/web"]),
    ]


def test_a_replica_set_in_the_input_without_a_controller_is_the_workload_of_its_pods() -> None:
    """A ReplicaSet orphaned by `kubectl delete deploy web --cascade=orphan` is its own workload,
    though its Pods' pod-template-hash still spells the Deployment's name."""
    replica_set = workload("ReplicaSet", "web-7d4b9c8f5d", pod_spec("nginx:1"))
    pod = workload(
        "Pod", "web-7d4b9c8f5d-x", pod_spec("nginx:1"), labels={"pod-template-hash": "7d4b9c8f5d"},
        ownerReferences=owned_by("ReplicaSet", "web-7d4b9c8f5d"),
    )  # fmt: skip
    found = discover(replica_set, pod).images()
    assert [(f.image, f.workloads) for f in found] == [("nginx:1", ["ReplicaSet default/web-7d4b9c8f5d"])]


def test_only_a_replica_set_owner_is_attributed_to_a_deployment_by_the_pod_template_hash() -> None:
    pod = workload(
        "Pod", "web-7d4b9c8f5d-x", pod_spec("nginx:1"), labels={"pod-template-hash": "7d4b9c8f5d"},
        ownerReferences=owned_by("Job", "web-7d4b9c8f5d"),
    )  # fmt: skip
    found = discover(pod).images()
    assert [(f.image, f.workloads) for f in found] == [("nginx:1", ["Job default/web-7d4b9c8f5d"])]


def test_same_name_in_two_namespaces_is_two_workloads() -> None:
    a = workload("Deployment", "web", pod_spec("nginx:1"), namespace="a")
    b = workload("Deployment", "web", pod_spec("nginx:1"), namespace="b")
    assert counts(a, b) == {"nginx:1": 2}


def test_static_pods_owned_by_a_node_count_one_each() -> None:
    node_owner = [{"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "n", "controller": True}]
    pods = [workload("Pod", f"static-{i}", pod_spec("k8s:1"), ownerReferences=node_owner) for i in range(2)]
    assert counts(*pods) == {"k8s:1": 2}


@pytest.mark.parametrize(
    "unusable",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "c"},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "uid": "no-name", "controller": True},
        {"apiVersion": "apps/v1", "name": "no-kind", "uid": "no-kind", "controller": True},
    ],
    ids=["not-a-controller", "without-name", "without-kind"],
)
def test_the_controller_is_found_after_owner_references_that_cannot_be_used(unusable: dict[str, Any]) -> None:
    pods = [
        workload("Pod", f"web-abc-{i}", pod_spec("x:1"), ownerReferences=[unusable, *owned_by("ReplicaSet", "web-abc")])
        for i in range(2)
    ]
    found = discover(*pods).images()
    assert [(f.image, f.workloads) for f in found] == [("x:1", ["ReplicaSet default/web-abc"])]


def test_owners_that_are_not_controllers_do_not_group() -> None:
    owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "c"}]
    pods = [workload("Pod", f"p{i}", pod_spec("x:1"), ownerReferences=owner) for i in range(2)]
    assert counts(*pods) == {"x:1": 2}


def test_an_ownership_cycle_terminates() -> None:
    a = workload("ReplicaSet", "a", pod_spec("x:1"), ownerReferences=owned_by("ReplicaSet", "b"))
    b = workload("ReplicaSet", "b", pod_spec("x:1"), ownerReferences=owned_by("ReplicaSet", "a"))
    assert counts(a, b) == {"x:1": 1}


@pytest.mark.parametrize(
    "metadata",
    [{"generateName": "run-"}, {"name": ""}, {"name": 7}, {"name": None}],
    ids=["generate-name", "empty-name", "numeric-name", "null-name"],
)
def test_unnamed_documents_are_workloads_of_their_own(metadata: dict[str, Any]) -> None:
    a = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {"template": {"spec": pod_spec("x:1")}},
    }
    found = discover(a, a).images()
    assert found[0].workloads == ["Job (unnamed) in test.yaml: document 1", "Job (unnamed) in test.yaml: document 2"]


def test_a_named_workload_is_never_taken_for_an_unnamed_one() -> None:
    """Whatever its name: `#1` is not one Kubernetes accepts, but a file may hold it."""
    named = workload("Job", "#1", pod_spec("x:1"), namespace="")
    unnamed = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": pod_spec("x:1")}}}
    found = discover(named, unnamed).images()
    assert found[0].workloads == ["Job #1", "Job (unnamed) in test.yaml: document 2"]


def test_unnamed_pods_count_with_their_controller_in_their_own_namespace() -> None:
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": "web-abc-",
                "namespace": namespace,
                "ownerReferences": owned_by("ReplicaSet", "web-abc"),
            },
            "spec": pod_spec("nginx:1"),
        }
        for namespace in ("a", "b", "b")
    ]
    found = discover(*pods).images()
    assert [(f.image, f.workloads) for f in found] == [("nginx:1", ["ReplicaSet a/web-abc", "ReplicaSet b/web-abc"])]


def test_a_namespace_that_is_not_a_string_is_ignored() -> None:
    """YAML reads `namespace: 2024` as a number, which Kubernetes refuses: it names no namespace."""
    deployment = workload("Deployment", "web", pod_spec("nginx:1"))
    deployment["metadata"]["namespace"] = 2024
    found = discover(deployment).images()
    assert [(f.image, f.workloads) for f in found] == [("nginx:1", ["Deployment web"])]


# --- realistic inputs ---------------------------------------------------------------------

KUBECTL_IMAGES = [
    ("busybox:1.36", 2, ["Deployment default/web", "Pod default/debug"]),
    ("nginx:1.25.3", 1, ["Deployment default/web"]),
    ("ghcr.io/example/log-shipper:2.4.0", 1, ["Deployment default/web"]),
    ("registry.k8s.io/coredns/coredns:v1.11.1", 1, ["Deployment kube-system/coredns"]),
    ("quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0", 1, ["StatefulSet monitoring/prometheus"]),
    ("quay.io/prometheus/prometheus:v2.48.0", 1, ["StatefulSet monitoring/prometheus"]),
    ("registry.k8s.io/kube-proxy:v1.29.0", 1, ["DaemonSet kube-system/kube-proxy"]),
    (
        "ghcr.io/example/report:1.0@sha256:845e91831319e89c4d656bdb80c278ac09a7230d61e5dfd2e1b1fbb436ac8917",
        1,
        ["CronJob batch/report"],
    ),
    ("ghcr.io/example/web-migrate:3.1.0", 1, ["Job default/migrate"]),
    ("alpine:3.19", 1, ["Pod default/debug"]),
    ("nginx:1.25.2", 1, ["Deployment default/web"]),
    ("registry.k8s.io/etcd:3.5.10-0", 1, ["Pod kube-system/etcd-node-1"]),
    ("registry.k8s.io/kube-apiserver:v1.29.0", 1, ["Pod kube-system/kube-apiserver-node-1"]),
]


def test_kubectl_get_all_namespaces_json() -> None:
    """`kubectl get deploy,sts,ds,cronjob,job,pod -A -o json` as the API returns it: status,
    managedFields, last-applied annotations holding images, Pods owned by ReplicaSets, Jobs and
    DaemonSets, a Job owned by a CronJob, static Pods owned by a Node, an ephemeral container,
    an old ReplicaSet's Pod mid-rollout."""
    document = json.loads((FIXTURES / "kubectl-get-workloads-all-namespaces.json").read_text())
    assert document["kind"] == "List"
    discovery = discover(document)
    assert discovery.problems == []
    assert [(f.image, f.count, f.workloads) for f in discovery.images()] == KUBECTL_IMAGES


def test_kubectl_get_replica_sets_controllers_and_pod_templates_yaml() -> None:
    document = yaml.safe_load((FIXTURES / "kubectl-get-rs-rc-podtemplates.yaml").read_text())
    found = discover(document).images()
    assert [(f.image, f.workloads) for f in found] == [
        ("nginx:1.25.3", ["Deployment default/web"]),
        ("registry.example.com:5000/legacy/frontend:2019.4", ["ReplicationController legacy/legacy-frontend"]),
        ("ghcr.io/example/worker:5.2.1", ["PodTemplate batch/batch-worker"]),
    ]


def test_helm_template_output() -> None:
    documents = list(yaml.safe_load_all((FIXTURES / "helm-template.yaml").read_text()))
    assert images(*documents) == [
        "ghcr.io/example/webapp-migrations:1.16.0",
        "ghcr.io/example/webapp:1.16.0",
        "busybox",
    ]


def test_the_repos_own_dist_lists_the_prepuller_daemon_set_images() -> None:
    """A synthesized prepuller is a plain DaemonSet to a reader of files: its helper, its pulls
    and its pause image are listed (documented; filter them with --exclude)."""
    documents = list(yaml.safe_load_all((Path(__file__).parents[1] / "dist" / "prepuller.k8s.yaml").read_text()))
    found = images(*documents)
    assert found[0] == "docker.io/library/busybox:1.37.0-musl"
    assert found[-1] == "registry.k8s.io/pause:3.10"
    assert "docker.io/library/python:3.12-slim" in found


# --- filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("quay.io/a/b:1", "quay.io/a/b:1"),
        ("app@sha256:" + "b" * 64, "docker.io/library/app@sha256:" + "b" * 64),
        ("app:1@sha256:" + "b" * 64, "docker.io/library/app:1@sha256:" + "b" * 64),
    ],
)
def test_canonical(text: str, expected: str) -> None:
    assert canonical(parse_reference(text, "x")) == expected


def test_globs_match_the_reference_as_written_or_in_full() -> None:
    nginx = parse_reference("nginx", "x")
    assert matches(nginx, ["nginx"])
    assert matches(nginx, ["docker.io/*"])
    assert matches(nginx, ["*:latest"])
    assert not matches(nginx, ["quay.io/*", "NGINX"])


def test_each_image_names_every_file_it_was_found_in_once() -> None:
    discovery = Discovery()
    web = workload("Deployment", "web", pod_spec("nginx:1.25", "redis:7"))
    discovery.add(web, source="a.yaml", where="a.yaml: document 1")
    discovery.add(workload("Deployment", "api", pod_spec("nginx:1.25")), source="a.yaml", where="a.yaml: document 2")
    listed = {"apiVersion": "v1", "kind": "List", "items": [workload("Deployment", "db", pod_spec("redis:7"))]}
    discovery.add(listed, source="b.json", where="b.json")
    assert [(found.image, found.sources) for found in discovery.images()] == [
        ("nginx:1.25", ["a.yaml"]),
        ("redis:7", ["a.yaml", "b.json"]),
    ]
