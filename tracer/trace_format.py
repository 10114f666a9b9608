"""The trace file: a versioned JSON document describing one traced test.

The tracer writes it inside the test process; the server, the engine and the inline
renderer read it. Every value in it is already a rendered string, so a reader never
needs the user's objects. `docs/trace-format.md` documents each field for people;
this module is the executable definition.

Only the standard library is used here because this module is imported inside the
user's test process.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from .notes import note_from_json, note_to_json

FORMAT_NAME = "tracefix-trace"
FORMAT_VERSION = 1

# Names of the special entries that the inline rendering shows beside ordinary locals.
RETURN_KEY = "__return__"
EXCEPTION_KEY = "__exception__"
# A generator or coroutine suspended on this line, handing out this value.
YIELD_KEY = "__yield__"


class TraceFormatError(ValueError):
    """Raised when a file is not a trace this version of tracefix can read."""


@dataclass
class SourceFile:
    """A project file that the traced code executed, identified by its index in `files`."""

    path: str  # absolute path as the test process saw it, or a pseudo name like `<generated>`
    sha256: str  # of the bytes on disk when tracing started; lets readers detect edits
    # Source text of generated code (a pseudo path) as registered in `linecache`; None
    # for real files, which readers read from disk, and for code with no registered source.
    text: str | None = None


@dataclass
class Frame:
    """One call of a project function (one activation; a generator keeps one frame)."""

    id: int
    file: int  # index into Trace.files
    function: str  # co_name
    qualname: str  # co_qualname on 3.11+, else co_name
    first_line: int  # co_firstlineno (the `def` line, or the first decorator)
    parent: int | None  # id of the calling project frame, if any
    thread: str  # threading name of the thread that ran it
    depth: int  # number of project frames below it on the stack
    args: dict[str, str] = field(default_factory=dict)  # rendered arguments at entry
    returned: str | None = None  # rendered return value, when it returned normally
    raised: str | None = None  # "Type: message" when the frame was left by an exception
    call: int = 0  # the n-th call of its function while recording, from 1; 0 when unknown


@dataclass
class Step:
    """One kept execution of a line.

    `values` contains the locals that executing this line changed, read at the frame's
    next event, plus `__return__` / `__exception__` where the line returned or raised.
    `index` is the global execution order over all lines, counting omitted hits too,
    so gaps in the numbering show where loop compression dropped steps.
    """

    index: int
    frame: int
    file: int
    line: int
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class LineSummary:
    """How often a line ran, and how many of its hits loop compression dropped."""

    file: int
    line: int
    hits: int
    omitted: int  # hits - kept; the kept ones are the first K and the last K
    omitted_between: tuple[int, int] | None = None  # step indexes bracketing the gap


@dataclass
class CallSummary:
    """How many times one project function was called while recording."""

    file: int
    first_line: int  # co_firstlineno, as in Frame
    function: str
    calls: int  # activations seen, recorded in `frames` or not


@dataclass
class BudgetHit:
    """Early stop of recording: its cause and place. The test itself kept running."""

    kind: str  # "events" | "bytes" | "seconds" | "recursion" | "tracer-replaced"
    limit: float
    step: int  # global index of the last step recorded
    file: int | None
    line: int | None
    detail: str = ""  # why recording stopped, as a tracer.notes.Note


@dataclass
class TracebackEntry:
    file: str  # absolute path
    line: int
    function: str
    in_project: bool


@dataclass
class Failure:
    """Failure of the traced test: exception, failing line and project traceback."""

    exc_type: str  # qualified name, e.g. "AssertionError" or "mypkg.errors.BadInput"
    message: str  # bounded
    file: str | None  # absolute path of the failing line (assertion or raise) in project code
    line: int | None
    # For `assert left <op> right` in the test: the rendered operands, from pytest's
    # assertion rewriting data when available.
    assertion: dict[str, str] | None = None  # {"expr", "op", "left", "right"}
    traceback: list[TracebackEntry] = field(default_factory=list)


@dataclass
class Trace:
    test_id: str  # pytest node id
    outcome: str  # "passed" | "failed" | "error" | "skipped" | "crashed" | "timeout"
    root: str  # absolute project root used to decide what counts as project code
    python: str  # e.g. "3.11.7"
    backend: str  # "settrace" | "monitoring"
    config: dict[str, Any]  # the TraceConfig in force
    files: list[SourceFile] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    lines: list[LineSummary] = field(default_factory=list)
    # Traces written before call counts existed lack this list, so readers count frames.
    calls: list[CallSummary] = field(default_factory=list)
    budget: BudgetHit | None = None
    failure: Failure | None = None
    total_steps: int = 0  # all line executions seen, kept or not
    threads_not_traced: list[str] = field(default_factory=list)
    # Set by the runner, not the tracer: False when the traced outcome differed from the
    # untraced one, in which case the trace must not be shown as the truth.
    reliable: bool = True
    notes: list[str] = field(default_factory=list)  # tracer.notes.Note or plain text
    # The failure state read through debugpy in a separate run; the server adds it, the
    # tracer never does. Its fields are those of tracefix.server.debug.FailureSnapshot.
    snapshot: dict[str, Any] | None = None

    def file_index(self, path: str) -> int | None:
        for i, source in enumerate(self.files):
            if source.path == path:
                return i
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # Notes keep their message key and fields, so a reader can show them translated.
        data["notes"] = [note_to_json(n) for n in self.notes]
        if self.budget is not None:
            data["budget"]["detail"] = note_to_json(self.budget.detail)
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION, **data}


def trace_from_json(data: dict[str, Any]) -> Trace:
    """Build a Trace from parsed JSON, rejecting other formats and newer versions."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise TraceFormatError(
            f"not a tracefix trace: 'format' is {data.get('format')!r} "
            f"(expected {FORMAT_NAME!r})" if isinstance(data, dict)
            else f"not a tracefix trace: top level is {type(data).__name__}, expected an object"
        )
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise TraceFormatError(
            f"trace format version {version!r} is not supported (this tracefix reads "
            f"version {FORMAT_VERSION}); re-run the tests with this tracefix to rewrite it"
        )
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    failure = payload.get("failure")
    budget = payload.get("budget")
    return Trace(
        test_id=payload["test_id"],
        outcome=payload["outcome"],
        root=payload["root"],
        python=payload["python"],
        backend=payload["backend"],
        config=payload.get("config", {}),
        files=[SourceFile(**f) for f in payload.get("files", [])],
        frames=[Frame(**f) for f in payload.get("frames", [])],
        steps=[Step(**s) for s in payload.get("steps", [])],
        lines=[
            LineSummary(**{**s, "omitted_between": tuple(s["omitted_between"]) if s.get("omitted_between") else None})
            for s in payload.get("lines", [])
        ],
        calls=[CallSummary(**c) for c in payload.get("calls", [])],
        budget=BudgetHit(**{**budget, "detail": note_from_json(budget.get("detail", ""))})
        if budget else None,
        failure=Failure(
            **{**failure, "traceback": [TracebackEntry(**t) for t in failure.get("traceback", [])]}
        ) if failure else None,
        total_steps=payload.get("total_steps", 0),
        threads_not_traced=payload.get("threads_not_traced", []),
        reliable=payload.get("reliable", True),
        notes=[note_from_json(n) for n in payload.get("notes", [])],
        snapshot=payload.get("snapshot"),
    )


def write_trace(trace: Trace, path: str) -> None:
    """Write atomically: a reader never sees a half-written trace file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".trace-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(trace.to_json(), out, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_trace(path: str) -> Trace:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise TraceFormatError(f"trace file {path} is not valid JSON: {exc}") from exc
    return trace_from_json(data)
