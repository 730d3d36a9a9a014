"""Play a synthesized DaemonSet's pod template on podman, as a Pod.

Podman cannot play a DaemonSet, so the template is played as a Pod (``restartPolicy:
Never``: a failed init container fails the pod instead of restarting). The template is
otherwise played as synthesized, so a wrong template fails the test. The only changes are
what the kubelet itself resolves on a node and podman 4.3 cannot, each in one function:

- ``resolve_node_name``: env ``valueFrom.fieldRef: spec.nodeName`` becomes the node's name
  as a literal value (podman rejects the field ref as "not valid or not supported");
- ``expand_variables``: ``$(VAR)`` in env values, ``command`` and ``args`` expanded as the
  kubelet does (podman passes them through literally);
- ``keep_init_containers``: the annotation that stops podman deleting init containers once
  they succeed (their logs and exit codes are the evidence);
- ``isolate_empty_dirs``: each emptyDir gets a name of its own pod (podman names the volume
  after the YAML volume and shares it between pods; the kubelet gives every pod a fresh one);
- ``resolve_sub_paths``: a ``hostPath`` volume mounted with ``subPath`` is mounted as the
  host path joined with the subPath, which is what the kubelet bind-mounts (podman 4.3
  ignores ``subPath`` and would mount the whole directory: docker mode's socket);
- ``drop_long_annotations``: pod annotations whose value is over 63 characters are left out
  (podman 4.3 refuses them, containers/podman#21663, fixed in podman 5; Kubernetes allows
  256 KiB in all, and such annotations, like docker mode's ``checksum/images``, are read by
  controllers and people, never by the kubelet to run the pod).

These functions are pure (dicts in, new dicts out) and unit-tested without podman in
``tests/test_e2e_transform.py``; ``play`` runs the result.
"""

from __future__ import annotations

import copy
import itertools
import json
import posixpath
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cdk8s

from prepuller._defaults import NAME_LABEL

if TYPE_CHECKING:
    from prepuller import ImagePrepuller

__all__ = [
    "INIT_CONTAINER_ANNOTATION",
    "PODMAN_ANNOTATION_MAX",
    "PlayFn",
    "Played",
    "Player",
    "drop_long_annotations",
    "expand",
    "expand_variables",
    "isolate_empty_dirs",
    "keep_init_containers",
    "kube_pod",
    "play",
    "pod_from_template",
    "resolve_node_name",
    "resolve_sub_paths",
    "tear_down",
    "template_of",
    "templates_of",
]

#: Podman 4.3 removes init containers that exited 0 unless the pod says ``always``.
INIT_CONTAINER_ANNOTATION = "io.podman.annotations.init.container.type"


