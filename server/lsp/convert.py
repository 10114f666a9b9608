"""Conversions from test results, traces and engine results to LSP types.

Each `lsp_*` function builds one kind of LSP value from plain data (document lines,
ResultStore entries, engine dataclasses) and never talks to the client, so handlers
stay a few lines long. Columns go through `positions` because LSP counts them in the
client's code units.
"""

from __future__ import annotations

import os
import re
from difflib import SequenceMatcher
from typing import Iterable, Sequence

from lsprotocol import types

from tracefix.server.i18n import note_text, outcome_word, translate

from .positions import UnitCounter, client_units, first_non_blank, split_lines_keepends
from .results import FailureSite, ResultStore, ShownTrace
from .summaries import calls_markdown, history_markdown, shorten
from .trace_index import CallHistory, LineHistory

SOURCE = "tracefix"
UNRELIABLE_MARK = "⚠ "
MESSAGE_WIDTH = 400  # characters of a failure message in a diagnostic
RELATED_LIMIT = 3  # suspicious lines listed under a diagnostic


def lsp_line_range(lines: Sequence[str], line: int, counter: UnitCounter) -> types.Range:
    """Return the range of a line's text from its first non-blank character to its end."""
    text = lines[line] if 0 <= line < len(lines) else ""
    start = client_units(text[: first_non_blank(text)], counter)
    return types.Range(types.Position(line, start), types.Position(line, client_units(text, counter)))


def lsp_whole_line(line: int) -> types.Range:
    """Return a range covering line `line` (0-based) without needing its text."""
    return types.Range(types.Position(line, 0), types.Position(line + 1, 0))


def failure_text(site: FailureSite, locale: str) -> str:
    """Return the one-line error of a failing test, from its trace when there is one."""
    failure = site.trace.trace.failure if site.trace else None
    if failure is not None:
        text = f"{failure.exc_type}: {failure.message}" if failure.message else failure.exc_type
    elif site.outcome.message:
        text = note_text(site.outcome.message, locale)
    else:
        text = outcome_word(site.outcome.outcome, locale)
    return shorten(text, MESSAGE_WIDTH)


def lsp_diagnostics(
    sites: Iterable[FailureSite],
    *,
    path: str,
    lines: Sequence[str],
    store: ResultStore,
    related: dict[str, list[tuple[str, int]]],
    counter: UnitCounter,
    locale: str,
) -> list[types.Diagnostic]:
    """Return one diagnostic per failing line of `path`, naming the first failing test.

    `related` maps a node id to the suspicious (file, 1-based line) pairs to list under
    it, most suspicious first. Lines edited since the run get no diagnostic.
    """
    by_line: dict[int, list[FailureSite]] = {}  # current document line → its failures
    for site in sites:
        if site.path != path:
            continue
        if site.line == 0:
            current = find_test_def(lines, site.nodeid) or 0
        else:
            current = store.current_line(path, site.line - 1)
        if current is not None:
            by_line.setdefault(current, []).append(site)

    diagnostics = []
    for current, group in sorted(by_line.items()):
        group.sort(key=lambda site: site.trace is None)  # a traced failure has more detail
        first = group[0]
        message = translate("lsp.diagnostic.failed", locale, test=short_test_name(first.nodeid),
                            error=failure_text(first, locale))
        if len(group) > 1:
            message += " " + translate("lsp.diagnostic.more_tests", locale, count=len(group) - 1)
        if first.trace is not None and not first.trace.trace.reliable:
            message += " " + translate("lsp.diagnostic.unreliable", locale)
        diagnostics.append(types.Diagnostic(
            range=lsp_line_range(lines, current, counter),
            message=message,
            severity=types.DiagnosticSeverity.Error,
            code=first.outcome.outcome,
            source=SOURCE,
            related_information=_related(first, related.get(first.nodeid, []), store, locale) or None,
            data={"nodeid": first.nodeid, "nodeids": [site.nodeid for site in group]},
        ))
    return diagnostics


def _related(site: FailureSite, suspicious: list[tuple[str, int]], store: ResultStore,
             locale: str) -> list[types.DiagnosticRelatedInformation]:
    """Return the top suspicious lines, or else the project frames that led to the failure."""
    if suspicious:
        key, entries = "lsp.related.suspicious", suspicious
    else:
        failure = site.trace.trace.failure if site.trace else None
        entries = [(entry.file, entry.line) for entry in (failure.traceback if failure else [])
                   if entry.in_project]
        key = "lsp.related.called_from"
    related = []
    for path, line in entries:
        if (path, line) == (site.path, site.line):
            continue
        current = store.current_line(path, line - 1)
        if current is None:
            continue
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri_of(path), lsp_whole_line(current)),
            message=translate(key, locale, file=os.path.basename(path), line=line),
        ))
        if len(related) == RELATED_LIMIT:
            break
    return related


