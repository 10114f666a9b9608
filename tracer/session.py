"""Start and stop one recording with the backend that the configuration selects.

A recording belongs to the process that started it. When the test forks (`os.fork`, or
multiprocessing with the fork start method), the child stops recording at once, so it
neither records nor writes anything. The parent's trace gets a note that code ran in a
child process that was not traced.

NOTE: a child started without a fork of this process (multiprocessing's spawn or
forkserver start method, `subprocess`) is not noted.
"""

from __future__ import annotations

import os
from typing import Any

from .config import TraceConfig
from .foreign import reraise_foreign
from .notes import note
from .recorder import Recorder
from .trace_format import Trace


# Recordings started and not yet stopped in this process. Fork handlers cannot be
# unregistered, so they are registered once per process and act on this list.
_running: list["Recording"] = []
_fork_handlers_registered = False


def _after_fork_in_parent() -> None:
    for recording in _running:
        recording.forks += 1


def _after_fork_in_child() -> None:
    for recording in _running:
        recording.abandon()
    _running.clear()


def _register_fork_handlers() -> None:
    global _fork_handlers_registered
    if _fork_handlers_registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
    _fork_handlers_registered = True


class Recording:
    """One recording of the calling thread, usable as a context manager.

        with Recording(TraceConfig(root="/path/to/project")) as recording:
            run_code()
        trace = recording.trace("my-test")

    Frames already running when it starts (including the caller's) are not
    recorded; the functions they call are.
    """

    def __init__(self, config: TraceConfig) -> None:
        self.recorder = Recorder(config)
        self.backend: Any = None
        self.backend_name = config.resolved_backend()
        self.forks = 0  # child processes forked while recording
        self.abandoned = False  # True in a forked child

    def start(self) -> "Recording":
        _register_fork_handlers()
        self._start_backend()
        _running.append(self)
        return self

    def _start_backend(self) -> None:
        if self.backend_name == "monitoring":
            from .monitoring_backend import MonitoringBackend, MonitoringUnavailable

            try:
                self.backend = MonitoringBackend(self.recorder)
                self.backend.start()
                return
            except MonitoringUnavailable as exc:
                self.recorder.notes.append(note("trace.note.monitoring_unavailable", reason=str(exc)))
                self.backend_name = "settrace"
        from .settrace_backend import SettraceBackend

        self.backend = SettraceBackend(self.recorder)
        self.backend.start()

    def abandon(self) -> None:
        """Stop recording in a forked child, which must not record or write anything.

        Runs in the child right after the fork, in the thread that forked.
        """
        self.abandoned = True
        self.recorder.active = False
        try:
            self.backend.detach()
        except Exception:
            pass  # nothing in the child reads this recording

    def stop(self) -> None:
        """Stop recording and restore the previous tracer.

        An Exception while stopping is noted in the trace instead of raised, so a
        test's outcome never depends on it.
        """
        if self in _running:
            _running.remove(self)
        if self.backend is None or self.abandoned:
            return
        try:
            self.backend.stop()
        except Exception as exc:
            reraise_foreign(exc)
            self.recorder.notes.append(note("trace.note.stop_failed", error=f"{type(exc).__name__}: {exc}"))
        if self.forks:
            self.recorder.notes.append(note("trace.note.forked", count=self.forks))

    def trace(self, test_id: str = "") -> Trace:
        """Build the Trace of what was recorded (after `stop`)."""
        return self.recorder.build_trace(test_id, self.backend_name)

    def __enter__(self) -> "Recording":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
