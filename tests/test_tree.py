"""prepuller.images_in and ImagePrepuller(images_from=...): images found in the construct tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
from cdk8s_plus_27 import k8s
from constructs import Construct

from prepuller import HELPER_IMAGE, PAUSE_IMAGE, ImagePrepuller, PrepullerError, _tree, images_in
from prepuller._manifest import SynthesizedObject

from .conftest import pod_spec, synth, validate_strictly


def typed_deployment(scope: Construct, id: str, *images: str, init: tuple[str, ...] = ()) -> k8s.KubeDeployment:
    return k8s.KubeDeployment(
        scope,
        id,
        spec=k8s.DeploymentSpec(
            selector=k8s.LabelSelector(match_labels={"app": id}),
            template=k8s.PodTemplateSpec(
                metadata=k8s.ObjectMeta(labels={"app": id}),
                spec=k8s.PodSpec(
                    init_containers=[k8s.Container(name=f"i{n}", image=image) for n, image in enumerate(init)] or None,
                    containers=[k8s.Container(name=f"c{n}", image=image) for n, image in enumerate(images)],
                ),
            ),
        ),
    )


def plus_container(image: str) -> kplus.ContainerProps:
    return kplus.ContainerProps(image=image)


def plus_stateful_set(scope: Construct, id: str, image: str) -> kplus.StatefulSet:
    service = kplus.Service(scope, f"{id}-svc", ports=[kplus.ServicePort(port=5432)])
    return kplus.StatefulSet(scope, id, containers=[plus_container(image)], service=service)


def pulled(manifests: list[dict[str, Any]]) -> list[str]:
    """The images a synthesized prepuller pulls (its init containers minus the helper)."""
    return [c["image"] for c in pod_spec(manifests)["initContainers"]][1:]


# --- images_in ----------------------------------------------------------------------------


def test_typed_bindings(chart: cdk8s.Chart) -> None:
    typed_deployment(chart, "web", "nginx:1.25", "ghcr.io/example/sidecar:1", init=("busybox:1.36",))
    k8s.KubeStatefulSet(
        chart,
        "db",
        spec=k8s.StatefulSetSpec(
            selector=k8s.LabelSelector(match_labels={"app": "db"}),
            service_name="db",
            template=k8s.PodTemplateSpec(spec=k8s.PodSpec(containers=[k8s.Container(name="db", image="postgres:16")])),
        ),
    )
    k8s.KubeCronJob(
        chart,
        "report",
        spec=k8s.CronJobSpec(
            schedule="@daily",
            job_template=k8s.JobTemplateSpec(
                spec=k8s.JobSpec(
                    template=k8s.PodTemplateSpec(
                        spec=k8s.PodSpec(containers=[k8s.Container(name="r", image="report:2")], restart_policy="Never")
                    )
                )
            ),
        ),
    )
    k8s.KubePod(
        chart,
        "debug",
        spec=k8s.PodSpec(
            containers=[k8s.Container(name="c", image="alpine:3.19")],
            ephemeral_containers=[k8s.EphemeralContainer(name="d", image="debugger:1")],
        ),
    )
    k8s.KubeService(chart, "svc", spec=k8s.ServiceSpec(ports=[k8s.ServicePort(port=80)]))
    assert images_in(chart) == [
        "busybox:1.36",
        "nginx:1.25",
        "ghcr.io/example/sidecar:1",
        "postgres:16",
        "report:2",
        "alpine:3.19",
        "debugger:1",
    ]


def test_cdk8s_plus_workloads(chart: cdk8s.Chart) -> None:
    kplus.Deployment(chart, "web", containers=[plus_container("nginx:1.25")])
    plus_stateful_set(chart, "db", "postgres:16")
    kplus.DaemonSet(chart, "agent", containers=[plus_container("ghcr.io/example/agent:3")])
    kplus.Job(chart, "migrate", containers=[plus_container("migrate:1")])
    kplus.CronJob(chart, "report", schedule=cdk8s.Cron.daily(), containers=[plus_container("report:2")])
    pod = kplus.Pod(chart, "pod", containers=[plus_container("alpine:3.19")])
    pod.add_init_container(image="busybox:1.36")
    kplus.ConfigMap(chart, "config", data={"image": "not-a-workload:1"})
    assert images_in(chart) == [
        "nginx:1.25",
        "postgres:16",
        "ghcr.io/example/agent:3",
        "migrate:1",
        "report:2",
        "busybox:1.36",
        "alpine:3.19",
    ]


def test_raw_api_object_and_include(chart: cdk8s.Chart, tmp_path: Path) -> None:
    raw = cdk8s.ApiObject(
        chart, "raw", api_version="apps/v1", kind="DaemonSet", metadata=cdk8s.ApiObjectMetadata(name="r")
    )
    raw.add_json_patch(
        cdk8s.JsonPatch.add("/spec", {"template": {"spec": {"containers": [{"name": "c", "image": "raw:1"}]}}})
    )
    manifest = tmp_path / "included.yaml"
    manifest.write_text(
        "# comment\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
        "---\n"
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers: [{name: j, image: 'included:2'}]\n"
    )
    cdk8s.Include(chart, "included", url=str(manifest))
    assert images_in(chart) == ["raw:1", "included:2"]


def test_order_follows_the_tree_and_duplicates_are_listed_once(chart: cdk8s.Chart) -> None:
    group = Construct(chart, "group")
    typed_deployment(group, "a", "busybox", "nginx:1")
    typed_deployment(chart, "b", "docker.io/library/busybox:latest", "redis:7")
    typed_deployment(group, "c", "nginx:1", "index.docker.io/library/redis:7")
    # Pre-order, as `cdk8s synth` writes them: group/a, group/c, then b.
    assert images_in(chart) == ["busybox", "nginx:1", "index.docker.io/library/redis:7"]
    # The same object reached through two scopes is read once; scopes are read in order.
    b = chart.node.find_child("b")
    assert isinstance(b, Construct)
    assert images_in(b, group, chart) == [
        "docker.io/library/busybox:latest",
        "redis:7",
        "nginx:1",
    ]


def test_scopes_across_charts_and_the_whole_app() -> None:
    app = cdk8s.Testing.app()
    first, second = cdk8s.Chart(app, "first"), cdk8s.Chart(app, "second")
    typed_deployment(second, "b", "b:1")
    typed_deployment(first, "a", "a:1")
    assert images_in(app) == ["a:1", "b:1"]
    assert images_in(second, first) == ["b:1", "a:1"]
    assert images_in() == []


def test_prepuller_objects_are_never_listed(chart: cdk8s.Chart) -> None:
    prepuller = ImagePrepuller(chart, "prepull", images=["listed-only-by-the-prepuller:1"])
    typed_deployment(chart, "web", "nginx:1")
    assert images_in(chart) == ["nginx:1"]
    assert images_in(prepuller) == []
    assert images_in(prepuller.daemon_set) == []
    found = images_in(chart)
    assert HELPER_IMAGE not in found
    assert PAUSE_IMAGE not in found


def test_an_invalid_image_names_the_construct_path_and_the_value(chart: cdk8s.Chart) -> None:
    typed_deployment(chart, "web", "nginx:1", "Nginx:Latest")
    expected = (
        "images_in: test/web (Deployment test-web-c8694308): spec.template.spec.containers[1].image: "
        "is not a valid image reference: the repository path must be lowercase (got 'Nginx:Latest')"
    )
    with pytest.raises(PrepullerError, match=f"^{re.escape(expected)}$"):
        images_in(chart)


def test_scopes_must_be_constructs(chart: cdk8s.Chart) -> None:
    with pytest.raises(
        PrepullerError,
        match=re.escape("images_in[1]: must be a construct (a Chart, the App or any construct to search) (got 'web')"),
    ):
        images_in(chart, "web")  # type: ignore[arg-type]


class SelfReferencing(cdk8s.ApiObject):
    """A custom object whose manifest lists the images of a scope that contains it."""

    def __init__(self, scope: Construct, id: str, search: Construct) -> None:
        super().__init__(scope, id, api_version="v1", kind="ConfigMap", metadata=cdk8s.ApiObjectMetadata(name="x"))
        self._search = search

    def to_json(self) -> Any:
        return {**super().to_json(), "data": {"images": ",".join(images_in(self._search))}}


def test_a_manifest_that_depends_on_itself_fails_instead_of_recursing(chart: cdk8s.Chart) -> None:
    SelfReferencing(chart, "loop", chart)
    with pytest.raises(PrepullerError, match=re.escape("an object's manifest depends on the images found in a scope")):
        images_in(chart)


def test_python_objects_producing_their_manifest_at_synth_are_read(chart: cdk8s.Chart) -> None:
    """An ApiObject whose to_json is Python (called back from the cdk8s runtime) is read too."""
    SynthesizedObject(
        chart,
        "custom",
        api_version="v1",
        kind="Pod",
        metadata=cdk8s.ApiObjectMetadata(name="custom"),
        produce=lambda: {"spec": {"containers": [{"name": "c", "image": "custom:1"}]}},
    )
    assert images_in(chart) == ["custom:1"]


# --- ImagePrepuller(images_from=...) ------------------------------------------------------


def test_images_from_sees_constructs_added_after_the_prepuller() -> None:
    app = cdk8s.Testing.app()
    apps = cdk8s.Chart(app, "apps")
    infra = cdk8s.Chart(app, "infra", namespace="infra")
    prepuller = ImagePrepuller(infra, "prepull", images=["explicit:1", "redis:7"], images_from=[apps])
    typed_deployment(apps, "web", "nginx:1.25", "docker.io/library/redis:7", init=("busybox:1.36",))
    kplus.CronJob(apps, "report", schedule=cdk8s.Cron.daily(), containers=[plus_container("explicit:1")])
    kplus.Job(apps, "late", containers=[plus_container("late:1")])
    manifests = synth(infra)
    assert pulled(manifests) == ["explicit:1", "redis:7", "busybox:1.36", "nginx:1.25", "late:1"]
    assert prepuller.images == ["explicit:1", "redis:7", "busybox:1.36", "nginx:1.25", "late:1"]
    validate_strictly(manifests)


def test_images_before_synth_are_those_found_so_far_as_its_docstring_says() -> None:
    app = cdk8s.Testing.app()
    apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra", namespace="infra")
    prepuller = ImagePrepuller(infra, "prepull", images=["explicit:1"], images_from=[apps])
    assert prepuller.images == ["explicit:1"]  # the Deployment is not defined yet
    typed_deployment(apps, "web", "nginx:1.25")
    assert prepuller.images == ["explicit:1", "nginx:1.25"]
    assert pulled(synth(infra)) == ["explicit:1", "nginx:1.25"]
    doc = " ".join((ImagePrepuller.images.__doc__ or "").split())
    assert "before synth, images of workloads not yet added below its scopes are missing" in doc


def test_images_may_be_omitted_with_images_from(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images_from=[chart])
    typed_deployment(chart, "web", "nginx:1.25")
    manifests = synth(chart)
    assert pulled(manifests) == ["nginx:1.25"]
    validate_strictly(manifests)


def test_images_from_its_own_chart_and_other_prepullers_does_not_recurse() -> None:
    """Two prepullers reading each other's charts (and their own) each list only the workloads."""
    app = cdk8s.Testing.app()
    a, b = cdk8s.Chart(app, "a"), cdk8s.Chart(app, "b")
    ImagePrepuller(a, "pa", images=["only-a:1"], images_from=[a, b])
    ImagePrepuller(b, "pb", images_from=[a, b, app])
    typed_deployment(a, "wa", "wa:1")
    typed_deployment(b, "wb", "wb:1")
    assert pulled(synth(a)) == ["only-a:1", "wa:1", "wb:1"]
    assert pulled(synth(b)) == ["wa:1", "wb:1"]
    app.synth()
    written = sorted(os.listdir(app.outdir))
    assert written == ["a.k8s.yaml", "b.k8s.yaml"]


