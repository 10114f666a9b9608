"""Backend-independent recording state: frames, per-line hits, values, budgets.

A backend (`settrace_backend`, `monitoring_backend`) turns interpreter events into
calls on this core. The core owns everything that must behave the same under both:
which code is project code, which locals a line can change, how a change is detected
and stored, loop compression, budgets, and building the final `Trace`.

Hot-path contract for a line event in a recorded frame (`LiveFrame` `lf`). Each
backend inlines it, because a Python call per event would cost about as much as the
rest of the work (measured: see benchmarks/trace_overhead.py):

1. finish the frame's pending line `lf.p_slot = (hits, names, deep, binds)`. Read each
   name in `names` from the frame's locals and record it when the object differs from
   `lf.snap` and is not an equal built-in scalar. A raw scalar is stored as is, other
   objects go through `changed`, and a name in `deep` that still refers to the same
   object goes through `deep_changed`. Append `(index, record, values or None)` to `hits`;
2. `index = next_index()`; if `index >= check_at`, call `checkpoint(index)` and stop
   when it returns False;
3. look the new line up in `lf.lines` (`slot_for` on a miss), store it as pending.

A hit is appended when its line finishes, not when it starts, so that the appended
tuple is complete and the hot path allocates one object per event.
"""

from __future__ import annotations

import hashlib
import itertools
import linecache
import sys
import threading
import time
from collections import deque
from itertools import islice
from operator import is_
from types import CodeType, FrameType
from typing import Any

from .compress import LineStore, compact
from .config import TraceConfig
from .frame_locals import not_recorded_note, reads_own_locals
from .lines import (
    CO_GENERATOR_LIKE,
    CO_OPTIMIZED,
    argument_names,
    continuation_lines,
    line_bindings,
    line_candidates,
)
from .notes import note
from .other_threads import OtherThreads
from .scope import GeneratedCode, ProjectScope, is_pseudo_filename
from .trace_format import (
    EXCEPTION_KEY,
    RETURN_KEY,
    YIELD_KEY,
    BudgetHit,
    CallSummary,
    Frame,
    LineSummary,
    SourceFile,
    Step,
    Trace,
)
from .values import RAW_SCALARS, Renderer, Rendered, Snapshot, is_raw

UNBOUND = object()  # a local with no value, in a snapshot or read from the frame
_LIVE_LOCALS = sys.version_info >= (3, 13)  # PEP 667: f_locals is a live proxy
_DELETED = Rendered("<unbound>")
_CHECK_EVERY = 4096  # events between time checks and loop-compression passes
_BYTES_EVERY = 8  # checkpoints between estimates of the kept values' size
# Frames kept free below the recursion limit: room for the tracer's own calls and
# for the calls made by frames between recorded ones, which the stack does not count.
_RECURSION_MARGIN = 60
# Characters of generated source (registered in linecache) copied into the trace.
_MAX_GENERATED_SOURCE = 200_000


