"""The Pod Security Standards checker (tests/pss.py) catches each control's violation, and
accepts a compliant pod, so that the scenario test cannot pass vacuously."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests import pss

Spec = dict[str, Any]


def compliant() -> tuple[Spec, Spec]:
    """A restricted pod template: (metadata, spec)."""
    container = {
        "name": "c",
        "image": "x:1",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
            "seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"},
            "appArmorProfile": {"type": "Localhost", "localhostProfile": "p"},
            "procMount": "Default",
        },
        "ports": [{"containerPort": 80}],
    }
    spec = {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
        },
        "containers": [container],
        "initContainers": [copy.deepcopy(container) | {"name": "i"}],
        "volumes": [{"name": "v", "emptyDir": {}}, {"name": "s", "secret": {"secretName": "s"}}],
    }
    metadata = {"annotations": {"container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}}
    return metadata, spec


def test_compliant_pod_is_restricted() -> None:
    metadata, spec = compliant()
    assert pss.violations(metadata, spec) == {}
    assert pss.level(metadata, spec) == "restricted"


def init(spec: Spec) -> Spec:
    container: Spec = spec["initContainers"][0]
    return container


def context(spec: Spec) -> Spec:
    security: Spec = init(spec)["securityContext"]
    return security


# control -> a change to the compliant template that breaks exactly that control.
Change = Callable[[Spec, Spec], None]
VIOLATIONS: dict[str, list[Change]] = {
    "host_process": [
        lambda m, s: s["securityContext"].update(windowsOptions={"hostProcess": True}),
        lambda m, s: context(s).update(windowsOptions={"hostProcess": True}),
    ],
    "host_namespaces": [lambda m, s, f=f: s.update({f: True}) for f in ("hostNetwork", "hostPID", "hostIPC")],
    "privileged": [lambda m, s: context(s).update(privileged=True)],
    "capabilities_baseline": [lambda m, s: context(s)["capabilities"].update(add=["SYS_ADMIN"])],
    "host_path_volumes": [lambda m, s: s["volumes"].append({"name": "h", "hostPath": {"path": "/var/run"}})],
    "host_ports": [lambda m, s: init(s).update(ports=[{"containerPort": 80, "hostPort": 8080}])],
    "app_armor": [
        lambda m, s: context(s).update(appArmorProfile={"type": "Unconfined"}),
        lambda m, s: s["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
        lambda m, s: m["annotations"].update({"container.apparmor.security.beta.kubernetes.io/i": "unconfined"}),
    ],
    "selinux": [
        lambda m, s: context(s)["seLinuxOptions"].update(type="spc_t"),
        lambda m, s: s["securityContext"].update(seLinuxOptions={"user": "system_u"}),
        lambda m, s: context(s)["seLinuxOptions"].update(role="system_r"),
    ],
    "proc_mount": [lambda m, s: context(s).update(procMount="Unmasked")],
    "seccomp_baseline": [lambda m, s: context(s).update(seccompProfile={"type": "Unconfined"})],
    "sysctls": [lambda m, s: s["securityContext"]["sysctls"].append({"name": "kernel.msgmax", "value": "1"})],
    "volume_types": [
        lambda m, s: s["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}}),
        lambda m, s: s["volumes"].append({"name": "g", "gitRepo": {"repository": "x"}}),
    ],
    "privilege_escalation": [
        lambda m, s: context(s).update(allowPrivilegeEscalation=True),
        lambda m, s: context(s).pop("allowPrivilegeEscalation"),
    ],
    "running_as_non_root": [
        lambda m, s: context(s).update(runAsNonRoot=False),
        lambda m, s: (s["securityContext"].pop("runAsNonRoot"), context(s).pop("runAsNonRoot")),
    ],
    "running_as_non_root_user": [
        lambda m, s: s["securityContext"].update(runAsUser=0),
        lambda m, s: context(s).update(runAsUser=0),
    ],
    "seccomp_restricted": [
        lambda m, s: (s["securityContext"].pop("seccompProfile"), context(s).pop("seccompProfile")),
        lambda m, s: (
            s["securityContext"].pop("seccompProfile") and s["containers"][0]["securityContext"].pop("seccompProfile")
        ),
    ],
    "capabilities_restricted": [
        lambda m, s: context(s)["capabilities"].update(drop=["NET_RAW"]),
        lambda m, s: context(s)["capabilities"].update(add=["CHOWN"]),
    ],
}

CASES = [(control, index) for control, changes in VIOLATIONS.items() for index in range(len(changes))]


def test_every_control_has_violation_cases() -> None:
    assert set(VIOLATIONS) == set(pss.RESTRICTED)


@pytest.mark.parametrize(("control", "index"), CASES, ids=[f"{c}-{i}" for c, i in CASES])
def test_each_violation_is_caught_by_its_control(control: str, index: int) -> None:
    metadata, spec = compliant()
    VIOLATIONS[control][index](metadata, spec)
    found = pss.violations(metadata, spec)
    assert control in found, found
    # Only controls that overlap by definition may fire along with it.
    overlapping = {
        "seccomp_baseline": {"seccomp_restricted"},
        "capabilities_baseline": {"capabilities_restricted"},
        "capabilities_restricted": set(),
        "host_path_volumes": {"volume_types"},
    }
    assert set(found) - {control} <= overlapping.get(control, set()), found
    assert pss.level(metadata, spec) == ("baseline" if control not in pss.BASELINE else "privileged")


def test_container_level_settings_cover_a_pod_without_them() -> None:
    metadata, spec = compliant()
    del spec["securityContext"]["runAsNonRoot"], spec["securityContext"]["seccompProfile"]
    for container in spec["containers"] + spec["initContainers"]:
        container["securityContext"]["runAsNonRoot"] = True
    assert pss.violations(metadata, spec) == {}


def test_ephemeral_containers_are_checked() -> None:
    metadata, spec = compliant()
    spec["ephemeralContainers"] = [{"name": "debug", "image": "busybox:1", "securityContext": {"privileged": True}}]
    assert {"privileged", "privilege_escalation", "capabilities_restricted"} <= set(pss.violations(metadata, spec))


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ({"kind": "Pod", "spec": {"containers": []}}, ("spec",)),
        ({"kind": "DaemonSet", "spec": {"template": {"spec": {"containers": []}}}}, ("spec", "template")),
        ({"kind": "Deployment", "spec": {"template": {"spec": {"containers": []}}}}, ("spec", "template")),
        ({"kind": "Job", "spec": {"template": {"spec": {"containers": []}}}}, ("spec", "template")),
        (
            {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}},
            ("spec", "jobTemplate", "spec", "template"),
        ),
    ],
)
def test_pod_templates_of_every_kind(obj: dict[str, Any], path: tuple[str, ...]) -> None:
    template = obj
    for key in path:
        template = template[key]
    spec = template if path == ("spec",) else template["spec"]
    assert pss.pod_templates(obj) == [({}, spec)]
    assert pss.pod_templates({"kind": "NetworkPolicy", "spec": {}}) == []
