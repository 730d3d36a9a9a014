"""Values files: the chart's format and ours, the schema, exact errors, ``helm -f`` merging."""

from __future__ import annotations

import inspect
import json
import locale
import re
from pathlib import Path
from typing import Any

import cdk8s
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from prepuller import ImagePrepuller, PrepullerError, load_values
from prepuller._defaults import DOCKER_HOST_PATH, DOCKER_IMAGE, HELPER_IMAGE, PAUSE_IMAGE
from prepuller._keep import KEEP_RESOURCES
from prepuller._scheduling import DEFAULT_RESOURCES
from prepuller._values import key_path, merge_values, reference_table, snake_case, values_schema

from .conftest import only, pod_spec, synth, validate_strictly
from .support.locks import fake_digest, write_lock

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "chart-env-config" / "dev" / "images-prepuller.yml"
PROD = ROOT / "chart-env-config" / "prod" / "images-prepuller.yml"


@pytest.fixture
def values_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``values/`` folder; the working directory is its parent, so messages say ``values/...``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "values").mkdir()
    return tmp_path / "values"


def write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text)
    return f"{folder.name}/{name}"


def synthesized(values: dict[str, Any]) -> list[dict[str, Any]]:
    app = cdk8s.Testing.app()
    manifests = synth(main.build(app, values))
    validate_strictly(manifests)
    return manifests


# --- the shipped examples ---------------------------------------------------------------


def test_the_charts_example_values_file_loads_as_docker_mode() -> None:
    assert load_values(DEV) == {
        "images": ["gcr.io/google-containers/busybox:1.27", "busybox:1-musl"],
        "docker_host_path": "/var/run",
        "mode": "docker",
    }


def test_the_charts_example_values_file_synthesizes_the_charts_pod() -> None:
    manifests = synthesized(load_values(DEV))
    daemon_set = only(manifests, "DaemonSet")
    assert (daemon_set["metadata"]["name"], daemon_set["metadata"]["namespace"]) == ("prepull", "default")
    [init] = pod_spec(manifests)["initContainers"]
    assert init["name"] == "prepull"
    assert init["args"] == ["gcr.io/google-containers/busybox:1.27", "busybox:1-musl"]
    assert pod_spec(manifests)["volumes"][0]["hostPath"]["path"] == "/var/run"


def test_our_keys_example_loads_and_synthesizes_in_kubelet_mode() -> None:
    values = load_values(PROD)
    assert values == {
        "images": [
            "docker.io/library/python:3.12-slim",
            "quay.io/jupyter/scipy-notebook:2024-10-07",
            "gcr.io/distroless/static-debian12:nonroot",
        ],
        "node_selector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "labels": {"team": "data-platform"},
        "max_unavailable": "25%",
    }
    manifests = synthesized(values)
    assert only(manifests, "DaemonSet")["spec"]["updateStrategy"]["rollingUpdate"] == {"maxUnavailable": "25%"}
    assert pod_spec(manifests)["initContainers"][0]["name"] == "prepuller-tools"


def test_every_environment_in_chart_env_config_loads() -> None:
    files = sorted((ROOT / "chart-env-config").glob("*/images-prepuller.yml"))
    assert [f.parent.name for f in files] == ["dev", "prod"]
    for file in files:
        synthesized(load_values(file))


# --- the schema ------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(values_schema())


