"""``refresh_schedule``: a CronJob that restarts the prepuller's DaemonSets on a schedule.

Restarting re-runs every pod, so the kubelet pulls mutable tags (``:latest``, ``:nightly``)
again. The CronJob runs the real ``kubectl rollout restart daemonset/<name>...``, which
patches ``spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`` with
the current time (a strategic-merge patch, field manager ``kubectl-rollout``); the tests
run the container's exact arguments with a real kubectl against a stub API server and
check that patch. No shell is involved: the DaemonSet names are arguments.

Objects, all named ``<name>-refresh`` and emitted only when a schedule is given:
ServiceAccount (token projected into the kubectl container only, as for the taint
remover), Role (``get`` and ``patch`` on ``apps/daemonsets`` limited by
``resourceNames`` to the prepuller's own DaemonSets: ``rollout restart`` reads each one,
then patches it), RoleBinding, CronJob.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cdk8s
from constructs import Construct

from ._defaults import KUBECTL_BINARY, KUBECTL_RESOURCES, RUN_AS_UID
from ._errors import PrepullerError, PrepullerWarning
from ._manifest import SynthesizedObject
from ._pods import restricted_container_security
from ._references import ImageReference
from ._taint import TOKEN_MOUNT, TOKEN_VOLUME, token_volume

__all__ = [
    "POD_LABEL",
    "RESTART_ANNOTATION",
    "add_refresh",
    "pod_selector",
    "refresh_name",
    "schedule",
    "warn_if_nothing_is_pulled_again",
]

#: What ``kubectl rollout restart`` sets on the pod template.
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
_SUFFIX = "-refresh"
#: The label that tells the CronJob's pods apart (their NetworkPolicy selects it): not
#: ``name=``, which selects the image-pulling pods (and their deny-all policy).
POD_LABEL = "prepuller.io/refresh"
#: CronJob names are at most 52 characters: the Job controller appends 11 of its own.
_CRONJOB_NAME_MAX = 52


def warn_if_nothing_is_pulled_again(
    image_pull_policy: str | None, references: Iterable[ImageReference], *, stacklevel: int
) -> None:
    """Warn (:class:`PrepullerWarning`) when a refresh would re-pull nothing: with
    ``image_pull_policy`` ``IfNotPresent`` or ``Never`` the restarted pods find every tag on the
    node already, so a mutable tag (``:latest``, or none) that moved is never pulled again."""
    if image_pull_policy not in ("IfNotPresent", "Never"):
        return
    for reference in references:
        if reference.digest is None and reference.tag in (None, "latest"):
            warnings.warn(
                PrepullerWarning(
                    f"refresh_schedule: with image_pull_policy {image_pull_policy!r} the restarted pods pull "
                    f"nothing again, so the mutable tag {reference.text!r} is never refreshed; set "
                    "image_pull_policy='Always', or leave it unset (Kubernetes then pulls :latest and untagged "
                    "images with Always)"
                ),
                stacklevel=stacklevel + 1,
            )
            return


# --- the schedule ---------------------------------------------------------------------------
# Written here rather than taken from a library (croniter, cron-validator): what matters is
# what the API server accepts, i.e. robfig/cron's standard parser, and the Python libraries
# accept other dialects (seconds fields, 7 for Sunday, 'L', '#'). This is that parser's
# grammar for five fields, with '?' kept to the two day fields where crontab users write it.

_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names, '?' allowed)
_FIELDS: tuple[tuple[str, int, int, Mapping[str, int], bool], ...] = (
    ("minute", 0, 59, {}, False),
    ("hour", 0, 23, {}, False),
    ("day-of-month", 1, 31, {}, True),
    ("month", 1, 12, _MONTHS, False),
    ("day-of-week", 0, 6, _DAYS, True),
)
_RANGE = re.compile(r"^(?P<start>\*|\?|[0-9A-Za-z]+)(?:-(?P<end>[0-9A-Za-z]+))?(?:/(?P<step>[0-9]+))?$")


def schedule(value: object, option: str = "refresh_schedule") -> str:
    """A CronJob schedule the API server accepts: five fields or an ``@`` descriptor.

    Raises:
        PrepullerError: not a string, not five fields, or a field out of its range.
    """
    if not isinstance(value, str):
        raise PrepullerError(option, "must be a cron schedule string such as '0 4 * * *'", value)
    text = value.strip()
    if text in _DESCRIPTORS:  # lowercase only, as robfig/cron matches them
        return text
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise PrepullerError(
            option,
            "must be a cron schedule of 5 fields (minute hour day-of-month month day-of-week) such as "
            f"'0 4 * * *', or one of {', '.join(_DESCRIPTORS)}",
            value,
        )
    for field, spec in zip(fields, _FIELDS, strict=True):
        for part in field.split(","):
            problem = _check_range(part, *spec)
            if problem:
                raise PrepullerError(option, f"the {spec[0]} field {field!r} is invalid: {problem}", value)
    return " ".join(fields)


def _check_range(part: str, name: str, low: int, high: int, names: Mapping[str, int], question: bool) -> str | None:
    match = _RANGE.fullmatch(part)
    if not match:
        return f"{part!r} is not a number, a range 'a-b', '*' or one of those with '/step'"
    start_text, end_text, step = match["start"], match["end"], match["step"]
    if start_text in ("*", "?"):
        if start_text == "?" and not question:
            return "'?' is only allowed in the day-of-month and day-of-week fields"
        if end_text is not None:
            return f"{part!r}: '{start_text}' cannot start a range"
        start, end = low, high
    else:
        bounds: list[int] = []
        for text in (start_text, end_text):
            if text is None:
                continue
            number = _number(text, names)
            if number is None:
                return f"{text!r} is not a number" + (f" or a name ({', '.join(names)})" if names else "")
            if not low <= number <= high:
                return f"{text!r} is out of range {low}-{high}"
            bounds.append(number)
        # 'a/step' runs from a to the highest value, as in robfig/cron.
        start, end = bounds[0], bounds[1] if len(bounds) == 2 else (high if step is not None else bounds[0])
        if start > end:
            return f"{part!r}: the range starts after it ends"
    if step is not None and int(step) < 1:
        return f"{part!r}: the step must be at least 1"
    return None


def _number(text: str, names: Mapping[str, int]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.get(text.lower())


# --- the objects ----------------------------------------------------------------------------


def refresh_name(name: str) -> str:
    """The name of the CronJob and its RBAC objects.

    Raises:
        PrepullerError: ``name`` is too long for a CronJob name with the suffix.
    """
    result = name + _SUFFIX
    if len(result) > _CRONJOB_NAME_MAX:
        raise PrepullerError(
            "name",
            f"must be at most {_CRONJOB_NAME_MAX - len(_SUFFIX)} characters when refresh_schedule is set "
            f"(the CronJob {result!r} must fit in {_CRONJOB_NAME_MAX})",
            name,
        )
    return result


def pod_selector(name: str) -> dict[str, str]:
    """The labels that select the refresh CronJob's pods of prepuller ``name`` (and no other pod)."""
    return {POD_LABEL: name}


