"""The registry of construct scenarios the security tests run: checkov, Pod Security and
strict schema validation all iterate over :data:`SCENARIOS`.

A new option or mode is a new entry here (``tests/test_scenarios.py`` fails while a keyword
option of ``ImagePrepuller`` is exercised by no scenario), so no option slips past the scanners.
Each scenario's construct id is its name, so the objects of all scenarios have distinct names
and labels and can be scanned in one checkov run without one scenario's NetworkPolicy
matching another's pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import cdk8s

from prepuller import ImagePrepuller

#: Digest-pinned references, for the scenario that pins every image (no CKV_K8S_43 skip).
_SHA = "sha256:" + "0123456789abcdef" * 4
IMAGES = ["docker.io/library/python:3.12-slim", "quay.io/jupyter/scipy-notebook:2024-10-07"]

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
        ImagePrepuller(chart, self.name, **self.options)
        return chart

    def manifests(self) -> list[dict[str, Any]]:
        return list(cdk8s.Testing.synth(self.chart()))


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
]

#: Every scenario by name.
SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _LIST}
assert len(SCENARIOS) == len(_LIST), "scenario names must be unique"