def test_our_keys_are_exactly_the_constructs_options_in_camel_case() -> None:
    parameters = inspect.signature(ImagePrepuller.__init__).parameters
    options = {name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    options -= {"images_from"}  # constructs of the app: not something a YAML file can hold
    keys = set(values_schema()["properties"]) - {"docker"}
    assert {snake_case(key) for key in keys} == options
    assert all(re.fullmatch(r"[a-z]+([A-Z][a-z]+)*", key) for key in keys)


def test_schema_defaults_are_the_constructs_defaults() -> None:
    parameters = inspect.signature(ImagePrepuller.__init__).parameters
    properties = values_schema()["properties"]
    for key, spec in properties.items():
        default = parameters[snake_case(key)].default if key != "docker" else None
        if "default" in spec and isinstance(default, str | bool):
            assert spec["default"] == default, key
    # None in the signature means these defaults (they apply only in docker mode).
    assert properties["dockerHostPath"]["default"] == DOCKER_HOST_PATH
    assert properties["docker"]["properties"]["hostPath"]["default"] == DOCKER_HOST_PATH
    assert properties["dockerImage"]["default"] == DOCKER_IMAGE
    assert properties["resources"]["default"] == DEFAULT_RESOURCES
    assert properties["keepResources"]["default"] == KEEP_RESOURCES


@pytest.mark.parametrize(
    ("camel", "snake"),
    [("nodeSelector", "node_selector"), ("images", "images"), ("imagePullSecrets", "image_pull_secrets")],
)
def test_snake_case_is_mechanical(camel: str, snake: str) -> None:
    assert snake_case(camel) == snake


def test_every_key_at_once_loads_and_synthesizes(values_dir: Path) -> None:
    path = write(
        values_dir,
        "all.yml",
        """
        images: [busybox:1.37, nginx:1.27]
        name: warm
        namespace: prepull
        labels: {team: data}
        annotations: {owner: platform}
        nodeSelector: {kubernetes.io/os: linux, pool: gpu}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions: [{key: pool, operator: In, values: [gpu]}]
        priorityClassName: low
        imagePullSecrets: [regcred]
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: 10m}, limits: {memory: 128Mi}}
        pauseImage: registry.k8s.io/pause:3.10
        helperImage: docker.io/library/busybox:1.37.0-musl
        maxUnavailable: 2
        mode: docker
        dockerHostPath: /run
        dockerImage: docker.io/library/docker:27.5.1-cli
        parallelPulls: 1
        refreshSchedule: "0 4 * * *"
        startupTaint: example.com/prepull
        kubectlImage: registry.k8s.io/kubectl:v1.33.9
        networkPolicy: false
        lock: all.lock.json
        """.replace("\n        ", "\n"),
    )
    locked = ["busybox:1.37", "nginx:1.27", "registry.k8s.io/pause:3.10", "docker.io/library/docker:27.5.1-cli"]
    write_lock(values_dir / "all.lock.json", [*locked, "registry.k8s.io/kubectl:v1.33.9"])
    values = load_values(path)
    assert Path(values["lock"]).resolve() == (values_dir / "all.lock.json").resolve()  # beside the values file
    kubelet_only = {"keep_images", "keep_resources"}  # keep mode does not apply to docker mode
    assert set(values) == {snake_case(key) for key in values_schema()["properties"] if key != "docker"} - kubelet_only
    manifests = synthesized(values)
    daemon_set = only(manifests, "DaemonSet")
    assert (daemon_set["metadata"]["name"], daemon_set["metadata"]["namespace"]) == ("warm", "prepull")
    docker_image = "docker.io/library/docker:27.5.1-cli"
    assert pod_spec(manifests)["initContainers"][0]["image"] == f"{docker_image}@{fake_digest('index ' + docker_image)}"


def test_keep_mode_keys_load_and_synthesize(values_dir: Path) -> None:
    path = write(
        values_dir,
        "keep.yml",
        "images: [busybox:1.37, nginx:1.27, redis:7]\nkeepImages: true\n"
        "keepResources: {requests: {memory: 8Mi}}\nparallelPulls: 2\n",
    )
    values = load_values(path)
    assert values["keep_images"] is True and values["parallel_pulls"] == 2
    assert values["keep_resources"] == {"requests": {"memory": "8Mi"}}
    daemon_sets = [m for m in synthesized(values) if m["kind"] == "DaemonSet"]
    assert [d["metadata"]["name"] for d in daemon_sets] == ["prepull-1", "prepull-2"]
    sleepers = [c for d in daemon_sets for c in d["spec"]["template"]["spec"]["containers"]]
    assert len(sleepers) == 3
    assert {c["resources"]["requests"]["memory"] for c in sleepers} == {"8Mi"}


def test_the_charts_host_path_alone_goes_with_our_images_key_and_implies_docker_mode(values_dir: Path) -> None:
    path = write(values_dir, "prod.yml", "images: [busybox:1.37]\ndocker:\n  hostPath: /run/docker\n")
    assert load_values(path) == {"images": ["busybox:1.37"], "docker_host_path": "/run/docker", "mode": "docker"}


# --- errors: exactly what the user reads -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "docker:\n  images:\n    - busybox:1.37\n    - nginx:1.27\n    - Busybox:1\n",
            "values/prod.yml: docker.images[2]: is not a valid image reference: the repository path must be "
            "lowercase (got 'Busybox:1')",
        ),
        (
            "images: ['busybox; rm -rf /']\n",
            "values/prod.yml: images[0]: is not a valid image reference: it contains whitespace "
            "(got 'busybox; rm -rf /')",
        ),
        (
            "images: ['$(id)']\n",
            "values/prod.yml: images[0]: is not a valid image reference: the repository path must be lowercase "
            "letters and digits separated by '.', '_', '__', '-' or '/' (got '$(id)')",
        ),
        (
            "imagess: [busybox]\n",
            "values/prod.yml: imagess: is not a known key; did you mean 'images'? (got ['busybox'])",
        ),
        (
            "docker:\n  image: [busybox]\n",
            "values/prod.yml: docker.image: is not a known key; did you mean 'images'? (got ['busybox'])",
        ),
        (
            "images: [busybox]\nfrobnicate: 1\n",
            "values/prod.yml: frobnicate: is not a known key; known keys here: docker, images, name, namespace, "
            "labels, annotations, nodeSelector, tolerations, affinity, priorityClassName, imagePullSecrets, "
            "imagePullPolicy, resources, pauseImage, helperImage, maxUnavailable, mode, dockerHostPath, "
            "dockerImage, keepImages, keepResources, parallelPulls, refreshSchedule, startupTaint, kubectlImage, "
            "networkPolicy, lock (got 1)",
        ),
        ("images: busybox\n", "values/prod.yml: images: must be a list (got 'busybox')"),
        ("images: {busybox: '1.37'}\n", "values/prod.yml: images: must be a list (got {'busybox': '1.37'})"),
        ("images: []\n", "values/prod.yml: images: must not be empty (got [])"),
        ("images: [busybox, 3]\n", "values/prod.yml: images[1]: must be a string (got 3)"),
        ("docker: [busybox]\n", "values/prod.yml: docker: must be a mapping (got ['busybox'])"),
        (
            "images: [busybox]\nmaxUnavailable: true\n",
            "values/prod.yml: maxUnavailable: must be a whole number or a string (got True)",
        ),
        (
            "images: [busybox]\nmaxUnavailable: 0\n",
            "values/prod.yml: maxUnavailable: must be at least 1 (got 0)",
        ),
        (
            "images: [busybox]\nmode: podman\n",
            "values/prod.yml: mode: must be one of 'kubelet', 'docker' (got 'podman')",
        ),
        (
            "images: [busybox]\nimagePullPolicy: always\n",
            "values/prod.yml: imagePullPolicy: must be one of 'Always', 'IfNotPresent', 'Never' (got 'always')",
        ),
        (
            "images: [busybox]\nlabels: {team: 1}\n",
            "values/prod.yml: labels.team: must be a string (got 1)",
        ),
        (
            "images: [busybox]\nnodeSelector: {kubernetes.io/os: 'linux os'}\n",
            "values/prod.yml: nodeSelector['kubernetes.io/os']: must be a label value: empty, or at most 63 "
            "letters, digits, '-', '_' or '.', starting and ending with a letter or digit (got 'linux os')",
        ),
        (
            "images: [busybox]\ntolerations: [{key: gpu, operator: Bogus}]\n",
            "values/prod.yml: tolerations[0].operator: must be one of 'Exists', 'Equal' (got 'Bogus')",
        ),
        (
            "images: [busybox]\nname: Prepull\n",
            "values/prod.yml: name: must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (got 'Prepull')",
        ),
        (
            "docker:\n  images: [busybox]\n  hostPath: var/run\n",
            "values/prod.yml: docker.hostPath: must be an absolute directory path on the node, without '..' or "
            "control characters (got 'var/run')",
        ),
        (
            "docker:\n  images: [busybox]\n  hostPath: /var/run\nmode: kubelet\n",
            "values/prod.yml: docker.hostPath: only applies to mode 'docker' (mode is 'kubelet') (got '/var/run')",
        ),
        (
            "images: [busybox]\ndockerImage: docker:27-cli\n",
            "values/prod.yml: dockerImage: only applies to mode 'docker' (mode is 'kubelet') (got 'docker:27-cli')",
        ),
        (
            "docker:\n  images: [busybox]\nimages: [nginx]\n",
            "values/prod.yml: docker.images: cannot be combined with 'images': they are the same setting "
            "(the chart's key and ours); keep one (got ['busybox'])",
        ),
        ("name: prepull\n", "values/prod.yml: images: is required: set 'docker.images' (the chart's key) or 'images'"),
        (
            "images: [busybox\nname: x\n",
            "values/prod.yml: is not valid YAML: expected ',' or ']', but got ':' at line 2, column 5",
        ),
        (
            "images: [busybox]\nimages: [nginx]\n",
            "values/prod.yml: is not valid YAML: found duplicate key 'images' at line 2, column 1",
        ),
        (
            "images: [a]\n---\nimages: [b]\n",
            "values/prod.yml: is not valid YAML: expected a single document in the "
            "stream, but found another document at line 2, column 1",
        ),
        ("- busybox\n", "values/prod.yml: must be a mapping of values keys (e.g. 'images: [...]') (got ['busybox'])"),
        ("busybox\n", "values/prod.yml: must be a mapping of values keys (e.g. 'images: [...]') (got 'busybox')"),
        (
            "images: [busybox]\nname: 2024-10-07\n",
            "values/prod.yml: name: must be a string (got datetime.date(2024, 10, 7))",
        ),
        (
            "images: [busybox]\nname: 2024-13-45\n",
            "values/prod.yml: is not valid YAML: '2024-13-45' is written as a date but is none "
            "(month must be in 1..12); quote it at line 2, column 7",
        ),
        pytest.param(
            "images: " + "[" * 5000 + "]" * 5000 + "\n",
            "values/prod.yml: is not valid YAML: its lists or mappings are nested too deeply",
            id="lists nested 5000 deep",
        ),
        # A control character, on the first line and on a later one: its line and column.
        (
            "images: [busybox:1.37\x1b[0m]\n",
            "values/prod.yml: is not valid YAML: unacceptable character #x001b: special characters are not "
            "allowed at line 1, column 22",
        ),
        (
            "images:\n  - busybox:1.37\n  - nginx\x00:1.27\n",
            "values/prod.yml: is not valid YAML: unacceptable character #x0000: special characters are not "
            "allowed at line 3, column 10",
        ),
        # A key with a line break is still named with its file.
        (
            'images: [busybox]\nresources: {requests: {"cp\\nu": 10m}}\n',
            "values/prod.yml: resources.requests.cp\nu: is not a known field (known: cpu, memory, ephemeral-storage) "
            "(got 'cp\\nu')",
        ),
    ],
)
def test_bad_values_files_give_exact_errors(values_dir: Path, text: str, message: str) -> None:
    path = write(values_dir, "prod.yml", text)
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == message


