"""JobScheduler runs one job per key at a time and merges overlapping requests."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tracefix.server.lsp.scheduler import JobScheduler

pytestmark = pytest.mark.timeout(30)


@pytest.mark.asyncio
async def test_overlapping_runs_merge_into_one():
    executor = ThreadPoolExecutor(max_workers=2)
    scheduler = JobScheduler(executor)
    release = threading.Event()
    started: list[str] = []
    applied: list[str] = []

    def work(name: str, block: bool = False):
        def run():
            started.append(name)
            if block:
                release.wait(10)
            return name
        return run

    first = scheduler.submit("test_a.py", "run", work("first", block=True), applied.append)
    await asyncio.sleep(0.05)
    second = scheduler.submit("test_a.py", "run", work("second"), applied.append)
    third = scheduler.submit("test_a.py", "run", work("third"), applied.append)
    assert scheduler.busy("test_a.py")
    release.set()

    results = await asyncio.gather(first, second, third)

    # "first" was superseded: its result is never applied; "second" was replaced
    # by "third" before it started.
    assert started == ["first", "third"]
    assert applied == ["third"]
    assert results == ["third", "third", "third"]
    assert not scheduler.busy("test_a.py")
    executor.shutdown()


@pytest.mark.asyncio
async def test_different_kinds_run_in_order():
    executor = ThreadPoolExecutor(max_workers=2)
    scheduler = JobScheduler(executor)
    applied: list[str] = []

    run = scheduler.submit("test_a.py", "run", lambda: "run", applied.append)
    trace = scheduler.submit("test_a.py", ("trace", "t1"), lambda: "trace", applied.append)
    other = scheduler.submit("test_b.py", "run", lambda: "other", applied.append)

    assert await asyncio.gather(run, trace, other) == ["run", "trace", "other"]
    assert applied.index("run") < applied.index("trace")
    executor.shutdown()


@pytest.mark.asyncio
async def test_failing_job_reaches_waiter_and_queue_continues():
    executor = ThreadPoolExecutor(max_workers=1)
    scheduler = JobScheduler(executor)

    def fail():
        raise RuntimeError("pytest could not start")

    failed = scheduler.submit("test_a.py", "run", fail, lambda result: None)
    after = scheduler.submit("test_a.py", "trace", lambda: "ok", lambda result: None)

    with pytest.raises(RuntimeError, match="could not start"):
        await failed
    assert await after == "ok"
    executor.shutdown()
