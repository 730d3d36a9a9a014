"""`make mutate`: mutmut over the core modules, one module at a time, and the score of each.

mutmut keeps every mutant's result in ``mutants/`` and reruns, for a mutant, only the tests
that called the mutated function (it records which while running the suite once). This
script adds what mutmut leaves to its caller:

- module by module, smallest first, each timed: ``python -m tests.support.mutate status taint``;
- incremental: only the mutants not killed yet are run (new ones, survivors, and those of a
  function changed since: mutmut regenerates them without a result); ``--rerun`` runs the
  whole module again;
- the score: killed, survived, equivalent (listed with a reason in
  ``tests/mutation-equivalent.txt``), and the other outcomes mutmut reports;
- exit status 1 while a survivor is not listed as equivalent, 0 otherwise.

Usage: ``python -m tests.support.mutate [--rerun] [--report-only] [MODULE ...]`` from the
repository root (``make mutate MODULES="references groups"``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
EQUIVALENT_FILE = ROOT / "tests" / "mutation-equivalent.txt"

#: The core modules, smallest first (the order `make mutate` runs them in).
MODULES = (
    "pods",
    "groups",
    "keep",
    "network",
    "docker",
    "references",
    "validation",
    "discovery",
    "taint",
    "refresh",
    "values",
    "status",
)


@dataclass
class Score:
    module: str
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        parts = [f"{self.counts[k]} {k}" for k in ("killed", "survived", "equivalent")]
        others = sorted((k, n) for k, n in self.counts.items() if k not in ("killed", "survived", "equivalent"))
        parts += [f"{n} {k}" for k, n in others]
        total = sum(self.counts.values())
        relevant = total - self.counts["equivalent"]
        # A timeout is a detected mutant too: its tests did not pass (the clean run did).
        detected = self.counts["killed"] + self.counts["timeout"]
        score = f"{100 * detected / relevant:.1f}%" if relevant else "-"
        timing = f", {self.seconds:.0f} s" if self.seconds else ""
        return f"{self.module:<11} {total:>4} mutants: {', '.join(parts)} (score {score}{timing})"


def equivalent_mutants() -> dict[str, str]:
    """``mutant name -> reason`` from tests/mutation-equivalent.txt (``name  reason`` lines)."""
    listed: dict[str, str] = {}
    for number, line in enumerate(EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENT_FILE.name}:{number}: {name} needs a one-line reason")
        listed[name] = reason.strip()
    return listed


def results(module: str) -> dict[str, int | None]:
    """Every mutant of ``module`` with mutmut's recorded exit code (None: not run yet)."""
    meta = MUTANTS / "prepuller" / f"_{module}.py.meta"
    if not meta.exists():
        return {}
    exit_codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return exit_codes


def score(module: str, equivalent: dict[str, str]) -> Score:
    found = Score(module)
    for name, code in sorted(results(module).items()):
        status = status_by_exit_code[code]
        if status == "survived" and name in equivalent:
            status = "equivalent"
        elif status == "survived":
            found.survivors.append(name)
        found.counts[status] += 1
    return found


def mutmut(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "mutmut", *arguments], cwd=ROOT, check=False)


def run_module(module: str, equivalent: dict[str, str], *, rerun: bool) -> float:
    """Run the module's mutants that are not killed yet (all with ``rerun``); seconds taken.

    A survivor is run again each time (a test written since may kill it now), unless it is
    listed as equivalent."""
    pending = [
        name
        for name, code in results(module).items()
        if rerun or (status_by_exit_code[code] != "killed" and name not in equivalent)
    ]
    if results(module) and not pending:
        return 0.0
    started = time.monotonic()
    # Before the first run mutants/ does not exist: a pattern makes mutmut generate it.
    mutmut("run", *(pending or [f"prepuller._{module}.*"]))
    return time.monotonic() - started


def direct_check(module: str, test_files: list[str], equivalent: dict[str, str]) -> list[str]:
    """Run every mutant of ``module`` against only ``test_files``, in this one process (no
    fork, no stats: mutmut's switch, ``set_mutant_under_test``, picks the mutant), and return
    the survivors not listed as equivalent. A quick first look at a module's own tests; the
    verdicts of record are mutmut's."""
    import contextlib
    import io
    import os

    import pytest
    from mutmut.mutation.trampoline import set_mutant_under_test

    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)  # the tests as they are now
    os.chdir(MUTANTS)
    sys.path.insert(0, str(MUTANTS))
    # `tests` is this repository's package; the runs below must import mutants/tests.
    for loaded in [name for name in sys.modules if name == "tests" or name.startswith("tests.")]:
        del sys.modules[loaded]
    # From the second run on, the pytest plugins are imported already: nothing to rewrite.
    arguments = ["-x", "-q", "-p", "no:cacheprovider", "--rootdir=.", "-W", "ignore::pytest.PytestAssertRewriteWarning"]

    def passes(mutant: str | None) -> bool:
        set_mutant_under_test(mutant)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return pytest.main([*arguments, *test_files]) == 0

    if not passes(None):
        raise SystemExit(f"{' '.join(test_files)} fails without a mutant: nothing to learn")
    survivors = [name for name in results(module) if passes(name) and name not in equivalent]
    set_mutant_under_test(None)
    return survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "modules", nargs="*", choices=[[], *MODULES], metavar="MODULE", help="default: all, smallest first"
    )
    parser.add_argument("--rerun", action="store_true", help="run every mutant again, not only those without a result")
    parser.add_argument("--report-only", action="store_true", help="run nothing: print the scores of what was run")
    parser.add_argument(
        "--direct",
        metavar="TEST_FILE",
        action="append",
        help="only run each mutant of one MODULE against TEST_FILE, in one process (after a mutmut run made mutants/)",
    )
    options = parser.parse_args(argv)
    equivalent = equivalent_mutants()
    if options.direct:
        [module] = options.modules
        survivors = direct_check(module, options.direct, equivalent)
        print(f"{module}: {len(results(module))} mutants, {len(survivors)} survive {' '.join(options.direct)}")
        print("\n".join(survivors))
        return 1 if survivors else 0
    scores = []
    for module in options.modules or MODULES:
        seconds = 0.0 if options.report_only else run_module(module, equivalent, rerun=options.rerun)
        found = score(module, equivalent)
        found.seconds = seconds
        scores.append(found)
    print()
    for found in scores:
        print(found.line())
    survivors = [name for found in scores for name in found.survivors]
    stale = sorted(set(equivalent) - {name for module in MODULES for name in results(module)})
    if stale:
        print(f"\n{EQUIVALENT_FILE.name} lists mutants mutmut no longer makes: {', '.join(stale)}")
    if survivors:
        print("\nSurvivors (kill them with a test, or list them as equivalent with a reason):")
        for name in survivors:
            print(f"  {name}    (mutmut show {name})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
