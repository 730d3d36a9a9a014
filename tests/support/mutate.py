"""`make mutate`: mutation testing of the core modules, one module at a time, and the score of each.

mutmut generates the mutants into ``mutants/`` and records, in one traced run of the suite,
which tests call which function. This script adds what mutmut leaves to its caller:

- the judging: ``mutation_runner`` runs each mutant against only the tests that call its
  function, in long-lived workers (hundreds a minute, where mutmut's fork per mutant does a
  few); with ``--confirm-survivors``, a mutant it calls a survivor is judged again by
  ``mutmut run NAME``;
- module by module, smallest first, each timed: ``python -m tests.support.mutate status taint``;
- incremental: only the mutants not detected yet are run (new ones, survivors, and those of
  a function changed since: mutmut regenerates them without a result); ``--rerun`` runs the
  whole module again;
- the score: killed, survived, equivalent (listed with a reason in
  ``tests/mutation-equivalent.txt``), and the other outcomes mutmut reports;
- exit status 1 while a survivor is not listed as equivalent, 0 otherwise;
- ``--try MUTANT tests/test_x.py``: does a test file, as it is now, kill that mutant?

Usage: ``python -m tests.support.mutate [--rerun] [--report-only] [MODULE ...]`` from the
repository root (``make mutate MODULES="references groups"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.stats import status_by_exit_code

from tests.support import mutation_runner

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


#: The outcomes that count as a detected mutant: its tests did not pass, the clean run did
#: (a timeout, or a worker the mutant crashed: ``mutation_runner``).
DETECTED = ("killed", "timeout", "segfault")


@dataclass
class Score:
    module: str
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)
    #: Listed as equivalent, yet killed.
    wrongly_listed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> str:
        """Detected mutants as a share of the non-equivalent ones."""
        relevant = sum(self.counts.values()) - self.counts["equivalent"]
        detected = sum(self.counts[status] for status in DETECTED)
        return f"{100 * detected / relevant:.1f}%" if relevant else "-"

    def line(self) -> str:
        parts = [f"{self.counts[k]} {k}" for k in ("killed", "survived", "equivalent")]
        others = sorted((k, n) for k, n in self.counts.items() if k not in ("killed", "survived", "equivalent"))
        parts += [f"{n} {k}" for k, n in others]
        timing = f", {self.seconds:.0f} s" if self.seconds else ""
        return (
            f"{self.module:<11} {sum(self.counts.values()):>4} mutants: {', '.join(parts)} (score {self.score}{timing})"
        )

    def markdown_row(self) -> str:
        """The module's row of the scores table in docs/mutation.md."""
        others = sum(n for k, n in self.counts.items() if k not in DETECTED and k not in ("survived", "equivalent"))
        cells = [
            self.module,
            sum(self.counts.values()),
            self.counts["killed"],
            self.counts["timeout"] + self.counts["segfault"],
            self.counts["survived"],
            self.counts["equivalent"],
            others,
            self.score,
        ]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


#: The header of the scores table (``--markdown``).
MARKDOWN_HEADER = (
    "| module | mutants | killed | timeout | survived | equivalent | not judged | score |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


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
        if name in equivalent and status == "survived":
            status = "equivalent"
        elif name in equivalent and status in DETECTED:
            found.wrongly_listed.append(name)  # a test tells it apart: the listing is wrong (or stale)
        elif status == "survived":
            found.survivors.append(name)
        found.counts[status] += 1
    return found


def mutmut(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "mutmut", *arguments], cwd=ROOT, check=False)


def prepare(*, stats: bool = True) -> None:
    """What ``mutmut run`` does before it runs a mutant: copy the sources and tests into
    ``mutants/``, generate the mutants of the files changed since and, with ``stats``,
    record which tests call which function (a traced run of the suite the first time, then
    only of new tests). Call it in a process of its own (``--prepare-only``): mutmut forks
    from the caller."""
    import mutmut.__main__ as cli
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
    from mutmut.workers.isolation import get_mutant_runner

    # mutmut's test runs fork from this process and import mutants/tests as `tests`: this
    # repository's `tests`, imported to run this script, must not shadow it.
    for loaded in [name for name in sys.modules if name == "tests" or name.startswith("tests.")]:
        del sys.modules[loaded]
    set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    cli.store_lines_covered_by_tests()
    cli.create_mutants(os.cpu_count() or 1)
    if stats:
        runner = get_mutant_runner(os.cpu_count() or 1)
        cli.collect_or_load_stats(runner, mutants_caught_by_type_checker={}, apply_config_invalidation=True)