def test_a_missing_file_and_a_directory_cannot_be_read(values_dir: Path) -> None:
    with pytest.raises(PrepullerError) as caught:
        load_values("values/missing.yml")
    assert str(caught.value) == "values/missing.yml: cannot be read: No such file or directory"
    with pytest.raises(PrepullerError) as caught:
        load_values("values")
    assert str(caught.value) == "values: cannot be read: Is a directory"


def test_a_file_that_is_not_utf8_is_refused(values_dir: Path) -> None:
    (values_dir / "latin1.yml").write_bytes("images: [caf\xe9]\n".encode("latin-1"))
    with pytest.raises(PrepullerError) as caught:
        load_values("values/latin1.yml")
    assert str(caught.value) == "values/latin1.yml: is not UTF-8 text (byte 12)"


def test_a_file_is_read_as_utf8_whatever_the_locale(values_dir: Path) -> None:
    (values_dir / "prod.yml").write_bytes("images: [busybox]\nannotations: {note: café crème}\n".encode())
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # ASCII, where the locale's encoding is not UTF-8
    try:
        values = load_values("values/prod.yml")
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
    assert values == {"images": ["busybox"], "annotations": {"note": "café crème"}}


def test_yaml_merge_keys_merge_and_may_override_what_they_merge(values_dir: Path) -> None:
    path = write(
        values_dir,
        "prod.yml",
        "images: [busybox]\nresources:\n  requests: &requests {cpu: 10m, memory: 32Mi}\n"
        "  limits:\n    <<: *requests\n    cpu: 100m\n",
    )
    assert load_values(path) == {
        "images": ["busybox"],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "images: [busybox]\nresources:\n  requests: &requests {cpu: 10m}\n"
            "  limits:\n    <<: *requests\n    memory: 64Mi\n    memory: 128Mi\n",
            "values/prod.yml: is not valid YAML: found duplicate key 'memory' at line 7, column 5",
        ),
        (
            "images: [busybox]\nlabels:\n  2024: release\n  team: data\n  team: web\n",
            "values/prod.yml: is not valid YAML: found duplicate key 'team' at line 5, column 3",
        ),
    ],
    ids=["after a merge key", "after a key that is not a string"],
)
def test_a_duplicate_key_is_found_wherever_it_is_in_the_mapping(values_dir: Path, text: str, message: str) -> None:
    path = write(values_dir, "prod.yml", text)
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "images: &images [busybox, *images]\n",
            "values/prod.yml: images[1]: must be a string (got ['busybox', [...]])",
        ),
        (
            "images: [busybox]\nlabels: &labels {team: *labels}\n",
            "values/prod.yml: labels.team: must be a string (got {'team': {...}})",
        ),
    ],
    ids=["list", "mapping"],
)
def test_an_alias_inside_its_own_anchor_is_refused_at_the_key_that_holds_it(
    values_dir: Path, text: str, message: str
) -> None:
    path = write(values_dir, "prod.yml", text)
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == message


