"""Kind 4: a test that forks (`os.fork`, multiprocessing with the fork, spawn and default
start methods), with a child that leaves with `os._exit` and one that returns into the
test code and so into pytest. The parent's outcome, report and trace are those of the
untraced run, the child writes neither, and the trace notes that a child ran untraced."""

from __future__ import annotations

import json
from pathlib import Path

from hostile_helpers import line_of, lines_run, run_traced, values_at, write_project

from tracefix.server.runner.pytest_run import REPORT_NAME

FORKS = {
    "forks.py": '''
        import multiprocessing
        import os

        def compute(n):
            total = 0
            for i in range(n):
                total += i
            return total

        def fork_and_exit(n):
            pid = os.fork()
            if pid == 0:
                compute(n + 100)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            return compute(n), os.waitstatus_to_exitcode(status)

        def fork_and_return(n):
            pid = os.fork()
            value = compute(n)
            if pid:
                os.waitpid(pid, 0)  # only the parent waits
            return pid, value

        def child_job(n, queue):
            queue.put(compute(n))

        def in_process(method, n):
            context = multiprocessing.get_context(method)
            queue = context.Queue()
            process = context.Process(target=child_job, args=(n, queue))
            process.start()
            got = queue.get(timeout=60)
            process.join(60)
            return got, process.exitcode
        ''',
    "test_forks.py": '''
        from forks import compute, fork_and_exit, fork_and_return, in_process

        def test_fork_exit():
            assert fork_and_exit(5) == (10, 1)

        def test_multiprocessing_fork():
            assert in_process("fork", 4) == (6, 1)

        def test_multiprocessing_default():
            assert in_process(None, 4) == (6, 1)

        def test_multiprocessing_spawn():
            assert in_process("spawn", 4) == (6, 1)

        def test_child_returns():
            # The child returns into pytest: it fails this test and runs the session's
            # remaining tests on its own, as it would without tracefix.
            pid, value = fork_and_return(3)
            assert pid != 0

        def test_after_child_returned():
            assert compute(2) == 0
        ''',
}

FORKED = "child process(es) while recording"


def _report_lines(run) -> list[dict]:
    report = Path(run.traced.run_dir) / REPORT_NAME
    return [json.loads(line) for line in report.read_text().splitlines()]


def test_forked_children_write_nothing(tmp_path, any_python):
    root = write_project(tmp_path / "p", FORKS)
    run = run_traced(root, any_python)

    expected = {
        "test_forks.py::test_fork_exit": "failed",
        "test_forks.py::test_multiprocessing_fork": "failed",
        "test_forks.py::test_multiprocessing_default": "failed",
        "test_forks.py::test_multiprocessing_spawn": "failed",
        "test_forks.py::test_child_returns": "passed",
        "test_forks.py::test_after_child_returned": "failed",
    }
    for nodeid, outcome in expected.items():
        assert run.baseline.outcomes[nodeid].outcome == outcome, nodeid
        assert run.traced.outcomes[nodeid].outcome == outcome, nodeid
    failing = [nodeid for nodeid, outcome in expected.items() if outcome == "failed"]
    for nodeid in failing:
        trace = run.traces[nodeid]
        assert trace.outcome == "failed" and trace.reliable, (nodeid, trace.notes)
        assert trace.budget is None

    # Only the parent wrote the report: one call result per test.
    calls = [event["nodeid"] for event in _report_lines(run)
             if event.get("event") == "result" and event.get("when") == "call"]
    assert sorted(calls) == sorted(expected)
    assert run.baseline.exit_code == run.traced.exit_code == 1

    # The parent's own call of compute is recorded, the child's (n + 100) is not.
    total = line_of(root, "forks.py", "total += i")
    fork_exit = run.traces["test_forks.py::test_fork_exit"]
    assert [v.get("total") for v in values_at(fork_exit, root, "forks.py", total)] == \
        [None, "1", "3", "6", "10"]
    assert "(10, 0) == (10, 1)" in fork_exit.failure.message
    assert any(FORKED in note for note in fork_exit.notes), fork_exit.notes

    forked_pool = run.traces["test_forks.py::test_multiprocessing_fork"]
    # child_job ran only in the child, so it is not in the parent's trace.
    assert "child_job" not in {frame.function for frame in forked_pool.frames}
    assert any(FORKED in note for note in forked_pool.notes), forked_pool.notes
    spawned = run.traces["test_forks.py::test_multiprocessing_spawn"]
    assert "child_job" not in {frame.function for frame in spawned.frames}


def test_child_returning_into_pytest(tmp_path, any_python):
    root = write_project(tmp_path / "p", FORKS)
    nodeid = "test_forks.py::test_child_returns"
    run = run_traced(root, any_python, [nodeid, "test_forks.py::test_after_child_returned"])

    assert run.baseline.outcomes[nodeid].outcome == "passed"
    assert run.traced.outcomes[nodeid].outcome == "passed"
    assert run.traced.outcomes[nodeid].message == ""
    calls = [event["nodeid"] for event in _report_lines(run)
             if event.get("event") == "result" and event.get("when") == "call"]
    assert calls == [nodeid, "test_forks.py::test_after_child_returned"]
    # Only the parent wrote traces: one index line per traced test.
    index = Path(run.traced.traces[nodeid]).parent / "index.jsonl"
    written = [json.loads(line)["nodeid"] for line in index.read_text().splitlines()]
    assert sorted(written) == sorted(run.traces)
    trace = run.traces[nodeid]
    assert trace.outcome == "passed" and trace.reliable, trace.notes
    # The parent's trace, not the child's: only the parent waited for the child.
    waitpid = line_of(root, "forks.py", "only the parent waits")
    assert waitpid in lines_run(trace, root, "forks.py")
    assert any(FORKED in note for note in trace.notes), trace.notes
    after = run.traces["test_forks.py::test_after_child_returned"]
    assert after.outcome == "failed" and not any(FORKED in note for note in after.notes)
