"""Validators for the pod-level options that take Kubernetes structures: tolerations,
affinity and resources. Field names are Kubernetes' own (camelCase), as in YAML.

Hand-written rather than checked with a JSON Schema library because the package may depend
only on cdk8s, constructs and cdk8s-plus-27; the rules follow the Kubernetes API
validation (``pkg/apis/core/validation``) for the fields a pre-puller uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from . import _validation as v
from ._errors import PrepullerError

__all__ = ["DEFAULT_RESOURCES", "affinity", "resources", "tolerations"]

_TOLERATION_FIELDS = ("key", "operator", "value", "effect", "tolerationSeconds")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_INTEGER = re.compile(r"[-+]?[0-9]+")

#: The resources every container gets unless ``resources=`` says otherwise.
#:
#: - ``cpu: 5m`` request: the no-op and ``sleep`` use no measurable CPU; 5m keeps a
#:   CPU-starved node from delaying them, yet 50 images cost 0.25 CPU even in keep mode.
#: - ``memory: 16Mi`` request: busybox ``echo``/``sleep`` need under 1 MiB resident, pause
#:   about 0.5 MiB; 16Mi leaves room for runc's init process, which is charged to the
#:   container's cgroup while the container starts.
#: - ``memory: 64Mi`` limit: Eclipse Che's puller had ``runc create failed: container init was
#:   OOM-killed`` with a 20Mi limit (eclipse-che/che#22446, raised to 30Mi), and NVIDIA's
#:   ``nvidia-container-cli`` hook, which runs in the container's cgroup on GPU nodes, was
#:   killed (exit 137) with small limits (eclipse-che/che#21765); 64Mi is twice Che's fix.
#:   A limit reserves nothing, so headroom here is free.
#: - ``cpu: 100m`` limit: a namespace whose ResourceQuota counts ``limits.cpu`` rejects pods
#:   without one, and policy scanners flag its absence (checkov CKV_K8S_11). A no-op, pause or
#:   sleep never reaches it; starting a container (runc init, charged to the container) needs
#:   a few milliseconds of CPU, so throttling delays a start by one 100 ms CFS period at most.
#:   ``{"limits": {"cpu": None}}`` removes it.
#:
#: Init containers run one at a time, so the pod's effective request per node is
#: ``max(one init container, the sum of the main containers)``: 5m CPU and 16Mi in the
#: default mode, whatever the number of images.
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "5m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}
_RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")


def tolerations(value: object, option: str) -> list[dict[str, Any]]:
    """Kubernetes tolerations, checked as the API server checks them."""
    return v.sequence(value, option, _toleration)


def _toleration(value: object, option: str) -> dict[str, Any]:
    item = v.mapping(value, option)
    v.known_keys(item, option, _TOLERATION_FIELDS)
    result: dict[str, Any] = {}
    if "key" in item:
        result["key"] = v.label_key(item["key"], f"{option}.key") if item["key"] != "" else ""
    operator = v.one_of(item.get("operator", "Equal"), f"{option}.operator", ("Exists", "Equal"))
    if "operator" in item:
        result["operator"] = operator
    if "value" in item:
        result["value"] = v.label_value(item["value"], f"{option}.value")
    if operator == "Exists" and result.get("value"):
        raise PrepullerError(f"{option}.value", "must be empty when operator is 'Exists'", item["value"])
    if not result.get("key") and operator != "Exists":
        raise PrepullerError(
            f"{option}.operator",
            "must be 'Exists' when key is empty (to tolerate every taint)",
            item.get("operator", "Equal"),
        )
    if "effect" in item:
        result["effect"] = v.one_of(item["effect"], f"{option}.effect", _TAINT_EFFECTS)
    if "tolerationSeconds" in item:
        result["tolerationSeconds"] = v.integer(
            item["tolerationSeconds"],
            f"{option}.tolerationSeconds",
            minimum=-v.JS_SAFE_INTEGER,
            maximum=v.JS_SAFE_INTEGER,
        )
        if result.get("effect") != "NoExecute":
            raise PrepullerError(
                f"{option}.effect", "must be 'NoExecute' when tolerationSeconds is set", item.get("effect")
            )
    return result


# --- affinity: a small structural schema, each entry a field -> validator -----------------

Validator = Callable[[object, str], Any]


def _struct(fields: Mapping[str, Validator], required: tuple[str, ...] = ()) -> Validator:
    def check(value: object, option: str) -> dict[str, Any]:
        item = v.mapping(value, option)
        v.known_keys(item, option, tuple(fields))
        for name in required:
            if name not in item:
                raise PrepullerError(f"{option}.{name}", "is required")
        return {name: fields[name](item[name], f"{option}.{name}") for name in item}

    return check


def _list_of(item: Validator, *, allow_empty: bool = True) -> Validator:
    return lambda value, option: v.sequence(value, option, item, allow_empty=allow_empty)


def _weight(value: object, option: str) -> int:
    return v.integer(value, option, minimum=1, maximum=100)


def _requirement(operators: tuple[str, ...]) -> Validator:
    base = _struct(
        {
            "key": v.label_key,
            "operator": lambda value, option: v.one_of(value, option, operators),
            "values": _list_of(v.string),
        },
        required=("key", "operator"),
    )

    def check(value: object, option: str) -> dict[str, Any]:
        result: dict[str, Any] = base(value, option)
        values = result.get("values", [])
        if result["operator"] in ("In", "NotIn") and not values:
            raise PrepullerError(
                f"{option}.values", f"must not be empty when operator is {result['operator']!r}", values
            )
        if result["operator"] in ("Exists", "DoesNotExist") and values:
            raise PrepullerError(f"{option}.values", f"must be empty when operator is {result['operator']!r}", values)
        if result["operator"] in ("Gt", "Lt") and (len(values) != 1 or not _is_int64(values[0])):
            raise PrepullerError(
                f"{option}.values", f"must be one integer when operator is {result['operator']!r}", values
            )
        return result

    return check


def _is_int64(text: str) -> bool:
    """What Go's ``strconv.ParseInt(text, 10, 64)`` accepts (the API server's check for Gt/Lt):
    ASCII digits only (``str.isdigit`` also takes '²' and other scripts' digits)."""
    return bool(_INTEGER.fullmatch(text)) and -(2**63) <= int(text) <= 2**63 - 1


_node_selector_term = _struct(
    {
        "matchExpressions": _list_of(_requirement(("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"))),
        "matchFields": _list_of(_requirement(("In", "NotIn"))),
    }
)
_label_selector = _struct(
    {
        "matchLabels": v.label_map,
        "matchExpressions": _list_of(_requirement(("In", "NotIn", "Exists", "DoesNotExist"))),
    }
)
_pod_affinity_term = _struct(
    {
        "labelSelector": _label_selector,
        "namespaceSelector": _label_selector,
        "namespaces": _list_of(v.dns_label),
        "topologyKey": v.label_key,
    },
    required=("topologyKey",),
)
_pod_affinity = _struct(
    {
        "requiredDuringSchedulingIgnoredDuringExecution": _list_of(_pod_affinity_term),
        "preferredDuringSchedulingIgnoredDuringExecution": _list_of(
            _struct({"weight": _weight, "podAffinityTerm": _pod_affinity_term}, required=("weight", "podAffinityTerm"))
        ),
    }
)
_affinity = _struct(
    {
        "nodeAffinity": _struct(
            {
                "requiredDuringSchedulingIgnoredDuringExecution": _struct(
                    {"nodeSelectorTerms": _list_of(_node_selector_term, allow_empty=False)},
                    required=("nodeSelectorTerms",),
                ),
                "preferredDuringSchedulingIgnoredDuringExecution": _list_of(
                    _struct({"weight": _weight, "preference": _node_selector_term}, required=("weight", "preference"))
                ),
            }
        ),
        "podAffinity": _pod_affinity,
        "podAntiAffinity": _pod_affinity,
    }
)


def affinity(value: object, option: str) -> dict[str, Any]:
    """A Kubernetes ``Affinity`` (nodeAffinity, podAffinity, podAntiAffinity)."""
    result: dict[str, Any] = _affinity(value, option)
    return result


def resources(
    value: object, option: str, default: Mapping[str, Mapping[str, str]] = DEFAULT_RESOURCES
) -> dict[str, dict[str, str]]:
    """Container resources, merged over ``default`` key by key.

    ``{"requests": {"cpu": "50m"}}`` changes only the CPU request; ``None`` as a value
    removes that entry from the default (``{"limits": {"memory": None}}``).
    """
    item = v.mapping(value, option)
    v.known_keys(item, option, ("requests", "limits"))
    merged: dict[str, dict[str, str]] = {section: dict(default.get(section, {})) for section in ("requests", "limits")}
    for section in ("requests", "limits"):
        if section not in item:
            continue
        entries = v.mapping(item[section], f"{option}.{section}")
        v.known_keys(entries, f"{option}.{section}", _RESOURCE_NAMES)
        for name, amount in entries.items():
            if amount is None:
                merged[section].pop(name, None)
            else:
                merged[section][name] = v.quantity(amount, f"{option}.{section}.{name}")
    for name, request in merged["requests"].items():
        limit = merged["limits"].get(name)
        if limit is not None and v.quantity_value(request) > v.quantity_value(limit):
            raise PrepullerError(f"{option}.requests.{name}", f"must not exceed the limit {limit!r}", request)
    return {section: entries for section, entries in merged.items() if entries}
