"""Name the threads, other than the recorded one, that run project code while recording.

A recording traces only the thread that starts it. Values that other threads set are
missing from the trace, so the trace lists those threads in `Trace.threads_not_traced`
as "NAME (FUNCTION)". NAME is the thread's `threading` name, or `_thread-N` (numbered
in the order seen) for a thread that `threading` does not know. FUNCTION is the first
project function seen in it.

The monitoring backend sees other threads' events and calls `OtherThreads.saw`. The
settrace backend cannot see them, so `ThreadWatch` installs a watcher in each thread
started while recording. Both backends call `OtherThreads.sample` when recording stops,
which adds the threads that are inside project code at that moment.

NOTE: on the settrace backend, a thread started before recording (a reused pool
thread) that runs project code while recording, but is no longer inside it when
recording stops, is not listed.
"""

from __future__ import annotations

import _thread
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Callable

from .scope import ProjectScope

_MISSING = object()
# Frames inspected per thread when sampling, so a deep recursion stays cheap.
_MAX_SAMPLED_FRAMES = 500
# The names under which `_thread` exports its thread start function (`start_new` is a
# deprecated alias, absent from some versions).
_START_NAMES = ("start_new_thread", "start_new")


def _qualname(code: CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)


def _thread_name(ident: int) -> str | None:
    """Return the `threading` name of thread `ident`, or None for a `_thread` thread.

    `threading.current_thread()` would register a `_DummyThread` for a `_thread` thread,
    which the program could see in `threading.enumerate()`, so only `threading._active`
    is read. The name is read from the instance dict, so a `Thread` subclass with a
    `name` property runs no code here.
    """
    thread = threading._active.get(ident)  # type: ignore[attr-defined]
    if thread is None:
        return None
    try:
        name = object.__getattribute__(thread, "__dict__").get("_name")
    except Exception:
        return None
    return name if type(name) is str else None


class OtherThreads:
    """The threads other than the recorded one that ran project code, in the order seen.

    `saw` is called from those threads, so it must not touch the recorder's tables:
    `Recorder.code_info` appends to the file table without a lock. Project code is
    decided here from `scope` (whose cache is a plain dict) and from the recorder's
    `infos`, which is only read.
    """

    def __init__(self, scope: ProjectScope, infos: dict[CodeType, Any]) -> None:
        self.scope = scope
        self.infos = infos
        self.project_codes: dict[CodeType, bool] = {}
        self.names: list[str] = []
        self.idents: set[int] = set()
        self._local = threading.local()  # marks a thread already named
        self._lock = threading.Lock()
        self._unnamed = 0

    def is_project(self, code: CodeType) -> bool:
        info = self.infos.get(code, _MISSING)
        if info is not _MISSING:
            return info is not None
        known = self.project_codes.get(code)
        if known is None:
            known = self.scope.project_path(code.co_filename) is not None
            self.project_codes[code] = known
        return known

    def saw(self, code: CodeType) -> None:
        """Note that the calling thread runs project `code`; only the first call counts.

        A thread-local flag, not the thread id, marks a thread already named, because
        CPython reuses the id of a finished thread.
        """
        local = self._local
        if getattr(local, "named", False):
            return
        local.named = True
        self._add(threading.get_ident(), code)

    def sample(self, recorded: int) -> None:
        """Add the threads other than `recorded` that are inside project code now."""
        for ident, frame in sys._current_frames().items():
            if ident == recorded or ident in self.idents:
                continue
            outermost = None
            current: FrameType | None = frame
            for _ in range(_MAX_SAMPLED_FRAMES):
                if current is None:
                    break
                if self.is_project(current.f_code):
                    outermost = current.f_code
                current = current.f_back
            if outermost is not None:
                self._add(ident, outermost)

    def _add(self, ident: int, code: CodeType) -> None:
        name = _thread_name(ident)
        with self._lock:
            if name is None:
                self._unnamed += 1
                name = f"_thread-{self._unnamed}"
            self.idents.add(ident)
            self.names.append(f"{name} ({_qualname(code)})")


