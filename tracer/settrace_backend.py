"""Recording backend on `sys.settrace`, for every supported Python (3.10+).

CPython calls the global trace function for each new Python frame ('call'). It
returns None for code outside the project, so those frames get no further events,
and a per-frame local trace function for project code, which then receives 'line',
'return' and 'exception' events. The local function is a closure over the frame's
`LiveFrame`, so the hot path needs no lookup to find its state.

A generator frame is 'called' again on each resume and 'returns' on each yield; the
recorder keeps its `LiveFrame` in `Recorder.suspended` in between, so one generator
is one `Frame` in the trace.

Only the thread that starts recording is traced (`sys.settrace` is per thread).
`other_threads.ThreadWatch` finds the other threads that run project code, so the
trace can name them.
"""

from __future__ import annotations

import dis
import sys
import threading
from types import FrameType
from typing import Any, Callable

from .foreign import raised_outside_tracer, without_tracer_frames
from .notes import Note, note
from .recorder import UNBOUND, LiveFrame, Recorder, StopRecording, ends_awaited
from .other_threads import ThreadWatch
from .trace_format import EXCEPTION_KEY, RETURN_KEY, YIELD_KEY
from .values import RAW_INT_BOUND, RAW_SCALARS, RAW_TEXT_MAX, Rendered

_RETURN_OPCODES = frozenset(
    dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap
)
_MISSING = object()


