"""The failure snapshot: the project frames and their locals where a test fails, via DAP.

The failing test runs once more under debugpy with the "user-unhandled" exception
filter and `justMyCode`, which stops where the failure leaves project code (for an
assertion that pytest catches, at the failing test frame). This client then reads
`exceptionInfo`, `stackTrace`, `scopes` and `variables` of the project frames,
expanding nested values to a bounded depth and count. debugpy evaluates values inside
the test process, so a property that never returns would block it. Every request
therefore has a time limit and the whole snapshot a budget. After a request times out,
nothing more is asked of that thread. The child is then let run to its end, or killed.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tracefix.server.i18n import message_note
from tracefix.server.runner import Interpreter
from tracefix.tracer.notes import note_from_json, note_to_json

from .dap import DapClient, DapError, DapTimeout
from .launch import Debuggee, start_debuggee

log = logging.getLogger(__name__)

# debugpy appends this to the exception text when it stops on a user-unhandled exception.
_PAUSED_NOTE = re.compile(r"\s*\(note: full exception trace is shown but execution is paused at:.*\)\s*$", re.S)
# debugpy groups a container's less useful members under these names.
_GROUPS = {"special variables", "function variables", "class variables", "protected variables"}


@dataclass
class SnapshotBudget:
    """Bounds on one snapshot, so a slow or huge value cannot stall it."""

    seconds: float = 8.0  # for reading the state, once the test has stopped
    request_seconds: float = 2.0  # for one DAP request
    start_seconds: float = 60.0  # from starting pytest to the stop at the failure
    frames: int = 8  # innermost project frames read
    depth: int = 2  # levels of nested values expanded below a local
    children: int = 12  # values listed per level
    value_width: int = 200  # characters of one value


@dataclass
class SnapshotValue:
    """One variable: its rendering by debugpy and, when expanded, its members."""

    name: str
    value: str
    type: str = ""
    children: list["SnapshotValue"] = field(default_factory=list)
    more: bool = False  # members exist beyond those listed (the count limit)
    note: str = ""  # why it is not (fully) shown (a Note), e.g. "not evaluated: ..."


@dataclass
class SnapshotFrame:
    name: str
    file: str
    line: int
    locals: list[SnapshotValue] = field(default_factory=list)


@dataclass
class FailureSnapshot:
    """The state at the failure, as stored in the `snapshot` section of a trace."""

    test_id: str
    stopped: bool  # False when the test ended without stopping at a failure
    exception_type: str = ""
    message: str = ""
    frames: list[SnapshotFrame] = field(default_factory=list)  # innermost first
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        # Notes are written with their message key and fields, so a reader can show
        # them translated (see tracefix.tracer.notes).
        def value(item: SnapshotValue) -> dict[str, Any]:
            return {"name": item.name, "value": item.value, "type": item.type,
                    "children": [value(child) for child in item.children],
                    "more": item.more, "note": note_to_json(item.note)}

        frames = [{"name": f.name, "file": f.file, "line": f.line,
                   "locals": [value(v) for v in f.locals]} for f in self.frames]
        return {"test_id": self.test_id, "stopped": self.stopped,
                "exception_type": self.exception_type, "message": self.message,
                "frames": frames, "notes": [note_to_json(note) for note in self.notes],
                "seconds": self.seconds}


def snapshot_from_json(data: dict[str, Any]) -> FailureSnapshot:
    """Build a FailureSnapshot from its JSON form (the trace's `snapshot` section)."""
    def value(item: dict[str, Any]) -> SnapshotValue:
        return SnapshotValue(item["name"], item["value"], item.get("type", ""),
                             [value(child) for child in item.get("children", [])],
                             item.get("more", False), note_from_json(item.get("note", "")))

    frames = [SnapshotFrame(f["name"], f["file"], f["line"], [value(v) for v in f.get("locals", [])])
              for f in data.get("frames", [])]
    return FailureSnapshot(data["test_id"], data["stopped"], data.get("exception_type", ""),
                           data.get("message", ""), frames,
                           [note_from_json(note) for note in data.get("notes", [])],
                           data.get("seconds", 0.0))


class _Reader:
    """Reads values through one DAP client within the snapshot's budget."""

    def __init__(self, client: DapClient, budget: SnapshotBudget) -> None:
        self.client = client
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.blocked = ""  # set once a request timed out: the paused thread is stuck

    def ask(self, command: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        if self.blocked:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.blocked = message_note("debug.note.budget_ran_out", seconds=f"{self.budget.seconds:g}")
            return None
        try:
            return self.client.request(command, arguments, timeout=min(left, self.budget.request_seconds))
        except DapTimeout:
            self.blocked = message_note("debug.note.request_stuck", command=command,
                                        seconds=f"{min(left, self.budget.request_seconds):g}")
            return None

    def variables(self, reference: int, depth: int) -> tuple[list[SnapshotValue], bool, str]:
        """Return (values, more, note) of a variables reference, expanded `depth` levels."""
        body = self.ask("variables", {"variablesReference": reference, "count": self.budget.children + 1})
        if body is None:
            return [], False, message_note("debug.note.not_evaluated", reason=self.blocked)
        items = [v for v in body.get("variables", []) if not _hidden(str(v.get("name", "")))]
        # debugpy lists a container's size as a member named "len()".
        size = next((v.get("value") for v in items if v.get("name") == "len()"), None)
        items = [v for v in items if v.get("name") != "len()"]
        shown = items[: self.budget.children]
        more = len(items) > len(shown) or (str(size).isdigit() and int(size) > len(shown))
        return [self.value(item, depth) for item in shown], more, ""

    def value(self, item: dict[str, Any], depth: int) -> SnapshotValue:
        text = str(item.get("value", ""))
        if len(text) > self.budget.value_width:
            text = text[: self.budget.value_width - 1] + "…"
        result = SnapshotValue(str(item.get("name", "")), text, str(item.get("type", "") or ""))
        reference = item.get("variablesReference") or 0
        if reference and depth > 0:
            result.children, result.more, result.note = self.variables(reference, depth - 1)
        elif reference:
            result.more = True  # members exist, below the depth limit
        return result


def _hidden(name: str) -> bool:
    # pytest's assertion rewriting adds "@py_assert1"-style locals to test functions, and
    # ".0" is a comprehension's hidden iterator.
    return name in _GROUPS or name.startswith("@py_") or name == ".0"


def _in_project(path: str, root: str) -> bool:
    path = os.path.realpath(path)
    root = os.path.realpath(root)
    if not path.startswith(root + os.sep):
        return False
    relative = path[len(root) + 1:]
    return not any(part in ("site-packages", ".venv", "venv") for part in relative.split(os.sep))


def take_snapshot(root: str, nodeid: str, *, interpreter: Interpreter | None = None,
                  budget: SnapshotBudget | None = None) -> FailureSnapshot:
    """Run `nodeid` under debugpy and return the state where it fails.

    Raises DapError when debugpy cannot be started or reached; the child is gone when
    this returns, whatever happened.
    """
    budget = budget or SnapshotBudget()
    started = time.monotonic()
    debuggee = start_debuggee(root, nodeid, interpreter=interpreter)
    client = None
    responsive = False
    try:
        client = DapClient.connect(debuggee.host, debuggee.port, timeout=30)
        snapshot, responsive = _read_failure(client, debuggee, root, nodeid, budget)
    except DapError as exc:
        tail = debuggee.output_tail()
        raise DapError(f"{exc}; the debugged test's output ends with: {tail[-600:]}") from exc
    finally:
        _finish(client, debuggee, responsive)
    snapshot.seconds = round(time.monotonic() - started, 2)
    return snapshot


def _read_failure(client: DapClient, debuggee: Debuggee, root: str, nodeid: str,
                  budget: SnapshotBudget) -> tuple[FailureSnapshot, bool]:
    """Return the snapshot, and whether the debugger still responds to requests."""
    timeout = budget.request_seconds * 5
    client.request("initialize", {"clientID": "tracefix", "adapterID": "debugpy",
                                  "linesStartAt1": True, "columnsStartAt1": True,
                                  "pathFormat": "path"}, timeout=timeout)
    # debugpy responds to attach only after configurationDone, so it is not awaited here.
    attach = client.send("attach", {"justMyCode": True, "subProcess": False, "redirectOutput": False})
    client.event("initialized", timeout=timeout)
    client.request("setExceptionBreakpoints", {"filters": ["userUnhandled"]}, timeout=timeout)
    client.request("configurationDone", {}, timeout=timeout)
    client.response(attach, "attach", timeout=timeout)

    # The adapter sends "terminated" or "exited" when the test ends without a stop.
    ended = FailureSnapshot(nodeid, stopped=False, notes=[message_note("debug.note.not_stopped")])
    try:
        name, stopped = client.first_event(
            ("stopped", "terminated", "exited"), timeout=budget.start_seconds,
            accept=lambda m: m.get("event") != "stopped" or (m.get("body") or {}).get("reason") == "exception")
    except DapError:
        if debuggee.alive():
            raise
        return ended, False
    if name != "stopped":
        return ended, False
    thread = stopped.get("threadId")
    reader = _Reader(client, budget)
    snapshot = FailureSnapshot(nodeid, stopped=True)

    info = reader.ask("exceptionInfo", {"threadId": thread}) or {}
    snapshot.exception_type = _PAUSED_NOTE.sub("", str(info.get("exceptionId", "")))
    description = str(info.get("description", "") or (info.get("details") or {}).get("message", ""))
    snapshot.message = _PAUSED_NOTE.sub("", description)[:1000]

    stack = reader.ask("stackTrace", {"threadId": thread, "startFrame": 0, "levels": 64}) or {}
    for frame in stack.get("stackFrames", []):
        path = (frame.get("source") or {}).get("path") or ""
        if not path or not _in_project(path, root):
            continue
        if len(snapshot.frames) >= budget.frames:
            snapshot.notes.append(message_note("debug.note.frames", count=budget.frames))
            break
        name = str(frame.get("name", "")).removesuffix(" (Current frame)")
        current = SnapshotFrame(name, path, int(frame.get("line", 0)))
        snapshot.frames.append(current)
        scopes = reader.ask("scopes", {"frameId": frame["id"]}) or {}
        for scope in scopes.get("scopes", []):
            if scope.get("name", "").lower().startswith("locals"):
                current.locals, more, note = reader.variables(scope["variablesReference"], budget.depth)
                if more:
                    current.locals.append(SnapshotValue("…", "", note=message_note("debug.note.more_locals")))
                if note:
                    snapshot.notes.append(message_note("debug.note.in_frame", frame=current.name, note=note))
                break
    if reader.blocked:
        snapshot.notes.append(message_note("debug.note.stopped_early", reason=reader.blocked))
    return snapshot, not reader.blocked


def _finish(client: DapClient | None, debuggee: Debuggee, responsive: bool) -> None:
    """Let the test run to its end when the debugger is responsive; kill it otherwise."""
    try:
        if client is not None and not client.closed and responsive:
            try:
                client.request("disconnect", {"terminateDebuggee": False}, timeout=3)
            except DapError as exc:
                log.debug("disconnect failed: %s", exc)
            if debuggee.wait(timeout=15) is None:
                log.info("the debugged test did not end within 15 s after the snapshot; killing it")
    finally:
        if client is not None:
            client.close()
        debuggee.kill()
