"""The one-node cluster as the cluster suite sees it: kubectl and crictl run against what
``tests/cluster/up`` started (read from its ``cluster.env``), and the small waits built on them.

Everything here runs a subprocess against the real cluster; nothing is emulated.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = ["Cluster", "ClusterError", "PullEvent", "relocate", "to_yaml"]

T = TypeVar("T")

#: ``Successfully pulled image "x" in 1.234s (1.234s including waiting). Image size: ...``
_PULLED = re.compile(r'Successfully pulled image "(?P<image>[^"]+)" in (?P<seconds>[0-9.]+)(?P<unit>m?s)')


class ClusterError(RuntimeError):
    """A command against the cluster failed, or a wait timed out; the message says which."""


@dataclass(frozen=True)
class PullEvent:
    """A kubelet ``Pulled`` event: which pod pulled which image, when it ended and how long it took."""

    pod: str
    image: str
    ended: float  # epoch seconds (the event's lastTimestamp: whole seconds)
    seconds: float  # the pull's own duration, from the kubelet's message

    @property
    def started(self) -> float:
        return self.ended - self.seconds


@dataclass(frozen=True)
class Cluster:
    """What ``tests/cluster/up`` wrote into ``cluster.env``."""

    work: Path
    kubeconfig: Path
    node: str
    registry: str
    bin: Path
    env: Mapping[str, str]

    @classmethod
    def from_work(cls, work: Path) -> Cluster | None:
        """The running cluster whose state is in ``work``; ``None`` when there is none."""
        path = work / "cluster.env"
        if not path.is_file():
            return None
        values = dict(
            line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")
        )
        env = {**os.environ, **values, "PATH": f"{values['PREPULLER_CLUSTER_BIN']}:{os.environ.get('PATH', '')}"}
        return cls(
            work=work,
            kubeconfig=Path(values["KUBECONFIG"]),
            node=values["PREPULLER_CLUSTER_NODE"],
            registry=values["PREPULLER_CLUSTER_REGISTRY"],
            bin=Path(values["PREPULLER_CLUSTER_BIN"]),
            env=env,
        )

    # --- commands ----------------------------------------------------------------------
    def run(
        self, args: Sequence[str], *, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the cluster's environment (KUBECONFIG, crictl's config, PATH)."""
        result = subprocess.run(
            list(args), capture_output=True, text=True, env=dict(self.env), input=input, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise ClusterError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return self.run(["kubectl", *args], check=check, input=input, timeout=timeout)

    def request(
        self, method: str, path: str, body: str, *, content_type: str, impersonate: str
    ) -> tuple[int, dict[str, Any]]:
        """One API request as ``impersonate`` (the admin's token with an ``Impersonate-User``
        header), with no read before it as kubectl would send: (HTTP status, JSON body)."""
        config = yaml.safe_load(self.kubeconfig.read_text())
        server = urllib.parse.urlsplit(config["clusters"][0]["cluster"]["server"])
        context = ssl.create_default_context(cafile=config["clusters"][0]["cluster"]["certificate-authority"])
        connection = http.client.HTTPSConnection(server.hostname or "", server.port, context=context, timeout=30)
        headers = {
            "Authorization": f"Bearer {config['users'][0]['user']['token']}",
            "Impersonate-User": impersonate,
            "Content-Type": content_type,
        }
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def get(self, *args: str) -> Any:
        """``kubectl get ... -o json``, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def crictl(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run(["crictl", *args], check=check, timeout=timeout)

    # --- the node's image store (containerd, through the CRI) ------------------------------
    def images(self) -> dict[str, str]:
        """Every tag and digest reference in containerd's store -> the image id."""
        found: dict[str, str] = {}
        for image in json.loads(self.crictl("images", "-o", "json").stdout)["images"]:
            for reference in [*(image.get("repoTags") or []), *(image.get("repoDigests") or [])]:
                found[reference] = image["id"]
        return found

    def has_image(self, reference: str) -> bool:
        return reference in self.images()

    def running_images(self) -> set[str]:
        """The image reference of every running container on the node (``crictl ps``)."""
        containers = json.loads(self.crictl("ps", "--state", "Running", "-o", "json").stdout)["containers"]
        references = {c["imageRef"] for c in containers}
        return {reference for reference, image_id in self.images().items() if image_id in references}

    def remove_images(self, references: Iterable[str]) -> None:
        """Remove images from the node's store (not from the registry); absent ones are fine.

        Raises ClusterError if one stays (a container still uses it)."""
        references = list(references)
        present = self.images()
        for reference in references:
            if reference in present:
                self.crictl("rmi", reference, check=False)
        left = sorted(set(references) & set(self.images()))
        if left:
            raise ClusterError(f"still on the node after crictl rmi (in use?): {left}")

    # --- objects ---------------------------------------------------------------------------
    def apply(
        self, manifests: Sequence[Mapping[str, Any]], *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl apply -f -`` of the manifests (stderr holds the API server's warnings)."""
        return self.kubectl("apply", "-f", "-", *args, input=to_yaml(manifests), check=check)

    def namespace(self, name: str, level: str = "restricted") -> None:
        """Create a namespace whose Pod Security admission enforces ``level``."""
        self.kubectl("create", "namespace", name)
        self.kubectl("label", "namespace", name, f"pod-security.kubernetes.io/enforce={level}")

    def events(self, namespace: str, *, reason: str | None = None) -> list[dict[str, Any]]:
        selector = [f"--field-selector=reason={reason}"] if reason else []
        items: list[dict[str, Any]] = self.get("events", "-n", namespace, *selector)["items"]
        return items

    def pull_events(self, namespace: str) -> list[PullEvent]:
        """The kubelet's ``Pulled`` events in ``namespace`` for images it really pulled."""
        pulls = []
        for event in self.events(namespace, reason="Pulled"):
            match = _PULLED.search(event.get("message", ""))
            if match is None:  # "Container image ... already present on machine"
                continue
            seconds = float(match["seconds"]) / (1000 if match["unit"] == "ms" else 1)
            ended = time.mktime(time.strptime(event["lastTimestamp"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            pulls.append(PullEvent(event["involvedObject"]["name"], match["image"], ended, seconds))
        return pulls

    def wait_until(self, what: str, check: Callable[[], T | None], *, timeout: float = 120, interval: float = 0.5) -> T:
        """Poll ``check`` until it returns something other than None/False; raise after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result is not None and result is not False:
                return result
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def audit(self, *, verb: str, resource: str, name: str) -> list[dict[str, Any]]:
        """The API server's audit events (ResponseComplete) of ``verb`` on ``resource``/``name``."""
        events = []
        for line in (self.work / "logs" / "audit.log").read_text().splitlines():
            event = json.loads(line)
            ref = event.get("objectRef", {})
            if (event["stage"], event["verb"], ref.get("resource"), ref.get("name")) == (
                "ResponseComplete",
                verb,
                resource,
                name,
            ):
                events.append(event)
        return events

    def node_taints(self) -> list[dict[str, Any]]:
        taints: list[dict[str, Any]] = self.get("node", self.node)["spec"].get("taints", [])
        return taints

    def register_node(self, taints: Sequence[str] = ()) -> None:
        """A fresh node (``tests/cluster/kubelet register``), with ``taints`` (``key=value:Effect``)."""
        args = ["--register-with-taints", ",".join(taints)] if taints else []
        self.run([str(Path(__file__).parent / "kubelet"), "register", *args], timeout=180)
        self.kubectl("wait", "--for=condition=Ready", f"node/{self.node}", "--timeout=120s", timeout=150)

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get("pods", "-n", namespace, "-l", selector)["items"]
        return items

    def pull_error(self, namespace: str, selector: str = "name=prepull") -> str | None:
        """The kubelet's pull-error reason (``ErrImagePull``/``ImagePullBackOff``) of the first
        init container waiting on one among the pods matching ``selector``; ``None`` if none is."""
        for pod in self.pods(namespace, selector):
            for container in pod.get("status", {}).get("initContainerStatuses", []):
                reason = container.get("state", {}).get("waiting", {}).get("reason")
                if reason in ("ErrImagePull", "ImagePullBackOff"):
                    return str(reason)
        return None

    def wait_running(
        self, namespace: str, selector: str, *, count: int = 1, timeout: float = 180
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` pods match ``selector`` and all are Running and ready."""

        def ready() -> list[dict[str, Any]] | None:
            pods = self.pods(namespace, selector)
            if len(pods) == count and all(_ready(pod) for pod in pods):
                return pods
            return None

        try:
            return self.wait_until(f"{count} ready pod(s) {selector} in {namespace}", ready, timeout=timeout)
        except ClusterError as error:
            described = self.kubectl("describe", "pods", "-n", namespace, "-l", selector, check=False).stdout
            raise ClusterError(f"{error}\n{described[-4000:]}") from None


def _ready(pod: Mapping[str, Any]) -> bool:
    if pod.get("status", {}).get("phase") != "Running":
        return False
    return all(c.get("ready") for c in pod["status"].get("containerStatuses", []))


def relocate(manifests: Iterable[Mapping[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The manifests moved into ``namespace``: every namespaced object and every ServiceAccount
    subject of a (Cluster)RoleBinding. Cluster-scoped objects keep their names."""
    moved = []
    for manifest in manifests:
        copy: dict[str, Any] = json.loads(json.dumps(manifest))
        if "namespace" in copy.get("metadata", {}):
            copy["metadata"]["namespace"] = namespace
        for subject in copy.get("subjects", []):
            if subject.get("kind") == "ServiceAccount":
                subject["namespace"] = namespace
        moved.append(copy)
    return moved


def to_yaml(manifests: Iterable[Mapping[str, Any]]) -> str:
    return yaml.safe_dump_all([dict(m) for m in manifests], sort_keys=False)