def short_test_name(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def uri_of(path: str) -> str:
    from pygls.uris import from_fs_path

    return from_fs_path(path) or path


def lsp_inlay_hints(
    shown_trace: ShownTrace, *, path: str, lines: Sequence[str], first: int, last: int,
    store: ResultStore, counter: UnitCounter, tooltip: bool, locale: str,
    cache: dict[int, types.InlayHint | None],
) -> list[types.InlayHint]:
    """Return hints for document lines first..last (0-based, inclusive) at each line's end.

    With `tooltip` False the history is left for `inlayHint/resolve`, which keeps a
    request for a whole large file cheap. `cache` maps a document line to its hint (or
    None), so a repeated request costs one dictionary lookup per line. The caller must
    empty it whenever the trace, the line map or the locale changes.
    """
    file_index = shown_trace.index.file(path)
    if file_index is None:
        return []
    hints = []
    for current in range(max(first, 0), min(last, len(lines) - 1) + 1):
        if current in cache:
            hint = cache[current]
        else:
            hint = cache[current] = _inlay_hint(shown_trace, file_index.lines, path, lines, current,
                                                store, counter, tooltip, locale)
        if hint is not None:
            hints.append(hint)
    return hints


def _inlay_hint(shown_trace: ShownTrace, histories: dict[int, LineHistory], path: str,
                lines: Sequence[str], current: int, store: ResultStore, counter: UnitCounter,
                tooltip: bool, locale: str) -> types.InlayHint | None:
    traced = store.traced_line(path, current)
    history = histories.get(traced + 1) if traced is not None else None
    found = store.calls_at(path, current, lines)
    calls = found[1] if found and found[0] is shown_trace else None
    labels = [item.label for item in (calls, history) if item is not None and item.label]
    if not labels:
        return None
    label = "; ".join(labels)
    if not shown_trace.index.trace.reliable:
        label = UNRELIABLE_MARK + shorten(label, len(label) - len(UNRELIABLE_MARK))
    data = {"path": path, "nodeid": shown_trace.nodeid}
    if history is not None and history.label:
        data["line"] = history.line
    if calls is not None and calls.label:
        data["calls"] = calls.first_line
    hint = types.InlayHint(
        position=types.Position(current, client_units(lines[current], counter)),
        label=label,
        padding_left=True,
        data=data,
    )
    if tooltip:
        hint.tooltip = lsp_markdown(hint_text(shown_trace, path, data, locale))
    return hint


def hint_text(shown_trace: ShownTrace, path: str, data: dict, locale: str) -> str:
    """Return the markdown of a hint from its `data`: the calls, then the line's history."""
    parts = []
    calls = shown_trace.index.calls(path, data["calls"]) if "calls" in data else None
    if calls is not None:
        parts.append(calls_text(shown_trace, calls, path, locale))
    history = shown_trace.index.line(path, data["line"]) if "line" in data else None
    if history is not None:
        parts.append(history_text(shown_trace, history, path, locale))
    return "\n\n".join(parts)


def history_text(shown_trace: ShownTrace, history: LineHistory, path: str, locale: str) -> str:
    """Return (and cache) the markdown history of one traced line in `locale`."""
    cached = history.markdown.get(locale)
    if cached is None:
        cached = history_markdown(
            path_name=os.path.basename(path), line=history.line, steps=history.steps,
            hits=history.hits, omitted=history.omitted, omitted_between=history.omitted_between,
            frames=shown_trace.index.frames, warnings=trace_warnings(shown_trace, locale), locale=locale,
        )
        history.markdown[locale] = cached
    return cached


def calls_text(shown_trace: ShownTrace, calls: CallHistory, path: str, locale: str) -> str:
    """Return (and cache) the markdown table of a function's recorded calls in `locale`."""
    cached = calls.markdown.get(locale)
    if cached is None:
        cached = calls_markdown(
            path_name=os.path.basename(path), function=calls.function, line=calls.first_line,
            frames=calls.frames, calls=calls.calls, warnings=trace_warnings(shown_trace, locale), locale=locale,
        )
        calls.markdown[locale] = cached
    return cached


def failure_state_text(shown_trace: ShownTrace, path: str, traced_line: int | None,
                       locale: str) -> str | None:
    """Return the failure snapshot as markdown when `traced_line` (1-based) is the failing line."""
    trace = shown_trace.index.trace
    failure = trace.failure
    if trace.snapshot is None or failure is None or traced_line is None:
        return None
    if failure.file is None or os.path.normpath(failure.file) != os.path.normpath(path) \
            or failure.line != traced_line:
        return None
    from tracefix.server.debug.render import snapshot_markdown

    return snapshot_markdown(trace.snapshot, locale)


def trace_warnings(shown_trace: ShownTrace, locale: str) -> list[str]:
    """Return the caveats a reader must see next to the values of this trace."""
    trace = shown_trace.index.trace
    warnings = [translate("lsp.history.test", locale, test=shown_trace.nodeid)]
    notes = [note_text(note, locale) for note in trace.notes]
    if not trace.reliable:
        warnings.append(translate("lsp.history.unreliable", locale, notes="; ".join(notes)))
    elif notes:
        warnings.append(translate("lsp.history.notes", locale, notes="; ".join(notes)))
    if trace.budget is not None:
        warnings.append(translate("recording.budget", locale, step=trace.budget.step,
                                  detail=note_text(trace.budget.detail, locale)))
    if trace.threads_not_traced:
        warnings.append(translate("recording.threads", locale,
                                  names=", ".join(trace.threads_not_traced)))
    return warnings


def lsp_markdown(text: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)


def lsp_code_lenses(failing: Sequence[tuple[str, str]], *, uri: str, lines: Sequence[str],
                    counter: UnitCounter, locale: str) -> list[types.CodeLens]:
    """Return "Explain failure", "Re-run traced" and "Debug this failure" above each failing test's `def`.

    `failing` contains (nodeid, outcome) pairs; parametrized cases of one function share
    its `def` line, so only the first failing case of each function gets lenses.
    """
    lenses = []
    seen_lines: set[int] = set()
    for nodeid, _outcome in failing:
        line = find_test_def(lines, nodeid)
        if line is None or line in seen_lines:
            continue
        seen_lines.add(line)
        case = _parameter_id(nodeid)
        suffix = f" [{case}]" if case else ""
        line_range = lsp_line_range(lines, line, counter)
        for command, key in (("tracefix.explainFailure", "lsp.lens.explain"),
                             ("tracefix.rerunTraced", "lsp.lens.rerun"),
                             ("tracefix.debugFailure", "lsp.lens.debug")):
            title = translate(key, locale) + suffix
            lenses.append(types.CodeLens(
                range=line_range,
                command=types.Command(title=title, command=command, arguments=[uri, nodeid]),
            ))
    return lenses


def _parameter_id(nodeid: str) -> str | None:
    name = short_test_name(nodeid)
    return name[name.index("[") + 1:-1] if name.endswith("]") and "[" in name else None


def find_test_def(lines: Sequence[str], nodeid: str) -> int | None:
    """Return the 0-based line of the `def` of the test `nodeid`, inside its classes."""
    parts = nodeid.split("::")[1:]
    if not parts:
        return None
    *classes, function = parts
    function = function.split("[", 1)[0]
    start = 0
    for name in classes:
        found = _find_line(lines, rf"^\s*class\s+{re.escape(name)}\b", start)
        if found is None:
            return None
        start = found + 1
    return _find_line(lines, rf"^\s*(?:async\s+)?def\s+{re.escape(function)}\s*\(", start)


def _find_line(lines: Sequence[str], pattern: str, start: int) -> int | None:
    regex = re.compile(pattern)
    for number in range(start, len(lines)):
        if regex.match(lines[number]):
            return number
    return None


def lsp_text_edits(old: str, new: str, counter: UnitCounter) -> list[types.TextEdit]:
    """Return line-granular edits turning `old` into `new`, smallest first to last."""
    old_lines = split_lines_keepends(old)
    new_lines = split_lines_keepends(new)
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(types.TextEdit(
            range=types.Range(_line_start(old_lines, i1, counter), _line_start(old_lines, i2, counter)),
            new_text="".join(new_lines[j1:j2]),
        ))
    return edits


def _line_start(lines: Sequence[str], index: int, counter: UnitCounter) -> types.Position:
    """Return the position where line `index` starts, or the end of text past the last line."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(index, 0)
    return types.Position(len(lines) - 1, client_units(lines[-1], counter))