def try_mutants(names: list[str], test_files: list[str]) -> int:
    """Run ``test_files`` (as they are now) under each mutant in ``names``, one pytest each,
    and print which kill it: the check that a new test kills the survivor it was written
    for. Exit status 1 if one survives."""
    missing = [name for name in test_files if not (ROOT / name.partition("::")[0]).is_file()]
    if missing or not test_files:
        raise SystemExit(f"--try needs test files that exist: {' '.join(missing) or 'none given'}")
    subprocess.run([sys.executable, "-m", "tests.support.mutate", "--generate-only"], cwd=ROOT, check=True)
    arguments = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    arguments += ["--hypothesis-profile=mutation", *test_files]

    def passes(mutant: str) -> bool:
        environment = {**os.environ, "MUTANT_UNDER_TEST": mutant}
        return subprocess.run(arguments, cwd=MUTANTS, env=environment, capture_output=True, check=False).returncode == 0

    if not passes(""):
        raise SystemExit(f"{' '.join(test_files)} fails without a mutant: fix that first")
    survivors = []
    for name in names:
        killed = not passes(name)
        print(f"{'killed  ' if killed else 'SURVIVED'} {name}")
        if not killed:
            survivors.append(name)
    return 1 if survivors else 0


def run_module(
    module: str, equivalent: dict[str, str], *, rerun: bool, workers: int, confirm: bool, unjudged_only: bool
) -> float:
    """Judge the module's mutants not detected yet (all with ``rerun``); the seconds taken.

    A survivor is judged again each time (a test written since may kill it now), unless it
    is listed as equivalent. The fast runner judges them all; a mutant it calls a survivor is
    run again by mutmut itself, whose verdict is the one kept (see ``mutation_runner``)."""
    pending = [
        name
        for name, code in results(module).items()
        # Listed equivalents too, once: a function changed since gets new mutants under old names.
        if rerun or code is None or (status_by_exit_code[code] not in DETECTED and name not in equivalent)
        if not (unjudged_only and code is not None)
    ]
    if not pending:
        return 0.0
    started = time.monotonic()
    print(f"{module}: judging {len(pending)} mutants")
    verdicts = mutation_runner.run(pending, workers=workers)
    survivors = [name for name, code in verdicts.items() if code == mutation_runner.SURVIVED]
    if survivors and confirm:
        print(f"{module}: {len(survivors)} survived; mutmut judges them again")
        mutmut("run", *survivors)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "modules",
        nargs="*",
        metavar="MODULE",
        help=f"default: all, smallest first ({' '.join(MODULES)}); with --try: test files",
    )
    parser.add_argument("--rerun", action="store_true", help="run every mutant again, not only those without a result")
    parser.add_argument("--report-only", action="store_true", help="run nothing: print the scores of what was run")
    parser.add_argument("--markdown", action="store_true", help="print the scores as the table in docs/mutation.md")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per CPU)"
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="generate the mutants and record the tests' stats, judge none"
    )
    parser.add_argument(
        "--unjudged-only",
        action="store_true",
        help="judge only the mutants without a verdict yet (not the survivors again)",
    )
    parser.add_argument(
        "--confirm-survivors",
        action="store_true",
        help="have mutmut judge again, in its own isolated run, each mutant the fast runner calls a survivor",
    )
    parser.add_argument("--generate-only", action="store_true", help="generate the mutants, record nothing, judge none")
    parser.add_argument(
        "--try",
        dest="try_mutants",
        metavar="MUTANT",
        action="append",
        help="run the TEST_FILEs given instead of modules under MUTANT (repeatable): does a new test kill it?",
    )
    options = parser.parse_args(argv)
    equivalent = equivalent_mutants()
    if options.prepare_only or options.generate_only:
        prepare(stats=options.prepare_only)
        return 0
    if options.try_mutants:
        return try_mutants(options.try_mutants, options.modules)
    unknown = [module for module in options.modules if module not in MODULES]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (one of: {' '.join(MODULES)})")
    if not options.report_only:
        # In a process of its own: mutmut's stats run forks, and this one must stay unforked.
        subprocess.run([sys.executable, "-m", "tests.support.mutate", "--prepare-only"], cwd=ROOT, check=True)
    scores = []
    for module in options.modules or MODULES:
        seconds = (
            0.0
            if options.report_only
            else run_module(
                module,
                equivalent,
                rerun=options.rerun,
                workers=options.workers,
                confirm=options.confirm_survivors,
                unjudged_only=options.unjudged_only,
            )
        )
        found = score(module, equivalent)
        found.seconds = seconds
        scores.append(found)
    print()
    if options.markdown:
        print(MARKDOWN_HEADER)
    for found in scores:
        print(found.markdown_row() if options.markdown else found.line())
    survivors = [name for found in scores for name in found.survivors]
    stale = sorted(set(equivalent) - {name for module in MODULES for name in results(module)})
    if stale:
        print(f"\n{EQUIVALENT_FILE.name} lists mutants mutmut no longer makes: {', '.join(stale)}")
    wrongly_listed = [name for found in scores for name in found.wrongly_listed]
    if wrongly_listed:
        print(f"\nListed in {EQUIVALENT_FILE.name}, yet killed (take them out, or the names are stale):")
        for name in wrongly_listed:
            print(f"  {name}    (mutmut show {name})")
    if survivors:
        print("\nSurvivors (kill them with a test, or list them as equivalent with a reason):")
        for name in survivors:
            print(f"  {name}    (mutmut show {name})")
    return 1 if survivors or wrongly_listed else 0


if __name__ == "__main__":
    sys.exit(main())
