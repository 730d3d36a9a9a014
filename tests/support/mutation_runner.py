"""Run mutmut's mutants in long-lived pytest workers that switch mutants in-process.

Why a runner of our own: mutmut 3.8 forks a fresh worker for every mutant, and every worker
collects its tests again and starts its own jsii kernel (a node process that loads the cdk8s
assemblies): 4 to 15 mutants a minute on this machine, hours per module. But mutmut's
mutants are switched by a process-wide name (``set_mutant_under_test``) that every mutated
function reads at each call, so one pytest session that collected the tests once can run
thousands of mutants. What keeps that honest:

- a mutant runs only the tests mutmut recorded as calling its function (``mutmut-stats.json``),
  the mutated module's own test file first, then the fastest, stopping at the first failure;
- a kill is confirmed at once: the failing test runs again with no mutant and must pass. If
  it does not, the worker's state is suspect: the worker is replaced and the mutant retried
  in a fresh one (suspect twice: *suspicious*, never *killed*);
- each test runs under a time limit: when it runs out, the worker reports a *timeout* and
  ends (the parent starts another); outside, a watchdog replaces a worker that stops
  answering and records a *timeout*;
- ``functools`` caches of the library are cleared around each mutant, and a worker is
  replaced after ``RECYCLE`` mutants;
- a mutant this runner calls a survivor is judged again by ``mutmut run NAME`` (its own
  forked, isolated run, which also sees mutants of code that runs at import time): the
  verdict of record for a survivor is mutmut's (``tests/support/mutate.py`` does that).

Verdicts are written into mutmut's own result files (``mutants/prepuller/*.py.meta``) with
mutmut's exit codes, so ``mutmut results``, ``mutmut show`` and ``mutmut browse`` keep
working. The parent side is :func:`run`; ``python -m tests.support.mutation_runner --worker``
is the worker, started by :func:`run` from ``mutants/``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import tomllib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"

#: mutmut's exit codes (``mutmut.stats.status_by_exit_code``) for the verdicts given here.
SURVIVED, KILLED, NO_TESTS, SUSPICIOUS, TIMEOUT, CRASHED = 0, 1, 33, 35, 36, -9

#: A worker is replaced after this many mutants (the jsii kernel keeps every object made).
RECYCLE = 400
#: How many times a mutant is retried after its worker's state became suspect or it died.
RETRIES = 2
#: Replacements of a worker for suspect state, in one run, before the run gives up.
MAX_SUSPECT = 20


@dataclass
class Job:
    """One mutant and the tests to run against it, in order."""

    mutant: str
    tests: list[str]
    #: Seconds each test may take under the mutant before the mutant counts as a timeout.
    limits: list[float]

    @property
    def limit(self) -> float:
        """Seconds all the tests may take."""
        return sum(self.limits)

    def message(self) -> str:
        """The job as the worker reads it: one JSON line."""
        return json.dumps({"mutant": self.mutant, "tests": self.tests, "limits": self.limits}) + "\n"


def time_limit(duration: float) -> float:
    """The alarm for a test that took ``duration`` seconds in mutmut's (traced) run: generous,
    as the machine is shared and a mutant may make a test slower without hanging it; per
    test, so that a mutant that hangs the first, quick test is stopped in seconds."""
    return 10.0 + 10.0 * duration


#: A module whose tests are mostly in a file not named after it.
OWN_TEST_FILE = {"validation": "test_construct.py"}


def _test_order(
    test: str, *, own_file: str, edited: dict[str, float], durations: dict[str, float]
) -> tuple[bool, float, float, str]:
    return (
        not test.startswith(own_file + "::"),
        -edited.get(test.partition("::")[0], 0.0),
        durations.get(test, 0.0),
        test,
    )


def plan(
    mutants: Iterable[str], stats: dict[str, Any], edited: dict[str, float] | None = None
) -> tuple[list[Job], list[str]]:
    """The jobs for ``mutants`` (slowest-covered last) and the mutants no test calls.

    A mutant's tests run in this order: its module's own test file, then the test files
    edited last (``edited``: file -> modification time; a survivor judged again is most
    likely killed by a test written since), then the fastest."""
    tests_by_function: dict[str, list[str]] = stats["tests_by_mangled_function_name"]
    durations: dict[str, float] = stats["duration_by_test"]
    edited = edited or {}
    jobs, untested = [], []
    for mutant in mutants:
        function = mutant.partition("__mutmut_")[0]
        module = mutant.split(".")[1].lstrip("_")
        own_file = f"tests/{OWN_TEST_FILE.get(module, f'test_{module}.py')}"
        order = functools.partial(_test_order, own_file=own_file, edited=edited, durations=durations)
        tests = sorted(set(tests_by_function.get(function, ())), key=order)
        if tests:
            jobs.append(Job(mutant, tests, [time_limit(durations.get(test, 0.0)) for test in tests]))
        else:
            untested.append(mutant)
    jobs.sort(key=lambda job: job.limit)
    return jobs, untested


def pytest_arguments(test_files: Iterable[str]) -> list[str]:
    """The worker's pytest arguments: mutmut's configured ones (``[tool.mutmut]``), collecting
    only ``test_files``."""
    mutmut = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    return [
        "--rootdir=.",
        "-q",
        "--tb=native",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        *mutmut["pytest_add_cli_args"],
        *sorted(test_files),
    ]


# --- the parent side ---------------------------------------------------------------------


@dataclass
class Worker:
    """One worker process, with the pipes to hand it jobs and read its verdicts."""

    number: int
    process: subprocess.Popen[bytes]
    jobs: IO[str]
    verdicts: IO[str]
    ready: bool = False
    current: Job | None = None
    since: float = field(default_factory=time.monotonic)
    done: int = 0

    def give(self, job: Job) -> None:
        self.current, self.since = job, time.monotonic()
        self.jobs.write(job.message())
        self.jobs.flush()

    def stop(self, *, kill: bool = False) -> None:
        """Close the job pipe (the worker then tears down and exits); ``kill``: at once."""
        if kill:
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(BrokenPipeError):
            self.jobs.close()
        self.verdicts.close()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Results:
    """mutmut's per-file result files (``mutants/<path>.meta``), written as verdicts come."""

    def __init__(self) -> None:
        self.written = 0

    def record(self, mutant: str, exit_code: int, seconds: float | None = None) -> None:
        module = mutant.split(".")[1]
        path = MUTANTS / "prepuller" / f"{module}.py.meta"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["exit_code_by_key"][mutant] = exit_code
        if seconds is not None:
            meta["durations_by_key"][mutant] = seconds
        path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
        self.written += 1


