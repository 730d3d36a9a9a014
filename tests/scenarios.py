"""The registry of construct scenarios the security tests run: checkov, Pod Security and
strict schema validation all iterate over :data:`SCENARIOS`.

A new option or mode is a new entry here (``tests/test_scenarios.py`` fails while a keyword
option of ``ImagePrepuller`` is exercised by no scenario), so no option slips past the scanners.
Each scenario's construct id is its name, so the objects of all scenarios have distinct names
and labels and can be scanned in one checkov run without one scenario's NetworkPolicy
matching another's pods.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cdk8s

from prepuller import ImagePrepuller, load_values

#: Digest-pinned references, for the scenario that pins every image (no CKV_K8S_43 skip).
_SHA = "sha256:" + "0123456789abcdef" * 4
IMAGES = ["docker.io/library/python:3.12-slim", "quay.io/jupyter/scipy-notebook:2024-10-07"]
#: A lock file (made-up digests and sizes) for IMAGES, nginx:1.27.0, redis:7.4.1, busybox and
#: the default helper, pause, docker and kubectl images.
LOCK = str(Path(__file__).resolve().parent / "fixtures" / "lock" / "prepuller.lock.json")

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]


@dataclass(frozen=True)
class Scenario:
    """One way to use the construct.

    Attributes:
        name: the scenario's name; also the construct id (a DNS label).
        options: keyword arguments for ``ImagePrepuller`` besides ``scope`` and ``id``.
        namespace: the chart's namespace (``None``: no namespace in the manifests).
        pod_security: the Pod Security Standards level every pod template must meet.
        pod_security_exceptions: restricted-profile controls (``tests/pss.py`` names) the pods
            break on purpose, each with the documented reason (docker mode: ``host_path_volumes``,
            ``running_as_non_root``, ...). Empty for every restricted scenario.
        checkov_failures: checkov checks expected to FAIL because of an explicit user choice
            the library must not hide, each with why. Empty for every scenario in SCENARIOS; see
            ``WEAKENED`` in ``tests/test_checkov.py``.
    """

    name: str
    options: Mapping[str, Any]
    namespace: str | None = "prepuller"
    pod_security: PodSecurityLevel = "restricted"
    pod_security_exceptions: Mapping[str, str] = field(default_factory=dict)
    checkov_failures: Mapping[str, str] = field(default_factory=dict)

    def chart(self) -> cdk8s.Chart:
        """A fresh app and chart holding this scenario's prepuller."""
        return self.build(cdk8s.Testing.app())

    def build(self, app: cdk8s.App) -> cdk8s.Chart:
        """Define this scenario's chart (named after the scenario) in ``app``."""
        chart = cdk8s.Chart(app, self.name, namespace=self.namespace)
        options: dict[str, Any] = {
            key: value.scopes() if isinstance(value, Workloads) else value for key, value in self.options.items()
        }
        ImagePrepuller(chart, self.name, **options)
        return chart

    def manifests(self) -> list[dict[str, Any]]:
        return list(cdk8s.Testing.synth(self.chart()))


@dataclass(frozen=True)
class Workloads:
    """Stands for ``images_from``'s constructs: a chart with a Deployment running ``images``,
    built afresh in an app of its own, so that only the prepuller's objects are synthesized
    (and scanned) with the scenario."""

    images: tuple[str, ...]

    def scopes(self) -> list[cdk8s.Chart]:
        chart = cdk8s.Chart(cdk8s.Testing.app(), "apps")
        containers = [{"name": f"c{index}", "image": image} for index, image in enumerate(self.images)]
        cdk8s.ApiObject(
            chart,
            "web",
            api_version="apps/v1",
            kind="Deployment",
            metadata=cdk8s.ApiObjectMetadata(name="web"),
        ).add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec",
                {
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
                },
            )
        )
        return [chart]