def test_no_file_at_all_is_refused() -> None:
    with pytest.raises(PrepullerError) as caught:
        load_values()
    assert str(caught.value) == "load_values: needs at least one values file"


def test_the_error_names_the_file_the_bad_value_came_from(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "docker:\n  images: [busybox:1.37]\n")
    env = write(values_dir, "prod.yml", "docker:\n  hostPath: relative/path\n")
    with pytest.raises(PrepullerError) as caught:
        load_values(base, env)
    assert str(caught.value).startswith("values/prod.yml: docker.hostPath: must be an absolute")


def test_the_chart_key_and_ours_in_different_files_name_both(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "docker:\n  images: [busybox:1.37]\n")
    env = write(values_dir, "prod.yml", "images: [nginx:1.27]\n")
    with pytest.raises(PrepullerError) as caught:
        load_values(base, env)
    assert str(caught.value) == (
        "values/base.yml, values/prod.yml: docker.images: cannot be combined with 'images': they are the same "
        "setting (the chart's key and ours); keep one (got ['busybox:1.37'])"
    )


def test_a_file_that_sets_another_docker_key_is_not_named_for_the_two_spellings(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "docker:\n  images: [busybox:1.37]\n")
    host = write(values_dir, "host.yml", "docker:\n  hostPath: /run/docker\n")
    env = write(values_dir, "prod.yml", "images: [nginx:1.27]\n")
    with pytest.raises(PrepullerError) as caught:
        load_values(base, host, env)
    assert str(caught.value) == (
        "values/base.yml, values/prod.yml: docker.images: cannot be combined with 'images': they are the same "
        "setting (the chart's key and ours); keep one (got ['busybox:1.37'])"
    )