def start_worker(number: int, test_files: list[str], log: Path) -> Worker:
    job_read, job_write = os.pipe()
    verdict_read, verdict_write = os.pipe()
    command = [
        sys.executable,
        "-m",
        "tests.support.mutation_runner",
        "--worker",
        f"--job-fd={job_read}",
        f"--verdict-fd={verdict_write}",
        "--",
        *pytest_arguments(test_files),
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=MUTANTS,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(job_read, verdict_write),
            start_new_session=True,  # its own process group: a kill takes its jsii kernel too
        )
    os.close(job_read)
    os.close(verdict_write)
    return Worker(number, process, os.fdopen(job_write, "w"), os.fdopen(verdict_read, "r"))


def run(mutants: list[str], *, workers: int, progress: bool = True) -> dict[str, int]:
    """Judge ``mutants`` (names mutmut generated in ``mutants/``) with ``workers`` workers;
    write each verdict into mutmut's result files and return ``mutant -> exit code``."""
    stats = json.loads((MUTANTS / "mutmut-stats.json").read_text(encoding="utf-8"))
    recorded = {test.partition("::")[0] for tests in stats["tests_by_mangled_function_name"].values() for test in tests}
    edited = {name: (ROOT / name).stat().st_mtime for name in recorded if (ROOT / name).exists()}
    jobs, untested = plan(mutants, stats, edited)
    results = Results()
    verdicts: dict[str, int] = {}
    for mutant in untested:
        results.record(mutant, NO_TESTS)
        verdicts[mutant] = NO_TESTS
    if not jobs:
        return verdicts
    test_files = sorted({test.partition("::")[0] for job in jobs for test in job.tests})
    log = MUTANTS / "mutation-workers.log"
    log.write_bytes(b"")
    queue: deque[Job] = deque(jobs)
    attempts: dict[str, int] = {}
    suspect = 0
    started, total = time.monotonic(), len(jobs)
    selector = selectors.DefaultSelector()
    pool: dict[int, Worker] = {}

    def spawn(number: int) -> None:
        worker = start_worker(number, test_files, log)
        pool[number] = worker
        selector.register(worker.verdicts, selectors.EVENT_READ, worker)

    def retire(worker: Worker, *, kill: bool = False) -> None:
        selector.unregister(worker.verdicts)
        worker.stop(kill=kill)
        del pool[worker.number]

    def retry(job: Job, why: str) -> None:
        attempts[job.mutant] = attempts.get(job.mutant, 0) + 1
        if attempts[job.mutant] > RETRIES:
            code = CRASHED if why == "died" else SUSPICIOUS
            results.record(job.mutant, code)
            verdicts[job.mutant] = code
        else:
            queue.appendleft(job)

    def feed(worker: Worker) -> None:
        if queue and worker.done < RECYCLE:
            worker.give(queue.popleft())
        else:
            worker.current = None
            retire(worker)
            if queue:
                spawn(worker.number)

    for number in range(min(workers, len(jobs))):
        spawn(number)
    while pool:
        for key, _ in selector.select(timeout=1.0):
            worker = key.data
            line = worker.verdicts.readline()
            if not line:  # the worker died
                job = worker.current
                retire(worker, kill=True)
                if not worker.ready:
                    raise SystemExit(f"a mutation worker could not start its tests: see {log}")
                if job is not None:
                    retry(job, "died")
                if queue:
                    spawn(worker.number)
                continue
            message = json.loads(line)
            if "ready" in message:
                worker.ready = True
                feed(worker)
            elif "suspect" in message:
                suspect += 1
                if suspect > MAX_SUSPECT:
                    raise SystemExit(
                        f"{suspect} times a test failed without a mutant right after a kill "
                        f"(last: {message['suspect']}): the suite is not isolated enough; see {log}"
                    )
                job = worker.current
                assert job is not None
                worker.current = None
                retire(worker)
                retry(job, "suspect")
                if queue:
                    spawn(worker.number)
            else:
                results.record(message["mutant"], message["exit_code"], message["seconds"])
                verdicts[message["mutant"]] = message["exit_code"]
                worker.done += 1
                feed(worker)
                if progress:
                    print(progress_line(len(verdicts) - len(untested), total, verdicts, started), end="\r", flush=True)
        now = time.monotonic()
        for worker in list(pool.values()):
            if worker.current is not None and now - worker.since > worker.current.limit + 120:
                job = worker.current
                retire(worker, kill=True)
                results.record(job.mutant, TIMEOUT)
                verdicts[job.mutant] = TIMEOUT
                if queue:
                    spawn(worker.number)
    if progress:
        print(progress_line(len(verdicts) - len(untested), total, verdicts, started))
    return verdicts


