"""Inlay labels stay short; histories, options and columns convert exactly."""

from lsprotocol import types
from pygls.workspace.position_codec import Utf16

from tracefix.server.lsp.convert import lsp_text_edits
from tracefix.server.lsp.options import OptionProblem, ServerOptions, parse_options
from tracefix.server.lsp.positions import client_units, index_from_client_units
from tracefix.server.lsp.summaries import (
    LABEL_WIDTH,
    call_label,
    calls_markdown,
    history_markdown,
    inlay_label,
)
from tracefix.tracer.trace_format import RETURN_KEY, Frame, Step


def steps(*values: dict) -> list[Step]:
    return [Step(index, 0, 0, 3, dict(v)) for index, v in enumerate(values)]


def test_label_single_hit():
    assert inlay_label(steps({"x": "3"}), hits=1) == "x=3"


def test_label_loop_first_to_last_with_count():
    history = steps(*({"i": str(i)} for i in (2, 3, 4, 7, 8, 9)))
    assert inlay_label(history, hits=10) == "i=2 → 9 (×10)"


def test_label_return_value_after_locals():
    assert inlay_label(steps({RETURN_KEY: "5", "y": "5"}), hits=1) == "y=5, return 5"


def test_label_no_change_has_no_label():
    assert inlay_label(steps({}, {}), hits=2) is None


def test_label_is_cut_to_width_keeping_count():
    history = steps({"alpha": "x" * 50, "beta": "y" * 50}, {"alpha": "z" * 50, "beta": "w"})
    label = inlay_label(history, hits=1000)
    assert len(label) <= LABEL_WIDTH
    assert label.endswith("(×1000)")


def frame(call: int, depth: int = 1, **args: str) -> Frame:
    return Frame(call, 0, "f", "f", 1, None, "MainThread", depth, dict(args), call=call)


def test_call_label_counts_every_call():
    frames = [frame(1, x="1"), frame(2, x="2"), frame(50, x="50")]
    assert call_label(frames, 50) == "x=1 → 50 (×50)"
    assert call_label([frame(1)], 1) is None  # no arguments, nothing to show


def test_calls_table_rows_by_call_number_with_gaps():
    frames = [frame(n, depth=n, x=str(n)) for n in (1, 2, 3, 98, 99, 100)]
    frames[-1].raised = "ValueError: bad"
    frames[0].returned = "7"
    text = calls_markdown(path_name="m.py", function="f", line=1, frames=frames, calls=100,
                          warnings=[], locale="en")
    rows = [row for row in text.splitlines() if row.startswith("| ")]
    assert "f was called 100 times (6 of them recorded)" in text.splitlines()[0]
    assert rows[0] == "| call | depth | x | result |"
    assert rows[1] == "| 1 | 1 | `1` | `7` |"
    assert rows[4].startswith("| … | *calls not shown: 94*")
    assert rows[7] == "| 100 | 100 | `100` | raised `ValueError: bad` |"


def test_calls_table_without_call_numbers():
    # Traces written before call numbers existed have call=0: rows count by position.
    frames = [frame(0, x=str(n)) for n in range(30)]
    text = calls_markdown(path_name="m.py", function="f", line=1, frames=frames, calls=30,
                          warnings=[], locale="ja")
    rows = [row for row in text.splitlines() if row.startswith("| ")]
    assert len(rows) == 1 + 5 + 1 + 5
    assert "20 回分の呼び出しは表示なし" in rows[6]
    assert "f は 30 回呼び出されました" in text


def test_history_table_marks_omitted_between_steps():
    history = [Step(i, 0, 0, 4, {"i": str(i)}) for i in (1, 2, 3, 98, 99, 100)]
    text = history_markdown(
        path_name="m.py", line=4, steps=history, hits=100, omitted=94,
        omitted_between=(3, 98), frames={0: Frame(0, 0, "f", "f", 1, None, "MainThread", 0)},
        warnings=[], locale="en",
    )
    rows = [row for row in text.splitlines() if row.startswith("| ")]
    assert rows[0] == "| step | i |"
    assert rows[4].startswith("| … | *executions omitted: 94*")
    assert rows[3] == "| 3 | `3` |"
    assert rows[5] == "| 98 | `98` |"
    assert "94" in text.splitlines()[0]


def test_history_table_escapes_pipes():
    text = history_markdown(
        path_name="m.py", line=1, steps=[Step(0, 0, 0, 1, {"s": "a|b"})], hits=1, omitted=0,
        omitted_between=None, frames={}, warnings=[], locale="en",
    )
    assert "`a\\|b`" in text


def test_utf16_columns_count_surrogate_pairs():
    counter = Utf16()
    line = "x = '🙂日本'"
    assert client_units(line, counter) == len(line) + 1
    assert index_from_client_units(line, 7, counter) == 6  # the emoji starts at unit 5
    assert index_from_client_units(line, 8, counter) == 7


def test_options_invalid_values_are_reported_and_defaulted():
    options, problems = parse_options({"tracefix": {"runOnSave": "yes", "testTimeout": 5,
                                                    "trace": {"k": 0, "maxEvents": 100}}})
    assert options.run_on_save is True
    assert options.test_timeout == 5.0
    assert options.trace.k is None
    assert options.trace.max_events == 100
    assert OptionProblem("runOnSave", "yes", "bool") in problems
    assert OptionProblem("trace.k", 0, "positive_int") in problems


def test_options_defaults():
    options, problems = parse_options(None)
    assert options == ServerOptions()
    assert problems == []


def test_text_edits_rebuild_new_text():
    old = "a\nb\nc"
    new = "a\nB\nc\nd\n"
    edits = lsp_text_edits(old, new, Utf16())
    assert apply_edits(old, edits) == new


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text, so columns are characters) from last to first."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_warnings_name_threads_not_traced():
    from tracefix.server.lsp.convert import trace_warnings
    from tracefix.server.lsp.results import ShownTrace
    from tracefix.server.lsp.trace_index import TraceIndex
    from tracefix.tracer.trace_format import Trace

    trace = Trace("t.py::test", "failed", "/p", "3.11.7", "settrace", {},
                  threads_not_traced=["worker-1"])
    shown = ShownTrace("t.py::test", TraceIndex(trace), "")

    assert trace_warnings(shown, "en")[-1] == "Other threads ran while recording and are not traced: worker-1."
    assert trace_warnings(shown, "ja")[-1].endswith("worker-1。")