def add_refresh(
    scope: Construct,
    *,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    cron: str,
    kubectl_image: ImageReference,
    image_pull_policy: str | None,
    image_pull_secrets: list[str],
    daemon_set_names: Callable[[], list[str]],
    annotate: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
) -> list[cdk8s.ApiObject]:
    """Define the refresh objects in ``scope``; returns them (ServiceAccount, Role,
    RoleBinding, CronJob).

    Args:
        name: the prepuller's name; the objects are ``<name>-refresh``.
        namespace: the explicit namespace of the objects, ``None`` for the chart's.
        labels: the labels of every object; the CronJob's pods also get :func:`pod_selector`.
        cron: a schedule already checked by :func:`schedule`.
        kubectl_image: the image holding ``/bin/kubectl``.
        image_pull_policy: as for every prepuller container; ``None`` for Kubernetes' default.
        image_pull_secrets: as for the prepuller's pods (a mirrored kubectl image may need them).
        daemon_set_names: the DaemonSets to restart, read at synth time.
        annotate: computes extra annotations of each finished object (checkov skips).
    """
    object_name = refresh_name(name)

    def metadata() -> cdk8s.ApiObjectMetadata:
        return cdk8s.ApiObjectMetadata(name=object_name, namespace=namespace, labels=dict(labels))

    account = SynthesizedObject(
        scope,
        "RefreshServiceAccount",
        api_version="v1",
        kind="ServiceAccount",
        metadata=metadata(),
        # Pods of this account get no token unless they ask: only the CronJob's pod does.
        produce=lambda: {"automountServiceAccountToken": False},
        annotate=annotate,
    )
    role = SynthesizedObject(
        scope,
        "RefreshRole",
        api_version="rbac.authorization.k8s.io/v1",
        kind="Role",
        metadata=metadata(),
        produce=lambda: {"rules": [role_rule(daemon_set_names())]},
        annotate=annotate,
    )
    binding = SynthesizedObject(
        scope,
        "RefreshRoleBinding",
        api_version="rbac.authorization.k8s.io/v1",
        kind="RoleBinding",
        metadata=metadata(),
        produce=lambda: {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": object_name},
            # No namespace: a RoleBinding's ServiceAccount subject defaults to its own.
            "subjects": [{"kind": "ServiceAccount", "name": object_name}],
        },
        annotate=annotate,
    )
    cron_job = SynthesizedObject(
        scope,
        "RefreshCronJob",
        api_version="batch/v1",
        kind="CronJob",
        metadata=metadata(),
        produce=lambda: _cron_job_body(
            object_name,
            labels,
            {**labels, **pod_selector(name)},
            cron,
            kubectl_image,
            image_pull_policy,
            image_pull_secrets,
            daemon_set_names(),
        ),
        annotate=annotate,
    )
    return [account, role, binding, cron_job]


