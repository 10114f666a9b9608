"""Kind 3: threads started with `threading` and with `_thread` while a test is traced.
Only the test's own thread is recorded. The trace names every other thread that ran
project code, including one that had already finished and one started with `_thread`,
and the outcome stays the same."""

from __future__ import annotations

import pytest
from hostile_helpers import line_of, run_traced, values_at, write_project

THREADS = {
    "work.py": '''
        import _thread
        import threading

        def square(n):
            result = n * n
            return result

        def background(n, out):
            out.append(square(n))

        def in_pool_thread(n):
            out = []
            worker = threading.Thread(target=background, args=(n, out), name="pool-1")
            worker.start()
            worker.join()
            return out[0]

        def raw_body(n, out, done):
            out.append(square(n))
            done.release()

        def in_raw_thread(n):
            out = []
            done = _thread.allocate_lock()
            done.acquire()
            _thread.start_new_thread(raw_body, (n, out, done))
            done.acquire()
            return out[0]

        def linger(started, stop):
            started.set()
            stop.wait(60)

        def start_lingering(stop):
            started = threading.Event()
            thread = threading.Thread(target=linger, args=(started, stop), name="lingering")
            thread.start()
            started.wait(60)
            return thread

        def start_idle(stop):
            # Runs only library code, so it is not named in the trace.
            thread = threading.Thread(target=stop.wait, args=(60,), name="idle")
            thread.start()
            return thread
        ''',
    "test_work.py": '''
        import _thread
        import threading
        from pathlib import Path

        import pytest

        from work import in_pool_thread, in_raw_thread, square, start_idle, start_lingering

        START_NEW_THREAD = _thread.start_new_thread

        @pytest.fixture(autouse=True)
        def hooks_restored(request):
            yield
            # Recording stopped before teardown, so its thread hooks must be gone.
            restored = threading.gettrace() is None and _thread.start_new_thread is START_NEW_THREAD
            with open(Path(__file__).parent / "hooks.log", "a") as log:
                log.write(f"{request.node.name} {restored}\\n")

        @pytest.fixture
        def stop():
            event = threading.Event()
            yield event
            event.set()
            # Join the threads the event released, so that none of them is still leaving
            # project code while the next test is recorded.
            for thread in threading.enumerate():
                if thread.name in ("lingering", "idle"):
                    thread.join(60)

        def test_threads(stop):
            idle = start_idle(stop)
            lingering = start_lingering(stop)
            mine = square(3)
            pooled = in_pool_thread(4)
            raw = in_raw_thread(5)
            assert idle.is_alive()
            assert lingering.is_alive()
            assert (mine, pooled, raw) == (9, 16, 26)

        def test_one_thread():
            assert in_pool_thread(2) == 5
        ''',
}


@pytest.mark.parametrize("backend", ["auto", "settrace"])
def test_other_threads_named_not_traced(tmp_path, any_python, backend):
    root = write_project(tmp_path / "p", THREADS)
    run = run_traced(root, any_python, trace_options={"backend": backend})

    for nodeid in ("test_work.py::test_threads", "test_work.py::test_one_thread"):
        assert run.baseline.outcomes[nodeid].outcome == "failed"
        assert run.traced.outcomes[nodeid].outcome == "failed"
        trace = run.traces[nodeid]
        assert trace.outcome == "failed" and trace.reliable, trace.notes
        assert trace.budget is None

    trace = run.traces["test_work.py::test_threads"]
    # Only the test's thread is recorded: square(3) ran there, square(4) and square(5)
    # ran in the other threads.
    result = line_of(root, "work.py", "result = n * n")
    assert values_at(trace, root, "work.py", result) == [{"result": "9"}]
    assert {frame.thread for frame in trace.frames} == {"MainThread"}
    # pool-1 and the _thread thread had finished before recording stopped; lingering is
    # still inside project code; idle never ran project code.
    assert sorted(trace.threads_not_traced) == \
        ["_thread-1 (raw_body)", "lingering (linger)", "pool-1 (background)"]
    assert "(9, 16, 25) == (9, 16, 26)" in trace.failure.message

    one = run.traces["test_work.py::test_one_thread"]
    assert one.threads_not_traced == ["pool-1 (background)"]

    # Untraced run and traced run: threading's hook and _thread's function were put back.
    log = (root / "hooks.log").read_text().splitlines()
    assert log == ["test_threads True", "test_one_thread True"] * 2