def from_values(text: str) -> dict[str, Any]:
    """The keyword arguments ``prepuller.load_values`` makes of a values file with ``text``."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "values.yaml"
        path.write_text(text, encoding="utf-8")
        return load_values(path)


#: What docker mode breaks of the restricted profile, on purpose (docs/guide/docker-mode.md).
DOCKER_EXCEPTIONS = {
    "host_path_volumes": "the node's Docker socket is mounted from the host, as in the Helm chart",
    "volume_types": "hostPath (the Docker socket) is not a restricted volume type",
    "running_as_non_root": "the prepull container runs as root to use the root-owned socket",
    "running_as_non_root_user": "the prepull container runs as uid 0 to use the root-owned socket",
}

_ALL_OPTIONS: dict[str, Any] = {
    "images": [*IMAGES, "registry.example.com:5000/team/tool:v1@" + _SHA],
    "name": "custom-prepuller",
    "namespace": "images",
    "labels": {"team": "platform", "example.com/tier": "infra"},
    "annotations": {"example.com/owner": "platform-team"},
    "node_selector": {"kubernetes.io/os": "linux", "node.kubernetes.io/pool": "gpu"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}
                ]
            }
        }
    },
    "priority_class_name": "prepuller-low",
    "image_pull_secrets": ["registry-credentials"],
    "image_pull_policy": "IfNotPresent",
    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
    "pause_image": "registry.k8s.io/pause:3.9",
    "helper_image": "docker.io/library/busybox:1.36.1-musl",
    "max_unavailable": "25%",
    "network_policy": True,
    "keep_images": True,
    "keep_resources": {"requests": {"cpu": "2m"}, "limits": {"memory": "32Mi"}},
    "refresh_schedule": "30 3 * * 1-5",
    "startup_taint": "example.com/images-pulled",
    "kubectl_image": "registry.k8s.io/kubectl:v1.33.9",
    "images_from": Workloads(("docker.io/library/nginx:1.27.0", "quay.io/team/api:v3")),
}

_LIST: list[Scenario] = [
    Scenario("defaults", {"images": IMAGES}),
    Scenario("no-namespace", {"images": IMAGES}, namespace=None),
    Scenario("all-options", _ALL_OPTIONS),
    Scenario(
        "tolerate-everything",
        {
            "images": IMAGES,
            "tolerations": [{"operator": "Exists"}],
            "node_selector": {},
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 10, "preference": {"matchExpressions": [{"key": "pool", "operator": "Exists"}]}}
                    ]
                },
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 1,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app": "other"}},
                            },
                        }
                    ]
                },
            },
        },
    ),
    Scenario(
        "priority-and-secrets",
        {"images": IMAGES, "priority_class_name": "low", "image_pull_secrets": ["a", "b.example"]},
    ),
    Scenario("pull-always", {"images": IMAGES, "image_pull_policy": "Always"}),
    Scenario("pull-never", {"images": IMAGES, "image_pull_policy": "Never"}),
    Scenario("mutable-tags", {"images": ["busybox", "docker.io/library/alpine:latest", "nginx:1.25"]}),
    Scenario(
        "all-digests",
        {
            "images": ["docker.io/library/python@" + _SHA, "quay.io/team/app:v2@" + _SHA.replace("0", "1")],
            "pause_image": "registry.k8s.io/pause:3.10@" + _SHA.replace("0", "2"),
            "helper_image": "docker.io/library/busybox@" + _SHA.replace("0", "3"),
        },
    ),
    Scenario(
        "resources",
        {
            "images": IMAGES,
            "resources": {
                "requests": {"cpu": "1m", "memory": "8Mi", "ephemeral-storage": "1Mi"},
                "limits": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "64Mi"},
            },
        },
    ),
    Scenario("max-unavailable-int", {"images": IMAGES, "max_unavailable": 1}),
    Scenario("no-network-policy", {"images": IMAGES, "network_policy": False}),
    Scenario(
        "docker",
        {"images": IMAGES, "mode": "docker"},
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
    Scenario(
        "docker-options",
        {
            "images": [*IMAGES, "busybox"],
            "mode": "docker",
            "docker_host_path": "/run/docker",
            "docker_image": "docker.io/library/docker:27.5.1-cli",
            "image_pull_policy": "Always",
        },
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
    Scenario(
        "docker-startup-taint",
        {"images": IMAGES, "mode": "docker", "startup_taint": "example.com/images-pulled"},
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
    Scenario(
        "docker-no-network-policy",
        {"images": IMAGES, "mode": "docker", "network_policy": False, "refresh_schedule": "@daily"},
        namespace=None,
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
    Scenario("keep", {"images": IMAGES, "keep_images": True}),
    Scenario(
        "keep-resources",
        {"images": IMAGES, "keep_images": True, "keep_resources": {"requests": {"memory": "8Mi"}}},
    ),
    Scenario("parallel-pulls", {"images": [*IMAGES, "nginx:1.27.0", "redis:7.4.1"], "parallel_pulls": 3}),
    Scenario(
        "parallel-keep-refresh",
        {"images": [*IMAGES, "nginx:1.27.0"], "parallel_pulls": 2, "keep_images": True, "refresh_schedule": "@daily"},
    ),
    Scenario("locked", {"images": IMAGES, "lock": LOCK}),
    Scenario(
        "locked-parallel-refresh",
        {
            "images": [*IMAGES, "nginx:1.27.0", "redis:7.4.1"],
            "parallel_pulls": 2,
            "refresh_schedule": "@daily",
            "lock": LOCK,
        },
    ),
    Scenario("locked-taint", {"images": IMAGES, "startup_taint": "example.com/pulling", "lock": LOCK}),
    Scenario("locked-keep", {"images": [*IMAGES, "busybox"], "keep_images": True, "lock": LOCK}),
    Scenario(
        "locked-docker",
        {"images": IMAGES, "mode": "docker", "refresh_schedule": "@daily", "lock": LOCK},
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
    Scenario("images-from", {"images_from": Workloads(("nginx:1.27.0", "docker.io/library/redis:latest"))}),
    Scenario("refresh", {"images": IMAGES, "refresh_schedule": "0 4 * * *"}),
    Scenario(
        "refresh-options",
        {
            "images": IMAGES,
            "refresh_schedule": "@weekly",
            "kubectl_image": "mirror.example.com/kubectl:v1.33.9",
            "image_pull_secrets": ["mirror"],
            "image_pull_policy": "IfNotPresent",
        },
    ),
    Scenario("startup-taint", {"images": IMAGES, "startup_taint": "example.com/images-pulled"}),
    Scenario(
        "refresh-taint-no-policy",
        {"images": IMAGES, "refresh_schedule": "@daily", "startup_taint": "pulling", "network_policy": False},
    ),
    Scenario("refresh-no-namespace", {"images": IMAGES, "refresh_schedule": "@daily"}, namespace=None),
    Scenario(
        "values",
        from_values(
            "images: [docker.io/library/python:3.12-slim, nginx:1.27.0]\n"
            "refreshSchedule: '0 5 * * *'\n"
            "namespace: images\n"
            "startupTaint: example.com/pulling\n"
            "networkPolicy: true\n"
            "keepImages: true\n"
        ),
    ),
    Scenario(
        "values-docker-chart",
        from_values(
            "docker:\n  images: [docker.io/library/python:3.12-slim]\n  hostPath: /var/run\nnetworkPolicy: true\n"
        ),
        pod_security="privileged",
        pod_security_exceptions=DOCKER_EXCEPTIONS,
    ),
]

#: Every scenario by name.
SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _LIST}
assert len(SCENARIOS) == len(_LIST), "scenario names must be unique"
