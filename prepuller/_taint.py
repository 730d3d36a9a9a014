"""``startup_taint``: new nodes take no user pods until the prepuller has pulled every image.

The node registers with a ``<key>:NoSchedule`` taint (Karpenter ``startupTaints``, node-pool
taints, kubelet ``--register-with-taints``). The prepuller's pods tolerate it; the last
init container, which starts only after every image's init container has succeeded,
removes that taint from its own node, and the pod then idles in its pause container.

How the taint is removed, and why not ``kubectl taint node N key:NoSchedule-``: kubectl
taint reads the node and sends a strategic-merge patch holding the *whole remaining* taint
list (the list has no merge key, so it is replaced) without a resourceVersion; a taint that
another controller adds between its read and its write is silently dropped (checked with
the real kubectl against the stub API server in the tests). Instead the script reads the
taints, finds the index of ``<key>`` with effect ``NoSchedule``, and sends a JSON patch
that *tests* the key and effect at that index and removes only that element. If the list
changed in between, the test fails (HTTP 422) and nothing is written; the script reads
again and retries. Any other failure (409, 5xx, network, 403) is retried the same way,
with exponential backoff (1 s doubling to 60 s), for 8 attempts; then the container exits
1, loudly, and the kubelet restarts it with its own capped backoff, so the pod shows
``Init:CrashLoopBackOff`` and keeps trying. A taint already gone is success with no write.

The script is a constant; the node name (downward API) and the taint key reach it only as
environment variables, and the key is checked again in the script before it is put in
the JSON. It runs under the static busybox that the first init container copied into the
shared tools volume, in the kubectl image (which has no shell).

RBAC: ServiceAccount ``<name>-untaint``; ClusterRole and ClusterRoleBinding
``prepuller:<namespace>:<name>-untaint`` allowing only ``get`` and ``patch`` on ``nodes``
(nodes are cluster-scoped, so no Role can grant this; the names carry the namespace
because cluster-scoped names are shared by every namespace). The token reaches only the
untaint container, through a projected volume mounted there alone; the pod keeps
``automountServiceAccountToken: false``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import cdk8s
from constructs import Construct

from . import _validation
from ._defaults import KUBECTL_BINARY, KUBECTL_RESOURCES
from ._errors import PrepullerError
from ._manifest import SynthesizedObject
from ._pods import (
    TOOLS_BINARY,
    TOOLS_MOUNT,
    TOOLS_VOLUME,
    UNTAINT_CONTAINER,
    PodSettings,
    helper_container,
    node_name_env,
    restricted_container_security,
    tools_volume,
)
from ._references import ImageReference

__all__ = [
    "UNTAINT_CONTAINER",
    "UNTAINT_SCRIPT",
    "add_untaint_rbac",
    "cluster_role_name",
    "refuse_parallel_pulls",
    "taint_key",
    "with_untaint",
]

EFFECT = "NoSchedule"
TOKEN_VOLUME = "prepuller-api-access"
#: Where kubectl's in-cluster configuration looks for the token, CA and namespace.
TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
#: The token's lifetime; the kubelet renews it well before (the value kubelet uses for
#: its own automounted tokens).
TOKEN_SECONDS = 3607
_SUFFIX = "-untaint"

#: Retry policy, as environment variables of the container (the tests shorten the delays).
RETRY_ENV = {"UNTAINT_ATTEMPTS": "8", "UNTAINT_FIRST_DELAY_SECONDS": "1", "UNTAINT_MAX_DELAY_SECONDS": "60"}

#: Run as ``busybox sh -c UNTAINT_SCRIPT remove-startup-taint <kubectl> <busybox>``, with
#: ``NODE_NAME``, ``TAINT_KEY`` and the RETRY_ENV variables. POSIX sh (busybox ash, dash).
#: Exit codes: 0 taint removed or absent; 1 still there after every attempt; 2 bad input.
UNTAINT_SCRIPT = r"""set -u
kubectl=$1
busybox=$2
node=${NODE_NAME:?}
key=${TAINT_KEY:?}
case $key in
  '' | *[!A-Za-z0-9._/-]*) echo "prepuller: TAINT_KEY '$key' is not a taint key" >&2; exit 2 ;;
