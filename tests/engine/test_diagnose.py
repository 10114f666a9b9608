"""Diagnosis of real traces of QuixBugs tasks, in English and Japanese."""

import os

import pytest

from tracefix.server.engine import diagnose
from tracefix.server.engine.pipeline import load_sources
from tracefix.server.engine.testids import resolve_test
from tracefix.server.runner import find_interpreter, trace_tests

from engine_helpers import available, make_task

pytestmark = pytest.mark.skipif(not available(), reason="QuixBugs tasks are not staged here")


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """Trace the first failing test of a task once per module: (root, trace, sources)."""
    cache = {}
    parent = tmp_path_factory.mktemp("quixbugs")

    def get(task):
        if task not in cache:
            root = make_task(parent, task)
            interpreter = find_interpreter(root)
            nodeid, baseline = resolve_test(root, f"test_{task}.py", interpreter=interpreter,
                                            timeout=60)
            run = trace_tests(root, [nodeid], interpreter=interpreter, timeout=60,
                              baseline=baseline)
            trace = run.traces[nodeid]
            cache[task] = (root, trace, load_sources(trace))
        return cache[task]

    return get


def test_assertion_values_and_origin(traced):
    root, trace, sources = traced("knapsack")
    diagnosis = diagnose(trace, sources, "en")
    assert "Expected `expected` = `30`, but got `result` = `20`." in diagnosis.markdown
    assert diagnosis.summary.endswith("expected 30, got 20 (value produced at knapsack.py:18).")
    assert (os.path.join(root, "knapsack.py"), 18) in diagnosis.provenance
    assert diagnosis.failing_file == os.path.join(root, "test_knapsack.py")


def test_assertion_in_japanese(traced):
    root, trace, sources = traced("knapsack")
    diagnosis = diagnose(trace, sources, "ja")
    assert "期待値は `expected` = `30` ですが、実際は `result` = `20` でした。" in diagnosis.markdown
    assert "**値の出どころ**" in diagnosis.markdown
    assert "`knapsack(capacity=40, items=[[30, 10], [50, 5], [10, 20], [40, 25]])`" in diagnosis.markdown


def test_recursion_followed_to_base_case(traced):
    root, trace, sources = traced("get_factors")
    diagnosis = diagnose(trace, sources, "en")
    program = os.path.join(root, "get_factors.py")
    assert "got `result` = `[2, 2, 5]`" in diagnosis.markdown
    assert (program, 8) in diagnosis.provenance  # `return [i] + get_factors(n // i)`
    assert (program, 10) in diagnosis.provenance  # the `return []` that lost the last factor
    assert "in recursive calls" in diagnosis.markdown


def test_inputs_of_origin_line(traced):
    root, trace, sources = traced("bucketsort")
    diagnosis = diagnose(trace, sources, "en")
    program = os.path.join(root, "bucketsort.py")
    assert (program, 8) in diagnosis.provenance
    assert (program, 8) in diagnosis.provenance  # `return [i] + get_factors(n // i)`  # `for i, count in enumerate(arr)` fed line 8
    assert "That line used `i` = " in diagnosis.markdown


def test_exception_location_and_values(traced):
    root, trace, sources = traced("find_first_in_sorted")
    for locale, words in (("en", "raised in `find_first_in_sorted`"), ("ja", "が発生")):
        diagnosis = diagnose(trace, sources, locale)
        assert diagnosis.failing_file == os.path.join(root, "find_first_in_sorted.py")
        assert diagnosis.failing_line == 8
        assert "IndexError" in diagnosis.summary
        assert words in diagnosis.markdown
        assert "`mid` = `7`" in diagnosis.markdown
        assert (diagnosis.failing_file, 6) in diagnosis.provenance  # where `mid` was computed


def test_timeout_points_into_the_loop(traced):
    root, trace, sources = traced("sqrt")
    diagnosis = diagnose(trace, sources, "en")
    assert "TimeoutError" in diagnosis.summary
    assert diagnosis.failing_file == os.path.join(root, "sqrt.py")
    assert diagnosis.failing_line in (4, 5)
    assert "ran " in diagnosis.markdown  # the loop's hit count


def test_unreliable_trace_hides_values(traced):
    root, trace, sources = traced("knapsack")
    trace.reliable = False
    try:
        diagnosis = diagnose(trace, sources, "en")
    finally:
        trace.reliable = True
    assert diagnosis.markdown.startswith("> **Warning: this trace is not reliable.**")
    assert "`20`" not in diagnosis.markdown
    assert "not reliable" in diagnosis.summary
    assert not diagnosis.reliable


def test_backticks_in_values_stay_in_code(traced):
    from tracefix.server.engine.markdown import code

    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("line\nbreak") == "`line break`"
    assert code("") == "`''`"
