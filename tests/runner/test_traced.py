"""trace_tests: traced re-runs, and the reliability check against the untraced run."""

from __future__ import annotations

import importlib.util

import pytest

from runner_helpers import quixbugs_task, write_project
from tracefix.server.runner import RunResult, TestOutcome, run_pytest, trace_tests
from tracefix.server.runner.traced import check_reliability
from tracefix.tracer.trace_format import Trace

HAS_RECORDER = importlib.util.find_spec("tracefix.tracer.pytest_trace") is not None
needs_recorder = pytest.mark.skipif(
    not HAS_RECORDER, reason="tracefix.tracer.pytest_trace (the recorder) is not importable yet"
)


def _run(outcomes: dict[str, str]) -> RunResult:
    return RunResult(
        outcomes={n: TestOutcome(n, o) for n, o in outcomes.items()}, collected=list(outcomes),
        exit_code=1, timed_out=False, stuck_at=None, output="", output_dropped=0,
        duration=0.0, command=[],
    )


def _trace(nodeid: str, outcome: str) -> Trace:
    return Trace(test_id=nodeid, outcome=outcome, root="/p", python="3.11.7",
                 backend="settrace", config={})


def test_same_outcome_stays_reliable():
    trace = _trace("t.py::a", "failed")
    check_reliability(trace, _run({"t.py::a": "failed"}), _run({"t.py::a": "failed"}))
    assert trace.reliable
    assert trace.notes == []


def test_different_outcome_marked_unreliable():
    trace = _trace("t.py::a", "passed")
    check_reliability(trace, _run({"t.py::a": "failed"}), _run({"t.py::a": "passed"}))
    assert not trace.reliable
    assert "differs from the untraced outcome (failed)" in trace.notes[0]


def test_unknown_trace_option_rejected(tmp_path, interpreter):
    with pytest.raises(ValueError, match="unknown trace option 'depth'"):
        run_pytest(str(tmp_path), [], interpreter=interpreter, timeout=10,
                   trace_dir=str(tmp_path / "t"), trace_options={"depth": 3})


@needs_recorder
def test_trace_quixbugs_failure(tmp_path, interpreter):
    root = quixbugs_task("gcd", tmp_path / "gcd")
    baseline = run_pytest(str(root), [], interpreter=interpreter, timeout=60)
    failing = baseline.failing()[:2]

    traced = trace_tests(str(root), failing, interpreter=interpreter, timeout=120,
                         baseline=baseline, trace_options={"k": 2})

    assert set(traced.traces) == set(failing)
    for nodeid, trace in traced.traces.items():
        assert trace.test_id == nodeid
        assert trace.reliable, trace.notes
        assert trace.config.get("k") == 2
        assert any(source.path.endswith("gcd.py") for source in trace.files)


@needs_recorder
def test_trace_differs_under_tracing(tmp_path, interpreter):
    """A test that fails only when a trace function is set gets an unreliable trace."""
    write_project(tmp_path, {"test_sneaky.py": """\
        import sys

        def test_sneaky():
            assert sys.gettrace() is None
        """})
    nodeid = "test_sneaky.py::test_sneaky"

    traced = trace_tests(str(tmp_path), [nodeid], interpreter=interpreter, timeout=60,
                         baseline=None, trace_options={"backend": "settrace"})

    assert traced.baseline.outcomes[nodeid].outcome == "passed"
    assert traced.traced.outcomes[nodeid].outcome == "failed"
    trace = traced.traces[nodeid]
    assert not trace.reliable
    assert "untraced outcome (passed)" in trace.notes[0]


@needs_recorder
def test_slowed_past_own_timeout_traced_again(tmp_path, interpreter):
    # The test passes in a fraction of a second untraced, but its own 2 s alarm fires when
    # every loop iteration is recorded. The retry records a short window only.
    root = write_project(tmp_path / "proj", {
        "work.py": """\
            def churn(n):
                total = 0
                for i in range(n):
                    total += i % 7
                return total
            """,
        "test_work.py": """\
            import signal

            from work import churn


            def _alarm(signum, frame):
                raise TimeoutError("own timeout")


            def test_churn_finishes_in_time():
                signal.signal(signal.SIGALRM, _alarm)
                signal.setitimer(signal.ITIMER_REAL, 2.0)
                try:
                    assert churn(3_000_000) > 0
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            """,
    })
    nodeid = "test_work.py::test_churn_finishes_in_time"
    baseline = run_pytest(str(root), [nodeid], interpreter=interpreter, timeout=60)
    assert baseline.outcomes[nodeid].outcome == "passed"

    traced = trace_tests(str(root), [nodeid], interpreter=interpreter, timeout=120,
                         baseline=baseline, trace_options={"max_events": 10_000_000})

    assert traced.traced.outcomes[nodeid].outcome == "failed"  # the first, full recording
    trace = traced.traces[nodeid]
    assert trace.reliable
    assert trace.budget is not None and trace.budget.kind == "seconds"
    assert any("recording stopped after" in note for note in trace.notes)
