"""The explain pipeline shared by the CLI and the language server.

baseline run of the test's file (untraced, with per-test coverage) → trace of the
failing test → diagnosis → fault localization → candidates from every source →
validation in sandboxes → ranking. Every run of user code goes through the runner.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from tracefix.tracer.scope import is_pseudo_filename
from tracefix.tracer.source_text import read_source
from tracefix.tracer.trace_format import Trace

from ..i18n import note_text, outcome_word, translate
from ..runner import Interpreter, find_interpreter, trace_tests
from .diagnose import diagnose
from .localize import PASSING, build_spectrum, localize, promote_repaired
from .repair import BuiltinRepairSearch, propose_all
from .results import (CandidateSource, Explanation, FailureContext, ProgressCallback)
from .testids import ExplainError, resolve_test
from .validation import Cancel, ValidationSettings, as_cancel, validate_candidates

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExplainSettings:
    run_timeout: float = 60.0  # bound of the baseline and traced pytest runs, in seconds
    validation: ValidationSettings = ValidationSettings()
    trace_options: Mapping[str, Any] | None = None  # tracer k and budgets, see TraceConfig
    allow_test_edits: bool = False  # let repairs edit test files too
    max_lines: int = 5  # suspicious lines the built-in search edits
    max_candidates: int = 200  # built-in candidates, before validation


@dataclass
class TraceResult:
    """One test's trace and its inline rendering, as `trace_failure` returns them."""

    test_id: str
    trace: Trace
    inline: str
    outcome: str  # the untraced outcome
    notes: list[str] = field(default_factory=list)


def _report(progress: ProgressCallback | None, message: str, percent: int | None) -> None:
    if progress is not None:
        progress(message, percent)


def _check(cancel: Cancel, locale: str) -> None:
    if cancel():
        raise ExplainError("cancelled", translate("engine.error.cancelled", locale))


def load_sources(trace: Trace) -> dict[str, str]:
    """Read the current text of every file the trace executed; unreadable files are left out."""
    texts: dict[str, str] = {}
    for source in trace.files:
        if is_pseudo_filename(source.path):
            continue  # no file exists for generated code, so the trace carries its text
        try:
            texts[source.path] = read_source(source.path)
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("cannot read %s, shown without source: %s", source.path, exc)
    return texts


def _render_inline(trace: Trace, texts: dict[str, str]) -> str:
    from tracefix.tracer.inline import render_inline

    return render_inline(trace, texts)


def _trace_one(root: str, nodeid: str, baseline, interpreter: Interpreter,
               settings: ExplainSettings, locale: str) -> Trace:
    traced = trace_tests(root, [nodeid], interpreter=interpreter, timeout=settings.run_timeout,
                         baseline=baseline, trace_options=settings.trace_options)
    trace = traced.traces.get(nodeid)
    if trace is None:
        outcome = traced.traced.outcomes.get(nodeid)
        if outcome is not None and outcome.outcome in ("crashed", "timeout") and outcome.message:
            raise ExplainError("no-trace", translate(
                "engine.error.no_trace_process_ended", locale, test=nodeid,
                detail=note_text(outcome.message, locale)))
        raise ExplainError("no-trace", translate(
            "engine.error.no_trace", locale, test=nodeid,
            outcome=outcome_word(outcome.outcome if outcome else "not-run", locale)))
    return trace


def trace_failure(root: str, test_id: str, *, locale: str = "en",
                  interpreter: Interpreter | None = None,
                  settings: ExplainSettings = ExplainSettings()) -> TraceResult:
    """Trace one test (a node id, or a test file whose first failing test is taken)."""
    root = os.path.abspath(root)
    interpreter = interpreter or find_interpreter(root)
    nodeid, baseline = resolve_test(root, test_id, interpreter=interpreter,
                                    timeout=settings.run_timeout, locale=locale,
                                    require_failure=False)
    trace = _trace_one(root, nodeid, baseline, interpreter, settings, locale)
    texts = load_sources(trace)
    return TraceResult(nodeid, trace, _render_inline(trace, texts),
                       baseline.outcomes[nodeid].outcome,
                       [note_text(note, locale) for note in trace.notes])