def test_images_from_must_list_constructs(chart: cdk8s.Chart) -> None:
    with pytest.raises(
        PrepullerError,
        match=re.escape(
            "images_from[0]: must be a construct (a Chart, the App or any construct to search) (got 'apps')"
        ),
    ):
        ImagePrepuller(chart, "prepull", images_from=["apps"])  # type: ignore[list-item]
    with pytest.raises(PrepullerError, match=re.escape("images_from: must be a list (got 'apps')")):
        ImagePrepuller(chart, "prepull", images_from="apps")  # type: ignore[arg-type]


def test_images_are_required_without_images_from(chart: cdk8s.Chart) -> None:
    with pytest.raises(
        PrepullerError, match=r"^images: is required \(a list of image references\), unless images_from is given$"
    ):
        ImagePrepuller(chart, "prepull")
    with pytest.raises(PrepullerError, match=re.escape("images: must not be empty (got [])")):
        ImagePrepuller(chart, "prepull", images=[], images_from=[])
    assert chart.node.children == []


_NOTHING_FOUND = "images_from: found no container images below 'apps', and images is empty"


def test_nothing_found_fails_testing_synth_with_the_message() -> None:
    """A PrepullerError raised while cdk8s synthesizes crosses the jsii runtime and comes back as a
    RuntimeError carrying the same message."""
    app = cdk8s.Testing.app()
    apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra")
    ImagePrepuller(infra, "prepull", images_from=[apps])
    kplus.ConfigMap(apps, "config", data={"a": "b"})
    with pytest.raises(RuntimeError, match=re.escape(f"[infra/prepull] {_NOTHING_FOUND}")):
        cdk8s.Testing.synth(infra)


