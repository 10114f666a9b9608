"""Kind 2: `async` tests and asyncio tasks. Coroutine frames suspend and resume many
times and interleave. Each value lands on its line in its own frame, and outcomes are
the same as without tracing."""

from __future__ import annotations

from hostile_helpers import line_of, run_traced, values_at, write_project

PROJECT = {
    # How projects without an async plugin run `async def` tests: a hook in conftest.
    "conftest.py": '''
        import asyncio
        import inspect

        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(pyfuncitem):
            if inspect.iscoroutinefunction(pyfuncitem.obj):
                names = pyfuncitem._fixtureinfo.argnames
                asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
                return True
            return None
        ''',
    "jobs.py": '''
        import asyncio

        async def fetch(key, delay):
            await asyncio.sleep(delay)
            value = key * 10
            return value

        async def collect(keys):
            tasks = [asyncio.create_task(fetch(k, 0.001 * (len(keys) - k))) for k in keys]
            done = await asyncio.gather(*tasks)
            total = sum(done)
            return total

        async def countdown(n):
            while n > 0:
                yield n
                await asyncio.sleep(0)
                n -= 1

        async def drain(n):
            seen = []
            async for item in countdown(n):
                seen.append(item)
            return seen

        async def too_slow():
            try:
                await asyncio.wait_for(asyncio.sleep(5), timeout=0.01)
                outcome = "finished"
            except asyncio.TimeoutError:
                outcome = "timed out"
            return outcome
        ''',
    "test_jobs.py": '''
        from jobs import collect, drain, too_slow

        async def test_collect():
            total = await collect([1, 2, 3])
            assert total == 61

        async def test_drain():
            assert await drain(3) == [3, 2, 1, 0]

        async def test_too_slow():
            assert await too_slow() == "finished"

        async def test_passes():
            assert await collect([1]) == 10
        ''',
}


def test_async_tests_and_tasks(tmp_path, any_python):
    root = write_project(tmp_path / "p", PROJECT)
    run = run_traced(root, any_python)
    expected = {"test_jobs.py::test_collect": "failed", "test_jobs.py::test_drain": "failed",
                "test_jobs.py::test_too_slow": "failed", "test_jobs.py::test_passes": "passed"}
    for result in (run.baseline, run.traced):
        assert {n: o.outcome for n, o in result.outcomes.items()} == expected, result.output
    for trace in run.traces.values():
        assert trace.reliable and trace.budget is None, trace.notes

    collect = run.traces["test_jobs.py::test_collect"]
    # Three tasks ran fetch; each frame has its own value, though they interleave.
    fetches = [f for f in collect.frames if f.function == "fetch"]
    assert sorted(f.args["key"] for f in fetches) == ["1", "2", "3"]
    assert sorted(f.returned for f in fetches) == ["10", "20", "30"]
    value = line_of(root, "jobs.py", "value = key * 10")
    assert sorted(v["value"] for v in values_at(collect, root, "jobs.py", value)) == \
        ["10", "20", "30"]
    total = line_of(root, "jobs.py", "total = sum(done)")
    # The awaited result is shown on the await line, in the hit where it suspended.
    gathered = line_of(root, "jobs.py", "done = await asyncio.gather(*tasks)")
    assert values_at(collect, root, "jobs.py", gathered)[-1]["done"] == "[10, 20, 30]"
    assert values_at(collect, root, "jobs.py", total) == [{"total": "60"}]
    assert "assert 60 == 61" in collect.failure.message

    drain = run.traces["test_jobs.py::test_drain"]
    # The async generator is one frame resumed for each item.
    assert [f.function for f in drain.frames].count("countdown") == 1
    decrement = line_of(root, "jobs.py", "n -= 1")
    assert [v["n"] for v in values_at(drain, root, "jobs.py", decrement)] == ["2", "1", "0"]

    slow = run.traces["test_jobs.py::test_too_slow"]
    handled = line_of(root, "jobs.py", 'outcome = "timed out"')
    assert values_at(slow, root, "jobs.py", handled) == [{"outcome": "'timed out'"}]
