"""Exceptions from outside the tracer (a signal handler's) pass through the renderer.

A timeout alarm's handler runs between two bytecodes of whatever Python frame is
executing, often the renderer's, inside one of its `try` blocks. Here a function of
this test file stands in for the interrupted code: it raises where the renderer calls
a C-level helper, exactly as a handler's exception would surface there. Before the fix
the renderer swallowed it, and a timed-out test ran on to completion.
"""

from __future__ import annotations

import pytest

from tracefix.tracer import values
from tracefix.tracer.foreign import raised_outside_tracer
from tracefix.tracer.values import Renderer


class Plain:
    def __init__(self) -> None:
        self.x = 1


def alarm_handler(*args):
    raise TimeoutError("test exceeded 2 s")


def test_renderer_passes_on_foreign_exception(monkeypatch):
    monkeypatch.setattr(values, "_type_qualname", alarm_handler)
    with pytest.raises(TimeoutError, match="exceeded"):
        Renderer().render(Plain())


def test_renderer_exception_path_passes_it_on(monkeypatch):
    monkeypatch.setattr(values, "_exc_args", alarm_handler)
    with pytest.raises(TimeoutError):
        Renderer().render_exception(ValueError("x"))


def test_renderer_own_errors_stay_contained(monkeypatch):
    # A C-level helper failing inside the tracer is the tracer's own error: it adds no
    # frame, so the innermost frame is the renderer's, and the type name falls back to "?".
    monkeypatch.setattr(values, "_type_qualname", len)
    assert Renderer().render(Plain()) == "?(x=1)"


def test_innermost_frame_decides():
    try:
        alarm_handler()
    except TimeoutError as exc:
        assert raised_outside_tracer(exc)