esac
attempts=${UNTAINT_ATTEMPTS:-8}
delay=${UNTAINT_FIRST_DELAY_SECONDS:-1}
max_delay=${UNTAINT_MAX_DELAY_SECONDS:-60}
tab=$(printf '\t')
# one "key<TAB>effect" line per taint, in the order of .spec.taints
listing='jsonpath={range .spec.taints[*]}{.key}{"\t"}{.effect}{"\n"}{end}'
# test that the element at the index is still ours, then remove exactly that element
template='[{"op":"test","path":"/spec/taints/%s/key","value":"%s"},'\
'{"op":"test","path":"/spec/taints/%s/effect","value":"NoSchedule"},'\
'{"op":"remove","path":"/spec/taints/%s"}]'
attempt=1
while :; do
  if taints=$("$kubectl" get node "$node" -o "$listing"); then
    index=-1
    i=0
    while IFS=$tab read -r taint_key taint_effect; do
      if [ "$taint_key" = "$key" ] && [ "$taint_effect" = NoSchedule ]; then index=$i; fi
      i=$((i + 1))
    done <<EOF
$taints
EOF
    if [ "$index" -lt 0 ]; then
      echo "prepuller: node $node has no taint $key:NoSchedule (any more): nothing to do"
      exit 0
    fi
    # shellcheck disable=SC2059 # the template is ours; the key was checked above
    patch=$(printf "$template" "$index" "$key" "$index" "$index")
    if "$kubectl" patch node "$node" --type=json -p "$patch"; then
      echo "prepuller: removed the taint $key:NoSchedule from node $node"
      exit 0
    fi
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    echo "prepuller: could not remove the taint $key:NoSchedule from node $node in $attempts attempts" \
      "(errors above); exiting for the kubelet to restart this container" >&2
    exit 1
  fi
  echo "prepuller: attempt $attempt of $attempts to remove the taint $key:NoSchedule from node $node failed;" \
    "retrying in ${delay}s" >&2
  "$busybox" sleep "$delay"
  delay=$((delay * 2))
  if [ "$delay" -gt "$max_delay" ]; then delay=$max_delay; fi
  attempt=$((attempt + 1))