@pytest.mark.parametrize(
    "text",
    [
        "images: [busybox]\nname: 1\nlabels: {team: 2}\n",
        "images: [busybox]\nlabels: {team: 2}\nname: 1\n",
        "images: [busybox]\nlabels: {tier: 1, team: 2}\n",
        "images: [busybox]\nlabels: {team: 2, tier: 1}\n",
    ],
)
def test_of_several_mistakes_the_one_whose_key_path_sorts_first_is_reported(values_dir: Path, text: str) -> None:
    # The same one every run, whatever the order of the keys in the file or in the schema.
    path = write(values_dir, "prod.yml", text)
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == "values/prod.yml: labels.team: must be a string (got 2)"


def test_a_construct_error_that_quotes_no_value_quotes_none_from_a_values_file(values_dir: Path) -> None:
    path = write(
        values_dir,
        "prod.yml",
        "images: [busybox:1.37]\naffinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}}\n",
    )
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == (
        "values/prod.yml: affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
        "is required"
    )
    write(values_dir, "prod.yml", "images: [busybox:1.37, redis:7]\nlock: prod.lock.json\n")
    write_lock(values_dir / "prod.lock.json", ["busybox:1.37", PAUSE_IMAGE, HELPER_IMAGE])
    with pytest.raises(PrepullerError) as caught:
        load_values(path)
    assert str(caught.value) == (
        "values/prod.yml: lock: lock file values/prod.lock.json has no entry for image 'redis:7'; "
        "run `prepuller lock` with it again"
    )


def test_a_merged_mapping_names_every_file_that_contributed(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "images: [busybox]\nlabels: {team: data}\n")
    env = write(values_dir, "prod.yml", "labels: {'bad key!': x}\n")
    with pytest.raises(PrepullerError, match=r"^values/base\.yml, values/prod\.yml: labels key: must be a label key"):
        load_values(base, env)


