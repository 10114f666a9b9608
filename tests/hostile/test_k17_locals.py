"""Kind 17: reading a frame's locals must not change the program.

On Python 3.11 and 3.12, `locals()`, `vars()` and `frame.f_locals` return one dict per
frame, and each read of `frame.f_locals` (by the program or by a tracer) refreshes it
from the frame's variables. A tracer that reads the locals of such a frame adds and
removes keys under the program's feet: iterating over `locals()` while binding new
names raises "dictionary changed size during iteration", and a name deleted after
`view = locals()` disappears from `view`. Python 3.13 (PEP 667) returns snapshots, so
there the locals can be read and recorded as usual.

The project tests fail with an assertion that shows what the code computed, so equal
failure messages traced and untraced mean equal computed values.
"""

from __future__ import annotations

import re

from hostile_helpers import lines_run, line_of, run_traced, values_at, write_project

LOCALS = {
    "names.py": '''
        import inspect
        import sys


        def iterate_locals(a=1, b=2):
            seen = []
            for name in locals():
                seen.append(name)
                extra = name.upper()
            return seen


        def iterate_vars(a=1):
            seen = []
            for name in vars():
                seen.append(name)
                extra = len(name)
            return seen


        def iterate_frame_locals(a=1):
            seen = []
            frame = sys._getframe()
            for name in frame.f_locals:
                seen.append(name)
                extra = name * 2
            return seen


        def iterate_current_frame(a=1):
            seen = []
            for name in inspect.currentframe().f_locals:
                seen.append(name)
                try:
                    int(name)
                except ValueError:
                    extra = name
            return seen


        def deleted_then_checked():
            x = 1
            view = locals()
            del x
            y = 2
            return sorted(view), "x" in locals(), "x" in view


        def plain(n):
            total = 0
            for i in range(n):
                total += i + 1
            return total
        ''',
    "test_names.py": '''
        from names import (deleted_then_checked, iterate_current_frame, iterate_frame_locals,
                           iterate_locals, iterate_vars, plain)

        def test_locals():
            assert iterate_locals() == []

        def test_vars():
            assert iterate_vars() == []

        def test_frame_locals():
            assert iterate_frame_locals() == []

        def test_current_frame():
            assert iterate_current_frame() == []

        def test_deleted():
            assert deleted_then_checked() == ()

        def test_plain_still_recorded():
            assert (plain(3), iterate_locals()) == ()
        ''',
}

FUNCTIONS = {
    "test_names.py::test_locals": "iterate_locals",
    "test_names.py::test_vars": "iterate_vars",
    "test_names.py::test_frame_locals": "iterate_frame_locals",
    "test_names.py::test_current_frame": "iterate_current_frame",
    "test_names.py::test_deleted": "deleted_then_checked",
}


def test_code_reading_its_locals_unchanged(tmp_path, any_python):
    root = write_project(tmp_path / "p", LOCALS)
    run = run_traced(root, any_python)
    for nodeid in (*FUNCTIONS, "test_names.py::test_plain_still_recorded"):
        baseline = run.baseline.outcomes[nodeid]
        assert baseline.outcome == "failed", baseline.message
        assert "dictionary changed size" not in baseline.message
        traced = run.traced.outcomes[nodeid]
        assert traced.outcome == "failed", nodeid
        # The same message means the code computed the same values.
        assert traced.message == baseline.message, nodeid
        trace = run.traces[nodeid]
        assert trace.reliable, trace.notes
        assert trace.budget is None, trace.budget


def test_frames_reading_locals_noted(tmp_path, any_python):
    root = write_project(tmp_path / "p", LOCALS)
    run = run_traced(root, any_python)
    live_locals = _version(run.traces["test_names.py::test_locals"].python) >= (3, 13)
    for nodeid, function in FUNCTIONS.items():
        trace = run.traces[nodeid]
        recorded = [f.function for f in trace.frames]
        noted = [note for note in trace.notes if re.search(rf"\b{function}\b", note)]
        if live_locals:
            # PEP 667: reading the locals changes nothing, so they are recorded.
            assert function in recorded, nodeid
            assert noted == [], trace.notes
        else:
            assert function not in recorded, nodeid
            assert len(noted) == 1, trace.notes
            assert "locals" in noted[0]

    # Other functions of the same test are still recorded with their values, and so is
    # the test function, although pytest's rewritten assert calls locals().
    trace = run.traces["test_names.py::test_plain_still_recorded"]
    assert "test_plain_still_recorded" in [f.function for f in trace.frames]
    add = line_of(root, "names.py", "total += i + 1")
    assert [v.get("total") for v in values_at(trace, root, "names.py", add)] == ["1", "3", "6"]
    assert add in lines_run(trace, root, "names.py")

    if live_locals:
        trace = run.traces["test_names.py::test_deleted"]
        deleted = line_of(root, "names.py", "del x")
        assert values_at(trace, root, "names.py", deleted) == [{"x": "<unbound>"}]


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)
