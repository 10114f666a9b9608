"""Kind 10: code under test that replaces or clears the trace function, as coverage
tools, debuggers and tracing libraries do. The tracer detects it, records where recording
stopped, and leaves the trace function in the state the test chose; the trace function
that was there before the test is restored when the test did not replace it."""

from __future__ import annotations

from hostile_helpers import line_of, lines_run, run_traced, write_project
from tracefix.server.i18n import note_text
from tracefix.server.lsp.convert import trace_warnings
from tracefix.server.lsp.results import ShownTrace
from tracefix.server.lsp.trace_index import TraceIndex
from tracefix.server.runner import run_pytest

PROJECT = {
    "conftest.py": '''
        import sys

        def session_tracer(frame, event, arg):
            return None

        # Like a coverage tool started before the tests.
        sys.settrace(session_tracer)
        ''',
    "tracing.py": '''
        import sys

        def user_tracer(frame, event, arg):
            return None

        def replace():
            before = 1
            sys.settrace(user_tracer)
            replaced = before + 1
            return replaced

        def clear():
            before = 1
            sys.settrace(None)
            cleared = before + 2
            return cleared
        ''',
    "test_tracing.py": '''
        import sys
        import conftest
        import tracing

        def test_keeps_the_session_tracer():
            assert sys.gettrace() is conftest.session_tracer

        def test_replace():
            assert tracing.replace() == 0

        def test_sees_the_user_tracer():
            assert sys.gettrace() is tracing.user_tracer

        def test_clear():
            assert tracing.clear() == 0

        def test_sees_no_tracer():
            assert sys.gettrace() is None
        ''',
}


def test_replaced_tracer_detected_and_left_as_the_test_set_it(tmp_path, any_python):
    root = write_project(tmp_path / "p", PROJECT)
    # The tests that look at sys.gettrace() are not traced: on the settrace backend they
    # would see the recorder's trace function (see the last assertion).
    traced_ids = ["test_tracing.py::test_keeps_the_session_tracer",
                  "test_tracing.py::test_replace", "test_tracing.py::test_clear"]
    run = run_traced(root, any_python, traced_ids)
    expected = {
        "test_tracing.py::test_keeps_the_session_tracer": "passed",
        "test_tracing.py::test_replace": "failed",
        "test_tracing.py::test_sees_the_user_tracer": "passed",
        "test_tracing.py::test_clear": "failed",
        "test_tracing.py::test_sees_no_tracer": "passed",
    }
    assert {n: o.outcome for n, o in run.baseline.outcomes.items()} == expected
    inspecting = run.traces["test_tracing.py::test_keeps_the_session_tracer"]
    if inspecting.backend == "settrace":
        # A test that inspects sys.gettrace() gets the recorder's function: its outcome changes, and
        # the trace is marked unreliable instead of being shown as what happened.
        expected["test_tracing.py::test_keeps_the_session_tracer"] = "failed"
        assert not inspecting.reliable
        assert "differs from the untraced outcome (passed)" in " ".join(inspecting.notes)
    else:
        assert inspecting.reliable
    # The whole file, recording only those three: the tests after test_replace and
    # test_clear find the trace function those tests left, as without tracefix.
    whole = run_pytest(str(root), [], interpreter=any_python, timeout=60,
                       trace_dir=str(tmp_path / "traces"), trace_only=traced_ids)
    assert {n: o.outcome for n, o in whole.outcomes.items()} == expected, whole.output
    assert set(whole.traces) == set(traced_ids)
    replaced = run.traces["test_tracing.py::test_replace"]
    cleared = run.traces["test_tracing.py::test_clear"]
    if replaced.backend == "settrace":
        # sys.settrace replaced the recorder: recording stopped at that line, and the budget names it.
        for trace, marker, detail in ((replaced, "return replaced", "replaced"),
                                      (cleared, "sys.settrace(None)", "removed")):
            assert trace.reliable
            assert trace.budget is not None and trace.budget.kind == "tracer-replaced"
            assert detail in trace.budget.detail
            # Named at the first line where the recorder could see it.
            assert trace.files[trace.budget.file].path == str(root / "tracing.py")
            assert trace.budget.line == line_of(root, "tracing.py", marker)
        # The reason survives the trace file, and the hover shows it in the user's language.
        hover_ja = trace_warnings(ShownTrace(replaced.test_id, TraceIndex(replaced), ""), "ja")
        assert any("テストがトレース関数を function に置き換えました" in w for w in hover_ja), hover_ja
        assert "トレース関数が外されました" in note_text(cleared.budget.detail, "ja")
    else:
        # sys.monitoring is separate from sys.settrace: recording goes on past the call.
        for trace, marker in ((replaced, "replaced = before + 1"), (cleared, "cleared = before + 2")):
            assert trace.reliable and trace.budget is None
            assert line_of(root, "tracing.py", marker) in lines_run(trace, root, "tracing.py")


MONITORING_USER = {
    "test_tools.py": '''
        import sys
        import pytest

        @pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
        def test_claims_the_standard_tool_ids():
            # What coverage.py and debuggers do when a test starts them.
            monitoring = sys.monitoring
            for tool in (monitoring.COVERAGE_ID, monitoring.DEBUGGER_ID,
                         monitoring.PROFILER_ID):
                monitoring.use_tool_id(tool, "the test's own tool")
                monitoring.free_tool_id(tool)
        ''',
}


def test_standard_monitoring_tools_stay_free_for_the_test(tmp_path, any_python):
    root = write_project(tmp_path / "p", MONITORING_USER)
    nodeid = "test_tools.py::test_claims_the_standard_tool_ids"
    plain = run_pytest(str(root), [], interpreter=any_python, timeout=60)
    expected = plain.outcomes[nodeid].outcome
    assert expected in ("passed", "skipped")
    # Coverage (the runner's spectrum run) and recording hold tool ids while the test runs.
    with_coverage = run_pytest(str(root), [], interpreter=any_python, timeout=60,
                               coverage=True)
    assert with_coverage.outcomes[nodeid].outcome == expected, with_coverage.output
    run = run_traced(root, any_python)
    assert run.traced.outcomes[nodeid].outcome == expected, run.traced.output