class _WatchedStart:
    """The function of a `_thread` thread started while recording, with the watcher on.

    `__repr__` is the function's, so "Exception ignored in thread started by: ..." names
    the user's function, as it would without the tracer.
    """

    __slots__ = ("function", "watch")

    def __init__(self, function: Any, watch: "ThreadWatch") -> None:
        self.function = function
        self.watch = watch

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.watch.watching:
            # A `_thread` thread starts with no trace function, so the watcher
            # puts back None, not threading's hook.
            sys.settrace(self.watch.make_watcher(None))
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.function)


class ThreadWatch:
    """Find the threads started while recording that run project code (settrace backend).

    `sys.settrace` acts on the calling thread only, and before 3.12 there is no way to
    set it in a thread that is already running. Two hooks reach new threads:

    - `threading.settrace` gives each `threading.Thread` started while recording a
      global trace function, the watcher. The watcher chains to the hook that was set
      before (a coverage tool's), so that tool still traces the thread.
    - `_thread.start_new_thread` has no hook, so while recording it is replaced by a
      wrapper that starts the function under the watcher. `threading` keeps its own
      reference to the original and is not affected. Neither is code that imported
      the function by name before recording started.

    The watcher looks at 'call' events only and returns the previous hook's result (None
    without one), so it adds no line events. After it has seen project code, or once
    recording stopped, it puts the thread's previous trace function back.

    What the program can observe while recording: `threading.gettrace()` returns the
    watcher, `_thread.start_new_thread` is the wrapper, a `_thread` thread has one more
    frame (`_WatchedStart.__call__`) at the bottom of its stack and its tracebacks, a
    custom `sys.unraisablehook` receives the `_WatchedStart` object for an exception left
    unhandled in such a thread, and `sys.gettrace()` in a new thread returns the watcher
    until the watcher removes itself.
    """

    def __init__(self, threads: OtherThreads) -> None:
        self.threads = threads
        self.watching = False
        self.previous_hook: Any = None
        self.hook: Any = None
        self.originals: dict[str, Any] = {}
        self.wrappers: dict[str, Any] = {}

    def start(self) -> None:
        self.previous_hook = threading.gettrace()  # Python 3.10+
        self.hook = self.make_watcher(self.previous_hook)
        self.watching = True
        threading.settrace(self.hook)
        for name in _START_NAMES:
            original = getattr(_thread, name, None)
            if original is None:
                continue
            wrapper = self._make_start(original)
            self.originals[name] = original
            self.wrappers[name] = wrapper
            setattr(_thread, name, wrapper)

    def stop(self) -> None:
        """Put back threading's hook and `_thread`'s functions; safe to call twice.

        A hook or function that the test set in their place meanwhile is left as it is.
        """
        if not self.watching:
            return
        self.watching = False
        if threading.gettrace() is self.hook:
            threading.settrace(self.previous_hook)
        for name, original in self.originals.items():
            if getattr(_thread, name, None) is self.wrappers[name]:
                setattr(_thread, name, original)
        self.originals.clear()
        self.wrappers.clear()

    def _make_start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        watch = self

        def start_new_thread(*args: Any, **kwargs: Any) -> Any:
            # A non-callable function reaches the original unwrapped, so the original
            # checks every argument and raises its usual TypeError.
            if watch.watching and args and callable(args[0]):
                args = (_WatchedStart(args[0], watch),) + args[1:]
            return original(*args, **kwargs)

        start_new_thread.__doc__ = original.__doc__
        return start_new_thread

    def make_watcher(self, previous: Any) -> Callable[..., Any]:
        """Build the global trace function of one new thread; `previous` is put back."""
        threads = self.threads

        def watcher(frame: FrameType, event: str, arg: Any) -> Any:
            try:
                if not self.watching:
                    sys.settrace(previous)
                elif threads.is_project(frame.f_code):
                    threads.saw(frame.f_code)
                    sys.settrace(previous)
            except Exception:
                # An exception from a trace function would reach the user's thread.
                sys.settrace(previous)
            if previous is None:
                return None
            return previous(frame, event, arg)

        return watcher
