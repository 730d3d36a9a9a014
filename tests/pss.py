"""A Pod Security Standards checker, control by control, as the Kubernetes documentation lists
them (https://kubernetes.io/docs/concepts/security/pod-security-standards/, cross-read with the
admission plugin's checks in ``k8s.io/pod-security-admission/policy``).

Each control is a function ``(metadata, spec) -> list of violations`` over one pod template
(its metadata and pod spec). :func:`pod_templates` finds the templates of any object that has
one, so new kinds of object are checked without new code.

Written here rather than run through the admission plugin because there is no cluster (and no
Go toolchain) on the build machines; ``tests/test_pss.py`` proves every control catches a
hand-made violation, so the checker cannot silently pass everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

Metadata = Mapping[str, Any]
PodSpec = Mapping[str, Any]
Control = Callable[[Metadata, PodSpec], list[str]]

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_templates(obj: Mapping[str, Any]) -> list[tuple[Metadata, PodSpec]]:
    """(metadata, pod spec) of every pod template in ``obj``: Pod, workloads, Job, CronJob."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return [(obj.get("metadata") or {}, spec)]
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template")
    if kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"):
        assert template is not None, f"{kind} without a pod template"
        return [(template.get("metadata") or {}, template.get("spec") or {})]
    return []


def _containers(spec: PodSpec) -> Iterator[Mapping[str, Any]]:
    for key in CONTAINER_LISTS:
        yield from spec.get(key) or []


def _context(container: Mapping[str, Any]) -> Mapping[str, Any]:
    return container.get("securityContext") or {}


def _pod_context(spec: PodSpec) -> Mapping[str, Any]:
    return spec.get("securityContext") or {}


# --- Baseline ------------------------------------------------------------------------------


def host_process(metadata: Metadata, spec: PodSpec) -> list[str]:
    """HostProcess: windowsOptions.hostProcess undefined or false, pod and containers."""
    found = []
    if (_pod_context(spec).get("windowsOptions") or {}).get("hostProcess"):
        found.append("pod sets windowsOptions.hostProcess")
    for c in _containers(spec):
        if (_context(c).get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"container {c.get('name')!r} sets windowsOptions.hostProcess")
    return found