def progress_line(done: int, total: int, verdicts: dict[str, int], started: float) -> str:
    minutes = (time.monotonic() - started) / 60
    survived = sum(1 for code in verdicts.values() if code == SURVIVED)
    rate = done / minutes if minutes else 0.0
    return f"  {done}/{total} mutants, {survived} survived so far, {rate:.0f} a minute"


# --- the worker side ---------------------------------------------------------------------


def clear_library_caches() -> None:
    """Empty every ``functools`` cache of the library: a value computed under one mutant must
    not be served under the next (or under none)."""
    for name, module in list(sys.modules.items()):
        if name == "prepuller" or name.startswith("prepuller."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


class WorkerPlugin:
    """Replaces pytest's test loop: judge the mutants named on the job pipe, one by one."""

    def __init__(
        self,
        jobs: IO[str],
        verdicts: IO[str],
        *,
        mutated: Path | None = None,
        leave: Callable[[int], object] = os._exit,
    ) -> None:
        """``jobs``: one JSON job a line; ``verdicts``: where each verdict goes; ``mutated``: the
        directory the library must be imported from (default: anywhere); ``leave``: how the
        worker ends when a mutant runs out of time (default: at once, ``os._exit``)."""
        self.jobs = jobs
        self.verdicts = verdicts
        self.mutated = mutated
        self.leave = leave

    def send(self, message: dict[str, Any]) -> None:
        self.verdicts.write(json.dumps(message) + "\n")
        self.verdicts.flush()

    def pytest_runtestloop(self, session: Any) -> bool:
        if self.mutated is not None:
            import prepuller

            # What runs must be the mutants, not the installed package.
            assert Path(prepuller.__file__).resolve().is_relative_to(self.mutated), prepuller.__file__
        items = {item.nodeid: item for item in session.items}
        self.send({"ready": len(items)})
        for line in self.jobs:
            job = json.loads(line)
            tests = [
                (items[test], limit) for test, limit in zip(job["tests"], job["limits"], strict=True) if test in items
            ]
            verdict = self.judge(session, job["mutant"], tests)
            self.send(verdict)
            if "suspect" in verdict:
                break
        session._setupstate.teardown_exact(None)
        return True

    def judge(self, session: Any, mutant: str, tests: list[tuple[Any, float]]) -> dict[str, Any]:
        """Run ``tests`` (items, each with its time limit) under ``mutant`` up to the first that
        fails; the verdict, as sent to the parent."""
        from mutmut.mutation.trampoline import set_mutant_under_test

        if not tests:
            return {"mutant": mutant, "exit_code": NO_TESTS, "seconds": 0.0}
        started = time.monotonic()
        failed, running = None, ""

        def alarm(signum: int, frame: Any) -> None:
            # A test that ran out of time may be anywhere: in the library, in pytest formatting
            # a deep traceback, in the jsii kernel's pipe. No exception unwinds all of those
            # safely: the verdict is sent, and this worker ends (the parent starts another).
            seconds = round(time.monotonic() - started, 3)
            self.send({"mutant": mutant, "exit_code": TIMEOUT, "seconds": seconds, "test": running})
            self.leave(0)

        clear_library_caches()
        set_mutant_under_test(mutant)
        previous = signal.signal(signal.SIGALRM, alarm)
        try:
            for item, limit in tests:
                running = item.nodeid
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    if not passes(session, item):
                        failed = item
                        break
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
            set_mutant_under_test("")  # "": no mutant, also for the environment variable
            clear_library_caches()
        seconds = round(time.monotonic() - started, 3)
        if failed is None:
            return {"mutant": mutant, "exit_code": SURVIVED, "seconds": seconds}
        try:
            confirmed = passes(session, failed)
        except Exception:
            confirmed = False
        if not confirmed:
            return {"mutant": mutant, "suspect": failed.nodeid}
        return {"mutant": mutant, "exit_code": KILLED, "seconds": seconds, "test": failed.nodeid}


def passes(session: Any, item: Any) -> bool:
    """Run one test item again in this session; True if its setup, call and teardown passed.

    pytest runs each item once; running one again (as pytest-rerunfailures does) means
    tearing down first what the item does not share with the one before, and afterwards
    the item's own fixtures only (``nextitem=item.parent``), keeping module and session
    fixtures for the next."""
    from _pytest.runner import runtestprotocol

    session._setupstate.teardown_exact(item)
    reports = runtestprotocol(item, log=False, nextitem=item.parent)
    return not any(report.failed for report in reports)


def worker_main(job_fd: int, verdict_fd: int, arguments: list[str]) -> int:
    import pytest

    plugin = WorkerPlugin(os.fdopen(job_fd, "r"), os.fdopen(verdict_fd, "w"), mutated=Path.cwd() / "prepuller")
    return int(pytest.main(arguments, plugins=[plugin]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true", help="be a worker (started by run())")
    parser.add_argument("--job-fd", type=int)
    parser.add_argument("--verdict-fd", type=int)
    parser.add_argument("pytest_arguments", nargs="*")
    options = parser.parse_args(argv)
    if not options.worker:
        parser.error("only --worker: the parent side is tests/support/mutate.py")
    return worker_main(options.job_fd, options.verdict_fd, options.pytest_arguments)


if __name__ == "__main__":
    sys.exit(main())
