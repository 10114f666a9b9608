"""Kind 1: generators and coroutines resumed many times, exceptions thrown into a
suspended generator, and a cancelled task: one frame, many resumptions, each value on
its line, and the outcome unchanged."""

from __future__ import annotations

from hostile_helpers import lines_run, line_of, run_traced, values_at, write_project

GENERATOR = {
    "gen.py": '''
        def counter(n):
            total = 0
            for i in range(n):
                got = yield total
                total += got or i
            return total

        def drain(resumptions):
            g = counter(resumptions + 1)
            seen = [next(g)]
            for _ in range(resumptions):
                seen.append(g.send(10))
            try:
                g.throw(ValueError("thrown in"))
            except ValueError as exc:
                seen.append(str(exc))
            return seen
        ''',
    "test_gen.py": '''
        from gen import drain

        def test_few():
            assert drain(4)[-1] == "boom"

        def test_many():
            assert len(drain(5000)) == 0
        ''',
}


def test_generator_resumed_many_times_keeps_one_frame(tmp_path, any_python):
    root = write_project(tmp_path / "p", GENERATOR)
    run = run_traced(root, any_python)
    for nodeid in ("test_gen.py::test_few", "test_gen.py::test_many"):
        assert run.baseline.outcomes[nodeid].outcome == "failed"
        trace = run.traces[nodeid]
        assert trace.outcome == "failed" and trace.reliable, trace.notes
        assert trace.budget is None

    few = run.traces["test_gen.py::test_few"]
    # One frame for the generator, however often it was resumed.
    assert [f.function for f in few.frames].count("counter") == 1
    add = line_of(root, "gen.py", "total += got or i")
    assert [v.get("total") for v in values_at(few, root, "gen.py", add)] == \
        ["10", "20", "30", "40"]
    # The value sent in is shown on the yield line, in the hit where it suspended, and
    # the resumption is not counted as another execution.
    yield_line = line_of(root, "gen.py", "got = yield total")
    kept = values_at(few, root, "gen.py", yield_line)
    assert kept[0] == {"__yield__": "0", "got": "10"}
    assert [v["__yield__"] for v in kept] == ["0", "10", "20", "30", "40"]
    # The exception thrown into the suspended generator ends it at the yield and reaches
    # drain's handler.
    handler = line_of(root, "gen.py", "seen.append(str(exc))")
    assert handler in lines_run(few, root, "gen.py")
    counter = next(f for f in few.frames if f.function == "counter")
    assert counter.raised == "ValueError: thrown in"

    many = run.traces["test_gen.py::test_many"]
    assert [f.function for f in many.frames].count("counter") == 1
    summary = next(s for s in many.lines if s.line == add and
                   many.files[s.file].path.endswith("gen.py"))
    assert summary.hits == 5000 and summary.omitted == 5000 - 2 * many.config["k"]


ASYNC_TASKS = {
    "work.py": '''
        import asyncio

        async def ticker(n, log):
            for i in range(n):
                await asyncio.sleep(0)
                log.append(i)
            return len(log)

        async def cancel_midway():
            log = []
            task = asyncio.ensure_future(ticker(1000, log))
            while len(log) < 3:
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                state = "cancelled"
            return state, len(log)
        ''',
    "test_work.py": '''
        import asyncio
        from work import cancel_midway

        def test_cancel():
            assert asyncio.run(cancel_midway()) == ("done", 3)
        ''',
}


def test_cancelled_task_ends_its_coroutine_frame(tmp_path, any_python):
    root = write_project(tmp_path / "p", ASYNC_TASKS)
    run = run_traced(root, any_python)
    trace = run.traces["test_work.py::test_cancel"]
    assert trace.outcome == "failed" and trace.reliable, trace.notes
    ticker = [f for f in trace.frames if f.function == "ticker"]
    assert len(ticker) == 1
    assert ticker[0].raised is not None and ticker[0].raised.startswith("CancelledError")
    state = line_of(root, "work.py", 'state = "cancelled"')
    assert values_at(trace, root, "work.py", state) == [{"state": "'cancelled'"}]
    assert "('cancelled', 3) == ('done', 3)" in trace.failure.message