def role_rule(daemon_sets: list[str]) -> dict[str, Any]:
    """The only permission ``kubectl rollout restart daemonset/...`` needs."""
    return {
        "apiGroups": ["apps"],
        "resources": ["daemonsets"],
        "resourceNames": sorted(daemon_sets),
        "verbs": ["get", "patch"],
    }


def restart_args(daemon_sets: list[str]) -> list[str]:
    """The kubectl arguments; the namespace is the pod's own (in-cluster default)."""
    return ["rollout", "restart", *(f"daemonset/{ds}" for ds in daemon_sets)]


def _cron_job_body(
    name: str,
    labels: Mapping[str, str],
    pod_labels: Mapping[str, str],
    cron: str,
    image: ImageReference,
    image_pull_policy: str | None,
    image_pull_secrets: list[str],
    daemon_sets: list[str],
) -> dict[str, Any]:
    container = {
        "name": "restart",
        "image": image.text,
        "imagePullPolicy": image_pull_policy or image.default_pull_policy,
        "command": [KUBECTL_BINARY],
        "args": restart_args(daemon_sets),
        "resources": KUBECTL_RESOURCES,
        "securityContext": restricted_container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": TOKEN_VOLUME, "mountPath": TOKEN_MOUNT, "readOnly": True}],
    }
    pod_spec = {
        "serviceAccountName": name,
        # The token is projected into the one container (as for the taint remover), not
        # automounted: it reaches kubectl alone, and scanners see no automount (CKV_K8S_38).
        "automountServiceAccountToken": False,
        "volumes": [token_volume()],
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        # The kubectl image is built for Linux only.
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "imagePullSecrets": [{"name": secret} for secret in image_pull_secrets] or None,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_UID,
            "runAsGroup": RUN_AS_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
    }
    return {
        "spec": {
            "schedule": cron,
            # A restart already running makes another pointless.
            "concurrencyPolicy": "Forbid",
            # A run missed by more than an hour (controller down) is skipped, not run late.
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "backoffLimit": 3,
                    # kubectl needs seconds; ten minutes bounds a hung API connection.
                    "activeDeadlineSeconds": 600,
                    "template": {"metadata": {"labels": dict(pod_labels)}, "spec": pod_spec},
                },
            },
        }
    }
