"""Kind 6: a test that hangs in a Python loop, and one that hangs inside a C call where
signal handlers never run. The watchdog outside the test process reports both as timed
out, with the line where each was stuck, and the tests after them still run."""

from __future__ import annotations

from hostile_helpers import line_of, run_traced, write_project

PROJECT = {
    "spin.py": '''
        import collections
        import itertools
        import signal

        def python_loop():
            n = 0
            while n >= 0:
                n += 1

        def c_loop():
            # deque(maxlen=0) drains the endless iterator in C while holding the GIL:
            # Python signal handlers (pytest-timeout's SIGALRM, Ctrl+C) never run.
            signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError()))
            signal.alarm(1)
            collections.deque(itertools.count(), maxlen=0)
        ''',
    "test_spin.py": '''
        from spin import c_loop, python_loop

        def test_python_loop():
            python_loop()

        def test_c_loop():
            c_loop()

        def test_after():
            assert 1 + 1 == 3
        ''',
}


def test_hangs_time_out_with_the_stuck_line(tmp_path, python):
    root = write_project(tmp_path / "p", PROJECT)
    run = run_traced(root, python, timeout=8)
    loop_line = line_of(root, "spin.py", "n += 1")
    c_line = line_of(root, "spin.py", "collections.deque(itertools.count(), maxlen=0)")
    for result in (run.baseline, run.traced):
        outcomes = {n: o.outcome for n, o in result.outcomes.items()}
        assert outcomes == {"test_spin.py::test_python_loop": "timeout",
                            "test_spin.py::test_c_loop": "timeout",
                            "test_spin.py::test_after": "failed"}, result.output
        stuck = result.outcomes["test_spin.py::test_python_loop"]
        # faulthandler names the line being run when the dump was taken: the loop's
        # condition or its body.
        assert stuck.crash_path == str(root / "spin.py")
        assert stuck.crash_line in (loop_line - 1, loop_line), stuck.message
        in_c = result.outcomes["test_spin.py::test_c_loop"]
        assert (in_c.crash_path, in_c.crash_line) == (str(root / "spin.py"), c_line)
        assert f"stuck at {root / 'spin.py'}:{c_line}" in in_c.message
    # The test after both hangs ran, and was traced.
    assert run.traces["test_spin.py::test_after"].outcome == "failed"
