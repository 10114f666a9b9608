"""Notes in a trace or an outcome that a reader can show in the user's language.

The tracer runs inside the test process, where the user's locale is not available, so it
writes each note as English text together with a message key and the fields that fill
it. A `Note` is that English text (it is a `str`, so code that only needs English reads
it as one), and it carries the key and the fields, from which the server renders the
same sentence in Japanese (`tracefix.server.i18n.note_text`).

The English templates live here because the tracer needs them and imports nothing from
the server; the Japanese ones are in `server/messages/trace.ja.json` under the same keys.
Notes that the server writes itself use keys of its own catalogs (`i18n.message_note`). Fields hold data only (names, numbers, paths, exception text), never
English words that a translation would need to change.
"""

from __future__ import annotations

from typing import Any

TEMPLATES: dict[str, str] = {
    # Trace notes.
    "trace.note.locals_not_read": (
        "{qualname} ({path}:{line}) was not recorded: it reads its own locals (locals(), "
        "vars() or a frame's f_locals), and on Python {version} the tracer reading them "
        "would change the dict that the code sees"),
    "trace.note.generated_no_source": (
        "generated code {file} has no source registered in linecache: its lines are shown "
        "by number only"),
    "trace.note.generated_too_long": (
        "the source of generated code {file} has {chars} characters, more than {limit}: it "
        "is left out of the trace"),
    "trace.note.internal_error": "recording stopped after an internal tracer error: {error}",
    "trace.note.outside_exception.settrace": (
        "recording stopped: {error_type} from outside the tracer (e.g. a signal handler) was "
        "raised while the trace function ran"),
    "trace.note.outside_exception.monitoring": (
        "recording stopped: {error_type} from outside the tracer (e.g. a signal handler) was "
        "raised while a monitoring callback ran"),
    "trace.note.monitoring_unavailable": "sys.monitoring not used ({reason}); fell back to settrace",
    "trace.note.stop_failed": "stopping the recorder failed: {error}",
    "trace.note.forked": (
        "the test forked {count} child process(es) while recording (os.fork, or "
        "multiprocessing with the fork start method); code that ran in them is not traced"),
    "trace.note.traceback_cut": "traceback: {left_out} middle entries left out of {total}",
    "trace.note.outcome_differs.trace": (
        "outcome under tracing ({outcome}, from the trace) differs from the untraced outcome "
        "({expected}); this trace may not show what happened without the tracer"),
    "trace.note.outcome_differs.report": (
        "outcome under tracing ({outcome}, from the traced run's report) differs from the "
        "untraced outcome ({expected}); this trace may not show what happened without the "
        "tracer"),
    "trace.note.short_window": (
        "recording stopped after {seconds} s: with a longer recording the test ended "
        "differently than without the tracer"),
    "trace.note.leak.cwd": (
        "the test left the working directory changed ({cwd}); it was restored before the "
        "next test"),
    "trace.note.leak.cwd_deleted": (
        "the test left the working directory in a deleted folder; it was restored before "
        "the next test"),
    "trace.note.leak.cwd_not_restored": (
        "the test left the working directory changed, and it could not be restored: {error}"),
    "trace.note.leak.env": (
        "the test left environment variables changed (added: {added}; removed: {removed}; "
        "changed: {changed}); they were restored before the next test"),
    # Why recording stopped early (BudgetHit.detail).
    "trace.budget.events": "{count} line events recorded",
    "trace.budget.seconds": "{seconds} s spent recording",
    "trace.budget.bytes": "about {count} bytes of rendered values kept",
    "trace.budget.recursion": (
        "{depth} recorded frames deep, close to the recursion limit: deeper calls and the "
        "rest of the test, including code that catches a RecursionError, were not recorded"),
    "trace.budget.recursion_in_tracer": "the recursion limit was reached inside the tracer",
    "trace.budget.tracer_removed": (
        "the trace function was removed: the test called sys.settrace(None), or CPython "
        "removed it after it raised (e.g. at the recursion limit)"),
    "trace.budget.tracer_replaced": (
        "the test replaced the trace function with {kind}; lines of frames already running "
        "were still recorded, calls made after it were not"),
    # Test outcome messages written by the report plugin and the runner.
    "trace.outcome.exit_called": "the test called {call}",
    "trace.outcome.timed_out": "the test run timed out after {seconds} s while this test was running",
    "trace.outcome.timed_out_after_call": (
        "the test run timed out after {seconds} s while this test was running after its call "
        "phase {phase}"),
    "trace.outcome.stuck_at": "{message}; stuck at {where}",
    "trace.outcome.exited": "the test process exited with code {code} while this test was running",
    "trace.outcome.exited_after_call": (
        "the test process exited with code {code} while this test was running after its call "
        "phase {phase}"),
    "trace.outcome.killed": "the test process was killed by {signal} while this test was running",
    "trace.outcome.killed_after_call": (
        "the test process was killed by {signal} while this test was running after its call "
        "phase {phase}"),
}


class Note(str):
    """English text of a message, with the key and fields to render it in another language.

    A plain `str` in a place that takes a Note is a note with no key: it is shown as is.
    """

    key: str
    fields: dict[str, Any]

    def __new__(cls, text: str, key: str = "", fields: dict[str, Any] | None = None) -> Note:
        self = super().__new__(cls, text)
        self.key = key
        self.fields = dict(fields or {})
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Note, (str(self), self.key, self.fields))


def note(key: str, **fields: Any) -> Note:
    """Return the Note `key` filled with `fields`; raise KeyError for an unknown key."""
    try:
        template = TEMPLATES[key]
    except KeyError:
        raise KeyError(f"unknown note key {key!r}; add it to tracer/notes.py TEMPLATES") from None
    return Note(template.format(**fields), key, fields)


def note_to_json(value: str) -> Any:
    """Turn a Note into an object with its text, key and fields; keep a plain string."""
    key = getattr(value, "key", "")
    if not key:
        return str(value)
    fields = {name: note_to_json(field) if isinstance(field, Note) else field
              for name, field in value.fields.items()}
    return {"text": str(value), "key": key, "fields": fields}


def note_from_json(value: Any) -> str:
    """Read what `note_to_json` wrote. Traces from older versions contain plain strings."""
    if isinstance(value, dict):
        fields = value.get("fields") if isinstance(value.get("fields"), dict) else {}
        fields = {name: note_from_json(field) if isinstance(field, dict) else field
                  for name, field in fields.items()}
        return Note(str(value.get("text", "")), str(value.get("key", "")), fields)
    return str(value)
