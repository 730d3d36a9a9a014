"""The wheel installs into a clean venv and a cdk8s app outside the repo uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

APP = textwrap.dedent(
    """
    import cdk8s
    from prepuller import ImagePrepuller, PrepullerError

    app = cdk8s.App()
    chart = cdk8s.Chart(app, "mine", namespace="tools")
    ImagePrepuller(chart, "prepull", images=["nginx:1.25", "gcr.io/distroless/static:nonroot"])
    try:
        ImagePrepuller(chart, "bad", images=["Not An Image"])
    except PrepullerError as error:
        assert isinstance(error, ValueError)
        print("error:", error)
    app.synth()
    """
)


@pytest.mark.slow
def test_wheel_installs_into_a_clean_venv_and_works_in_another_app(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheelhouse), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    # The schema folder is packaged as a package of its own: setuptools has nothing to warn about.
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr
    [wheel] = list(wheelhouse.glob("cdk8s_image_prepuller-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert "prepuller/schema/values.schema.json" in archive.namelist()
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
        capture_output=True,
    )
    app_dir = tmp_path / "elsewhere"
    app_dir.mkdir()
    (app_dir / "main.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK8S_CHECK_UPGRADE="false")
    result = subprocess.run([str(python), "main.py"], cwd=app_dir, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "error: images[0]: is not a valid image reference: it contains whitespace" in result.stdout
    output = (app_dir / "dist" / "mine.k8s.yaml").read_text()
    assert "name: prepull" in output and "namespace: tools" in output and "image: nginx:1.25" in output
    # the package must not depend on the repo's generated imports/
    listing = subprocess.run(
        [str(python), "-c", "import prepuller, pathlib; print(pathlib.Path(prepuller.__file__).parent)"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert str(ROOT) not in listing
    assert (Path(listing) / "py.typed").exists()
    loaded = subprocess.run(
        [str(python), "-c", "from prepuller._values import values_schema; print(values_schema()['title'])"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
