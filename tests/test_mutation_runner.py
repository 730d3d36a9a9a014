"""The fast mutation runner (`tests/support/mutation_runner.py`): which tests a mutant runs,
in what order, and how a worker judges a mutant in a pytest session it keeps."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

from tests.support import mutation_runner
from tests.support.mutation_runner import KILLED, NO_TESTS, SURVIVED, TIMEOUT, Job, WorkerPlugin, plan

pytest_plugins = ["pytester"]

STATS = {
    "tests_by_mangled_function_name": {
        "prepuller._pods.x_pod": [
            "tests/test_api.py::test_slow",
            "tests/test_pods.py::test_b",
            "tests/test_api.py::test_fast",
        ],
        "prepuller._keep.x_keep": ["tests/test_keep.py::test_k"],
    },
    "duration_by_test": {
        "tests/test_api.py::test_slow": 3.0,
        "tests/test_api.py::test_fast": 0.5,
        "tests/test_pods.py::test_b": 2.0,
        "tests/test_keep.py::test_k": 0.1,
    },
}


def test_a_mutant_runs_its_module_s_own_tests_first_then_the_fastest() -> None:
    jobs, untested = plan(["prepuller._pods.x_pod__mutmut_1", "prepuller._keep.x_keep__mutmut_2"], STATS)
    assert untested == []
    # Sorted by their time limit: keep's one quick test first.
    assert [job.mutant for job in jobs] == ["prepuller._keep.x_keep__mutmut_2", "prepuller._pods.x_pod__mutmut_1"]
    assert jobs[1].tests == [
        "tests/test_pods.py::test_b",
        "tests/test_api.py::test_fast",
        "tests/test_api.py::test_slow",
    ]
    assert jobs[1].limits == [10.0 + 10.0 * 2.0, 10.0 + 10.0 * 0.5, 10.0 + 10.0 * 3.0]
    assert jobs[0].limits == [10.0 + 10.0 * 0.1]


def test_after_its_own_file_a_mutant_runs_the_test_files_edited_last_first() -> None:
    edited = {"tests/test_api.py": 200.0, "tests/test_pods.py": 100.0}
    [job], _ = plan(["prepuller._pods.x_pod__mutmut_1"], STATS, edited)
    assert job.tests == ["tests/test_pods.py::test_b", "tests/test_api.py::test_fast", "tests/test_api.py::test_slow"]
    [job], _ = plan(
        ["prepuller._keep.x_pod__mutmut_1"],
        {
            **STATS,
            "tests_by_mangled_function_name": {
                "prepuller._keep.x_pod": STATS["tests_by_mangled_function_name"]["prepuller._pods.x_pod"]
            },
        },
        edited,
    )
    assert job.tests == ["tests/test_api.py::test_fast", "tests/test_api.py::test_slow", "tests/test_pods.py::test_b"]


def test_validation_s_own_tests_are_the_construct_s() -> None:
    stats = {
        **STATS,
        "tests_by_mangled_function_name": {
            "prepuller._validation.x_v": ["tests/test_a.py::t", "tests/test_construct.py::t"]
        },
    }
    [job], _ = plan(["prepuller._validation.x_v__mutmut_1"], stats)
    assert job.tests == ["tests/test_construct.py::t", "tests/test_a.py::t"]


def test_a_mutant_of_a_function_no_test_calls_is_reported_untested() -> None:
    jobs, untested = plan(["prepuller._status.x_other__mutmut_1"], STATS)
    assert (jobs, untested) == ([], ["prepuller._status.x_other__mutmut_1"])


TESTS = """
    import os, time
    import pytest

    SETUPS = []

    @pytest.fixture(scope="module")
    def shared():
        SETUPS.append("up")
        yield SETUPS
        SETUPS.append("down")

    def mutant():
        return os.environ.get("MUTANT_UNDER_TEST", "")

    def test_sees_no_mutant_of_its_own(shared):
        assert mutant() != "prepuller._m.x_f__mutmut_1"

    def test_slow_under_a_mutant():
        if mutant() == "prepuller._m.x_f__mutmut_2":
            time.sleep(30)

    def test_fails_from_its_second_run_on():
        SETUPS.append("run")
        assert SETUPS.count("run") < 2

    def test_the_module_fixture_is_kept_between_runs(shared):
        assert shared.count("up") == 1
