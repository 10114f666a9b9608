"""Re-run failing tests with the tracer on, and check the traces against an untraced run.

Recording changes timing and adds frames, so a test can behave differently under the
tracer: a timeout that now fires, a recursion limit now hit, code that inspects
`sys.gettrace()`. A trace whose test ended differently from the untraced run is marked
`reliable = False` with a note, and callers must not present it as what happened.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from tracefix.tracer.notes import note
from tracefix.tracer.trace_format import Trace, TraceFormatError, read_trace

from .interpreter import Interpreter, find_interpreter
from .outcomes import leak_notes
from .paths import new_run_dir
from .pytest_run import RunResult, run_pytest

logger = logging.getLogger(__name__)

# Shortest recording window, in seconds, when a test is traced again (see trace_tests).
RETRY_WINDOW_MIN = 0.25


@dataclass
class TracedRun:
    traces: dict[str, Trace]  # nodeid -> trace; tests without a readable trace are absent
    baseline: RunResult  # the untraced run
    traced: RunResult  # the run with the tracer on


def _outcome_of(run: RunResult, nodeid: str) -> str | None:
    outcome = run.outcomes.get(nodeid)
    return outcome.outcome if outcome is not None else None


def check_reliability(trace: Trace, baseline: RunResult, traced: RunResult) -> None:
    """Mark `trace` unreliable when its test did not end as in the untraced run."""
    nodeid = trace.test_id
    expected = _outcome_of(baseline, nodeid)
    seen = {"trace": trace.outcome, "report": _outcome_of(traced, nodeid)}
    for where, outcome in seen.items():
        if outcome is None or outcome == expected:
            continue
        trace.reliable = False
        trace.notes.append(note(f"trace.note.outcome_differs.{where}", outcome=outcome, expected=expected))


def _duration(run: RunResult, nodeid: str) -> float:
    outcome = run.outcomes.get(nodeid)
    return outcome.duration if outcome is not None else 0.0


def _record(
    root: str,
    test_ids: list[str],
    interpreter: Interpreter,
    timeout: float,
    baseline: RunResult,
    trace_options: Mapping[str, Any] | None,
    env: Mapping[str, str] | None,
) -> tuple[dict[str, Trace], RunResult]:
    """Run `test_ids` with the tracer on and read back each trace, checked against `baseline`."""
    trace_dir = os.path.join(new_run_dir(root), "traces")
    traced = run_pytest(
        root, test_ids, interpreter=interpreter, timeout=timeout, trace_dir=trace_dir,
        trace_only=test_ids, trace_options=trace_options, env=env,
    )
    traces: dict[str, Trace] = {}
    for nodeid, path in traced.traces.items():
        try:
            trace = read_trace(path)
        except (OSError, TraceFormatError, KeyError, TypeError) as exc:
            logger.warning("cannot read the trace of %s from %s: %s", nodeid, path, exc)
            continue
        check_reliability(trace, baseline, traced)
        outcome = traced.outcomes.get(nodeid)
        if outcome is not None and outcome.leak:
            trace.notes.extend(leak_notes(outcome.leak))
        traces[nodeid] = trace
    return traces, traced


def trace_tests(
    root: str,
    test_ids: Iterable[str],
    *,
    interpreter: Interpreter | None,
    timeout: float,
    baseline: RunResult | None = None,
    trace_options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> TracedRun:
    """Trace the tests `test_ids` (node ids) and compare their outcomes with untraced ones.

    Without a `baseline`, the tests are first run untraced. `timeout` bounds each of
    the two runs, in seconds. `trace_options` sets the tracer's k, max_events,
    max_bytes, max_seconds and backend.
    """
    test_ids = list(test_ids)
    root = os.path.abspath(root)
    if interpreter is None:
        interpreter = find_interpreter(root)
    if baseline is None:
        baseline = run_pytest(root, test_ids, interpreter=interpreter, timeout=timeout, env=env)

    traces, traced = _record(root, test_ids, interpreter, timeout, baseline, trace_options, env)

    # A test can end differently just because recording slowed it down, e.g. past the
    # test's own timeout. Those tests are traced again with a recording window a little
    # longer than their untraced run: the trace then covers the start of the test and the
    # rest runs at full speed. The retry's trace replaces the first one only if it is
    # reliable, so a difference that has another cause stays visible.
    retry = [nodeid for nodeid, trace in traces.items() if not trace.reliable]
    if retry:
        window = max(RETRY_WINDOW_MIN, max(_duration(baseline, n) for n in retry) * 2)
        options = dict(trace_options or {})
        options["max_seconds"] = min(window, float(options.get("max_seconds") or window))
        logger.info("re-tracing %d test(s) whose outcome changed under the tracer, "
                    "recording for at most %.2f s: %s", len(retry), window, ", ".join(retry))
        again, _ = _record(root, retry, interpreter, timeout, baseline, options, env)
        for nodeid, trace in again.items():
            if trace.reliable:
                trace.notes.append(note("trace.note.short_window",
                                        seconds=f"{options['max_seconds']:.2f}"))
                traces[nodeid] = trace

    for nodeid in test_ids:
        if nodeid not in traces:
            logger.info("no trace for %s (traced outcome: %s)", nodeid, _outcome_of(traced, nodeid))
    return TracedRun(traces=traces, baseline=baseline, traced=traced)