def test_nothing_found_fails_app_synth_before_any_file_is_written(tmp_path: Path) -> None:
    app = cdk8s.App(outdir=str(tmp_path / "dist"))
    apps = cdk8s.Chart(app, "apps")  # synthesized first: would be written before the failure
    kplus.Deployment(apps, "web", containers=[plus_container("nginx:1")]).node  # noqa: B018
    empty = cdk8s.Chart(app, "empty")
    infra = cdk8s.Chart(app, "infra")
    ImagePrepuller(infra, "prepull", images_from=[empty])
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert f"[infra/prepull] {_NOTHING_FOUND.replace('apps', 'empty')}" in str(raised.value)
    assert list((tmp_path / "dist").iterdir()) == []


def test_an_invalid_image_found_fails_synth_naming_the_construct(tmp_path: Path) -> None:
    app = cdk8s.App(outdir=str(tmp_path / "dist"))
    apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra")
    ImagePrepuller(infra, "prepull", images=["ok:1"], images_from=[apps])
    raw = cdk8s.ApiObject(apps, "raw", api_version="v1", kind="Pod", metadata=cdk8s.ApiObjectMetadata(name="raw"))
    raw.add_json_patch(cdk8s.JsonPatch.add("/spec", {"containers": [{"name": "c", "image": "https://bad/image"}]}))
    expected = (
        "[infra/prepull] images_from: apps/raw (Pod raw): spec.containers[0].image: is not a valid image reference: "
        "it must not have a URL scheme (got 'https://bad/image')"
    )
    with pytest.raises(RuntimeError, match=re.escape(expected)):
        app.synth()
    assert list((tmp_path / "dist").iterdir()) == []
    with pytest.raises(RuntimeError, match=re.escape(expected)):
        cdk8s.Testing.synth(infra)


