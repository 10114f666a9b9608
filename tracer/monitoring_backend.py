"""Recording backend on `sys.monitoring` (PEP 669), for Python 3.12+.

Events are global to the interpreter, so the backend keeps its own stack of recorded
frames (`Recorder.stack`): PY_START and PY_RESUME push, PY_RETURN, PY_YIELD and
PY_UNWIND pop, and a LINE event belongs to the frame on top. Code outside the project
gets `DISABLE` from the events that allow it (PY_START, PY_RESUME, PY_RETURN,
PY_YIELD, LINE), so it costs one callback per location, once. RAISE,
EXCEPTION_HANDLED, PY_UNWIND and PY_THROW cannot be disabled and are filtered here.

Exceptions are reported like the settrace backend does: `__exception__` on the line
that raised (RAISE), and on the calling line of each recorded frame the exception
passes through (EXCEPTION_HANDLED there, or PY_UNWIND when it leaves the frame).

Only the thread that starts recording is recorded. Events from other threads are
ignored, and the threads that run project code are named in `Trace.threads_not_traced`
(see `other_threads.OtherThreads`).

The backend takes a free tool id (3 and 4 are not reserved by CPython; 0, 1, 2 and 5
are the debugger, coverage, profiler and optimizer ids), never one in use, and frees
it when it stops.
"""

from __future__ import annotations

import sys
import threading
from types import CodeType
from typing import Any

from .recorder import UNBOUND, LiveFrame, Recorder, StopRecording, ends_awaited
from .foreign import raised_outside_tracer, without_tracer_frames
from .notes import note
from .trace_format import EXCEPTION_KEY, RETURN_KEY, YIELD_KEY
from .values import RAW_INT_BOUND, RAW_SCALARS, RAW_TEXT_MAX, Rendered

_TOOL_PREFERENCE = (3, 4, 2, 5, 1, 0)
_MISSING = object()

# `DISABLE` is kept per code location and tool id even after the id is freed, so a
# later recording with another project root would miss events in code that an
# earlier one disabled as "not project code". The root of the last recording per id
# shows when that can happen.
_root_by_tool: dict[int, str] = {}


class MonitoringUnavailable(RuntimeError):
    """Raised when sys.monitoring is missing or has no free tool id."""


