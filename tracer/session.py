"""Start and stop one recording with the backend that the configuration selects."""

from __future__ import annotations

from typing import Any

from .config import TraceConfig
from .foreign import reraise_foreign
from .recorder import Recorder
from .trace_format import Trace


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

    def start(self) -> "Recording":
        if self.backend_name == "monitoring":
            from .monitoring_backend import MonitoringBackend, MonitoringUnavailable

            try:
                self.backend = MonitoringBackend(self.recorder)
                self.backend.start()
                return self
            except MonitoringUnavailable as exc:
                self.recorder.notes.append(f"sys.monitoring not used ({exc}); fell back to settrace")
                self.backend_name = "settrace"
        from .settrace_backend import SettraceBackend

        self.backend = SettraceBackend(self.recorder)
        self.backend.start()
        return self

    def stop(self) -> None:
        """Stop recording and restore the previous tracer.

        An Exception while stopping is noted in the trace instead of raised, so a
        test's outcome never depends on it.
        """
        if self.backend is None:
            return
        try:
            self.backend.stop()
        except Exception as exc:
            reraise_foreign(exc)
            self.recorder.notes.append(f"stopping the recorder failed: {type(exc).__name__}: {exc}")

    def trace(self, test_id: str = "") -> Trace:
        """Build the Trace of what was recorded (after `stop`)."""
        return self.recorder.build_trace(test_id, self.backend_name)

    def __enter__(self) -> "Recording":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