BAD_APP = """
import cdk8s
from prepuller import ImagePrepuller

app = cdk8s.App(outdir="dist")
apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra")
ImagePrepuller(infra, "prepull", images=["ok:1"], images_from=[apps])
raw = cdk8s.ApiObject(apps, "raw", api_version="v1", kind="Pod", metadata=cdk8s.ApiObjectMetadata(name="raw"))
raw.add_json_patch(cdk8s.JsonPatch.add("/spec", {"containers": [{"name": "c", "image": "https://bad/image"}]}))
app.synth()
"""


@pytest.mark.slow
def test_a_synth_error_reaches_the_user_as_one_line_before_the_javascript_stack(tmp_path: Path) -> None:
    """What a user running their own app reads: our one-line message first; the jsii runtime's
    JavaScript stack and the Python traceback only after it."""
    (tmp_path / "app.py").write_text(BAD_APP)
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_SUPPORT_WARNING": "1",
    }
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    line = (
        "prepuller: error: infra/prepull: images_from: apps/raw (Pod raw): spec.containers[0].image: is not a valid "
        "image reference: it must not have a URL scheme (got 'https://bad/image')"
    )
    lines = [text for text in done.stderr.splitlines() if not text.startswith("b'!!")]  # Node.js end-of-life banner
    assert lines[0] == line, done.stderr
    assert lines.count(line) == 1
    assert "Traceback" in done.stderr and "RuntimeError" in done.stderr  # still follows
    assert not (tmp_path / "dist").exists() or list((tmp_path / "dist").iterdir()) == []