class MonitoringBackend:
    name = "monitoring"

    def __init__(self, recorder: Recorder) -> None:
        if not hasattr(sys, "monitoring"):
            raise MonitoringUnavailable(
                f"sys.monitoring needs Python 3.12 or newer, this is {sys.version.split()[0]}")
        self.rec = recorder
        self.tool: int | None = None
        self.thread = 0
        self.other_threads = recorder.other_threads

    def start(self) -> None:
        monitoring = sys.monitoring
        tool = next((t for t in _TOOL_PREFERENCE if monitoring.get_tool(t) is None), None)
        if tool is None:
            raise MonitoringUnavailable("every sys.monitoring tool id is in use")
        monitoring.use_tool_id(tool, "tracefix")
        self.tool = tool

        root = self.rec.scope.root
        if _root_by_tool.get(tool, root) != root:
            # NOTE: this re-enables locations that other tools disabled too; they
            # get those events again until they return DISABLE once more.
            monitoring.restart_events()
        _root_by_tool[tool] = root

        events = monitoring.events
        callbacks = {
            events.PY_START: self._on_start,
            events.PY_RESUME: self._on_resume,
            events.PY_THROW: self._on_throw,
            events.PY_RETURN: self._on_return,
            events.PY_YIELD: self._on_yield,
            events.PY_UNWIND: self._on_unwind,
            events.RAISE: self._on_raise,
            events.EXCEPTION_HANDLED: self._on_handled,
            events.LINE: self._make_line_callback(),
        }
        self.thread = threading.get_ident()
        self.rec.begin()
        mask = 0
        for event, callback in callbacks.items():
            monitoring.register_callback(tool, event, callback)
            mask |= event
        monitoring.set_events(tool, mask)

    def stop(self) -> None:
        self.detach()
        self.rec.end()

    def detach(self) -> None:
        """Turn all events off and free the tool id; safe to call more than once."""
        tool = self.tool
        if tool is None:
            return
        self.tool = None
        self.rec.active = False
        monitoring = sys.monitoring
        monitoring.set_events(tool, 0)
        for event in (
            monitoring.events.PY_START, monitoring.events.PY_RESUME, monitoring.events.PY_THROW,
            monitoring.events.PY_RETURN, monitoring.events.PY_YIELD, monitoring.events.PY_UNWIND,
            monitoring.events.RAISE, monitoring.events.EXCEPTION_HANDLED, monitoring.events.LINE,
        ):
            monitoring.register_callback(tool, event, None)
        monitoring.free_tool_id(tool)

    def fail(self, exc: Exception) -> None:
        self.detach()
        if isinstance(exc, StopRecording):
            return
        if raised_outside_tracer(exc):
            self.rec.notes.append(note("trace.note.outside_exception.monitoring",
                                       error_type=type(exc).__name__))
            raise without_tracer_frames(exc)
        self.rec.note_internal_error(exc)

    # -- frame events -----------------------------------------------------------------

    def _top(self, code: CodeType) -> LiveFrame | None:
        """Return the recorded frame running `code` on this thread, if any."""
        if threading.get_ident() != self.thread:
            if self.other_threads.is_project(code):
                self.other_threads.saw(code)
            return None
        stack = self.rec.stack
        if stack and stack[-1].info.code is code:
            return stack[-1]
        return None

    def _on_start(self, code: CodeType, offset: int) -> Any:
        try:
            if threading.get_ident() != self.thread:
                return self._elsewhere(code)
            info = self.rec.code_info(code)
            if info is None:
                return sys.monitoring.DISABLE
            if threading.get_ident() != self.thread or not self.rec.active:
                return None
            self.rec.enter(info, sys._getframe(1))
        except Exception as exc:
            self.fail(exc)
        return None

    def _elsewhere(self, code: CodeType) -> Any:
        """Handle an event of another thread, which `Recorder.code_info` must not see."""
        if not self.other_threads.is_project(code):
            return sys.monitoring.DISABLE
        self.other_threads.saw(code)
        return None

    def _resume(self, code: CodeType) -> bool:
        if threading.get_ident() != self.thread:
            return self._elsewhere(code) is None
        info = self.rec.code_info(code)
        if info is None:
            return False
        if threading.get_ident() != self.thread or not self.rec.active:
            return True
        frame = sys._getframe(2)
        lf = self.rec.suspended.pop(frame, None)
        if lf is None:
            self.rec.enter(info, frame)  # a generator started before recording
        else:
            self.rec.stack.append(lf)
            self.rec.resume_line(lf)
        return True

    def _on_resume(self, code: CodeType, offset: int) -> Any:
        try:
            if not self._resume(code):
                return sys.monitoring.DISABLE
        except Exception as exc:
            self.fail(exc)
        return None

    def _on_throw(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        try:
            self._resume(code)
        except Exception as error:
            self.fail(error)
        return None

    def _on_return(self, code: CodeType, offset: int, value: Any) -> Any:
        try:
            lf = self._top(code)
            if lf is None:
                return None if self.other_threads.is_project(code) else sys.monitoring.DISABLE
            kept = self.rec.keep_value(value)
            self.rec.finish_line(lf, lf.frame.f_locals, RETURN_KEY, kept)
            lf.record.returned = kept
            self.rec.stack.pop()
        except Exception as exc:
            self.fail(exc)
        return None

    def _on_yield(self, code: CodeType, offset: int, value: Any) -> Any:
        try:
            lf = self._top(code)
            if lf is None:
                return None if self.other_threads.is_project(code) else sys.monitoring.DISABLE
            self.rec.finish_line(lf, lf.frame.f_locals, YIELD_KEY, self.rec.keep_value(value))
            self.rec.stack.pop()
            self.rec.suspended[lf.frame] = lf
        except Exception as exc:
            self.fail(exc)
        return None

    def _on_unwind(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        try:
            lf = self._top(code)
            if lf is not None:
                self._mark_exception(lf, exc)
                self.rec.finish_line(lf, lf.frame.f_locals)
                lf.record.raised = self.rec.renderer.render_exception(exc)
                self.rec.stack.pop()
        except Exception as error:
            self.fail(error)
        return None

    def _on_raise(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        try:
            lf = self._top(code)
            if lf is not None:
                self._mark_exception(lf, exc)
        except Exception as error:
            self.fail(error)
        return None

    def _on_handled(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        try:
            lf = self._top(code)
            if lf is not None:
                self._mark_exception(lf, exc)
        except Exception as error:
            self.fail(error)
        return None

    def _mark_exception(self, lf: LiveFrame, exc: BaseException) -> None:
        if (lf.exc is exc and lf.p_slot is None) or ends_awaited(lf, exc):
            return
        lf.exc = exc
        text = self.rec.renderer.render_exception(exc)
        self.rec.finish_line(lf, lf.frame.f_locals, EXCEPTION_KEY, Rendered(text))

    # -- the hot path -----------------------------------------------------------------

    def _make_line_callback(self) -> Any:
        rec = self.rec
        stack = rec.stack
        next_index = rec.next_index
        changed = rec.changed
        deep_changed = rec.deep_changed
        slot_for = rec.slot_for
        read_changes = rec.read_changes
        get_ident = threading.get_ident
        thread = threading.get_ident()
        disable = sys.monitoring.DISABLE
        elsewhere = self._elsewhere
        raw_scalars = RAW_SCALARS
        keep_value = rec.keep_value

        def on_line(code: CodeType, line: int) -> Any:
            try:
                if not stack or stack[-1].info.code is not code or get_ident() != thread:
                    if get_ident() != thread:
                        return elsewhere(code)
                    if rec.code_info(code) is None:
                        return disable
                    return None
                # The hot path: see the contract in recorder.py, and the settrace
                # backend for why locals are read with `[]`.
                lf = stack[-1]
                new = lf.lines.get(line)
                if new is None:
                    new = slot_for(lf.info, line)
                slot = lf.p_slot
                if slot is not None:
                    if new is slot and slot[4]:
                        # Another line of the multi-line statement that is pending:
                        # it is still the same execution.
                        return None
                    names = slot[1]
                    if names is None:
                        slot[0].append((lf.p_index, lf.record, None))
                    else:
                        f_locals = lf.f_locals
                        if f_locals is None:
                            f_locals = lf.frame.f_locals
                        snap = lf.snap
                        values = None
                        try:
                            for name in names:
                                value = f_locals[name]
                                old = snap[name]
                                # Every path through this loop ends in a statement or `continue`: CPython
                                # 3.11 gives an implicit back jump inside `try` no line number, and a
                                # signal handler raising there leaves tb_lineno None, which pytest cannot show.
                                if value is old:
                                    if name in slot[2] and type(value) not in raw_scalars:
                                        values = deep_changed(lf, name, value, values)
                                    continue
                                cls = type(value)
                                if cls in raw_scalars:
                                    if cls is type(old) and value == old:
                                        continue
                                    snap[name] = value
                                    # A long str or a huge int is cut now: see RAW_TEXT_MAX.
                                    if cls is int:
                                        if not -RAW_INT_BOUND < value < RAW_INT_BOUND:
                                            value = keep_value(value)
                                    elif (cls is str or cls is bytes) and len(value) > RAW_TEXT_MAX:
                                        value = keep_value(value)
                                    if values is None:
                                        values = {name: value}
                                    else:
                                        values[name] = value
                                else:
                                    values = changed(lf, name, value, values)
                        except KeyError:  # an unbound local
                            values = read_changes(lf, f_locals, slot, values)
                        slot[0].append((lf.p_index, lf.record, values))
                index = next_index()
                if index >= rec.check_at and not rec.checkpoint(index):
                    lf.p_slot = None
                    self.detach()
                    return None
                lf.p_slot = new
                lf.p_index = index
                return None
            except Exception as exc:
                self.fail(exc)
                return None

        return on_line