class SettraceBackend:
    name = "settrace"

    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder
        self.previous: Any = None
        self.attached = False
        self.global_trace = self._make_global_trace()
        self.watch = ThreadWatch(recorder.other_threads)

    def start(self) -> None:
        self.previous = sys.gettrace()
        self.rec.begin()
        self.attached = True
        sys.settrace(self.global_trace)
        self.watch.start()

    def stop(self) -> None:
        """Stop recording and restore the previous trace function unless the test replaced
        ours; safe to call more than once."""
        if self.attached:
            current = sys.gettrace()
            if current is None:
                self.rec.stop_for("tracer-replaced", 0, note("trace.budget.tracer_removed"))
            elif current is not self.global_trace:
                self.rec.stop_for("tracer-replaced", 0, _replaced(current))
            # The test's own choice stays in force, as it would without tracefix: a
            # trace function it installed, or none after sys.settrace(None).
            self.detach(restore=current is self.global_trace)
        self.rec.end()

    def detach(self, restore: bool = True) -> None:
        """Stop recording; put back the trace function found at start when `restore`."""
        self.watch.stop()
        if not self.attached:
            return
        self.attached = False
        if threading.get_ident() != self.rec.thread_ident:
            # A child process forked by another thread: the recorded thread does not
            # exist there, and this thread's trace function is not ours.
            return
        if restore:
            sys.settrace(self.previous)
        # Frames still running keep our local trace function in f_trace; with a
        # previous tracer restored it would keep calling it.
        for lf in list(self.rec.stack) + list(self.rec.suspended.values()):
            try:
                lf.frame.f_trace = None
            except (AttributeError, ValueError):
                pass

    def fail(self, exc: Exception) -> None:
        """Handle an exception raised inside a trace function; re-raise foreign ones."""
        self.rec.active = False
        self.detach()
        if isinstance(exc, StopRecording):
            return
        if raised_outside_tracer(exc):
            # A signal handler (e.g. a test timeout) ran during our callback and
            # raised: the exception belongs to the test, so it must reach it.
            self.rec.notes.append(note("trace.note.outside_exception.settrace",
                                       error_type=type(exc).__name__))
            raise without_tracer_frames(exc)
        self.rec.note_internal_error(exc)

    def _make_global_trace(self) -> Callable[..., Any]:
        rec = self.rec
        infos = rec.infos
        suspended = rec.suspended
        stack = rec.stack
        make_local = self._make_local_factory()

        def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
            # Only 'call' events reach the global trace function.
            info = infos.get(frame.f_code, _MISSING)
            if info is None:
                return None
            try:
                if info is _MISSING:
                    info = rec.code_info(frame.f_code)
                    if info is None:
                        return None
                if not rec.active:
                    return None
                lf = suspended.pop(frame, None) if info.generator else None
                if lf is None:
                    lf = rec.enter(info, frame)
                    lf.tracer = make_local(lf)
                else:
                    stack.append(lf)  # a generator resumed
                    rec.resume_line(lf)
                return lf.tracer
            except Exception as exc:
                self.fail(exc)
                return None

        return global_trace

    def _make_local_factory(self) -> Callable[[LiveFrame], Callable[..., Any]]:
        """Build `make_local(lf)`, which returns the local trace function of one frame.

        Everything that does not depend on the frame is bound here, once, so that
        creating a frame's closure captures only `lf`: a closure with a dozen
        per-frame cells cost more than the rest of a call event (measured ~3 µs).
        """
        rec = self.rec
        next_index = rec.next_index
        changed = rec.changed
        deep_changed = rec.deep_changed
        slot_for = rec.slot_for
        read_changes = rec.read_changes
        on_return = self._on_return
        fail = self.fail
        detach = self.detach
        raw_scalars = RAW_SCALARS
        keep_value = rec.keep_value

        def make_local(lf: LiveFrame) -> Callable[..., Any]:
            # A few per-frame cells are worth their creation cost in loops.
            record = lf.record
            snap = lf.snap
            lines_get = lf.lines.get
            proxy = lf.f_locals

            def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
                try:
                    if event == "line":
                        # The hot path: see the contract in recorder.py. Locals are
                        # read with `[]` and KeyError, not `.get(name, UNBOUND)`:
                        # subscripts are specialized bytecode, method calls are not.
                        line = frame.f_lineno
                        new = lines_get(line)
                        if new is None:
                            new = slot_for(lf.info, line)
                        slot = lf.p_slot
                        if slot is not None:
                            if new is slot and slot[4]:
                                # Another line of the multi-line statement that is
                                # pending: it is still the same execution.
                                return local_trace
                            names = slot[1]
                            if names is None:
                                slot[0].append((lf.p_index, record, None))
                            else:
                                f_locals = frame.f_locals if proxy is None else proxy
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
                                slot[0].append((lf.p_index, record, values))
                        index = next_index()
                        if index >= rec.check_at and not rec.checkpoint(index):
                            lf.p_slot = None
                            rec.active = False
                            detach()
                            return None
                        lf.p_slot = new
                        lf.p_index = index
                        return local_trace

                    if event == "return":
                        on_return(lf, frame, arg)
                        return local_trace

                    if event == "exception":
                        exc = arg[1]
                        if ends_awaited(lf, exc):
                            return local_trace
                        if lf.exc is not exc or lf.p_slot is not None:
                            lf.exc = exc
                            text = rec.renderer.render_exception(exc)
                            rec.finish_line(lf, frame.f_locals, EXCEPTION_KEY, Rendered(text))
                    return local_trace
                except Exception as exc:
                    fail(exc)
                    return None

            return local_trace

        return make_local

    def _on_return(self, lf: LiveFrame, frame: FrameType, value: Any) -> None:
        rec = self.rec
        if rec.budget is None and sys.gettrace() is not self.global_trace:
            # The test replaced the trace function: frames already traced keep reporting
            # to us, new calls go to the new one. The first return after the change is
            # the closest point to it that can be named.
            current = sys.gettrace()
            if current is not None:
                rec.stop_for("tracer-replaced", 0, _replaced(current))
        if lf.exc is not None and lf.p_slot is None:
            # 'return' right after 'exception' with no line between: the frame unwinds.
            rec.finish_line(lf, frame.f_locals)
            lf.record.raised = rec.renderer.render_exception(lf.exc)
        elif lf.info.generator and frame.f_code.co_code[frame.f_lasti] not in _RETURN_OPCODES:
            rec.finish_line(lf, frame.f_locals, YIELD_KEY, rec.keep_value(value))
            rec.suspended[frame] = lf
        else:
            kept = rec.keep_value(value)
            rec.finish_line(lf, frame.f_locals, RETURN_KEY, kept)
            lf.record.returned = kept
        _pop(rec.stack, lf)


def _replaced(current: Any) -> Note:
    return note("trace.budget.tracer_replaced", kind=type(current).__name__)


def _pop(stack: list[LiveFrame], lf: LiveFrame) -> None:
    if stack and stack[-1] is lf:
        stack.pop()
    else:
        try:
            stack.remove(lf)
        except ValueError:
            pass
