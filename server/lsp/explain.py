"""The "Explain failure" command and the quick fixes it leaves behind.

Explaining runs the engine's pipeline (trace, diagnose, localize, search for fixes,
validate each in a sandbox) on a worker thread, while `$/progress` notifications keep
the editor informed. The client may cancel through the progress token. The diagnosis is
written as a markdown report in the runner's cache folder, outside the workspace, and
the client is asked to open it with `window/showDocument`.

Verified candidates are kept per file together with the document version and text they
were computed against. A quick fix is offered only while the open document still has
that version, and its edit names the version, so a client also rejects it once the
buffer changed. Candidates are computed once per explanation, never per code action
request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import uuid

from lsprotocol import types

from tracefix.server.engine import ExplainError, ExplainSettings, explain_failure
from tracefix.server.i18n import translate
from tracefix.tracer.source_text import decode_source
from tracefix.server.runner import InterpreterError, find_interpreter

from . import convert
from .model_stream import ModelStream
from .options import budget_as_trace_options
from .report import write_report
from .server import CachedFixes, TracefixServer

log = logging.getLogger(__name__)


def explain_title(ls: TracefixServer, nodeid: str) -> str:
    return translate("lsp.action.explain", ls.locale, test=convert.short_test_name(nodeid))


async def explain(ls: TracefixServer, path: str, nodeid: str) -> dict:
    """Explain why `nodeid` fails, open the report, cache its fixes; return a summary."""
    root = ls.root_for(path)
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    token = await _begin_progress(ls, cancel, convert.short_test_name(nodeid))

    def progress(message: str, percentage: int | None) -> None:
        # Called on the worker thread; notifications are sent from the loop thread.
        if token is not None:
            report = types.WorkDoneProgressReport(message=message, percentage=percentage)
            loop.call_soon_threadsafe(ls.work_done_progress.report, token, report)

    options, locale = ls.options, ls.locale
    stream = ModelStream(ls, loop, root, nodeid, locale, progress, cancel)
    try:
        explanation = await loop.run_in_executor(
            ls.executor, lambda: _run_engine(root, nodeid, options, locale, progress, cancel,
                                             stream))
    except (ExplainError, InterpreterError) as exc:
        # Expected failures (test not found, test passes, cancelled, no interpreter):
        # the message is already meant for the user.
        message = translate("lsp.explain.failed", ls.locale, test=nodeid, error=str(exc))
        log.warning("%s", message)
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, message))
        return {"nodeid": nodeid, "error": str(exc)}
    except Exception as exc:  # a bug: shown and logged with its traceback, then re-raised
        message = translate("lsp.explain.failed", ls.locale, test=nodeid, error=repr(exc))
        log.exception("%s", message)
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
        raise
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(
                message=translate("lsp.progress.done", ls.locale)))

    report_path = write_report(root, nodeid, explanation, ls.locale)
    ls.explanations[nodeid] = explanation
    fixes = cache_fixes(ls, nodeid, explanation, unverified=stream.options.show_unverified)
    _use_suspicious(ls, nodeid, explanation)
    ls.publish_diagnostics(set(ls.published))

    shown = stream.shown
    if not shown and ls.client_supports("window.show_document.support"):
        result = await ls.window_show_document_async(
            types.ShowDocumentParams(uri=ls.uri_of(report_path), take_focus=True))
        shown = bool(result and result.success)
    if not shown:
        ls.show_message(types.MessageType.Info, "lsp.explain.report_written", path=report_path)
    return {
        "nodeid": nodeid,
        "summary": explanation.diagnosis.summary,
        "report": report_path,
        "candidates": len(explanation.candidates),
        "fixes": fixes,
        "model": stream.model_name or None,
        "reasoning": [a.reasoning for r in explanation.reports for a in getattr(r, "answers", [])],
    }


def _run_engine(root, nodeid, options, locale, progress, cancel, stream: ModelStream):
    """Run the engine on a worker thread with the configured interpreter, budgets and model."""
    interpreter = find_interpreter(root, options.interpreter)
    settings = ExplainSettings(run_timeout=options.test_timeout,
                               trace_options=budget_as_trace_options(options.trace) or None)
    return explain_failure(root, nodeid, locale=locale, interpreter=interpreter,
                           progress=progress, cancel=cancel, settings=settings,
                           sources=stream.sources(settings), on_context=stream.on_context)


async def _begin_progress(ls: TracefixServer, cancel: threading.Event, test: str) -> str | None:
    """Create a work-done progress on the client; return its token, or None if unsupported."""
    if not ls.client_supports("window.work_done_progress"):
        return None
    token = f"tracefix-explain-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # the client rejected it; explaining works without progress
        log.warning("creating progress token %s failed: %s; explaining without progress", token, exc)
        return None
    # pygls cancels this future when the client sends window/workDoneProgress/cancel.
    ls.work_done_progress.tokens[token].add_done_callback(lambda _: cancel.set())
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
        title=translate("lsp.progress.explain_title", ls.locale, test=test), cancellable=True))
    return token


def cache_fixes(ls: TracefixServer, nodeid: str, explanation, unverified: bool = False) -> list[dict]:
    """Keep the verified candidates whose file is open and unchanged since it was traced.

    With `unverified`, a model's fixes that failed or missed validation are kept too,
    after the verified ones, and their quick fix titles mark them as unverified.
    """
    by_file: dict[str, list] = {}
    for candidate in explanation.candidates:
        if candidate.verified or (unverified and candidate.kind == "model"):
            by_file.setdefault(os.path.normpath(candidate.file), []).append(candidate)

    traced_sha = {source.path: source.sha256 for source in explanation.trace.files}
    kept = []
    for path, candidates in by_file.items():
        document = ls.open_document(path)
        disk = _read(path)
        if document is None:
            log.info("fixes for %s are not offered: the file is not open in the editor", path)
            continue
        if disk is None or document.source != disk.decode("utf-8", errors="replace"):
            log.info("fixes for %s are not offered: the open document has unsaved edits", path)
            continue
        if path in traced_sha and hashlib.sha256(disk).hexdigest() != traced_sha[path]:
            log.info("fixes for %s are not offered: the file changed while explaining", path)
            continue
        ls.fixes[path] = CachedFixes(document.version, document.source, candidates, nodeid)
        kept += [{"file": path, "version": document.version, "description": c.description,
                  "passed": c.passed, "total": c.total, "verified": c.verified,
                  "source": c.source} for c in candidates]
    return kept


def _unchanged_since_traced(path: str, trace) -> str | None:
    """Return the text of `path` on disk if its sha256 is the one the trace recorded."""
    traced_sha = {source.path: source.sha256 for source in trace.files}.get(path)
    disk = _read(path)
    if traced_sha is None or disk is None or hashlib.sha256(disk).hexdigest() != traced_sha:
        return None
    try:
        return decode_source(disk)
    except UnicodeDecodeError:
        return None


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _use_suspicious(ls: TracefixServer, nodeid: str, explanation) -> None:
    """Point the diagnostic's related lines at the explanation's ranking."""
    run = ls.store.run_for(nodeid)
    if run is not None and explanation.suspicious:
        run.suspicious[nodeid] = [(s.file, s.line) for s in explanation.suspicious[:5]]


def quick_fixes(ls: TracefixServer, path: str,
                diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    """Return one quick fix per cached verified candidate relevant to `path`, best first.

    Relevant: candidates that edit `path`, and candidates of a test whose failure is
    among `diagnostics` (an assertion in a test file whose fix is in the module).
    """
    nodeids = {d.data.get("nodeid") for d in diagnostics if isinstance(d.data, dict)}
    actions = []
    for target, fixes in ls.fixes.items():
        if target != path and fixes.nodeid not in nodeids:
            continue
        document = ls.open_document(target)
        if document is None or document.version != fixes.version or document.source != fixes.base_text:
            continue  # stale: computed for another version of the document
        for candidate in fixes.candidates:
            edits = convert.lsp_text_edits(fixes.base_text, candidate.new_text, ls.counter)
            key = "lsp.fix.title" if candidate.verified else "lsp.fix.title_unverified"
            title = translate(key, ls.locale, description=candidate.description,
                              passed=candidate.passed, total=candidate.total)
            actions.append(types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=diagnostics or None,
                is_preferred=candidate.verified and not actions,
                edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=ls.uri_of(target), version=fixes.version),
                    edits=edits,
                )]),
            ))
    return actions


def offered_candidates(ls: TracefixServer, nodeid: str) -> list:
    """Return the candidates of `nodeid` that can be applied now.

    These are the quick fixes of open documents, plus the verified fixes of files that
    are closed and unchanged on disk since the trace, which the panel applies without
    a document version.
    """
    offered = [c for fixes in ls.fixes.values() if fixes.nodeid == nodeid for c in fixes.candidates]
    explanation = ls.explanations.get(nodeid)
    if explanation is None:
        return offered
    closed: dict[str, bool] = {}  # path → unchanged on disk since the trace
    for candidate in explanation.candidates:
        path = os.path.normpath(candidate.file)
        if not candidate.verified or candidate in offered or ls.open_document(path) is not None:
            continue
        if path not in closed:
            closed[path] = _unchanged_since_traced(path, explanation.trace) is not None
        if closed[path]:
            offered.append(candidate)
    return offered


async def apply_fix(ls: TracefixServer, nodeid: str, index: int) -> dict:
    """Apply candidate `index` of `nodeid`'s explanation with the quick fix's versioned edit.

    The edit names the document version the fix was computed for, so the client rejects
    it once the buffer has changed. A stale or unknown fix is rejected with the reason.
    """
    explanation = ls.explanations.get(nodeid)
    if explanation is None or not 0 <= index < len(explanation.candidates):
        return {"applied": False, "reason": translate("lsp.fix.unknown", ls.locale, test=nodeid)}
    candidate = explanation.candidates[index]
    path = os.path.normpath(candidate.file)
    fixes = ls.fixes.get(path)
    document = ls.open_document(path)
    if document is None:
        # A closed file has no version, so the check is on its bytes: the edit goes out
        # only while the file on disk is the one that was traced and validated.
        base_text = _unchanged_since_traced(path, explanation.trace) if candidate.verified else None
        version = None
    elif fixes is not None and candidate in fixes.candidates \
            and document.version == fixes.version and document.source == fixes.base_text:
        base_text, version = fixes.base_text, fixes.version
    else:
        base_text = version = None
    if base_text is None:
        log.info("fix %d of %s not applied: its file changed since it was computed", index, nodeid)
        return {"applied": False, "reason": translate("lsp.fix.stale", ls.locale)}
    edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(
            uri=ls.uri_of(path), version=version),
        edits=convert.lsp_text_edits(base_text, candidate.new_text, ls.counter))])
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=edit, label=candidate.description))
    applied = bool(result and result.applied)
    reason = "" if applied else (result.failure_reason if result and result.failure_reason
                                 else translate("lsp.fix.rejected", ls.locale))
    log.info("fix %d of %s applied: %s %s", index, nodeid, applied, reason)
    return {"applied": applied, "reason": reason}