def pod_from_template(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A Pod with the DaemonSet template's metadata and spec, named ``name``, that runs once
    (``restartPolicy: Never``) as a node's DaemonSet pod would, but without restarts."""
    metadata = copy.deepcopy(dict(template.get("metadata") or {}))
    metadata["name"] = name
    spec = copy.deepcopy(dict(template["spec"]))
    spec["restartPolicy"] = "Never"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def resolve_node_name(pod: Mapping[str, Any], node: str) -> dict[str, Any]:
    """Env vars from ``fieldRef: spec.nodeName`` become ``value: <node>``, as the kubelet
    resolves them; any other ``valueFrom`` is left for podman (and fails loudly there)."""
    copied: dict[str, Any] = _copy(pod)
    for container in _containers(copied):
        for variable in container.get("env") or []:
            field = (variable.get("valueFrom") or {}).get("fieldRef") or {}
            if field.get("fieldPath") == "spec.nodeName" and set(variable["valueFrom"]) == {"fieldRef"}:
                del variable["valueFrom"]
                variable["value"] = node
    return copied


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion (``third_party/forked/golang/expansion``):
    ``$(NAME)`` becomes the variable's value when it is defined and stays as written when
    not, ``$$`` becomes ``$``, and any other ``$`` (``$x``, a trailing ``$``, an unclosed
    ``$(``) is kept."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$" or index + 1 == len(text):
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "(" and (close := text.find(")", index + 2)) != -1:
            name = text[index + 2 : close]
            out.append(variables.get(name, f"$({name})"))
            index = close + 1
        else:  # "$x" or an unclosed "$(": the "$" and the next character stay
            out.append(text[index : index + 2])
            index += 2
    return "".join(out)


def expand_variables(pod: Mapping[str, Any]) -> dict[str, Any]:
    """``$(VAR)`` in each container's env values (from the variables before it), then in its
    ``command`` and ``args`` (from all of its env), as the kubelet expands them.

    Only literal ``value`` env vars take part: run ``resolve_node_name`` first."""
    copied: dict[str, Any] = _copy(pod)
    for container in _containers(copied):
        variables: dict[str, str] = {}
        for variable in container.get("env") or []:
            if "value" in variable:
                variable["value"] = expand(variable["value"], variables)
                variables[variable["name"]] = variable["value"]
        for key in ("command", "args"):
            if key in container:
                container[key] = [expand(item, variables) for item in container[key]]
    return copied


def keep_init_containers(pod: Mapping[str, Any]) -> dict[str, Any]:
    """Annotate the pod so podman keeps its init containers (and their logs) after they succeed,
    as the kubelet does."""
    copied: dict[str, Any] = _copy(pod)
    annotations = copied["metadata"].get("annotations") or {}
    copied["metadata"]["annotations"] = {**annotations, INIT_CONTAINER_ANNOTATION: "always"}
    return copied


def isolate_empty_dirs(pod: Mapping[str, Any]) -> dict[str, Any]:
    """Rename every emptyDir volume (and its mounts) to ``<pod name>-<volume>``, so that each
    pod gets a fresh, empty one as on a kubelet: podman names the volume after the YAML
    volume, so two pods would share (and see each other's files in) ``prepuller-tools``."""
    copied: dict[str, Any] = _copy(pod)
    prefix = copied["metadata"]["name"]
    renamed = {}
    for volume in copied["spec"].get("volumes") or []:
        if "emptyDir" in volume:
            renamed[volume["name"]] = volume["name"] = f"{prefix}-{volume['name']}"
    for container in _containers(copied):
        for mount in container.get("volumeMounts") or []:
            mount["name"] = renamed.get(mount["name"], mount["name"])
    return copied


def resolve_sub_paths(pod: Mapping[str, Any]) -> dict[str, Any]:
    """Mount each ``hostPath`` volume's ``subPath`` as a ``hostPath`` volume of its own
    (``<volume>-subpath-<n>``, the host path joined with the subPath, no ``type`` check), as
    the kubelet resolves it; the original volume stays, so its ``type`` is still checked.

    Raises:
        ValueError: a ``subPath`` on any other kind of volume (the suite does not play one).
    """
    copied: dict[str, Any] = _copy(pod)
    volumes = {volume["name"]: volume for volume in copied["spec"].get("volumes") or []}
    derived: dict[tuple[str, str], str] = {}
    for container in _containers(copied):
        for mount in container.get("volumeMounts") or []:
            if not mount.get("subPath"):
                continue
            volume = volumes[mount["name"]]
            if "hostPath" not in volume:
                raise ValueError(f"subPath on a volume that is not a hostPath: {volume}")
            key = (mount["name"], mount["subPath"])
            if key not in derived:
                derived[key] = f"{mount['name']}-subpath-{len(derived) + 1}"
                path = posixpath.join(volume["hostPath"]["path"], mount["subPath"])
                copied["spec"]["volumes"].append({"name": derived[key], "hostPath": {"path": path}})
            mount["name"] = derived[key]
            del mount["subPath"]
    return copied


#: The longest annotation value podman 4.3 accepts (it applies the label-value limit).
PODMAN_ANNOTATION_MAX = 63


def drop_long_annotations(pod: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out the pod annotations podman 4.3 refuses: values over 63 characters."""
    copied: dict[str, Any] = _copy(pod)
    annotations = copied["metadata"].get("annotations")
    if annotations:
        copied["metadata"]["annotations"] = {
            key: value for key, value in annotations.items() if len(value) <= PODMAN_ANNOTATION_MAX
        }
    return copied


def kube_pod(template: Mapping[str, Any], name: str, node: str) -> dict[str, Any]:
    """The Pod podman plays for a DaemonSet pod ``template`` on node ``node``."""
    pod = pod_from_template(template, name)
    pod = keep_init_containers(pod)
    pod = isolate_empty_dirs(pod)
    pod = resolve_sub_paths(pod)
    pod = drop_long_annotations(pod)
    pod = resolve_node_name(pod, node)
    return expand_variables(pod)


def _copy(pod: Mapping[str, Any]) -> Any:
    """A deep copy: the functions here never change their argument."""
    return copy.deepcopy(dict(pod))


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod["spec"]
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def templates_of(prepuller: ImagePrepuller) -> list[dict[str, Any]]:
    """The pod templates of the prepuller's DaemonSets (one, or one per group of
    ``parallel_pulls``), as ``cdk8s synth`` writes them."""
    return [
        manifest["spec"]["template"]
        for manifest in cdk8s.Testing.synth(cdk8s.Chart.of(prepuller))
        if manifest["kind"] == "DaemonSet"
        and manifest["spec"]["template"]["metadata"]["labels"].get(NAME_LABEL) == prepuller.name
    ]


def template_of(prepuller: ImagePrepuller) -> dict[str, Any]:
    """The pod template of the prepuller's one DaemonSet."""
    [template] = templates_of(prepuller)
    return template


# --- playing it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Played:
    """A pod podman played: its name, the play's exit code and output."""

    name: str
    returncode: int
    output: str

    def container(self, name: str) -> str:
        """The engine's name of the pod's container ``name`` (podman: ``<pod>-<container>``)."""
        return f"{self.name}-{name}"

    def report(self) -> str:
        """The play's output, then each container's state and log: for assertion messages."""
        from .engine import podman

        lines = [f"podman play kube exited {self.returncode}:", self.output]
        listed = podman("ps", "--all", "--filter", f"pod={self.name}", "--format", "{{.Names}}", check=False)
        for name in listed.stdout.split():
            state = podman("inspect", name, "--format", "{{.State.Status}} exit {{.State.ExitCode}}", check=False)
            log = podman("logs", name, check=False)
            lines += [f"--- {name}: {state.stdout.strip()}", log.stdout + log.stderr]
        return "\n".join(lines)


def play(pod: Mapping[str, Any], *, timeout: float = 600) -> Played:
    """``podman play kube`` the Pod; returns once podman has run the init containers and
    started the others (or failed). Networking is off: the engine pulls, the pod needs none.
    """
    from .engine import run  # here, so the pure functions above import without a subprocess layer

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pod.json"  # JSON is YAML
        path.write_text(json.dumps(pod, indent=2))
        result = run(["podman", "play", "kube", "--network", "none", str(path)], check=False, timeout=timeout)
    return Played(pod["metadata"]["name"], result.returncode, result.stdout + result.stderr)


def tear_down(played: Played, volumes: list[str] | None = None) -> None:
    """Remove the pod, its containers and its emptyDir volumes."""
    from .engine import podman

    podman("pod", "rm", "--force", "--time", "0", played.name, check=False)
    for volume in volumes or []:
        podman("volume", "rm", "--force", volume, check=False)


#: Plays a template and returns what podman did (``Player``; the ``play_template`` fixture).
PlayFn = Callable[..., Played]

_POD_NAMES = itertools.count(1)


class Player:
    """Plays DaemonSet pod templates as Pods (see ``podman.py``), whatever the mode, and
    removes them and their emptyDir volumes on ``close``."""

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name
        self._played: list[tuple[Played, list[str]]] = []

    def __call__(self, template: Mapping[str, Any], *, name: str | None = None) -> Played:
        pod = kube_pod(template, name or f"e2e-{next(_POD_NAMES)}", self.node_name)
        result = play(pod)
        volumes = [volume["name"] for volume in pod["spec"].get("volumes") or [] if "emptyDir" in volume]
        self._played.append((result, volumes))
        return result

    def close(self) -> None:
        for result, volumes in self._played:
            tear_down(result, volumes)
