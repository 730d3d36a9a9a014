"""Run checkov offline on synthesized scenarios and sort its findings by scenario.

checkov cannot share the project's virtual environment (it pins ``packaging<24``, pytest 9
needs ``packaging>=24``), so it lives in its own, ``.venv-checkov`` (``make setup`` builds it
from ``constraints-checkov.txt``); ``$CHECKOV`` points elsewhere if needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from tests.scenarios import Scenario

ROOT = Path(__file__).resolve().parent.parent
SKIP_PREFIXES = ("checkov.io/skip", "bridgecrew.io/skip")

#: The exact command (``-d <dir>`` appended). ``--quiet`` is left out on purpose: with it the
#: JSON report drops passed and skipped checks, and the tests need the skipped ones.
COMMAND = ("--framework", "kubernetes", "--skip-download", "--compact", "-o", "json")

#: Keep checkov offline and quiet: no Bridgecrew/Prisma mapping download, no platform calls,
#: no version check. (An strace of checkov 3.3.30 with these showed no socket but nscd's.)
ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CKV_NO_GUIDE": "true",
    "LOG_LEVEL": "ERROR",
    "PYTHONWARNINGS": "ignore",
}


def checkov_executable() -> Path:
    path = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
    if not path.exists():
        raise FileNotFoundError(f"checkov not found at {path}: run `make setup` (it builds .venv-checkov)")
    return path


def _offline_prefix() -> list[str]:
    """``unshare -n`` where it works (root on Linux): checkov then *cannot* reach a network."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


@dataclass
class ScenarioFindings:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: check id -> the suppress comment checkov read from the skip annotation.
    skipped: dict[str, str] = field(default_factory=dict)


def synthesize(scenarios: list[Scenario], outdir: Path) -> None:
    """Write each scenario to ``outdir/<name>.k8s.yaml`` through a real ``App.synth()``."""
    app = cdk8s.App(outdir=str(outdir))
    for scenario in scenarios:
        scenario.build(app)
    app.synth()


def strip_skips(source: Path, target: Path) -> None:
    """Copy ``source``'s YAML files to ``target`` without any checkov skip annotation."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for document in documents:
            annotations = document.get("metadata", {}).get("annotations") or {}
            for key in [k for k in annotations if k.startswith(SKIP_PREFIXES)]:
                del annotations[key]
            if "annotations" in document.get("metadata", {}) and not annotations:
                del document["metadata"]["annotations"]
        (target / path.name).write_text(yaml.safe_dump_all(documents, sort_keys=True))


def start(directory: Path) -> subprocess.Popen[str]:
    command = [*_offline_prefix(), str(checkov_executable()), *COMMAND, "-d", str(directory)]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV}, cwd=directory
    )


def findings(process: subprocess.Popen[str]) -> tuple[dict[str, ScenarioFindings], dict[str, Any]]:
    """Wait for a checkov run; its findings by scenario (file name) and its summary."""
    out, err = process.communicate()
    # checkov exits 1 when a check fails; anything else, or no JSON, is a broken run.
    assert process.returncode in (0, 1), f"checkov failed ({process.returncode}):\n{err}"
    report = json.loads(out)
    reports = report if isinstance(report, list) else [report]
    by_scenario: dict[str, ScenarioFindings] = {}
    summary: Counter[str] = Counter()
    for part in reports:
        assert part["check_type"] == "kubernetes", part["check_type"]
        summary.update({k: v for k, v in part["summary"].items() if isinstance(v, int)})
        results = part["results"]
        for state in ("passed", "failed", "skipped"):
            for check in results.get(f"{state}_checks", []):
                scenario = Path(check["file_path"]).name.removesuffix(".k8s.yaml")
                entry = by_scenario.setdefault(scenario, ScenarioFindings())
                if state == "skipped":
                    entry.skipped[check["check_id"]] = check["check_result"].get("suppress_comment", "")
                else:
                    getattr(entry, state).append(check["check_id"])
    return by_scenario, dict(summary)


def results_table(by_scenario: dict[str, ScenarioFindings]) -> str:
    """Markdown: per scenario, how many checks passed, failed and were skipped, and which."""
    lines = ["| Scenario | Passed | Failed | Skipped (checks) |", "| --- | ---: | ---: | --- |"]
    for name in sorted(by_scenario):
        entry = by_scenario[name]
        skipped = ", ".join(f"`{check}`" for check in sorted(entry.skipped)) or "none"
        lines.append(f"| `{name}` | {len(entry.passed)} | {len(entry.failed)} | {len(entry.skipped)} ({skipped}) |")
    return "\n".join(lines) + "\n"
