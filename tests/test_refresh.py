"""refresh_schedule: the CronJob, its minimal RBAC, and the real kubectl restart it runs."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepuller import ImagePrepuller, PrepullerError, PrepullerWarning
from prepuller._checkov import reason
from prepuller._defaults import KUBECTL_BINARY, KUBECTL_IMAGE
from prepuller._refresh import RESTART_ANNOTATION, schedule
from prepuller._taint import token_volume
from tests.conftest import only, synth, validate_strictly
from tests.support.apiserver import StubApiServer, running_api_server
from tests.support.expansion import expand
from tests.support.kubectl import kubectl_binary

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
HELPER_KINDS = ["ServiceAccount", "Role", "RoleBinding", "CronJob"]


def refreshed(namespace: str | None = "apps", **options: Any) -> list[dict[str, Any]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace=namespace)
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="0 4 * * *", **options)
    return synth(chart)


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return only(manifests, kind)


def container_of(cron_job: dict[str, Any]) -> dict[str, Any]:
    [container] = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


# --- what is emitted -----------------------------------------------------------------------


_NOTHING_AGAIN = (
    "refresh_schedule: with image_pull_policy {policy!r} the restarted pods pull nothing again, so the mutable "
    "tag {image!r} is never refreshed; set image_pull_policy='Always', or leave it unset (Kubernetes then pulls "
    ":latest and untagged images with Always)"
)


_TRAMPOLINE = os.path.join("mutmut", "mutation", "trampoline.py")


@pytest.fixture
def trampoline_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under mutation testing, mutmut's trampoline is one frame more between the library and
    its caller: ``warnings.warn`` then counts its ``stacklevel`` past that frame, as it would
    without mutmut, so that where a warning points is checked under every mutant too."""
    warn = warnings.warn

    def past_the_trampoline(
        message: Warning | str, category: type[Warning] | None = None, stacklevel: int = 1, source: Any = None
    ) -> None:
        frame, extra = sys._getframe(1), 0
        for _ in range(stacklevel - 1):
            frame = frame.f_back  # type: ignore[assignment]
            while frame.f_code.co_filename.endswith(_TRAMPOLINE):
                frame, extra = frame.f_back, extra + 1  # type: ignore[assignment]
        warn(message, category, stacklevel + extra + 1, source)  # + 1: this function's frame

    monkeypatch.setattr(warnings, "warn", past_the_trampoline)


@pytest.mark.parametrize("policy", ["IfNotPresent", "Never"])
@pytest.mark.parametrize("image", ["nginx", "nginx:latest", "ghcr.io/example/app:latest"])
@pytest.mark.usefixtures("trampoline_hidden")
def test_a_refresh_that_pulls_no_mutable_tag_again_warns(chart: cdk8s.Chart, policy: str, image: str) -> None:
    with pytest.warns(PrepullerWarning) as caught:
        ImagePrepuller(
            chart, "prepull", images=["redis:7.2", image], refresh_schedule="@daily", image_pull_policy=policy
        )
    assert [str(warning.message) for warning in caught] == [_NOTHING_AGAIN.format(policy=policy, image=image)]
    assert caught[0].filename == __file__  # the user's line, not the library's


