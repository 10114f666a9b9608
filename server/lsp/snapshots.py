"""Failure snapshots and debug sessions for the language server.

After a run that traced a failing test, the state at the failure is read through debugpy
on a thread of its own. debugpy's start-up and the re-run take a few seconds, and test
runs and hint refreshes must not wait for them. The snapshot joins the trace (`snapshot`),
where the hover and the model's prompt find it. "Debug this failure" starts the test
under debugpy, paused at the failure once a debugger attaches, and keeps the child
until it ends, the server shuts down, or DEBUG_IDLE_SECONDS pass without a finished session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from tracefix.server.debug import DapError, Debuggee, start_debuggee, take_snapshot
from tracefix.server.debug_cli import attach_configuration
from tracefix.server.runner import InterpreterError, find_interpreter

from .trace_index import TraceIndex

log = logging.getLogger(__name__)

DEBUG_IDLE_SECONDS = 600.0  # an unfinished debug session is killed after this


class Snapshots:
    """Takes snapshots in the background and owns the debug sessions it started."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracefix-snapshot")
        self.taken: set[int] = set()  # TraceIndex serials already snapshotted or queued
        self.sessions: dict[str, Debuggee] = {}  # nodeid → its debug session
        self._lock = threading.Lock()

    def schedule(self, ls, root: str, nodeid: str, index: TraceIndex) -> None:
        """Queue a snapshot for the trace `index` of `nodeid`, once per trace."""
        if not ls.options.snapshot or index.serial in self.taken or index.trace.failure is None:
            return
        self.taken.add(index.serial)
        options = ls.options
        loop = asyncio.get_running_loop()  # called on the event loop thread

        def work() -> None:
            try:
                interpreter = find_interpreter(root, options.interpreter)
                snapshot = take_snapshot(root, nodeid, interpreter=interpreter)
            except (DapError, InterpreterError, OSError) as exc:
                log.warning("no failure snapshot of %s: %s", nodeid, exc)
                return
            log.info("failure snapshot of %s: %d frames in %.1f s", nodeid,
                     len(snapshot.frames), snapshot.seconds)
            # Handlers read traces on the event loop thread only, so the trace is changed there.
            loop.call_soon_threadsafe(_attach, index, snapshot.to_json())

        self.executor.submit(work)

    async def take_now(self, ls, root: str, nodeid: str) -> dict | None:
        """Take a snapshot of `nodeid` now, attach it to its shown trace, and return it."""
        interpreter = find_interpreter(root, ls.options.interpreter)
        loop = asyncio.get_running_loop()
        snapshot = (await loop.run_in_executor(
            self.executor, lambda: take_snapshot(root, nodeid, interpreter=interpreter))).to_json()
        for run in ls.store.runs.values():
            index = run.traces.get(nodeid)
            if index is not None:
                self.taken.add(index.serial)
                _attach(index, snapshot)
        return snapshot

    def start_session(self, root: str, nodeid: str, interpreter_setting: str | None) -> dict:
        """Start `nodeid` under debugpy, paused at its failure; return how to attach."""
        interpreter = find_interpreter(root, interpreter_setting)
        with self._lock:
            previous = self.sessions.pop(nodeid, None)
        if previous is not None:
            previous.kill()
        debuggee = start_debuggee(root, nodeid, interpreter=interpreter, pause_at_failure=True)
        with self._lock:
            self.sessions[nodeid] = debuggee
        timer = threading.Timer(DEBUG_IDLE_SECONDS, self._expire, args=(nodeid, debuggee))
        timer.daemon = True
        timer.start()
        return {"host": debuggee.host, "port": debuggee.port,
                "configuration": attach_configuration(nodeid, debuggee.host, debuggee.port)}

    def _expire(self, nodeid: str, debuggee: Debuggee) -> None:
        if debuggee.alive():
            log.info("debug session of %s unfinished after %.0f s; stopping it", nodeid, DEBUG_IDLE_SECONDS)
            debuggee.kill()
        with self._lock:
            if self.sessions.get(nodeid) is debuggee:
                del self.sessions[nodeid]

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            sessions, self.sessions = list(self.sessions.values()), {}
        for debuggee in sessions:
            debuggee.kill()


def _attach(index: TraceIndex, snapshot: dict) -> None:
    index.trace.snapshot = snapshot
