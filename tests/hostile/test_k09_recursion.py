"""Kind 9: deep recursion, and a RecursionError that the code under test catches.

Recursion below the limit is recorded frame by frame. Recursion that reaches the
limit stops recording a fixed number of frames short of it. Past that point each
trace callback could itself raise RecursionError, and then CPython removes the trace
function (settrace) or the error surfaces in the program (sys.monitoring). The trace
must record exactly where recording stopped and that the rest of the test ran
unrecorded, and the test must end as it does untraced.
"""

from __future__ import annotations

from hostile_helpers import hits, lines_run, line_of, run_traced, values_at, write_project

RECURSION = {
    "deep.py": '''
        def depth(n):
            if n == 0:
                return 0
            below = depth(n - 1)
            return below + 1


        def forever(n):
            return forever(n + 1)


        def survive():
            try:
                forever(0)
            except RecursionError:
                caught = True
            after = 1
            after += 1
            return caught, after
        ''',
    "test_deep.py": '''
        from deep import depth, survive

        def test_deep_below_limit():
            assert depth(900) == 0

        def test_caught_recursion_error():
            assert survive() == (True, 0)
        ''',
}


def test_deep_recursion_fully_recorded(tmp_path, any_python):
    root = write_project(tmp_path / "p", RECURSION)
    run = run_traced(root, any_python, test_ids=["test_deep.py::test_deep_below_limit"])
    nodeid = "test_deep.py::test_deep_below_limit"
    assert run.baseline.outcomes[nodeid].outcome == "failed"
    assert run.traced.outcomes[nodeid].message == run.baseline.outcomes[nodeid].message
    trace = run.traces[nodeid]
    assert trace.reliable, trace.notes
    assert trace.budget is None, trace.budget

    # Every activation was recorded; loop compression keeps the frames of the first
    # and last k hits of each line.
    calls = [c for c in trace.calls if c.function == "depth"]
    assert [c.calls for c in calls] == [901]
    k = trace.config["k"]
    recurse = line_of(root, "deep.py", "below = depth(n - 1)")
    assert hits(trace, root, "deep.py", recurse) == 900
    add = line_of(root, "deep.py", "return below + 1")
    assert hits(trace, root, "deep.py", add) == 900
    assert len(values_at(trace, root, "deep.py", add)) == 2 * k
    # The last return to finish is the outermost call's.
    assert values_at(trace, root, "deep.py", add)[-1] == {"__return__": "900"}
    frames = sorted((f for f in trace.frames if f.function == "depth"), key=lambda f: f.depth)
    assert frames[0].args == {"n": "900"}
    assert frames[0].returned == "900"
    assert frames[-1].depth == frames[0].depth + 900
    assert frames[-1].args == {"n": "0"}
    assert frames[-1].returned == "0"


def test_caught_recursion_error_marks_stop(tmp_path, any_python):
    root = write_project(tmp_path / "p", RECURSION)
    run = run_traced(root, any_python, test_ids=["test_deep.py::test_caught_recursion_error"])
    nodeid = "test_deep.py::test_caught_recursion_error"
    baseline = run.baseline.outcomes[nodeid]
    assert baseline.outcome == "failed"
    assert "(True, 2) == (True, 0)" in baseline.message
    assert run.traced.outcomes[nodeid].message == baseline.message
    trace = run.traces[nodeid]
    assert trace.reliable, trace.notes

    # Recording stopped at the recursive call, in the deepest recorded frame.
    budget = trace.budget
    assert budget is not None and budget.kind == "recursion", budget
    assert trace.files[budget.file].path.endswith("deep.py")
    call = line_of(root, "deep.py", "return forever(n + 1)")
    assert budget.line == call
    assert "not recorded" in budget.detail
    deepest = max(f.depth for f in trace.frames if f.function == "forever")
    assert budget.step == max(s.index for s in trace.steps)
    assert trace.steps[-1].line == call
    assert trace.steps[-1].frame == next(
        f.id for f in trace.frames if f.function == "forever" and f.depth == deepest)

    # The lines after the caught error ran unrecorded; the trace shows none of them.
    after = line_of(root, "deep.py", "after += 1")
    assert after not in lines_run(trace, root, "deep.py")