@pytest.mark.usefixtures("trampoline_hidden")
def test_images_added_later_are_checked_too(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(
        chart, "prepull", images=["redis:7.2"], refresh_schedule="@daily", image_pull_policy="IfNotPresent"
    )
    with pytest.warns(PrepullerWarning, match=re.escape("the mutable tag 'nginx' is never refreshed")) as caught:
        prepuller.add_images("nginx")
    assert caught[0].filename == __file__


@pytest.mark.parametrize(
    "options",
    [
        {"image_pull_policy": "Always", "images": ["nginx:latest"]},
        {"images": ["nginx:latest", "nginx"]},  # Kubernetes' default for these is Always
        {"image_pull_policy": "IfNotPresent", "images": ["redis:7.2", f"nginx@sha256:{'a' * 64}"]},
    ],
)
def test_a_refresh_that_pulls_again_does_not_warn(chart: cdk8s.Chart, options: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImagePrepuller(chart, "prepull", refresh_schedule="@daily", **options)


def test_the_policy_without_a_refresh_does_not_warn(chart: cdk8s.Chart) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImagePrepuller(chart, "prepull", images=["nginx:latest"], image_pull_policy="IfNotPresent")


def test_nothing_is_emitted_unless_a_schedule_is_given(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=["nginx:1.25"])
    assert [m["kind"] for m in synth(chart)] == ["DaemonSet", "NetworkPolicy"]  # the deny-all only


def test_a_schedule_adds_exactly_the_cron_job_and_its_rbac() -> None:
    manifests = refreshed(network_policy=False)  # the NetworkPolicies: tests/test_network.py
    assert [m["kind"] for m in manifests] == ["DaemonSet", *HELPER_KINDS]
    for manifest in manifests[1:]:
        assert manifest["metadata"]["name"] == "prepull-refresh"
        assert manifest["metadata"]["namespace"] == "apps"
        # Not the pods' name= label: `kubectl get pods -l name=prepull` must list only prepuller pods.
        assert "name" not in manifest["metadata"]["labels"]
        assert manifest["metadata"]["labels"]["app.kubernetes.io/component"] == "refresh"


def test_every_object_validates_strictly() -> None:
    for namespace in ("apps", None):
        manifests = refreshed(namespace=namespace)
        validate_strictly(manifests)
        assert [m["kind"] for m in manifests] == ["DaemonSet", *HELPER_KINDS, "NetworkPolicy", "NetworkPolicy"]
        cron_job = by_kind(manifests, "CronJob")
        assert cron_job["spec"]["schedule"] == "0 4 * * *"
        assert cron_job["metadata"].get("namespace") == namespace
        assert container_of(cron_job)["image"] == KUBECTL_IMAGE


def test_the_role_allows_only_get_and_patch_on_the_prepullers_daemon_sets() -> None:
    role = by_kind(refreshed(), "Role")
    assert role["rules"] == [
        {"apiGroups": ["apps"], "resources": ["daemonsets"], "resourceNames": ["prepull"], "verbs": ["get", "patch"]}
    ]


def test_the_binding_ties_that_role_to_the_cron_jobs_account_only() -> None:
    manifests = refreshed()
    binding = by_kind(manifests, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "prepull-refresh"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prepull-refresh"}]
    pod = by_kind(manifests, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "prepull-refresh"
    assert by_kind(manifests, "ServiceAccount")["automountServiceAccountToken"] is False


def test_each_object_keeps_its_construct_id_for_json_patches(chart: cdk8s.Chart) -> None:
    # The ids are the escape hatch to each object: prepuller.node.find_child(id).add_json_patch(...).
    prepuller = ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily", network_policy=False)
    children = [child for child in prepuller.node.children if isinstance(child, cdk8s.ApiObject)]
    ids = {"RefreshServiceAccount": "ServiceAccount", "RefreshRole": "Role", "RefreshRoleBinding": "RoleBinding",
           "RefreshCronJob": "CronJob"}  # fmt: skip
    assert {child.node.id: (child.kind, child.name) for child in children if child.kind != "DaemonSet"} == {
        construct_id: (kind, "prepull-refresh") for construct_id, kind in ids.items()
    }
    for construct_id in ids:
        child = prepuller.node.find_child(construct_id)
        assert isinstance(child, cdk8s.ApiObject)
        child.add_json_patch(cdk8s.JsonPatch.add("/metadata/labels/owner", "platform"))
    manifests = synth(chart)
    for kind in ids.values():
        assert by_kind(manifests, kind)["metadata"]["labels"]["owner"] == "platform", kind


def test_each_object_carries_its_own_checkov_skips() -> None:
    # Without a namespace every object skips the default-namespace check; the CronJob's kubectl
    # image has a tag (no digest) and Kubernetes' default pull policy for it (IfNotPresent).
    manifests = refreshed(namespace=None)
    no_namespace = f"CKV_K8S_21={reason('CKV_K8S_21')}"
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        assert by_kind(manifests, kind)["metadata"]["annotations"] == {"checkov.io/skip1": no_namespace}, kind
    assert by_kind(manifests, "CronJob")["metadata"]["annotations"] == {
        "checkov.io/skip1": f"CKV_K8S_15={reason('CKV_K8S_15')}",
        "checkov.io/skip2": f"CKV_K8S_43={reason('CKV_K8S_43')}",
        "checkov.io/skip3": no_namespace,
    }


def test_the_role_names_what_daemon_sets_returns() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    prepuller = ImagePrepuller(chart, "p", name="warm", images=["nginx:1.25"], refresh_schedule="@daily")
    names = [ds.metadata.name for ds in prepuller.daemon_sets]
    manifests = synth(chart)
    assert names == ["warm"]
    assert by_kind(manifests, "Role")["rules"][0]["resourceNames"] == names
    assert container_of(by_kind(manifests, "CronJob"))["args"] == ["rollout", "restart", "daemonset/warm"]


def test_the_cron_job_spec() -> None:
    cron_job = by_kind(refreshed(), "CronJob")
    spec = cron_job["spec"]
    assert spec["schedule"] == "0 4 * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (1, 3)
    assert spec["startingDeadlineSeconds"] == 3600
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (3, 600)
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    # The token is projected into the kubectl container only (as for the taint remover).
    assert pod["automountServiceAccountToken"] is False
    assert pod["volumes"] == [token_volume()]
    assert pod["enableServiceLinks"] is False
    container = container_of(cron_job)
    assert container["name"] == "restart"  # kubectl logs job/<job> -c restart
    # A failed restart shows kubectl's error in `kubectl describe`, not an empty message.
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert container["image"] == KUBECTL_IMAGE == "registry.k8s.io/kubectl:v1.33.9"
    assert container["command"] == [KUBECTL_BINARY]
    assert container["args"] == ["rollout", "restart", "daemonset/prepull"]
    assert container["volumeMounts"] == [
        {"name": "prepuller-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}
    ]
    assert container["resources"] == {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "250m", "memory": "256Mi"},
    }


def test_the_cron_job_pod_is_restricted() -> None:
    pod = by_kind(refreshed(), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    security = pod["containers"][0]["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert security.get("privileged") is False


def test_the_daemon_set_pods_still_get_no_token() -> None:
    pod = only(refreshed(), "DaemonSet")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod


def test_kubectl_image_and_pull_policy_are_configurable() -> None:
    cron_job = by_kind(
        refreshed(kubectl_image="mirror.example.com/kubectl:v1.33.9", image_pull_policy="Always"), "CronJob"
    )
    container = container_of(cron_job)
    assert (container["image"], container["imagePullPolicy"]) == ("mirror.example.com/kubectl:v1.33.9", "Always")


# --- the schedule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["0 4 * * *", "*/15 * * * *", "0 0 1 jan *", "30 2 * * MON-FRI", "0 4 ? * sun", "5/10 1-3,7 1-31/2 * 0,6",
     "@daily", "@weekly", "@hourly", "@monthly", "@yearly", "@annually", "@midnight"],
)  # fmt: skip
def test_valid_schedules(value: str) -> None:
    assert schedule(value) == value


def test_extra_whitespace_is_normalised() -> None:
    assert schedule("  0   4 * *  * ") == "0 4 * * *"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0 4 * *", "refresh_schedule: must be a cron schedule of 5 fields (minute hour day-of-month month "
         "day-of-week) such as '0 4 * * *', or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
         "@hourly (got '0 4 * *')"),
        ("0 0 4 * * *", "refresh_schedule: must be a cron schedule of 5 fields (minute hour day-of-month month "
         "day-of-week) such as '0 4 * * *', or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
         "@hourly (got '0 0 4 * * *')"),
        ("60 4 * * *", "refresh_schedule: the minute field '60' is invalid: '60' is out of range 0-59 (got '60 4 * * *')"),
        ("0 24 * * *", "refresh_schedule: the hour field '24' is invalid: '24' is out of range 0-23 (got '0 24 * * *')"),
        ("0 4 0 * *", "refresh_schedule: the day-of-month field '0' is invalid: '0' is out of range 1-31 "
         "(got '0 4 0 * *')"),
        ("0 4 * 13 *", "refresh_schedule: the month field '13' is invalid: '13' is out of range 1-12 (got '0 4 * 13 *')"),
        ("0 4 * * 7", "refresh_schedule: the day-of-week field '7' is invalid: '7' is out of range 0-6 (got '0 4 * * 7')"),
        ("0 4 * * fun", "refresh_schedule: the day-of-week field 'fun' is invalid: 'fun' is not a number or a name "
         "(sun, mon, tue, wed, thu, fri, sat) (got '0 4 * * fun')"),
        ("0 four * * *", "refresh_schedule: the hour field 'four' is invalid: 'four' is not a number "
         "(got '0 four * * *')"),  # no names to list: the hour field has none
        ("0 5-4 * * *", "refresh_schedule: the hour field '5-4' is invalid: '5-4': the range starts after it ends "
         "(got '0 5-4 * * *')"),
        ("*/0 * * * *", "refresh_schedule: the minute field '*/0' is invalid: '*/0': the step must be at least 1 "
         "(got '*/0 * * * *')"),
        ("? * * * *", "refresh_schedule: the minute field '?' is invalid: '?' is only allowed in the day-of-month "
         "and day-of-week fields (got '? * * * *')"),
        ("0 4 * * 1,", "refresh_schedule: the day-of-week field '1,' is invalid: '' is not a number, a range 'a-b', "
         "'*' or one of those with '/step' (got '0 4 * * 1,')"),
        ("@every 1h", "refresh_schedule: must be a cron schedule of 5 fields (minute hour day-of-month month "
         "day-of-week) such as '0 4 * * *', or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
         "@hourly (got '@every 1h')"),
        (4, "refresh_schedule: must be a cron schedule string such as '0 4 * * *' (got 4)"),
        ("@DAILY", "refresh_schedule: must be a cron schedule of 5 fields (minute hour day-of-month month "
         "day-of-week) such as '0 4 * * *', or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
         "@hourly (got '@DAILY')"),
    ],
)  # fmt: skip
def test_invalid_schedules_fail_at_construction(chart: cdk8s.Chart, value: Any, message: str) -> None:
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule=value)
    assert str(error.value) == message
    assert chart.node.children == []


def test_a_name_too_long_for_a_cron_job_fails_at_construction(chart: cdk8s.Chart) -> None:
    name = "a" * 45
    with pytest.raises(PrepullerError) as error:
        ImagePrepuller(chart, "prepull", name=name, images=["nginx:1.25"], refresh_schedule="@daily")
    assert str(error.value) == (
        f"name: must be at most 44 characters when refresh_schedule is set (the CronJob '{name}-refresh' must fit "
        f"in 52) (got '{name}')"
    )
    ImagePrepuller(chart, "prepull", name="a" * 44, images=["nginx:1.25"], refresh_schedule="@daily")


def test_an_invalid_kubectl_image_fails_at_construction(chart: cdk8s.Chart) -> None:
    with pytest.raises(PrepullerError, match=r"^kubectl_image: "):
        ImagePrepuller(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily", kubectl_image="Bad Image")


# --- the command, run for real -------------------------------------------------------------


def run_kubectl(argv: list[str], server: StubApiServer, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = server.write_kubeconfig(tmp_path / "kubeconfig", namespace="apps")
    # HOME has no kubeconfig and no cache: as in the pod, whose root filesystem is read-only.
    env = {"KUBECONFIG": str(config), "HOME": str(tmp_path / "no-home")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def cron_job_argv(manifests: list[dict[str, Any]]) -> list[str]:
    """The CronJob container's argv as the kubelet runs it, with the local kubectl binary."""
    container = container_of(by_kind(manifests, "CronJob"))
    argv = [expand(part, {}) for part in [*container["command"], *container["args"]]]
    assert argv[0] == KUBECTL_BINARY
    return [str(kubectl_binary()), *argv[1:]]


def patches_of(server: StubApiServer) -> list[dict[str, Any]]:
    return [
        {
            "path": r.path,
            "query": r.query,
            "content-type": r.headers["content-type"],
            "body": r.json(),
        }
        for r in server.requests
        if r.method == "PATCH"
    ]


def without_timestamps(patches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = copy.deepcopy(patches)
    for patch in result:
        annotations = patch["body"]["spec"]["template"]["metadata"]["annotations"]
        assert RFC3339.match(annotations[RESTART_ANNOTATION]), annotations
        annotations[RESTART_ANNOTATION] = "<time>"
    return result


@pytest.mark.slow
def test_the_cron_job_sends_exactly_what_kubectl_rollout_restart_sends(tmp_path: Path) -> None:
    manifests = refreshed()
    with running_api_server() as server:
        path = server.add_daemon_set("prepull", "apps")
        other = server.add_daemon_set("other", "apps")
        before = server.get(path)
        result = run_kubectl(cron_job_argv(manifests), server, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "daemonset.apps/prepull restarted\n"
        sent = patches_of(server)
        after = server.get(path)
        assert server.unanswered() == []
        # Every call the CronJob made is discovery or allowed by its Role.
        rule = by_kind(manifests, "Role")["rules"][0]
        for request in server.requests:
            if request.path.startswith("/apis/apps/v1/namespaces/"):
                assert request.path.rsplit("/", 1)[-1] in rule["resourceNames"]
                assert request.method.lower() in rule["verbs"]
            else:
                assert request.method == "GET" and request.path in ("/api", "/apis", "/api/v1", "/apis/apps/v1")
        assert server.requests_to("GET", other) == [] and server.requests_to("PATCH", other) == []

    [patch] = sent
    assert patch["path"] == path
    assert patch["content-type"] == "application/strategic-merge-patch+json"
    assert patch["query"] == {"fieldManager": ["kubectl-rollout"]}
    # The body touches the restart annotation and nothing else.
    [stamp] = patch["body"]["spec"]["template"]["metadata"]["annotations"].values()
    assert patch["body"] == {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}
    assert RFC3339.match(stamp)
    expected = copy.deepcopy(before)
    expected["spec"]["template"]["metadata"]["annotations"] = {RESTART_ANNOTATION: stamp}
    for field in ("resourceVersion", "generation"):
        expected["metadata"][field] = after["metadata"][field]
    assert after == expected
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1

    # The reference: kubectl rollout restart typed by hand, against a fresh server.
    with running_api_server() as reference:
        reference.add_daemon_set("prepull", "apps")
        reference.add_daemon_set("other", "apps")
        by_hand = run_kubectl([str(kubectl_binary()), "rollout", "restart", "daemonset/prepull"], reference, tmp_path)
        assert by_hand.returncode == 0, by_hand.stderr
        assert without_timestamps(patches_of(reference)) == without_timestamps(sent)
        # The same calls (kubectl fetches the discovery documents in parallel: order varies).
        assert sorted((r.method, r.path) for r in reference.requests) == sorted(
            (r.method, r.path) for r in server.requests
        )


@pytest.mark.slow
def test_a_failed_restart_exits_non_zero_for_the_job_to_retry(tmp_path: Path) -> None:
    manifests = refreshed()
    with running_api_server() as server:
        path = server.add_daemon_set("prepull", "apps")
        server.fail("PATCH", path, 409)
        first = run_kubectl(cron_job_argv(manifests), server, tmp_path)
        assert first.returncode != 0
        assert "injected failure" in first.stderr
        assert RESTART_ANNOTATION not in (server.get(path)["spec"]["template"]["metadata"].get("annotations") or {})
        second = run_kubectl(cron_job_argv(manifests), server, tmp_path)  # what the Job's next pod does
        assert second.returncode == 0, second.stderr
        assert RESTART_ANNOTATION in server.get(path)["spec"]["template"]["metadata"]["annotations"]


# --- properties ----------------------------------------------------------------------------

_FIELD_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


@st.composite
def _field(draw: st.DrawFn, low: int, high: int) -> str:
    def one() -> str:
        kind = draw(st.sampled_from(["number", "range", "star", "step"]))
        a = draw(st.integers(low, high))
        if kind == "number":
            return str(a)
        if kind == "star":
            return "*"
        b = draw(st.integers(a, high))
        if kind == "range":
            return f"{a}-{b}"
        return f"{draw(st.sampled_from(['*', f'{a}-{b}', str(a)]))}/{draw(st.integers(1, high + 1))}"

    return ",".join(one() for _ in range(draw(st.integers(1, 3))))


@given(st.tuples(*(_field(low, high) for low, high in _FIELD_BOUNDS)))
@settings(max_examples=200, deadline=None)
def test_every_schedule_of_in_range_fields_is_accepted(fields: tuple[str, ...]) -> None:
    text = " ".join(fields)
    assert schedule(text) == text


@given(st.integers(0, 4), st.integers(60, 10_000) | st.integers(-1000, -1))
@settings(max_examples=100, deadline=None)
def test_a_number_out_of_its_fields_range_is_refused(position: int, offset: int) -> None:
    low, high = _FIELD_BOUNDS[position]
    number = high + offset if offset > 0 else low + offset
    fields = ["*"] * 5
    fields[position] = str(number)
    with pytest.raises(PrepullerError, match=r"is invalid: "):
        schedule(" ".join(fields))


def test_the_cron_job_pod_runs_on_linux_with_the_pull_secrets() -> None:
    pod = by_kind(refreshed(image_pull_secrets=["mirror"]), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["spec"]["imagePullSecrets"] == [{"name": "mirror"}]
    assert "imagePullSecrets" not in by_kind(refreshed(), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


class _TwoDaemonSets(ImagePrepuller):
    """Stands in for parallel_pulls (another branch): daemon_sets returns two objects."""

    @property
    def daemon_sets(self) -> list[cdk8s.ApiObject]:
        second = self.node.try_find_child("Second")
        if second is None:
            second = cdk8s.ApiObject(
                self, "Second", api_version="apps/v1", kind="DaemonSet", metadata={"name": "prepull-2"}
            )
        return [*super().daemon_sets, cdk8s.ApiObject.of(second)]


def several() -> list[dict[str, Any]]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="apps")
    _TwoDaemonSets(chart, "prepull", images=["nginx:1.25"], refresh_schedule="@daily")
    return synth(chart)


def test_every_daemon_set_is_named_in_the_role_and_restarted() -> None:
    manifests = several()
    assert by_kind(manifests, "Role")["rules"][0]["resourceNames"] == ["prepull", "prepull-2"]
    assert container_of(by_kind(manifests, "CronJob"))["args"] == [
        "rollout",
        "restart",
        "daemonset/prepull",
        "daemonset/prepull-2",
    ]


@pytest.mark.slow
def test_every_daemon_set_is_restarted_for_real(tmp_path: Path) -> None:
    with running_api_server() as server:
        paths = [server.add_daemon_set(name, "apps") for name in ("prepull", "prepull-2")]
        result = run_kubectl(cron_job_argv(several()), server, tmp_path)
        assert result.returncode == 0, result.stderr
        assert sorted(p["path"] for p in patches_of(server)) == paths
        for path in paths:
            assert RESTART_ANNOTATION in server.get(path)["spec"]["template"]["metadata"]["annotations"]