# --- merging, as helm -f a -f b ---------------------------------------------------------


def test_f_a_f_b_merges_maps_and_replaces_lists_and_scalars(values_dir: Path) -> None:
    a = write(
        values_dir,
        "a.yml",
        "images: [busybox:1.37, nginx:1.27]\nlabels: {team: data, tier: base}\nmaxUnavailable: 1\n"
        "resources: {requests: {cpu: 10m}}\n",
    )
    b = write(
        values_dir,
        "b.yml",
        "images: [redis:7]\nlabels: {tier: prod}\nmaxUnavailable: 50%\nresources: {limits: {memory: 128Mi}}\n",
    )
    assert load_values(a, b) == {
        "images": ["redis:7"],
        "labels": {"team": "data", "tier": "prod"},
        "max_unavailable": "50%",
        "resources": {"requests": {"cpu": "10m"}, "limits": {"memory": "128Mi"}},
    }
    assert load_values(b, a)["images"] == ["busybox:1.37", "nginx:1.27"]


def test_a_later_file_adds_to_the_charts_docker_map(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "docker:\n  images: [busybox:1.37]\n")
    env = write(values_dir, "prod.yml", "docker:\n  hostPath: /run/docker\n")
    assert load_values(base, env) == {"images": ["busybox:1.37"], "docker_host_path": "/run/docker", "mode": "docker"}


def test_a_bad_value_names_only_the_file_that_replaced_the_others(values_dir: Path) -> None:
    base = write(values_dir, "base.yml", "images: [busybox:1.37]\n")
    env = write(values_dir, "env.yml", "images: [nginx:1.27]\n")
    prod = write(values_dir, "prod.yml", "images: [Busybox:1]\n")
    with pytest.raises(PrepullerError) as caught:
        load_values(base, env, prod)
    assert str(caught.value) == (
        "values/prod.yml: images[0]: is not a valid image reference: the repository path must be lowercase "
        "(got 'Busybox:1')"
    )


def test_null_restores_the_default_as_in_helm(values_dir: Path) -> None:
    chart_file = write(values_dir, "chart.yml", "docker:\n  images: [busybox:1.37]\n  hostPath: /var/run\n")
    override = write(values_dir, "kubelet.yml", "mode: kubelet\ndocker:\n  hostPath: null\nmaxUnavailable: null\n")
    assert load_values(chart_file, override) == {"images": ["busybox:1.37"], "mode": "kubelet"}


def test_an_empty_file_sets_nothing(values_dir: Path) -> None:
    empty = write(values_dir, "empty.yml", "# nothing yet\n")
    base = write(values_dir, "base.yml", "images: [busybox]\n")
    assert load_values(base, empty) == load_values(empty, base) == {"images": ["busybox"]}


def test_merge_values_does_not_change_its_inputs() -> None:
    a = {"labels": {"x": "1"}, "images": ["a"]}
    b = {"labels": {"y": "2"}, "images": ["b"]}
    merge_values(a, b)
    assert a == {"labels": {"x": "1"}, "images": ["a"]}
    assert b == {"labels": {"y": "2"}, "images": ["b"]}


def test_changing_the_merged_values_changes_neither_input() -> None:
    a = {"images": ["busybox"], "labels": {"team": "data"}}
    b = {"tolerations": [{"key": "gpu"}], "resources": {"limits": {"cpu": "1"}}}
    merged = merge_values(a, b)
    merged["images"].append("nginx")
    merged["labels"]["team"] = "web"
    merged["tolerations"][0]["key"] = "tpu"
    merged["resources"]["limits"]["cpu"] = "2"
    assert a == {"images": ["busybox"], "labels": {"team": "data"}}
    assert b == {"tolerations": [{"key": "gpu"}], "resources": {"limits": {"cpu": "1"}}}


KEYS = st.sampled_from(["a", "b", "c", "images", "labels"])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3))
VALUES = st.recursive(LEAVES, lambda children: st.dictionaries(KEYS, children, max_size=4), max_leaves=8)
#: The first draw of a recursive strategy can be slow on a cold machine; the data stay small.
PROPERTIES = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=5)


