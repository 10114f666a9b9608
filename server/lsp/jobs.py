"""The work done on a worker thread for one test file: run, trace, index.

These functions call the runner (which starts pytest child processes) and build the
TraceIndex, so the event loop receives a TestRun ready to serve requests. They take
plain values, never the server, because they run outside the event loop thread.
"""

from __future__ import annotations

import hashlib
import logging
import os

from tracefix.server.runner import FAILING_OUTCOMES, InterpreterError, find_interpreter, run_pytest
from tracefix.server.runner.traced import trace_tests
from tracefix.tracer.scope import is_pseudo_filename
from tracefix.tracer.source_text import decode_source

from .options import ServerOptions, budget_as_trace_options
from .results import TestRun
from .trace_index import TraceIndex

log = logging.getLogger(__name__)

# Tracing records every executed line, so only the first failing test of a file is
# traced after a run. "Re-run traced" traces any other one on request, and the other
# failures still get diagnostics from the untraced run's report.
TRACED_TESTS_PER_RUN = 1
SUSPICIOUS_KEPT = 5  # suspicious lines kept per failing test; diagnostics list the top 3


def run_test_file(root: str, test_file: str, options: ServerOptions,
                  preferred: str | None = None, locale: str = "en") -> TestRun:
    """Run the tests of `test_file`, then trace its first failing test (or `preferred`).

    The run records which lines each test executed (coverage), so that fault
    localization can rank the lines that failing tests ran more than passing ones.
    """
    try:
        interpreter = find_interpreter(root, options.interpreter)
    except InterpreterError as exc:
        log.error("no interpreter for %s: %s", root, exc)
        return TestRun(test_file, root, {}, {}, error=str(exc))

    relative = os.path.relpath(test_file, root)
    log.info("running %s in %s with %s", relative, root, interpreter.path)
    result = run_pytest(root, [relative], interpreter=interpreter, timeout=options.test_timeout,
                        coverage=True)
    if result.collect_errors and not result.outcomes:
        error = "; ".join(result.collect_errors.values())[-2000:]
        return TestRun(test_file, root, {}, {}, error=error)

    failing = result.failing()
    chosen = [preferred] if preferred in failing else failing[:TRACED_TESTS_PER_RUN]
    traces: dict[str, TraceIndex] = {}
    if chosen:
        traced = trace_tests(
            root, chosen, interpreter=interpreter, timeout=options.test_timeout,
            baseline=result, trace_options=budget_as_trace_options(options.trace),
        )
        traces = {nodeid: TraceIndex(trace) for nodeid, trace in traced.traces.items()}
    sources = read_sources(traces)
    return TestRun(test_file, root, dict(result.outcomes), traces, sources=sources,
                   suspicious=safe_localize(root, result.outcomes, traces, sources, locale))


def trace_one_test(root: str, test_file: str, nodeid: str, options: ServerOptions,
                   previous: TestRun | None, locale: str = "en") -> TestRun:
    """Trace `nodeid` again and return `previous` with its outcome and trace replaced."""
    try:
        interpreter = find_interpreter(root, options.interpreter)
    except InterpreterError as exc:
        log.error("no interpreter for %s: %s", root, exc)
        return TestRun(test_file, root, {}, {}, error=str(exc))

    traced = trace_tests(
        root, [nodeid], interpreter=interpreter, timeout=options.test_timeout,
        baseline=None, trace_options=budget_as_trace_options(options.trace),
    )
    outcomes = dict(previous.outcomes) if previous else {}
    outcomes.update(traced.baseline.outcomes)
    traces = dict(previous.traces) if previous else {}
    traces.pop(nodeid, None)
    traces.update({test_id: TraceIndex(trace) for test_id, trace in traced.traces.items()})
    sources = read_sources(traces)
    suspicious = dict(previous.suspicious) if previous else {}
    suspicious.update(safe_localize(root, outcomes, traces, sources, locale, only=nodeid))
    return TestRun(test_file, root, outcomes, traces, sources=sources, suspicious=suspicious)


def read_sources(traces: dict[str, TraceIndex]) -> dict[str, str]:
    """Read each traced file whose bytes still match the trace's sha256.

    A file edited after the test ran would put values on the wrong lines, so it is left
    out and shows no hints until the next run.
    """
    sources: dict[str, str] = {}
    for index in traces.values():
        for path, file_index in index.files.items():
            if path in sources or is_pseudo_filename(path):
                continue  # generated code (`<string>`) has no file to show hints in
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as exc:
                log.warning("cannot read traced file %s: %s", path, exc)
                continue
            if hashlib.sha256(data).hexdigest() != file_index.sha256:
                log.info("%s changed since it was traced; its values are not shown", path)
                continue
            sources[path] = decode_source(data, errors="replace")
    return sources


def safe_localize(*args, **kwargs) -> dict[str, list[tuple[str, int]]]:
    """Run localize_failures, logging its error instead of losing the run's results."""
    try:
        return localize_failures(*args, **kwargs)
    except Exception:  # the outcomes and traces are still worth showing without it
        log.exception("fault localization failed; diagnostics list the traceback instead")
        return {}


def localize_failures(root: str, outcomes, traces: dict[str, TraceIndex], sources: dict[str, str],
                      locale: str, only: str | None = None) -> dict[str, list[tuple[str, int]]]:
    """Return, per traced failing test, the engine's most suspicious lines (file, line).

    Ochiai scores from the run's coverage, with the lines that produced the failing
    value (the diagnosis's provenance) ranked up. An empty result leaves diagnostics
    pointing at the traceback's project frames instead.
    """
    from tracefix.server.engine.diagnose import diagnose
    from tracefix.server.engine.localize import build_spectrum, localize

    extra = {nodeid: [(index.trace.files[step.file].path, step.line) for step in index.trace.steps]
             for nodeid, index in traces.items()}
    spectrum = build_spectrum(outcomes, extra)
    ranked: dict[str, list[tuple[str, int]]] = {}
    for nodeid, index in traces.items():
        if only is not None and nodeid != only:
            continue
        if outcomes.get(nodeid) is None or outcomes[nodeid].outcome not in FAILING_OUTCOMES:
            continue
        diagnosis = diagnose(index.trace, sources, locale)
        failing_line = ((diagnosis.failing_file, diagnosis.failing_line)
                        if diagnosis.failing_file and diagnosis.failing_line else None)
        suspicious = localize(spectrum, root, provenance=diagnosis.provenance,
                              failing_line=failing_line, locale=locale)
        ranked[nodeid] = [(s.file, s.line) for s in suspicious[:SUSPICIOUS_KEPT]]
    return ranked