def explain_failure(
    root: str,
    test_id: str,
    *,
    locale: str = "en",
    interpreter: Interpreter | None = None,
    progress: ProgressCallback | None = None,
    cancel: "threading.Event | Cancel | None" = None,
    sources: Iterable[CandidateSource] | None = None,
    settings: ExplainSettings = ExplainSettings(),
    on_context: Callable[[FailureContext], None] | None = None,
) -> Explanation:
    """Explain why `test_id` fails and return fixes ranked with verified ones first.

    `sources` are the candidate sources to ask (default: the built-in repair search).
    `on_context` is called with the diagnosis and trace before any source is asked, so
    that a client can show them while a slow source (a model) is still working. A source
    may offer `report` (kept in `Explanation.reports`) and `notes(locale)`.
    Raises ExplainError with a localized message when the test cannot be found or run,
    did not fail, or the caller cancelled.
    """
    root = os.path.abspath(root)
    is_cancelled = as_cancel(cancel)
    interpreter = interpreter or find_interpreter(root)

    _report(progress, translate("engine.progress.baseline", locale), 0)
    nodeid, baseline = resolve_test(root, test_id, interpreter=interpreter,
                                    timeout=settings.run_timeout, locale=locale)
    _check(is_cancelled, locale)

    _report(progress, translate("engine.progress.trace", locale, test=nodeid), 15)
    trace = _trace_one(root, nodeid, baseline, interpreter, settings, locale)
    texts = load_sources(trace)
    inline = _render_inline(trace, texts)
    _check(is_cancelled, locale)

    _report(progress, translate("engine.progress.diagnose", locale), 35)
    diagnosis = diagnose(trace, texts, locale)
    executed = [(trace.files[s.file].path, s.line) for s in trace.lines]
    spectrum = build_spectrum(baseline.outcomes, {nodeid: executed})
    failing_line = (diagnosis.failing_file, diagnosis.failing_line) \
        if diagnosis.failing_file and diagnosis.failing_line else None
    suspicious = localize(spectrum, root, provenance=diagnosis.provenance,
                          failing_line=failing_line, locale=locale,
                          allow_test_edits=settings.allow_test_edits, control=diagnosis.control)

    test_path = os.path.join(root, nodeid.split("::", 1)[0])
    context = FailureContext(
        root=root, test_id=nodeid, trace=trace, inline=inline, sources=texts,
        diagnosis=diagnosis, suspicious=suspicious, test_source=texts.get(test_path) or _read(test_path),
        locale=locale, allow_test_edits=settings.allow_test_edits,
    )
    if on_context is not None:
        on_context(context)
    if sources is None:
        sources = [BuiltinRepairSearch(max_lines=settings.max_lines,
                                       max_candidates=settings.max_candidates)]
    sources = list(sources)
    _report(progress, translate("engine.progress.propose", locale), 40)
    candidates = propose_all(sources, context)
    _check(is_cancelled, locale)

    # Every test of the file that failed before must pass with the patch, because tests
    # in one file usually check one unit. The tests that passed must keep passing.
    failing = [nodeid] + [n for n in baseline.failing() if n != nodeid]
    neighbours = [n for n, o in baseline.outcomes.items() if o.outcome in PASSING]

    def on_validated(done: int, total: int, verified: int) -> None:
        _report(progress, translate("engine.progress.validate", locale, done=done, total=total,
                                    verified=verified), 40 + (60 * done) // max(total, 1))

    ranked = validate_candidates(root, candidates, failing, neighbours, interpreter=interpreter,
                                 settings=settings.validation, cancel=is_cancelled,
                                 progress=on_validated)
    notes = _notes(trace, ranked, locale)
    reports = []
    for source in sources:
        if hasattr(source, "notes"):
            notes.extend(source.notes(locale))
        if getattr(source, "report", None) is not None:
            reports.append(source.report)
    suspicious = promote_repaired(suspicious, ranked, locale)
    _report(progress, translate("engine.progress.done", locale), 100)
    return Explanation(nodeid, trace, inline, diagnosis, suspicious, ranked, notes, reports)


def _notes(trace: Trace, candidates, locale: str) -> list[str]:
    notes = []
    untried = sum(1 for c in candidates if c.total == 0 and not c.detail)
    if untried:
        notes.append(translate("engine.note.untried", locale, count=untried))
    if not candidates:
        notes.append(translate("engine.note.no_candidates", locale))
    return notes


def _read(path: str) -> str:
    try:
        return read_source(path)
    except (OSError, UnicodeDecodeError):
        return ""