done
"""


def taint_key(value: object, option: str = "startup_taint") -> str:
    """A taint key: a label key (optional DNS-subdomain prefix, then a name).

    Raises:
        PrepullerError: not a valid taint key.
    """
    if isinstance(value, str) and (":" in value or "=" in value):
        raise PrepullerError(
            option, f"must be the taint's key only (the effect is always {EFFECT}; values are ignored)", value
        )
    return _validation.label_key(value, option)


def service_account_name(name: str) -> str:
    return name + _SUFFIX


def cluster_role_name(name: str, namespace: str) -> str:
    """Cluster-scoped, so unique per namespace: ``prepuller:<namespace>:<name>-untaint``."""
    return f"prepuller:{namespace}:{name}{_SUFFIX}"


def toleration(key: str) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": EFFECT}


def untaint_container(key: str, image: ImageReference, image_pull_policy: str | None) -> dict[str, Any]:
    return {
        "name": UNTAINT_CONTAINER,
        "image": image.text,
        "imagePullPolicy": image_pull_policy or image.default_pull_policy,
        # '$$' is the kubelet's escape for '$': it expands $(VAR) in commands, and the
        # script's own $(...) must reach the shell as written.
        "command": [
            TOOLS_BINARY,
            "sh",
            "-c",
            UNTAINT_SCRIPT.replace("$", "$$"),
            UNTAINT_CONTAINER,
            KUBECTL_BINARY,
            TOOLS_BINARY,
        ],
        "env": [
            *node_name_env(),
            {"name": "TAINT_KEY", "value": key},
            *({"name": name, "value": value} for name, value in RETRY_ENV.items()),
        ],
        "resources": KUBECTL_RESOURCES,
        "securityContext": restricted_container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": TOOLS_VOLUME, "mountPath": TOOLS_MOUNT, "readOnly": True},
            {"name": TOKEN_VOLUME, "mountPath": TOKEN_MOUNT, "readOnly": True},
        ],
    }


def token_volume() -> dict[str, Any]:
    """What the service-account admission plugin would mount, but for one container only."""
    return {
        "name": TOKEN_VOLUME,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": TOKEN_SECONDS}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ]
        },
    }


def with_untaint(
    pod_spec: Mapping[str, Any], *, settings: PodSettings, name: str, key: str, image: ImageReference
) -> dict[str, Any]:
    """``pod_spec`` (one whose init containers pull the images) with the toleration, the
    untaint init container last, its token volume and the ServiceAccount.

    A pod without the shared tools volume (the Docker-socket mode's) gets it, and the
    helper init container that fills it, just before the untaint container."""
    spec = dict(pod_spec)
    volumes = list(spec.get("volumes") or [])
    init = list(spec.get("initContainers") or [])
    if not any(volume["name"] == TOOLS_VOLUME for volume in volumes):
        volumes.append(tools_volume())
        init.append(helper_container(settings))
    spec["serviceAccountName"] = service_account_name(name)
    spec["tolerations"] = [*(spec.get("tolerations") or []), toleration(key)]
    spec["volumes"] = [*volumes, token_volume()]
    spec["initContainers"] = [*init, untaint_container(key, image, settings.image_pull_policy)]
    return spec


def refuse_parallel_pulls(key: str, parallel_pulls: int) -> None:
    """``startup_taint`` needs every image of a node pulled by one pod: with K DaemonSets,
    the first group to finish would open the node while the others still pull.

    Raises:
        PrepullerError: ``parallel_pulls`` is more than 1.
    """
    if parallel_pulls > 1:
        raise PrepullerError(
            "startup_taint",
            f"cannot be combined with parallel_pulls={parallel_pulls}: each DaemonSet's pods would "
            "remove the taint as soon as their own group of images is pulled",
            key,
        )


class _ClusterScoped(SynthesizedObject):
    """cdk8s gives every object its chart's namespace; a cluster-scoped one must have none."""

    def to_json(self) -> Any:
        document = super().to_json()
        document["metadata"].pop("namespace", None)
        return document


def add_untaint_rbac(
    scope: Construct,
    *,
    name: str,
    namespace: str,
    explicit_namespace: str | None,
    labels: Mapping[str, str],
    annotate: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
) -> list[cdk8s.ApiObject]:
    """Define the ServiceAccount, ClusterRole and ClusterRoleBinding; returns them.

    Args:
        namespace: the namespace the pods run in (the binding must name it).
        explicit_namespace: the ``namespace`` option, ``None`` to leave it to the chart.
        annotate: computes extra annotations of each finished object (checkov skips).
    """
    account_name = service_account_name(name)
    role_name = cluster_role_name(name, namespace)
    account = SynthesizedObject(
        scope,
        "UntaintServiceAccount",
        api_version="v1",
        kind="ServiceAccount",
        metadata=cdk8s.ApiObjectMetadata(name=account_name, namespace=explicit_namespace, labels=dict(labels)),
        # The token is projected into the one container that needs it, never automounted.
        produce=lambda: {"automountServiceAccountToken": False},
        annotate=annotate,
    )
    role = _ClusterScoped(
        scope,
        "UntaintClusterRole",
        api_version="rbac.authorization.k8s.io/v1",
        kind="ClusterRole",
        metadata=cdk8s.ApiObjectMetadata(name=role_name, labels=dict(labels)),
        produce=lambda: {"rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]},
        annotate=annotate,
    )
    binding = _ClusterScoped(
        scope,
        "UntaintClusterRoleBinding",
        api_version="rbac.authorization.k8s.io/v1",
        kind="ClusterRoleBinding",
        metadata=cdk8s.ApiObjectMetadata(name=role_name, labels=dict(labels)),
        produce=lambda: {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": account_name, "namespace": namespace}],
        },
        annotate=annotate,
    )
    return [account, role, binding]