def host_namespaces(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Host Namespaces: hostNetwork, hostPID, hostIPC undefined or false."""
    return [f"{field} is true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]


def privileged(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Privileged Containers: securityContext.privileged undefined or false."""
    return [f"container {c.get('name')!r} is privileged" for c in _containers(spec) if _context(c).get("privileged")]


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip


def capabilities_baseline(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Capabilities: capabilities.add only from the default set."""
    found = []
    for c in _containers(spec):
        extra = set((_context(c).get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if extra:
            found.append(f"container {c.get('name')!r} adds {sorted(extra)}")
    return found


def host_path_volumes(metadata: Metadata, spec: PodSpec) -> list[str]:
    """HostPath Volumes: spec.volumes[*].hostPath undefined."""
    return [f"volume {v.get('name')!r} is a hostPath" for v in spec.get("volumes") or [] if "hostPath" in v]


def host_ports(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Host Ports: ports[*].hostPort undefined or 0."""
    return [
        f"container {c.get('name')!r} uses hostPort {p['hostPort']}"
        for c in _containers(spec)
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def app_armor(metadata: Metadata, spec: PodSpec) -> list[str]:
    """AppArmor: profile type RuntimeDefault, Localhost or undefined (pod and containers);
    the beta annotations runtime/default, localhost/* or undefined."""
    found = []
    profiles = [("pod", _pod_context(spec))] + [
        (f"container {c.get('name')!r}", _context(c)) for c in _containers(spec)
    ]
    for where, context in profiles:
        profile = context.get("appArmorProfile")
        if profile is not None and profile.get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{where} sets appArmorProfile.type {profile.get('type')!r}")
    for key, value in (metadata.get("annotations") or {}).items():
        if (
            key.startswith(APPARMOR_ANNOTATION)
            and value
            and value != "runtime/default"
            and not value.startswith("localhost/")
        ):
            found.append(f"annotation {key}={value!r}")
    return found


SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


def selinux(metadata: Metadata, spec: PodSpec) -> list[str]:
    """SELinux: seLinuxOptions.type from the allowed set; user and role unset."""
    found = []
    contexts = [("pod", _pod_context(spec))] + [
        (f"container {c.get('name')!r}", _context(c)) for c in _containers(spec)
    ]
    for where, context in contexts:
        options = context.get("seLinuxOptions") or {}
        if options.get("type", "") not in SELINUX_TYPES:
            found.append(f"{where} sets seLinuxOptions.type {options['type']!r}")
        for field in ("user", "role"):
            if options.get(field):
                found.append(f"{where} sets seLinuxOptions.{field}")
    return found


def proc_mount(metadata: Metadata, spec: PodSpec) -> list[str]:
    """/proc Mount Type: procMount undefined or Default."""
    return [
        f"container {c.get('name')!r} sets procMount {_context(c)['procMount']!r}"
        for c in _containers(spec)
        if _context(c).get("procMount") not in (None, "Default")
    ]


def seccomp_baseline(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Seccomp (baseline): seccompProfile.type is not Unconfined, pod or container."""
    contexts = [("pod", _pod_context(spec))] + [
        (f"container {c.get('name')!r}", _context(c)) for c in _containers(spec)
    ]
    return [
        f"{where} sets seccompProfile.type Unconfined"
        for where, context in contexts
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined"
    ]


SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",  # 1.27+
        "net.ipv4.tcp_keepalive_time",  # 1.29+
        "net.ipv4.tcp_fin_timeout",  # 1.29+
        "net.ipv4.tcp_keepalive_intvl",  # 1.29+
        "net.ipv4.tcp_keepalive_probes",  # 1.29+
    }
)


def sysctls(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Sysctls: only the safe set."""
    return [
        f"sysctl {s.get('name')!r} is not in the safe set"
        for s in _pod_context(spec).get("sysctls") or []
        if s.get("name") not in SAFE_SYSCTLS
    ]


# --- Restricted (in addition to every baseline control) --------------------------------------

RESTRICTED_VOLUME_TYPES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)


def volume_types(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Volume Types: only configMap, csi, downwardAPI, emptyDir, ephemeral,
    persistentVolumeClaim, projected, secret."""
    found = []
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES or not kinds:
            found.append(f"volume {volume.get('name')!r} is of type {sorted(kinds)}")
    return found


def privilege_escalation(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Privilege Escalation: allowPrivilegeEscalation false in every container."""
    return [
        f"container {c.get('name')!r} does not set allowPrivilegeEscalation: false"
        for c in _containers(spec)
        if _context(c).get("allowPrivilegeEscalation") is not False
    ]


def running_as_non_root(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Running as Non-root: runAsNonRoot true at pod level (containers may leave it unset
    but not set it false), or true in every container."""
    pod = _pod_context(spec).get("runAsNonRoot")
    found = []
    for c in _containers(spec):
        value = _context(c).get("runAsNonRoot")
        if value is False or (value is None and pod is not True):
            found.append(f"container {c.get('name')!r} may run as root (runAsNonRoot is not true)")
    if pod is False:
        found.append("pod sets runAsNonRoot: false")
    return found


def running_as_non_root_user(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Running as Non-root user: runAsUser not 0, pod and containers."""
    contexts = [("pod", _pod_context(spec))] + [
        (f"container {c.get('name')!r}", _context(c)) for c in _containers(spec)
    ]
    return [f"{where} sets runAsUser: 0" for where, context in contexts if context.get("runAsUser") == 0]


def seccomp_restricted(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Seccomp (restricted): RuntimeDefault or Localhost at pod level (containers may leave it
    unset), or in every container."""
    allowed = ("RuntimeDefault", "Localhost")
    pod = (_pod_context(spec).get("seccompProfile") or {}).get("type")
    found = []
    if pod is not None and pod not in allowed:
        found.append(f"pod sets seccompProfile.type {pod!r}")
    for c in _containers(spec):
        value = (_context(c).get("seccompProfile") or {}).get("type")
        if (value is None and pod not in allowed) or (value is not None and value not in allowed):
            found.append(f"container {c.get('name')!r} has no RuntimeDefault or Localhost seccomp profile")
    return found


def capabilities_restricted(metadata: Metadata, spec: PodSpec) -> list[str]:
    """Capabilities (restricted): drop ALL; add nothing but NET_BIND_SERVICE."""
    found = []
    for c in _containers(spec):
        capabilities = _context(c).get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"container {c.get('name')!r} does not drop ALL capabilities")
        extra = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            found.append(f"container {c.get('name')!r} adds {sorted(extra)}")
    return found


BASELINE: dict[str, Control] = {
    control.__name__: control
    for control in (
        host_process, host_namespaces, privileged, capabilities_baseline, host_path_volumes, host_ports,
        app_armor, selinux, proc_mount, seccomp_baseline, sysctls,
    )
}  # fmt: skip
RESTRICTED: dict[str, Control] = {
    **BASELINE,
    **{
        control.__name__: control
        for control in (
            volume_types, privilege_escalation, running_as_non_root, running_as_non_root_user,
            seccomp_restricted, capabilities_restricted,
        )
    },
}  # fmt: skip


def violations(metadata: Metadata, spec: PodSpec, controls: Mapping[str, Control] = RESTRICTED) -> dict[str, list[str]]:
    """Control name -> what breaks it, for the controls that are broken."""
    found = {name: control(metadata, spec) for name, control in controls.items()}
    return {name: problems for name, problems in found.items() if problems}


def level(metadata: Metadata, spec: PodSpec) -> str:
    """The strictest level the pod template meets: restricted, baseline or privileged."""
    if not violations(metadata, spec, RESTRICTED):
        return "restricted"
    if not violations(metadata, spec, BASELINE):
        return "baseline"
    return "privileged"