def leaves(document: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every non-mapping value by its key path (an empty mapping counts as a leaf)."""
    if isinstance(document, dict) and document:
        found: dict[tuple[str, ...], Any] = {}
        for key, value in document.items():
            found.update(leaves(value, (*prefix, key)))
        return found
    return {prefix: document}


@PROPERTIES
@given(DOCUMENTS, DOCUMENTS)
def test_every_merged_value_comes_from_one_of_the_files(a: dict[str, Any], b: dict[str, Any]) -> None:
    a_leaves, b_leaves = leaves(a), leaves(b)
    for path, value in leaves(merge_values(a, b)).items():
        assert (path in b_leaves and b_leaves[path] == value) or (path in a_leaves and a_leaves[path] == value)


@PROPERTIES
@given(DOCUMENTS, DOCUMENTS, DOCUMENTS)
def test_three_files_are_folded_left_to_right(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> None:
    # Not associative, exactly like Helm's mergeMaps: b's `x: null` replaces a's map x, then
    # c's map x merges into nothing; merging b and c first would keep a's x.
    folded = merge_values(merge_values(a, b), c)
    for path, value in leaves(c).items():
        if path and not (isinstance(value, dict) and not value):
            assert leaves(folded)[path] == value


@PROPERTIES
@given(DOCUMENTS)
def test_the_empty_file_is_neutral_and_a_file_merged_with_itself_is_itself(a: dict[str, Any]) -> None:
    assert merge_values({}, a) == merge_values(a, {}) == merge_values(a, a) == a


@PROPERTIES
@given(DOCUMENTS, DOCUMENTS)
def test_the_later_file_wins_every_value_it_sets(a: dict[str, Any], b: dict[str, Any]) -> None:
    merged = merge_values(a, b)
    merged_leaves = leaves(merged)
    for path, value in leaves(b).items():
        if path and not (isinstance(value, dict) and not value):
            assert merged_leaves[path] == value
    # A key only the earlier file has survives, whatever the later file says elsewhere.
    for key in set(a) - set(b):
        assert merged[key] == a[key]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["busybox:1.37", "nginx:1.27", "redis:7", "python:3.12"]), min_size=1, max_size=3),
    st.lists(st.sampled_from(["busybox:1.37", "nginx:1.27", "redis:7", "python:3.12"]), min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["team", "tier", "env"]), st.sampled_from(["a", "b"]), max_size=3),
    st.dictionaries(st.sampled_from(["team", "tier", "env"]), st.sampled_from(["c", "d"]), max_size=3),
)
def test_files_merge_as_merge_values_says(
    tmp_path_factory: pytest.TempPathFactory,
    images_a: list[str],
    images_b: list[str],
    labels_a: dict[str, str],
    labels_b: dict[str, str],
) -> None:
    folder = tmp_path_factory.mktemp("values")
    a, b = folder / "a.yml", folder / "b.yml"
    a.write_text(yaml.safe_dump({"images": images_a, "labels": labels_a}))
    b.write_text(yaml.safe_dump({"docker": {"images": images_b}} if not labels_b else {"labels": labels_b}))
    merged = merge_values(yaml.safe_load(a.read_text()), yaml.safe_load(b.read_text()))
    if "docker" in merged:
        with pytest.raises(PrepullerError, match="cannot be combined with 'images'"):
            load_values(a, b)
    else:
        assert load_values(a, b) == {"images": images_a, "labels": {**labels_a, **labels_b}}


# --- the documentation ------------------------------------------------------------------


def test_key_paths_read_like_the_file() -> None:
    assert key_path(["docker", "images", 2]) == "docker.images[2]"
    assert key_path(["labels", "app.kubernetes.io/name"]) == "labels['app.kubernetes.io/name']"
    assert key_path([]) == "(top level)"


def test_the_options_reference_holds_the_schema_table() -> None:
    """docs/reference/options.md carries reference_table() (written by tools/generate_docs.py;
    tests/test_docs.py keeps the whole page current)."""
    assert reference_table() in (ROOT / "docs" / "reference" / "options.md").read_text()


def test_the_table_has_a_row_per_key_with_its_default() -> None:
    table = reference_table()
    for key in [*(k for k in values_schema()["properties"] if k != "docker"), "docker.images", "docker.hostPath"]:
        assert f"| `{key}` |" in table
    assert '| `dockerHostPath` | string | `"/var/run"` |' in table
    assert '| `mode` | one of `kubelet`, `docker` | `"kubelet"` |' in table
    assert json.dumps({"kubernetes.io/os": "linux"}) in table
