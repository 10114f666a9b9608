"""Shape of the backends' hot-path bytecode that the tests in other files cannot see."""

import dis
import gc
import sys
import types
from pathlib import Path

import pytest

TRACER = Path(__file__).resolve().parents[2] / "tracer"


def _function_code(path: Path, name: str) -> types.CodeType:
    def walk(code: types.CodeType):
        yield code
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from walk(const)

    module = compile(path.read_text(), str(path), "exec")
    return next(code for code in walk(module) if code.co_name == name)


@pytest.mark.parametrize("file,function", [
    ("settrace_backend.py", "local_trace"),
    ("monitoring_backend.py", "on_line"),
])
def test_hot_path_back_jumps_have_lines(file, function):
    # A signal handler (a test's timeout) raises at a backward jump. Without a line
    # number there the traceback entry has tb_lineno None, and pytest fails with an
    # INTERNALERROR while formatting the test's failure.
    if sys.version_info < (3, 11):
        pytest.skip("instruction positions exist from Python 3.11")
    code = _function_code(TRACER / file, function)

    lineless = [instruction.offset for instruction in dis.get_instructions(code)
                if instruction.opname.startswith("JUMP_BACKWARD")
                and instruction.positions.lineno is None]

    assert lineless == []


@pytest.mark.parametrize("backend", ["settrace", "monitoring"])
def test_alarm_traceback_has_no_tracer_entries(backend):
    # Any tracer function that a signal interrupts could hold a line-less instruction,
    # so the exception must reach the test without the interrupted tracer entries.
    # NOTE: where the alarm lands is up to timing, so this test catches a line-less
    # entry in some runs, not in all of them.
    import signal

    from tracer_helpers import record
    from tracer_samples import algos

    if backend == "monitoring" and sys.version_info < (3, 12):
        pytest.skip("sys.monitoring needs Python 3.12")

    def alarm(signum, frame):
        raise TimeoutError("test timeout")

    # Hypothesis keeps a gc callback installed for the session, and an alarm that lands
    # in it is dropped, so it is taken out while this test runs.
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    previous = signal.signal(signal.SIGALRM, alarm)
    interrupted = 0
    try:
        for attempt in range(40):
            signal.setitimer(signal.ITIMER_REAL, 0.002 + 0.0005 * attempt)
            try:
                result, _ = record(algos.loop, 10**8, backend=backend, max_events=10**9)
            except TimeoutError:
                continue  # the alarm landed in the helper's start or stop, not in the call
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)

            if not isinstance(result, TimeoutError):
                # CPython drops an exception raised in a weakref callback or a __del__
                # ("Exception ignored in ..."), so an alarm landing there is lost, with
                # or without a tracer. The loop then simply completes.
                continue
            interrupted += 1
            tb = result.__traceback__
            entries = []
            while tb is not None:
                entries.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
                tb = tb.tb_next
            assert all(line is not None for _, line in entries), entries
            assert Path(entries[-1][0]).name == "test_tracer_hot_path.py"  # the handler
        # Most alarms must land in the traced call, or this test checked nothing.
        assert interrupted >= 20, interrupted
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        gc.callbacks[:] = callbacks
