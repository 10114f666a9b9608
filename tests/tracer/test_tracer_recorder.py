"""The recording core, through the default backend of this interpreter.

Expected values are worked out by hand from tracer_samples/algos.py.
"""

import gc
import signal
import sys

import pytest

from tracer_helpers import SAMPLES, record, summary, values_at
from tracer_samples import algos, hostile


def test_gcd_recursion_frames_and_returns():
    result, trace = record(algos.gcd, 35, 21)

    assert result == 7
    gcd_frames = [f for f in trace.frames if f.function == "gcd"]
    assert [f.args for f in gcd_frames] == [
        {"a": "35", "b": "21"}, {"a": "21", "b": "14"}, {"a": "14", "b": "7"}, {"a": "7", "b": "0"},
    ]
    assert [f.depth for f in gcd_frames] == [0, 1, 2, 3]
    assert [f.parent for f in gcd_frames[1:]] == [f.id for f in gcd_frames[:-1]]
    assert all(f.returned == "7" for f in gcd_frames)
    assert values_at(trace, 7) == [{"__return__": "7"}]
    assert values_at(trace, 9) == [{"__return__": "7"}] * 3
    assert summary(trace, 6).hits == 4


def test_bitcount_loop_values_and_compression():
    result, trace = record(algos.bitcount, 127)

    assert result == 7
    # 127 -> 126 -> 124 -> 120 -> 112 -> 96 -> 64 -> 0; k=3 drops the middle hit.
    assert values_at(trace, 15) == [{"n": v} for v in ("126", "124", "120", "96", "64", "0")]
    assert values_at(trace, 16) == [{"count": v} for v in ("1", "2", "3", "5", "6", "7")]
    assert values_at(trace, 13) == [{"count": "0"}]
    assert values_at(trace, 17) == [{"__return__": "7"}]
    assert (summary(trace, 15).hits, summary(trace, 15).omitted) == (7, 1)
    assert (summary(trace, 14).hits, summary(trace, 14).omitted) == (8, 2)


def test_step_index_counts_omitted_hits():
    _, trace = record(algos.bitcount, 127)

    indexes = [s.index for s in trace.steps]
    assert indexes == sorted(indexes)
    assert len(set(indexes)) == len(indexes)
    assert trace.total_steps == 1 + 8 + 7 + 7 + 1
    assert trace.total_steps == sum(line.hits for line in trace.lines)
    assert len(trace.steps) == trace.total_steps - sum(line.omitted for line in trace.lines)
    # Line 15 runs at steps 3, 6, ..., 21; its 4th hit (12) is dropped. Between its
    # kept 3rd (9) and 5th (15) hits, step 10 (line 16's 3rd hit) is kept and
    # 11 and 14 (line 14), 12 (line 15) and 13 (line 16) are dropped.
    assert summary(trace, 15).omitted_between == (9, 15)
    assert [i for i in range(10, 15) if i not in indexes] == [11, 12, 13, 14]


def test_long_loop_keeps_first_and_last_k():
    result, trace = record(algos.loop, 1000)

    assert result == 499500
    assert values_at(trace, 34)[:3] == [{"i": "0"}, {"i": "1"}, {"i": "2"}]
    # The last hit of the `for` line is the loop exit, which changes nothing.
    assert values_at(trace, 34)[3:] == [{"i": "998"}, {"i": "999"}, {}]
    # total += 0 leaves total equal to 0: not a change.
    assert values_at(trace, 35) == [{}, {"total": "1"}, {"total": "3"},
                                    {"total": "497503"}, {"total": "498501"}, {"total": "499500"}]
    line = summary(trace, 35)
    assert (line.hits, line.omitted) == (1000, 994)


def test_k_changes_what_is_kept():
    _, trace = record(algos.loop, 20, k=1)

    assert values_at(trace, 35) == [{}, {"total": "190"}]
    assert summary(trace, 35).omitted == 18


def test_generator_is_one_frame_with_yields():
    result, trace = record(algos.collect, 4)

    assert result == [0, 1, 4, 9]
    squares = [f for f in trace.frames if f.function == "squares"]
    assert len(squares) == 1
    assert values_at(trace, 22) == [{"__yield__": v} for v in ("0", "1", "4", "9")]
    assert values_at(trace, 28) == [{"out": "[0]"}, {"out": "[0, 1]"}, {"out": "[0, 1, 4]"},
                                    {"out": "[0, 1, 4, 9]"}]
    assert next(f for f in trace.frames if f.function == "collect").returned == "[0, 1, 4, 9]"


def test_exception_line_and_frame_raised():
    result, trace = record(algos.fails, {})

    assert isinstance(result, KeyError)
    assert values_at(trace, 40) == [{"__exception__": "KeyError: missing"}]
    frame = next(f for f in trace.frames if f.function == "fails")
    assert frame.raised == "KeyError: missing"
    assert frame.returned is None


def test_caught_exception_then_handler_values():
    result, trace = record(algos.catches)

    assert result == "ZeroDivisionError"
    assert values_at(trace, 46) == [{"__exception__": "ZeroDivisionError: division by zero"}]
    assert values_at(trace, 47) == [{"error": "ZeroDivisionError('division by zero')"}]
    assert values_at(trace, 48) == [{"kind": "'ZeroDivisionError'"}]
    frame = next(f for f in trace.frames if f.function == "catches")
    assert (frame.returned, frame.raised) == ("'ZeroDivisionError'", None)


