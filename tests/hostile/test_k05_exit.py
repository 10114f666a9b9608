"""Kind 5: tests that call `sys.exit` or `os._exit`. The test is reported as crashed and
the other tests still run and are reported, traced and untraced."""

from __future__ import annotations

from hostile_helpers import line_of, run_traced, write_project

PROJECT = {
    "calc.py": '''
        import os
        import sys

        def half(n):
            if n % 2:
                sys.exit(3)
            return n // 2

        def leave(code):
            os._exit(code)
        ''',
    "test_calc.py": '''
        from calc import half, leave

        def test_before():
            assert half(4) == 3

        def test_sys_exit():
            assert half(5) == 2

        def test_os_exit():
            leave(0)

        def test_after():
            assert half(8) == 5

        def test_last_passes():
            assert half(2) == 1
        ''',
}


def test_exit_reported_as_crash_and_later_tests_run(tmp_path, python):
    root = write_project(tmp_path / "p", PROJECT)
    run = run_traced(root, python)
    expected = {
        "test_calc.py::test_before": "failed",
        "test_calc.py::test_sys_exit": "crashed",
        "test_calc.py::test_os_exit": "crashed",
        "test_calc.py::test_after": "failed",
        "test_calc.py::test_last_passes": "passed",
    }
    for result in (run.baseline, run.traced):
        assert {n: o.outcome for n, o in result.outcomes.items()} == expected, result.output
    assert run.baseline.outcomes["test_calc.py::test_sys_exit"].message == \
        "the test called sys.exit(3)"
    assert "exited with code 0" in run.baseline.outcomes["test_calc.py::test_os_exit"].message

    # The sys.exit test has a trace that ends on the exit line, with the same outcome.
    exited = run.traces["test_calc.py::test_sys_exit"]
    assert exited.outcome == "crashed" and exited.reliable, exited.notes
    assert exited.failure.exc_type == "SystemExit"
    assert exited.failure.line == line_of(root, "calc.py", "sys.exit(3)")
    # The test after os._exit ran in a new process, and was traced there.
    after = run.traces["test_calc.py::test_after"]
    assert after.outcome == "failed" and after.reliable
    assert "assert 4 == 5" in after.failure.message
    # A process that left with os._exit writes no trace, and none is made up for it.
    assert "test_calc.py::test_os_exit" not in run.traces