class CodeInfo:
    """Facts about one project code object that the recorder computes once."""

    __slots__ = ("code", "file", "qualname", "candidates", "binds", "lines", "args",
                 "generator", "blank_snap", "calls", "continuations")

    def __init__(self, code: CodeType, file: int,
                 continuations: dict[int, int] | None = None) -> None:
        self.code = code
        self.file = file
        # Continuation line of a multi-line statement -> the statement's first line,
        # kept only for lines with code in this code object, so `slot_for` stays cheap.
        self.continuations: dict[int, int] = {}
        if continuations:
            own = {line for _start, _end, line in code.co_lines() if line is not None}
            self.continuations = {line: first for line, first in continuations.items()
                                  if line in own}
        self.qualname = getattr(code, "co_qualname", code.co_name)
        self.calls = 0  # activations entered while recording
        # Module and class bodies keep their locals in a mapping that may be user code
        # (a metaclass `__prepare__`), so their lines are recorded without values.
        optimized = bool(code.co_flags & CO_OPTIMIZED)
        self.candidates: dict[int, tuple[tuple[str, ...], frozenset[str]]] = {}
        for line, names in (line_candidates(code) if optimized else {}).items():
            self.candidates[line] = (
                tuple(name for name, _deep in names),
                frozenset(name for name, deep in names if deep),
            )
        # Names each line binds or unbinds; the others it can only change in place.
        self.binds = {line: frozenset(names) for line, names in
                      (line_bindings(code) if optimized else {}).items()}
        self.args = argument_names(code) if optimized else ()
        self.generator = bool(code.co_flags & CO_GENERATOR_LIKE)
        # Every local starts UNBOUND in a frame's snapshot, so the hot path can read
        # `snap[name]` (a specialized subscript) in place of `snap.get(name, UNBOUND)`.
        self.blank_snap = dict.fromkeys(
            code.co_varnames + code.co_cellvars + code.co_freevars, UNBOUND)
        # line number -> (hits list of its LineStore, names to read or None, deep
        # names, bound names, True when the slot stands for a multi-line statement).
        # The continuation lines of a statement share its first line's slot, so a
        # backend that meets the pending slot again at a line event of a multi-line
        # statement skips the event: the statement is still running.
        self.lines: dict[int, tuple[list, Any, frozenset[str], frozenset[str], bool]] = {}


class FrameRecord:
    """The output data of one activation; kept alive only by the hits that name it."""

    __slots__ = ("id", "info", "parent", "depth", "thread", "args", "returned", "raised",
                 "call")

    def __init__(self, frame_id: int, info: CodeInfo, parent: int | None, depth: int,
                 thread: str) -> None:
        self.id = frame_id
        self.info = info
        self.parent = parent
        self.depth = depth
        self.thread = thread
        self.args: dict[str, Any] = {}
        self.returned: Any = UNBOUND  # UNBOUND until it returns; then raw or Rendered
        self.raised: str | None = None
        self.call = info.calls  # its call number, because `enter` increments the count first


class LiveFrame:
    """Recording state of one running activation; dropped when it returns.

    `snap` maps each local to the object last seen in it, `shown` maps the locals
    holding mutable objects to their last rendering, so an in-place change of the
    same object is detected by comparing renderings. `p_slot` and `p_index` describe
    the pending line (None once it is finished). `f_locals` is the frame's
    FrameLocalsProxy on 3.13+, which reads the running frame at each access. Before
    3.13 `frame.f_locals` is a dict refreshed only when the attribute is read, so it
    is None here and the backends read the attribute again at each event.
    """

    __slots__ = ("record", "info", "lines", "snap", "shown", "p_slot", "p_index",
                 "exc", "frame", "f_locals", "tracer")

    def __init__(self, record: FrameRecord, info: CodeInfo, frame: FrameType) -> None:
        self.record = record
        self.info = info
        self.lines = info.lines
        self.snap: dict[str, Any] = info.blank_snap.copy()
        self.shown: dict[str, str] = {}
        self.p_slot: tuple[list, Any, frozenset[str]] | None = None
        self.p_index = 0
        # The exception last reported in this frame. A 'return' while it is set and
        # no line is pending means the frame is unwinding.
        self.exc: BaseException | None = None
        self.frame = frame
        self.f_locals = frame.f_locals if _LIVE_LOCALS else None
        self.tracer: Any = None  # the settrace backend's local trace function


class Deferred:
    """A container value whose comparison with the previous rendering waits for output.

    `old` is the previous rendering (text), a Snapshot of it, or None when the name
    was never rendered. Most hits of a loop line are dropped by compression, so
    rendering only the kept ones saves the cost for all the others.
    """

    __slots__ = ("new", "old")

    def __init__(self, new: Snapshot, old: Any) -> None:
        self.new = new
        self.old = old

    def text(self, renderer: Renderer) -> str | None:
        """Return the new rendering, or None when it equals the previous one."""
        text = renderer.render_snapshot(self.new)
        old = self.old
        if type(old) is Snapshot:
            old = renderer.render_snapshot(old)
        return None if text == old else text


