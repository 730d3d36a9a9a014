"""``ImagePrepuller(lock=...)``, the ``lock`` values key, and ``prepuller lock``'s inputs
(no registry needed: everything here fails or is read before one is asked)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import cdk8s
import pytest

from prepuller import ImagePrepuller, PrepullerError, load_values
from prepuller._checkov import pod_spec_of
from prepuller._cli import main
from prepuller._defaults import DOCKER_IMAGE, HELPER_IMAGE, KUBECTL_IMAGE, PAUSE_IMAGE
from prepuller._lock_images import images_of_values
from prepuller._references import parse_reference

from .conftest import only, pod_spec, synth, validate_strictly
from .support.locks import fake_digest, write_lock

IMAGES = ["nginx:1.25", "ghcr.io/acme/app:2"]


def pinned(reference: str) -> str:
    return f"{reference}@{fake_digest('index ' + reference)}"


def every_image(manifests: list[dict[str, Any]]) -> list[str]:
    images = []
    for manifest in manifests:
        spec = pod_spec_of(manifest) or {}
        for kind in ("initContainers", "containers"):
            images += [container["image"] for container in spec.get(kind) or []]
    return images


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    return write_lock(
        tmp_path / "prepuller.lock.json", [*IMAGES, PAUSE_IMAGE, HELPER_IMAGE, DOCKER_IMAGE, KUBECTL_IMAGE]
    )


def test_every_image_is_rendered_as_written_at_its_digest(chart: cdk8s.Chart, lock_file: Path) -> None:
    ImagePrepuller(chart, "prepull", images=IMAGES, lock=str(lock_file))
    manifests = synth(chart)
    validate_strictly(manifests)
    spec = pod_spec(manifests)
    assert [c["image"] for c in spec["initContainers"]] == [pinned(HELPER_IMAGE), *map(pinned, IMAGES)]
    assert [c["image"] for c in spec["containers"]] == [pinned(PAUSE_IMAGE)]
    assert {c["imagePullPolicy"] for c in spec["initContainers"] + spec["containers"]} == {"IfNotPresent"}
    annotations = only(manifests, "DaemonSet")["metadata"]["annotations"]
    skipped = sorted(value.split("=")[0] for key, value in annotations.items() if key.startswith("checkov.io/skip"))
    assert skipped == ["CKV_K8S_21", "CKV_K8S_8", "CKV_K8S_9"]  # no CKV_K8S_43 (nor CKV_K8S_15): every image is pinned


def test_without_a_lock_nothing_changes(chart: cdk8s.Chart) -> None:
    ImagePrepuller(chart, "prepull", images=IMAGES)
    manifests = synth(chart)
    assert [c["image"] for c in pod_spec(manifests)["initContainers"]] == [HELPER_IMAGE, *IMAGES]
    annotations = only(manifests, "DaemonSet")["metadata"]["annotations"]
    assert any(value.startswith("CKV_K8S_43=") for value in annotations.values())


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "docker", "refresh_schedule": "@daily"},
        {"keep_images": True, "startup_taint": "example.com/pulling"},
        {"parallel_pulls": 2, "refresh_schedule": "@daily"},
    ],
)
def test_every_mode_pins_every_container(lock_file: Path, options: dict[str, Any]) -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="prepuller")
    ImagePrepuller(chart, "prepull", images=IMAGES, lock=str(lock_file), **options)
    manifests = synth(chart)
    validate_strictly(manifests)
    images = every_image(manifests)
    assert images and all("@sha256:" in image for image in images), images
    for image in images:  # what the kubelet will pull: the written reference at the locked digest
        written, _, digest = image.partition("@")
        assert parse_reference(image, "image").digest == digest == fake_digest("index " + written)


def test_a_digest_reference_is_kept_as_written(chart: cdk8s.Chart, tmp_path: Path) -> None:
    digest = "sha256:" + "e" * 64
    reference = f"nginx:1.25@{digest}"
    path = write_lock(tmp_path / "lock.json", [PAUSE_IMAGE, HELPER_IMAGE])
    text = path.read_text().replace('"images": {', f'"images": {{"{reference}": ' + _entry(digest) + ", ", 1)
    path.write_text(text)
    ImagePrepuller(chart, "prepull", images=[reference], lock=str(path))
    assert pod_spec(synth(chart))["initContainers"][1]["image"] == reference


def _entry(digest: str) -> str:
    return f'{{"digest": "{digest}", "platforms": {{"linux/amd64": {{"digest": "{digest}", "size": 1}}}}}}'


def test_an_image_missing_from_the_lock_is_an_error_naming_it_and_the_file(chart: cdk8s.Chart, lock_file: Path) -> None:
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=[*IMAGES, "redis:7"], lock=str(lock_file))
    assert str(caught.value) == (
        f"lock: lock file {lock_file} has no entry for image 'redis:7'; run `prepuller lock` with it again"
    )
    assert chart.node.children == []
    prepuller = ImagePrepuller(chart, "prepull", images=IMAGES, lock=str(lock_file))
    with pytest.raises(PrepullerError, match=r"has no entry for image 'redis:8'"):
        prepuller.add_images("redis:8")


def test_an_own_image_missing_from_the_lock_is_an_error(chart: cdk8s.Chart, tmp_path: Path) -> None:
    path = write_lock(tmp_path / "lock.json", [*IMAGES, HELPER_IMAGE])
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=IMAGES, lock=str(path))
    assert str(caught.value) == (
        f"lock: lock file {path} has no entry for image '{PAUSE_IMAGE}'; run `prepuller lock` with it again"
    )


class _Workload(cdk8s.Chart):
    def __init__(self, scope: cdk8s.App, image: str) -> None:
        super().__init__(scope, "workload")
        cdk8s.ApiObject(
            self, "pod", api_version="v1", kind="Pod", metadata=cdk8s.ApiObjectMetadata(name="w")
        ).add_json_patch(cdk8s.JsonPatch.add("/spec", {"containers": [{"name": "c", "image": image}]}))


def test_an_image_found_by_images_from_must_be_in_the_lock(lock_file: Path, tmp_path: Path) -> None:
    app = cdk8s.App(outdir=str(tmp_path / "dist"))
    chart = cdk8s.Chart(app, "prepuller")
    ImagePrepuller(chart, "prepull", images_from=[_Workload(app, "redis:7")], lock=str(lock_file))
    with pytest.raises(RuntimeError) as caught:
        app.synth()
    assert f"lock: lock file {lock_file} has no entry for image 'redis:7'" in str(caught.value)
    assert not (tmp_path / "dist" / "prepuller.k8s.yaml").exists()


def test_a_bad_lock_file_is_an_error_of_the_lock_option(chart: cdk8s.Chart, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=IMAGES, lock=str(bad))
    assert str(caught.value) == (
        f"lock: lock file {bad}: is not JSON: Expecting property name enclosed in double quotes at line 1, column 2"
    )
    with pytest.raises(PrepullerError) as caught:
        ImagePrepuller(chart, "prepull", images=IMAGES, lock=3)  # type: ignore[arg-type]
    assert str(caught.value) == "lock: must be the path of a lock file (a string) (got 3)"


def test_the_lock_values_key_is_relative_to_its_values_file(tmp_path: Path, lock_file: Path) -> None:
    folder = tmp_path / "env"
    folder.mkdir()
    (folder / "images-prepuller.yml").write_text("images: [nginx:1.25]\nlock: ../prepuller.lock.json\n")
    values = load_values(folder / "images-prepuller.yml")
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    ImagePrepuller(chart, "prepull", **values)
    assert pod_spec(synth(chart))["initContainers"][1]["image"] == pinned("nginx:1.25")


# --- `prepuller lock`: which images, and input errors ------------------------------------------


def test_values_files_lock_every_image_the_manifests_run(tmp_path: Path) -> None:
    values = tmp_path / "values.yml"
    values.write_text("images: [nginx:1.25, nginx]\nmode: docker\nrefreshSchedule: '@daily'\nlock: not-yet.json\n")
    assert images_of_values([values]) == ["nginx:1.25", "nginx", DOCKER_IMAGE, PAUSE_IMAGE, KUBECTL_IMAGE]
    values.write_text("images: [nginx:1.25]\nkeepImages: true\n")
    assert images_of_values([values]) == ["nginx:1.25", HELPER_IMAGE]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ([], "", "prepuller lock: error: no images: give REF..., --from FILE or -f VALUES"),
        (["Bad Ref"], "", "prepuller lock: error: REF 'Bad Ref': is not a valid image reference: it contains whitespace (got 'Bad Ref')"),
        (["--from", "-"], "nginx\n# a comment\n\nNOPE:1 # why\n", "prepuller lock: error: --from <stdin>, line 4: is not a valid image reference: the repository path must be lowercase (got 'NOPE:1')"),
        (["nginx", "--platform", "linux"], "", "prepuller lock: error: --platform 'linux': must be os/arch or os/arch/variant in lowercase, e.g. linux/amd64"),
        (["nginx", "--docker-config", "/nonexistent/config.json"], "", "prepuller lock: error: docker config /nonexistent/config.json: does not exist"),
        (["nginx", "--ca-file", "/nonexistent/ca.pem"], "", "prepuller lock: error: --ca-file /nonexistent/ca.pem: does not exist"),
        (["--from", "/nonexistent/list"], "", "prepuller lock: error: --from /nonexistent/list: cannot be read: No such file or directory"),
    ],
)  # fmt: skip
def test_input_errors_exit_2_with_one_line(
    args: list[str], stdin: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    assert main(["lock", *args, "-o", str(tmp_path / "lock.json")]) == 2
    assert capsys.readouterr().err.splitlines() == [message]
    assert not (tmp_path / "lock.json").exists()


def test_check_with_an_invalid_lock_file_exits_2(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "lock.json"
    bad.write_text("[]")
    assert main(["lock", "nginx", "-o", str(bad), "--check"]) == 2
    assert (
        capsys.readouterr().err
        == f"prepuller lock: error: lock file {bad}: (top level): must be of type object (got [])\n"
    )


@pytest.mark.parametrize(("option", "value"), [("--jobs", "0"), ("--jobs", "65"), ("--timeout", "-1")])
def test_usage_errors_exit_2(option: str, value: str, tmp_path: Path, capsys: Any) -> None:
    assert main(["lock", "nginx", "-o", str(tmp_path / "l.json"), option, value]) == 2
    assert f"argument {option}: must be" in capsys.readouterr().err
