"""Background jobs per test file: one at a time, with overlapping requests merged.

Test runs are child processes that take seconds, so they run on worker threads and the
event loop keeps serving hovers and hints. Saving a file three times while its tests
run must not start three more runs: jobs for one key (a test file) run one after
another, and a request for a job that is already waiting replaces it. A running job
whose same kind of job is requested again is superseded: it finishes (its child
process cannot be stopped from here), but its result is not applied, because the file
changed since it started. Everyone waiting gets the result of the job that replaced it.

NOTE: the runner offers no way to stop a running pytest child early, so a superseded
run still uses a worker until its own deadline (the test timeout) at worst.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

log = logging.getLogger(__name__)


@dataclass
class Job:
    kind: Hashable  # jobs of equal kind for one key replace each other
    work: Callable[[], Any]  # runs on a worker thread
    apply: Callable[[Any], None]  # runs on the event loop with work's result
    waiters: list[asyncio.Future] = field(default_factory=list)


@dataclass
class _Queue:
    running: Job | None = None
    pending: list[Job] = field(default_factory=list)


class JobScheduler:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._queues: dict[Hashable, _Queue] = {}

    def submit(self, key: Hashable, kind: Hashable, work: Callable[[], Any],
               apply: Callable[[Any], None]) -> asyncio.Future:
        """Queue a job; return a future for work's result once applied.

        Must be called on the event loop thread.
        """
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        queue = self._queues.setdefault(key, _Queue())

        for pending in queue.pending:
            if pending.kind == kind:
                log.debug("merging a %r request for %s into the waiting one", kind, key)
                pending.work, pending.apply = work, apply
                pending.waiters.append(waiter)
                return waiter

        job = Job(kind, work, apply, [waiter])
        if queue.running is None:
            self._start(key, queue, job)
        else:
            queue.pending.append(job)
        return waiter

    def busy(self, key: Hashable) -> bool:
        queue = self._queues.get(key)
        return bool(queue and (queue.running or queue.pending))

    def _start(self, key: Hashable, queue: _Queue, job: Job) -> None:
        queue.running = job
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, job.work)
        future.add_done_callback(lambda done: self._finished(key, queue, job, done))

    def _finished(self, key: Hashable, queue: _Queue, job: Job, done: asyncio.Future) -> None:
        queue.running = None
        replacement = next((p for p in queue.pending if p.kind == job.kind), None)

        if replacement is not None:
            log.info("discarding the result of a superseded %r job for %s", job.kind, key)
            replacement.waiters.extend(job.waiters)
        elif done.cancelled():
            for waiter in job.waiters:
                if not waiter.done():
                    waiter.cancel()
        elif done.exception() is not None:
            error = done.exception()
            log.error("%r job for %s failed: %s", job.kind, key, error, exc_info=error)
            for waiter in job.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
        else:
            result = done.result()
            try:
                job.apply(result)
            except Exception as error:  # a bug in apply must not wedge the queue
                log.exception("applying the %r result for %s failed", job.kind, key)
                for waiter in job.waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
            else:
                for waiter in job.waiters:
                    if not waiter.done():
                        waiter.set_result(result)

        if queue.pending:
            self._start(key, queue, queue.pending.pop(0))
        else:
            self._queues.pop(key, None)