class ResumedHits:
    """Stands in for a line's hits list while a resumed `yield` or `await` line is pending.

    A generator or coroutine resumes on the line where it was suspended, and CPython
    sends no line event for it. So what that line binds (`got = yield x`, `r = await f()`)
    would be read with the next line, whose candidates do not name it, and be lost. The resumption is the same execution of the line as the suspension, so its
    values join that hit (the one with `__yield__`) instead of counting a new one; a
    resumption that bound nothing adds nothing.
    """

    __slots__ = ("hits",)

    # How far back from the newest hit to look for the suspension: other frames of the
    # same code (tasks running the same coroutine) may have hit the line in between.
    LOOK_BACK = 16

    def __init__(self, hits: list) -> None:
        self.hits = hits

    def append(self, hit: tuple) -> None:
        index, record, values = hit
        if not values:
            return
        hits = self.hits
        for position in range(len(hits) - 1, max(-1, len(hits) - 1 - self.LOOK_BACK), -1):
            suspension = hits[position]
            if suspension[1] is record:
                if suspension[2] is None:
                    hits[position] = (suspension[0], record, dict(values))
                else:
                    suspension[2].update(values)
                return
        hits.append(hit)  # the suspension's hit was dropped by compression


def ends_awaited(lf: "LiveFrame", exc: BaseException) -> bool:
    """Whether `exc` is the StopIteration that ends what `lf` awaits or delegates to.

    CPython reports it as an exception in the awaiting frame, on the line where the frame
    resumed (settrace on 3.11, RAISE events on 3.12+). The program never receives it,
    because it is how `await` and `yield from` deliver their result.
    """
    pending = lf.p_slot
    return (pending is not None and type(pending[0]) is ResumedHits
            and type(exc) is StopIteration)


class StopRecording(Exception):
    """Raised inside the core to unwind to the backend's handler, which detaches."""