def test_images_from_with_every_kind_validates_strictly() -> None:
    app = cdk8s.Testing.app()
    apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra")
    kplus.Deployment(apps, "web", containers=[plus_container("nginx:1.25")])
    kplus.DaemonSet(apps, "agent", containers=[plus_container("agent:1")])
    plus_stateful_set(apps, "db", "postgres:16")
    kplus.CronJob(apps, "report", schedule=cdk8s.Cron.daily(), containers=[plus_container("report:2")])
    ImagePrepuller(infra, "prepull", images_from=[apps])
    manifests = synth(infra)
    assert pulled(manifests) == ["nginx:1.25", "agent:1", "postgres:16", "report:2"]
    validate_strictly(manifests)


def test_app_synth_reads_the_tree_twice_whatever_the_number_of_charts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cdk8s validates the whole app once per synth and again per chart written: a passing check
    is remembered until the DaemonSet is produced, which reads the tree afresh."""
    reads: list[str] = []
    real = _tree.references_in

    def counting(scopes: Any, option: str) -> Any:
        reads.append(option)
        return real(scopes, option)

    monkeypatch.setattr(_tree, "references_in", counting)
    app = cdk8s.App(outdir=str(tmp_path / "dist"))
    charts = [cdk8s.Chart(app, f"apps{i}") for i in range(4)]
    for i, chart in enumerate(charts):
        typed_deployment(chart, "web", f"app-{i}:1")
    ImagePrepuller(cdk8s.Chart(app, "infra"), "prepull", images_from=charts)
    app.synth()
    assert reads == ["images_from", "images_from"]
    assert len(list((tmp_path / "dist").iterdir())) == 5
    reads.clear()
    app.synth()  # a second synth checks again
    assert reads == ["images_from", "images_from"]


def test_a_change_after_a_passing_check_is_still_caught() -> None:
    app = cdk8s.Testing.app()
    apps, infra = cdk8s.Chart(app, "apps"), cdk8s.Chart(app, "infra")
    ImagePrepuller(infra, "prepull", images_from=[apps])
    typed_deployment(apps, "web", "nginx:1")
    cdk8s.Testing.synth(apps)  # validates the whole app: the prepuller's check passes
    typed_deployment(apps, "bad", "Nginx:1")
    expected = (
        "images_from: apps/bad (Deployment apps-bad-c813557a): spec.template.spec.containers[0].image: "
        "is not a valid image reference: the repository path must be lowercase (got 'Nginx:1')"
    )
    with pytest.raises(RuntimeError, match=re.escape(expected)):
        cdk8s.Testing.synth(infra)
    with pytest.raises(RuntimeError, match=re.escape(f"[infra/prepull] {expected}")):
        cdk8s.Testing.synth(infra)  # the failure was not remembered as a pass: validation fails now
