"""tracefix.tracer: record what a test executed, line by line, inside the test process.

Public API:

- `Recording(config)`: start/stop a recording, `trace(test_id)` builds the `Trace`.
- `TraceConfig`: limits and options.
- `render_inline(trace, sources, ...)`: the NExT-style inline rendering of a trace, and
  `inline_functions` to list the functions it can show.
- `Renderer`: bounded rendering of values without running user code.
- `read_trace`, `write_trace` and the trace dataclasses from `trace_format`.

Importing this package imports only the standard library (pytest is imported by
`pytest_plugin` and `pytest_trace`, which pytest loads itself).
"""

from .config import TraceConfig
from .inline import InlineFunction, inline_functions, render_inline
from .session import Recording
from .trace_format import (
    BudgetHit,
    Failure,
    Frame,
    LineSummary,
    SourceFile,
    Step,
    Trace,
    TraceFormatError,
    read_trace,
    write_trace,
)
from .values import Renderer

__all__ = [
    "BudgetHit", "Failure", "Frame", "InlineFunction", "LineSummary", "Recording", "Renderer", "SourceFile",
    "Step", "Trace", "TraceConfig", "TraceFormatError", "inline_functions", "read_trace", "render_inline",
    "write_trace",
]