class Recorder:
    """Shared state of one recording; a backend feeds it events."""

    def __init__(self, config: TraceConfig) -> None:
        config.validate()
        self.config = config
        self.k = config.k
        self.scope = ProjectScope(config.root)
        self.generated = GeneratedCode(lambda name: self.scope.project_path(name) is not None)
        self.renderer = Renderer(config.value_width, config.container_items)
        self.render = self.renderer.render
        self.width = config.value_width
        self.items = config.container_items

        self.infos: dict[CodeType, CodeInfo | None] = {}
        self.stores: dict[tuple[int, int], LineStore] = {}
        self.files: list[SourceFile] = []
        self.file_index: dict[str, int] = {}
        self.stack: list[LiveFrame] = []
        self.suspended: dict[FrameType, LiveFrame] = {}

        self.next_index = itertools.count(1).__next__
        self.last_index = 0
        self.next_frame_id = itertools.count(1).__next__
        self.check_at = min(_CHECK_EVERY, config.max_events)
        self.depth_limit = sys.getrecursionlimit()
        self.kept_bytes = 0
        self.checkpoints = 0
        self.started = 0.0
        self.active = False
        self.budget: BudgetHit | None = None
        self.notes: list[str] = []
        self.thread_name = ""
        self.thread_ident = 0
        self.other_threads = OtherThreads(self.scope, self.infos)
        self.threads_not_traced: list[str] = []

    # -- lifecycle ----------------------------------------------------------------

    def begin(self) -> None:
        # Recording stops this many Python frames short of the recursion limit: at
        # the limit the trace callbacks themselves raise RecursionError, and CPython
        # then removes the trace function without any further event.
        depth = 0
        frame: FrameType | None = sys._getframe()
        while frame is not None:
            depth += 1
            frame = frame.f_back
        self.depth_limit = sys.getrecursionlimit() - depth - _RECURSION_MARGIN
        self.started = time.perf_counter()
        self.thread_name = threading.current_thread().name
        self.thread_ident = threading.get_ident()
        self.active = True

    def end(self) -> None:
        """Flush the pending lines of frames still running; no more events are taken."""
        self.active = False
        for lf in itertools.chain(self.stack, self.suspended.values()):
            if lf.p_slot is not None:
                lf.p_slot[0].append((lf.p_index, lf.record, None))
                lf.p_slot = None
        self.stack.clear()
        self.suspended.clear()
        self.other_threads.sample(self.thread_ident)
        self.threads_not_traced = list(self.other_threads.names)

    # -- slow paths called by the backends -------------------------------------------

    def code_info(self, code: CodeType) -> CodeInfo | None:
        """Return the CodeInfo of a project code object, None for other code; cached."""
        try:
            return self.infos[code]
        except KeyError:
            pass
        filename = code.co_filename
        info = None
        if is_pseudo_filename(filename):
            if self.generated.belongs_to_project(code, _frame_running(code)):
                info = CodeInfo(code, self._generated_file_number(filename),
                                continuation_lines(filename))
        else:
            path = self.scope.project_path(filename)
            if path is not None:
                info = CodeInfo(code, self._file_number(path), continuation_lines(filename))
        if info is not None and code.co_flags & CO_OPTIMIZED and reads_own_locals(code):
            # Reading this frame's locals would change the dict that locals() returned.
            self.notes.append(not_recorded_note(info.qualname, filename, code.co_firstlineno))
            info = None
        self.infos[code] = info
        return info

    def _file_number(self, path: str) -> int:
        number = self.file_index.get(path)
        if number is None:
            number = len(self.files)
            self.file_index[path] = number
            try:
                with open(path, "rb") as source:
                    digest = hashlib.sha256(source.read()).hexdigest()
            except OSError:
                digest = ""
            self.files.append(SourceFile(path=path, sha256=digest))
        return number

    def _generated_file_number(self, filename: str) -> int:
        """Number a pseudo file; its text comes from `linecache`, where generators register it."""
        number = self.file_index.get(filename)
        if number is not None:
            return number
        number = len(self.files)
        self.file_index[filename] = number
        text = "".join(linecache.getlines(filename)) or None
        if text is None:
            self.notes.append(note("trace.note.generated_no_source", file=filename))
        elif len(text) > _MAX_GENERATED_SOURCE:
            self.notes.append(note("trace.note.generated_too_long", file=filename, chars=len(text),
                                   limit=_MAX_GENERATED_SOURCE))
            text = None
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() if text else ""
        self.files.append(SourceFile(path=filename, sha256=digest, text=text))
        return number

    def slot_for(self, info: CodeInfo, line: int) -> tuple[list, Any]:
        """Create the (hits list, candidates) slot of a line seen for the first time.

        A continuation line gets the slot of its statement's first line, whose
        candidates are those of every line of the statement.
        """
        first = info.continuations.get(line)
        if first is not None:
            slot = info.lines.get(first) or self.slot_for(info, first)
            info.lines[line] = slot
            return slot
        key = (info.file, line)
        store = self.stores.get(key)
        if store is None:
            store = self.stores[key] = LineStore(info.file, line)
        statement = [line] + [n for n, start in info.continuations.items() if start == line]
        names: Any = None
        deep: frozenset[str] = frozenset()
        binds: frozenset[str] = frozenset()
        for number in statement:
            more, more_deep = info.candidates.get(number, (None, frozenset()))
            if more is not None:
                names = tuple(dict.fromkeys((names or ()) + more))
                deep |= more_deep
            binds |= info.binds.get(number, frozenset())
        slot = (store.hits, names, deep, binds, len(statement) > 1)
        info.lines[line] = slot
        return slot

    def enter(self, info: CodeInfo, frame: FrameType) -> LiveFrame:
        """Start recording a new activation of `info`; reads its arguments."""
        stack = self.stack
        if len(stack) >= self.depth_limit:
            # NOTE: recording does not resume once the stack unwinds. A trace callback
            # this close to the limit can itself raise RecursionError, and then CPython
            # removes the settrace function, or the error surfaces in the program under
            # sys.monitoring.
            self.stop_for("recursion", sys.getrecursionlimit(),
                          note("trace.budget.recursion", depth=len(stack)))
            raise StopRecording()
        parent = stack[-1].record.id if stack else None
        info.calls += 1
        record = FrameRecord(self.next_frame_id(), info, parent, len(stack), self.thread_name)
        lf = LiveFrame(record, info, frame)
        if info.args:
            get = frame.f_locals.get
            snap = lf.snap
            args = record.args
            for name in info.args:
                value = get(name, UNBOUND)
                if value is UNBOUND:
                    continue
                snap[name] = value
                args[name] = value if type(value) in RAW_SCALARS else self.keep(lf, name, value)
        stack.append(lf)
        return lf

    def keep(self, lf: LiveFrame, name: str, value: Any) -> Any:
        """Return `value` itself when it can be rendered later, else its rendering now."""
        if is_raw(value):
            return value
        text = self.render(value)
        lf.shown[name] = text
        return Rendered(text)

    def changed(self, lf: LiveFrame, name: str, value: Any, values: dict | None) -> dict | None:
        """Record that `name` now refers to another object (not a raw scalar)."""
        if value is UNBOUND:
            lf.snap[name] = UNBOUND
            slot = lf.p_slot
            if slot is not None and name not in slot[3]:
                # Unbound by code the line does not show (the end of an
                # `except ... as name` block): not a change of this line.
                return values
            item: Any = _DELETED
        else:
            lf.snap[name] = value
            item = self.keep(lf, name, value)
        if values is None:
            return {name: item}
        values[name] = item
        return values

    def deep_changed(self, lf: LiveFrame, name: str, value: Any, values: dict | None) -> dict | None:
        """Record `name` if its object, the same as before, now renders differently."""
        if value is UNBOUND:
            return values

        cls = type(value)
        if cls is list or cls is deque:
            # Rendering a growing list at every `append` cost ~4.5 µs per hit (320x
            # on a 1M-append loop, 3.11); a Snapshot costs well under 1 µs.
            prefix = value[:self.items] if cls is list else list(islice(value, self.items))
            old = lf.shown.get(name)
            raw = RAW_SCALARS
            if type(old) is Snapshot and old.cls is cls and all(map(is_, old.prefix, prefix)):
                # The first len(old.prefix) items are the old snapshot's raw scalars,
                # so only items past them need a type check.
                known = len(old.prefix)
                if len(prefix) <= known or raw.issuperset(map(type, prefix[known:])):
                    if old.length == len(value):
                        return values  # same length and same item objects: same text
                    return self._defer(lf, name, Snapshot(cls, len(value), prefix), old, values)
            elif raw.issuperset(map(type, prefix)):
                return self._defer(lf, name, Snapshot(cls, len(value), prefix), old, values)

        text = self.render(value)
        old_text = lf.shown.get(name)
        if type(old_text) is Snapshot:
            old_text = self.renderer.render_snapshot(old_text)
        if old_text == text:
            return values
        lf.shown[name] = text
        if values is None:
            return {name: Rendered(text)}
        values[name] = Rendered(text)
        return values

    def _defer(self, lf: LiveFrame, name: str, new: Snapshot, old: Any,
               values: dict | None) -> dict | None:
        """Record `name` as possibly changed; `Deferred.text` decides when the hit is kept."""
        lf.shown[name] = new
        item = Deferred(new, old)
        if values is None:
            return {name: item}
        values[name] = item
        return values

    def observe(self, lf: LiveFrame, f_locals: Any, values: dict | None = None) -> None:
        """Finish the pending line of `lf` (the general form of the backends' hot path)."""
        slot = lf.p_slot
        if slot is None:
            return
        if slot[1] is not None:
            values = self.read_changes(lf, f_locals, slot, values)
        slot[0].append((lf.p_index, lf.record, values))
        lf.p_slot = None

    def read_changes(self, lf: LiveFrame, f_locals: Any, slot: tuple, values: dict | None) -> dict | None:
        """Add the changes of the names in `slot` to `values` (None for no change yet).

        The backends call it when their inlined loop meets an unbound name. Names the
        inlined loop already handled compare equal to the snapshot now, so running
        over all of them again adds nothing twice.
        """
        snap = lf.snap
        for name in slot[1]:
            value = f_locals.get(name, UNBOUND)
            old = snap.get(name, UNBOUND)
            if value is old:
                if name in slot[2] and type(value) not in RAW_SCALARS:
                    values = self.deep_changed(lf, name, value, values)
                continue
            cls = type(value)
            if cls in RAW_SCALARS:
                if cls is type(old) and value == old:
                    continue  # rebound to an equal scalar: not a change
                snap[name] = value
                if values is None:
                    values = {}
                values[name] = self.keep_value(value)
            else:
                values = self.changed(lf, name, value, values)
        return values

    def resume_line(self, lf: LiveFrame) -> None:
        """Make the line where `lf` resumed pending again; see ResumedHits."""
        line = lf.frame.f_lineno
        slot = lf.lines.get(line) or self.slot_for(lf.info, line)
        if not slot[1]:
            return  # the line binds no name, or its frame's values are not recorded
        lf.p_slot = (ResumedHits(slot[0]), slot[1], slot[2], slot[3], False)
        lf.p_index = self.next_index()

    def finish_line(self, lf: LiveFrame, f_locals: Any, key: str | None = None,
                    value: Any = None) -> None:
        """Finish the pending line, adding a `__return__`-style entry when `key` is given."""
        self.observe(lf, f_locals, {key: value} if key is not None else None)

    def keep_value(self, value: Any) -> Any:
        return value if is_raw(value) else Rendered(self.render(value))

    def checkpoint(self, index: int) -> bool:
        """Check the budgets and compress; return False when recording must stop."""
        config = self.config
        self.last_index = index
        if index >= config.max_events:
            self.stop_for("events", config.max_events, note("trace.budget.events", count=index))
            return False
        elapsed = time.perf_counter() - self.started
        if elapsed >= config.max_seconds:
            self.stop_for("seconds", config.max_seconds,
                          note("trace.budget.seconds", seconds=f"{elapsed:.1f}"))
            return False
        self.compact_all()
        self.checkpoints += 1
        if self.checkpoints % _BYTES_EVERY == 0:
            self.kept_bytes = self.estimate_kept_bytes()
        if self.kept_bytes >= config.max_bytes:
            self.stop_for("bytes", config.max_bytes, note("trace.budget.bytes", count=self.kept_bytes))
            return False
        self.check_at = min(index + _CHECK_EVERY, config.max_events)
        return True

    def compact_all(self) -> None:
        k = self.k
        for store in self.stores.values():
            if len(store.hits) > 2 * k:
                compact(store, k)

    def estimate_kept_bytes(self) -> int:
        """Estimate the JSON size of the kept values; raw values count as rendered later."""
        width = self.width
        total = 0
        for store in self.stores.values():
            for _index, _record, values in store.hits:
                if not values:
                    continue
                for name, value in values.items():
                    if type(value) is Rendered:
                        total += len(value.text)
                    elif type(value) is Deferred:
                        total += width
                    elif type(value) is str:
                        total += min(len(value), width) + 2
                    else:
                        total += 8
                    total += len(name) + 4
        return total

    def _step_values(self, values: dict) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in values.items():
            if type(value) is Deferred:
                text = value.text(self.renderer)
                if text is not None:
                    out[name] = text
            else:
                out[name] = _text(value, self.render)
        return out

    def stop_for(self, kind: str, limit: float, detail: str) -> None:
        """Record why recording stops early; the backend detaches itself afterwards."""
        if self.budget is not None:
            return
        where = self.stack[-1] if self.stack else None
        line = None
        if where is not None:
            self.last_index = max(self.last_index, where.p_index)
            if where.p_slot is not None:
                line = self._line_of_pending(where)
        self.budget = BudgetHit(
            kind=kind,
            limit=limit,
            step=self.last_index,
            file=where.info.file if where is not None else None,
            line=line,
            detail=detail,
        )

    def _line_of_pending(self, lf: LiveFrame) -> int | None:
        for line, slot in lf.lines.items():
            if slot is lf.p_slot:
                return line
        return None

    def note_internal_error(self, exc: BaseException) -> None:
        """Stop after a tracer bug; the test goes on untraced."""
        if isinstance(exc, RecursionError):
            self.stop_for("recursion", sys.getrecursionlimit(), note("trace.budget.recursion_in_tracer"))
        self.notes.append(note("trace.note.internal_error", error=f"{type(exc).__name__}: {exc}"[:500]))

    # -- result -----------------------------------------------------------------------

    def build_trace(self, test_id: str, backend: str) -> Trace:
        """Convert the kept hits into a Trace; renders the values kept raw."""
        render = self.render
        self.compact_all()
        steps: list[Step] = []
        frames: dict[int, FrameRecord] = {}
        summaries: list[LineSummary] = []
        for store in self.stores.values():
            if not store.hits and not store.omitted:
                continue
            summaries.append(LineSummary(
                file=store.file, line=store.line, hits=store.total, omitted=store.omitted,
                omitted_between=store.omitted_between(self.k),
            ))
            for index, record, values in store.hits:
                frames[record.id] = record
                steps.append(Step(
                    index=index,
                    frame=record.id,
                    file=store.file,
                    line=store.line,
                    values=self._step_values(values) if values else {},
                ))
        steps.sort(key=lambda step: step.index)
        summaries.sort(key=lambda s: (s.file, s.line))
        total = max(self.last_index, steps[-1].index if steps else 0)
        return Trace(
            test_id=test_id,
            outcome="unknown",
            root=self.scope.root.rstrip("/") or "/",
            python=sys.version.split()[0],
            backend=backend,
            config=self.config.to_json(),
            files=list(self.files),
            frames=[_frame_out(frames[i], render) for i in sorted(frames)],
            steps=steps,
            lines=summaries,
            calls=[
                CallSummary(file=info.file, first_line=info.code.co_firstlineno,
                            function=info.code.co_name, calls=info.calls)
                for info in self.infos.values() if info is not None and info.calls
            ],
            budget=self.budget,
            total_steps=total,
            threads_not_traced=list(self.threads_not_traced),
            notes=list(self.notes),
        )


def _frame_running(code: CodeType) -> FrameType | None:
    """Find the frame that runs `code` among the few frames above the backend's callback."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(8):
        if frame is None or frame.f_code is code:
            return frame
        frame = frame.f_back
    return None


def _text(value: Any, render: Any) -> str:
    # Deferred never reaches here: `_step_values` resolves it.
    return value.text if type(value) is Rendered else render(value)


def _frame_out(record: FrameRecord, render: Any) -> Frame:
    info = record.info
    return Frame(
        id=record.id,
        file=info.file,
        function=info.code.co_name,
        qualname=info.qualname,
        first_line=info.code.co_firstlineno,
        parent=record.parent,
        thread=record.thread,
        depth=record.depth,
        args={name: _text(v, render) for name, v in record.args.items()},
        returned=None if record.returned is UNBOUND else _text(record.returned, render),
        raised=record.raised,
        call=record.call,
    )