def test_in_place_mutation_shown_on_its_line():
    _, trace = record(algos.mutate, [1, 2, 3], {})

    frame = next(f for f in trace.frames if f.function == "mutate")
    assert frame.args == {"items": "[1, 2, 3]", "table": "{}"}
    assert values_at(trace, 53) == [{"items": "[1, 2, 3, 4]"}]
    assert values_at(trace, 54) == [{"table": "{'k': 1}"}]
    assert values_at(trace, 55) == [{"items": "[9, 2, 3, 4]"}]
    assert values_at(trace, 56) == [{"__return__": "4"}]


def test_recursive_returns_per_frame():
    result, trace = record(algos.factorial, 5)

    assert result == 120
    frames = [f for f in trace.frames if f.function == "factorial"]
    assert [f.returned for f in frames] == ["120", "24", "6", "2", "1"]


def test_calls_are_counted_beyond_the_kept_frames():
    # factorial(12) calls itself 12 times; with K=3 each line keeps its first and last 3
    # hits, so some middle calls keep no step and their frames are left out.
    result, trace = record(algos.factorial, 12)

    assert result == 479001600
    frames = [f for f in trace.frames if f.function == "factorial"]
    numbers = [f.call for f in frames]
    assert len(frames) < 12
    assert numbers[:3] == [1, 2, 3]
    assert numbers[-1] == 12
    assert numbers == sorted(numbers)
    # The n-th call of factorial(12) has n = 13 - call.
    assert all(f.args == {"n": str(13 - f.call)} for f in frames)
    summary = [c for c in trace.calls if c.function == "factorial"]
    assert [(c.calls, c.first_line) for c in summary] == [(12, frames[0].first_line)]


def test_same_object_rebinding_and_nan():
    _, trace = record(algos.nan_loop)

    assert values_at(trace, 70) == [{"x": "nan"}]
    assert values_at(trace, 71) == [{"y": "nan"}]


def test_hostile_objects_never_called_while_tracing():
    hostile.CALLS.clear()
    result, trace = record(algos.with_hostile)

    assert isinstance(result, hostile.Hostile)
    assert hostile.CALLS == []
    hostile_file = trace.file_index(str(SAMPLES / "hostile.py"))
    use = [s for s in trace.steps if s.file == hostile_file and s.values.get("h")]
    assert [s.values["h"] for s in use] == ["Hostile(a=1, b=[1, 2])", "Hostile(a=1, b=[1, 2, 3])"]


def test_event_budget_stops_recording_not_the_code():
    result, trace = record(algos.loop, 1000, max_events=50)

    assert result == 499500
    assert trace.budget.kind == "events"
    assert trace.budget.limit == 50
    assert trace.total_steps == 50
    assert sys.gettrace() is None


def test_seconds_budget():
    result, trace = record(algos.loop, 200_000, max_seconds=0.001)

    assert result == sum(range(200_000))
    assert trace.budget.kind == "seconds"
    assert trace.total_steps < 400_000


def test_bytes_budget():
    result, trace = record(algos.strings, 40_000, k=100_000, max_bytes=20_000)

    assert result == 105
    assert trace.budget.kind == "bytes"
    assert trace.total_steps < 80_000


def test_recursion_budget_keeps_the_error():
    result, trace = record(algos.deep, 0)

    assert isinstance(result, RecursionError)
    assert trace.budget.kind == "recursion"
    assert trace.budget.line == 66


def test_previous_trace_function_restored():
    calls = []

    def previous(frame, event, arg):
        calls.append(event)
        return None

    sys.settrace(previous)
    try:
        result, trace = record(algos.gcd, 4, 2)
        assert sys.gettrace() is previous
    finally:
        sys.settrace(None)
    assert result == 2
    assert trace.budget is None


def test_code_that_removes_the_tracer_is_reported():
    result, trace = record(algos.replaces_tracer)

    assert result == 1
    assert trace.budget.kind == "tracer-replaced"


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_signal_handler_exception_reaches_the_code():
    def on_alarm(signum, frame):
        raise TimeoutError("alarm")

    # CPython drops an exception raised while a gc callback, a weakref callback or a
    # __del__ runs ("Exception ignored in ..."), with or without a tracer. Hypothesis
    # installs a gc callback for the whole session, so it is taken out for this test,
    # and an alarm that still lands in such a place gets another try.
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    outcomes = []
    try:
        for _ in range(5):
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            try:
                result, trace = record(algos.loop, 10 ** 8)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            # Whether the alarm fired inside a trace callback or between two, the
            # tracer must be detached and the steps so far kept.
            assert sys.gettrace() is None
            assert trace.total_steps > 0
            outcomes.append(type(result).__name__)
            if isinstance(result, TimeoutError):
                break
    finally:
        signal.signal(signal.SIGALRM, previous)
        gc.callbacks[:] = callbacks
    # The code under test must see the TimeoutError.
    assert outcomes[-1] == "TimeoutError", outcomes
