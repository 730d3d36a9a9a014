"""NetworkPolicies: what the prepuller's pods may reach over the network.

The pods of the default mode need no network at all: the *kubelet* pulls each image (with
the node's network and credentials), and the containers only run a no-op, ``pause`` or
``sleep``. So the prepuller emits a policy that selects exactly its pods (the same
``name=<name>`` label the DaemonSet selects) and denies all ingress and egress.

Objects that must talk to the API server (a refresh CronJob, a taint remover) get a second,
additive policy from :func:`api_server_egress_spec`: egress on TCP 443 and 6443 only. Its
destinations are *any* address, because a static manifest cannot know the API server's
address: the ``kubernetes`` Service's ClusterIP is rewritten (DNAT) to the control plane's
endpoints before most network plugins evaluate policies, and those endpoints differ per
cluster (6443 on kubeadm clusters, 443 on most managed ones). Pass ``cidrs`` (from
``kubectl get endpointslices -l kubernetes.io/service-name=kubernetes``) to narrow it. No
DNS egress is needed: in-cluster clients reach the API server through
``KUBERNETES_SERVICE_HOST``, an IP address the kubelet always sets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cdk8s
from constructs import Construct

from ._manifest import SynthesizedObject

__all__ = [
    "API_SERVER_PORTS",
    "add_policies",
    "api_server_egress_policy",
    "api_server_egress_spec",
    "deny_all_spec",
]

API_VERSION = "networking.k8s.io/v1"

#: Computes annotations from the finished object (see ``SynthesizedObject``).
Annotate = Callable[[dict[str, Any]], Mapping[str, str]]

#: Where API servers listen: 443 (the Service port, and managed control planes) and 6443
#: (kubeadm and most self-managed control planes, seen after the Service's DNAT).
API_SERVER_PORTS = (443, 6443)


def deny_all_spec(pod_selector: Mapping[str, str]) -> dict[str, Any]:
    """A policy spec that selects ``pod_selector``'s pods and allows them no traffic at all."""
    return {"podSelector": {"matchLabels": dict(pod_selector)}, "policyTypes": ["Ingress", "Egress"]}


def api_server_egress_spec(
    pod_selector: Mapping[str, str],
    *,
    cidrs: Sequence[str] = (),
    ports: Sequence[int] = API_SERVER_PORTS,
) -> dict[str, Any]:
    """A policy spec allowing ``pod_selector``'s pods egress to the API server only.

    It adds to (never widens beyond) other policies on the same pods: ingress stays denied,
    egress is TCP ``ports`` to ``cidrs`` (default: any address; see the module docstring).
    """
    rule: dict[str, Any] = {"ports": [{"protocol": "TCP", "port": port} for port in ports]}
    if cidrs:
        rule["to"] = [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]
    return {
        "podSelector": {"matchLabels": dict(pod_selector)},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [rule],
    }


def _policy(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    spec: dict[str, Any],
    annotate: Annotate | None = None,
) -> SynthesizedObject:
    # A SynthesizedObject like the DaemonSet's (rather than the typed KubeNetworkPolicy), so
    # every object of the library is written the same way: sorted keys, no empty fields.
    return SynthesizedObject(
        scope,
        id,
        api_version=API_VERSION,
        kind="NetworkPolicy",
        metadata=cdk8s.ApiObjectMetadata(name=name, namespace=namespace, labels=dict(labels)),
        produce=lambda: {"spec": spec},
        annotate=annotate,
    )


def api_server_egress_policy(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    pod_selector: Mapping[str, str],
    cidrs: Sequence[str] = (),
    annotate: Annotate | None = None,
) -> SynthesizedObject:
    """A NetworkPolicy allowing ``pod_selector``'s pods egress to the API server only."""
    spec = api_server_egress_spec(pod_selector, cidrs=cidrs)
    return _policy(scope, id, name=name, namespace=namespace, labels=labels, spec=spec, annotate=annotate)


def add_policies(
    scope: Construct,
    *,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    pods: Mapping[str, str],
    untaint: bool,
    refresh_pods: Mapping[str, str] | None,
    annotate: Annotate | None = None,
) -> list[SynthesizedObject]:
    """Define a prepuller's NetworkPolicies in ``scope``; returns them.

    - ``<name>-deny-all``: ``pods`` (the prepuller's image-pulling pods, all DaemonSets) get
      no ingress and no egress.
    - ``<name>-untaint-api`` when ``untaint``: the taint remover runs as an init container
      *inside* those pods, so they get egress to the API server (policies add up: the pods
      may then reach the API server and nothing else).
    - ``<name>-refresh-api`` when ``refresh_pods`` (the refresh CronJob's pod selector):
      egress to the API server, no ingress.
    """
    wanted = [("NetworkPolicy", "deny-all", deny_all_spec(pods))]
    if untaint:
        wanted.append(("UntaintNetworkPolicy", "untaint-api", api_server_egress_spec(pods)))
    if refresh_pods is not None:
        wanted.append(("RefreshNetworkPolicy", "refresh-api", api_server_egress_spec(refresh_pods)))
    policies = [
        _policy(scope, id, name=f"{name}-{suffix}", namespace=namespace, labels=labels, spec=spec, annotate=annotate)
        for id, suffix, spec in wanted
    ]
    return policies