"""


def leave(code: int) -> None:
    """The worker's exit on a timeout, in a test: end the pytest session (not the process)."""
    pytest.exit(f"the worker would exit with {code}")


def judge(pytester: pytest.Pytester, *jobs: Job) -> list[dict[str, object]]:
    """Run a worker over ``jobs`` in a pytest session of TESTS; its verdicts."""
    pytester.makepyfile(test_module=textwrap.dedent(TESTS))
    lines = "".join(job.message() for job in jobs)
    verdicts = io.StringIO()
    pytester.inline_run("-p", "no:randomly", plugins=[WorkerPlugin(io.StringIO(lines), verdicts, leave=leave)])
    return [json.loads(line) for line in verdicts.getvalue().splitlines()]


def without_seconds(verdict: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in verdict.items() if key != "seconds"}


KEPT = "test_module.py::test_the_module_fixture_is_kept_between_runs"


def test_a_mutant_a_test_fails_on_is_killed_and_the_test_passes_again_without_it(pytester: pytest.Pytester) -> None:
    killing = "test_module.py::test_sees_no_mutant_of_its_own"
    verdicts = judge(
        pytester,
        Job("prepuller._m.x_f__mutmut_1", [killing, KEPT], [10, 10]),
        Job("prepuller._m.x_f__mutmut_3", [killing, KEPT], [10, 10]),
        Job("prepuller._m.x_f__mutmut_4", ["test_module.py::not_collected"], [10]),
    )
    assert verdicts[0] == {"ready": 4}
    assert without_seconds(verdicts[1]) == {
        "mutant": "prepuller._m.x_f__mutmut_1",
        "exit_code": KILLED,
        "test": killing,
    }
    # Run three times (killed, confirmed, then under mutant 3), the module fixture set up once.
    assert without_seconds(verdicts[2]) == {"mutant": "prepuller._m.x_f__mutmut_3", "exit_code": SURVIVED}
    assert without_seconds(verdicts[3]) == {"mutant": "prepuller._m.x_f__mutmut_4", "exit_code": NO_TESTS}


def test_a_mutant_that_outlasts_a_test_s_limit_is_a_timeout(pytester: pytest.Pytester) -> None:
    """Each test has its own limit: the slow one's 1 s applies, not the 61 s of both. The
    worker reports the timeout and ends (a test that ran out of time may have been anywhere)."""
    slow = "test_module.py::test_slow_under_a_mutant"
    [_, verdict] = judge(
        pytester,
        Job("prepuller._m.x_f__mutmut_2", ["test_module.py::test_sees_no_mutant_of_its_own", slow], [60, 1.0]),
        Job("prepuller._m.x_f__mutmut_3", [slow], [60]),  # never judged: the worker ended
    )
    assert without_seconds(verdict) == {"mutant": "prepuller._m.x_f__mutmut_2", "exit_code": TIMEOUT, "test": slow}
    assert isinstance(verdict["seconds"], float) and 1.0 <= verdict["seconds"] < 10


def test_a_kill_the_clean_rerun_does_not_confirm_makes_the_worker_suspect_and_stop(pytester: pytest.Pytester) -> None:
    flaky = "test_module.py::test_fails_from_its_second_run_on"
    verdicts = judge(
        pytester,
        Job("prepuller._m.x_f__mutmut_5", [flaky], [10]),  # passes its first run: survives
        Job("prepuller._m.x_f__mutmut_6", [flaky], [10]),  # fails, and fails again clean: suspect
        Job("prepuller._m.x_f__mutmut_7", [flaky], [10]),  # never run: the worker stopped
    )
    assert [without_seconds(v) for v in verdicts[1:]] == [
        {"mutant": "prepuller._m.x_f__mutmut_5", "exit_code": SURVIVED},
        {"mutant": "prepuller._m.x_f__mutmut_6", "suspect": flaky},
    ]


def test_time_limits_are_generous_and_per_test() -> None:
    assert mutation_runner.time_limit(0.0) == 10.0
    assert mutation_runner.time_limit(2.0) == 30.0
