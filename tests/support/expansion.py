"""The kubelet's ``$(VAR)`` expansion of container ``command``/``args``, ported line by line
from Kubernetes' ``third_party/forked/golang/expansion/expand.go``, so that a test runs
exactly the argv the kubelet would hand to the container runtime.

``$(NAME)`` becomes the value of env var NAME when it is defined (and stays as written when
not); ``$$`` becomes ``$``; any other ``$`` is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["container_env", "expand"]


def expand(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_name(text[cursor + 1 :])
            out.append(env.get(read, f"$({read})") if is_var else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _read_name(text: str) -> tuple[str, bool, int]:
    if text[0] == "$":
        return "$", False, 1
    if text[0] == "(":
        for index in range(1, len(text)):
            if text[index] == ")":
                return text[1:index], True, index + 1
        return "$(", False, 1
    return "$" + text[0], False, 1


def container_env(container: Mapping[str, object], field_values: Mapping[str, str]) -> dict[str, str]:
    """The container's ``env`` as the kubelet resolves it: literal values (themselves expanded
    against the variables before them) and downward-API ``fieldRef``s from ``field_values``
    (e.g. ``{"spec.nodeName": "node-1"}``)."""
    env: dict[str, str] = {}
    for item in container.get("env", []):  # type: ignore[attr-defined]
        if "value" in item:
            env[item["name"]] = expand(item["value"], env)
        else:
            env[item["name"]] = field_values[item["valueFrom"]["fieldRef"]["fieldPath"]]
    return env
