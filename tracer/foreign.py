"""Exceptions that are not the tracer's own, raised while tracer code runs.

A signal handler (a test's timeout alarm, say) runs between two bytecodes of whatever
Python frame is executing, so its exception can surface inside the tracer: in a trace
callback, or inside a `try` of the value renderer. Such an exception belongs to the
test. Every broad `except` in code that runs during a recording passes it on with
`reraise_foreign`, so the tracer never swallows it and never changes the test's outcome.
"""

from __future__ import annotations

from types import TracebackType

_TRACER_DIR = __file__.rsplit("/", 1)[0] + "/"


def without_tracer_frames(exc: BaseException) -> BaseException:
    """Drop the tracer's own entries from `exc`'s traceback before it reaches the test.

    A signal handler's exception carries an entry for the trace function frame it
    interrupted. That entry can point at an instruction with no line number (a loop's
    backward jump on CPython 3.11), where `tb_lineno` is None and pytest's traceback
    formatting fails with an INTERNALERROR. The frames that the re-raise unwinds
    through add fresh entries that do have line numbers.
    """
    kept: list = []
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_TRACER_DIR):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return exc.with_traceback(rebuilt)


def raised_outside_tracer(exc: BaseException) -> bool:
    """Return True when the innermost frame of `exc`'s traceback is not tracer code."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return not tb.tb_frame.f_code.co_filename.startswith(_TRACER_DIR)


def reraise_foreign(exc: BaseException) -> None:
    """Re-raise `exc` when it came from outside the tracer (see the module docstring)."""
    if raised_outside_tracer(exc):
        raise exc
