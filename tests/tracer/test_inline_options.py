"""The inline rendering's options for fitting a prompt: k, value width, functions, no trace."""

import pytest

from tracefix.tracer.inline import inline_functions, render_inline
from tracefix.tracer.trace_format import Failure
from tracer_helpers import SAMPLES, record
from tracer_samples import algos

ALGOS = str(SAMPLES / "algos.py")


def sources_of(trace):
    return {f.path: open(f.path, encoding="utf-8").read() for f in trace.files}


def test_k_one_keeps_first_and_last_hit():
    _, trace = record(algos.bitcount, 127)

    text = render_inline(trace, sources_of(trace), k=1)

    assert "    while n:  # (2); ... (23)\n" in text
    assert "        n &= n - 1  # (3) n=126; ... (21) n=0\n" in text
    assert "        count += 1  # (4) count=1; ... (22) count=7\n" in text
    assert "    count = 0  # (1) count=0\n" in text


def test_k_two_shortens_hits_and_calls():
    _, trace = record(algos.factorial, 9)

    text = render_inline(trace, sources_of(trace), k=2)

    line = next(l for l in text.splitlines() if l.startswith("def factorial"))
    assert line.endswith("# call: n=9; call: n=8; ... call: n=2; call: n=1")


def test_k_below_gap_shows_one_ellipsis():
    _, trace = record(algos.bitcount, 127)

    text = render_inline(trace, sources_of(trace), k=2)

    assert "    while n:  # (2); (5); ... (20); (23)\n" in text


def test_k_at_or_above_recorded_changes_nothing():
    _, trace = record(algos.bitcount, 127)
    sources = sources_of(trace)

    full = render_inline(trace, sources)

    assert render_inline(trace, sources, k=3) == full
    assert render_inline(trace, sources, k=50) == full
    assert render_inline(trace, sources, value_width=10_000) == full
    assert render_inline(trace, sources, functions=None, annotate=True) == full


def test_value_width_cuts_values_and_args():
    _, trace = record(algos.strings, 3)

    text = render_inline(trace, sources_of(trace), value_width=12)

    line = next(l for l in text.splitlines() if l.startswith('        s = "x" * 100'))
    assert "(2) s='xxxxxxxxxx…;" in line
    assert "(+" not in line
    for value in line.split("# ", 1)[1].split("; "):
        assert len(value.split("=", 1)[1]) <= 12


def test_value_width_cuts_assertion_operands():
    _, trace = record(algos.loop, 2)
    trace.failure = Failure(exc_type="AssertionError", message="assert 1 == 2", file=ALGOS,
                            line=35, assertion={"expr": "a == b", "op": "==",
                                                "left": "[1, 2, 3, 4, 5, 6]", "right": "7"})

    text = render_inline(trace, sources_of(trace), value_width=6)

    assert "# assert operands: left=[1, 2… == right=7" in text


def test_invalid_options_rejected():
    _, trace = record(algos.loop, 2)

    with pytest.raises(ValueError, match="k=0"):
        render_inline(trace, sources_of(trace), k=0)
    with pytest.raises(ValueError, match="value_width=1"):
        render_inline(trace, sources_of(trace), value_width=1)


def test_functions_listed_in_render_order():
    _, trace = record(algos.collect, 3)
    trace.test_id = "test_algos.py::collect"

    functions = inline_functions(trace, sources_of(trace))

    assert [f.name for f in functions] == ["squares", "collect"]
    assert [f.is_test for f in functions] == [False, True]
    squares = functions[0]
    assert squares.path == ALGOS
    assert (squares.start, squares.def_line, squares.end) == (20, 20, 22)
    assert squares.lines == (21, 22)
    assert squares.key == (ALGOS, 20)


def test_functions_option_selects_units():
    _, trace = record(algos.collect, 3)
    trace.test_id = "test_algos.py::collect"
    sources = sources_of(trace)
    collect = inline_functions(trace, sources)[1]

    text = render_inline(trace, sources, functions={collect.key})

    assert "def collect(n):" in text
    assert "def squares(n):" not in text
    assert text.startswith("# Trace of test_algos.py::collect")


def test_without_annotations_shows_plain_code():
    _, trace = record(algos.collect, 3)
    trace.test_id = "test_algos.py::collect"
    trace.failure = Failure(exc_type="AssertionError", message="assert 1 == 2", file=ALGOS,
                            line=28)
    sources = sources_of(trace)

    text = render_inline(trace, sources, annotate=False)

    source_lines = sources[ALGOS].splitlines()
    assert text == "\n".join(["# algos.py", *source_lines[19:22], "",
                              "# algos.py", *source_lines[24:29]]) + "\n"
    assert "# (" not in text
    assert "FAILED" not in text
