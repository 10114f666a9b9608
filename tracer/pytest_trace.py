"""pytest plugin that records a line trace of each selected test's call phase.

Registered by `pytest_plugin.pytest_configure` when `--tracefix-trace-dir` is given.
Recording wraps only the call phase (`pytest_runtest_call`), innermost among the
hook wrappers so that other plugins' wrappers are not recorded. The trace is written
from `pytest_runtest_makereport`, where the call's outcome and exception are known:
`DIR/<sha1(nodeid)[:16]>.json`, plus a line `{"nodeid": ..., "file": name}` in
`DIR/index.jsonl`.

Only the process that loaded the plugin records and writes. A child forked by a test
(which may return into pytest and run the rest of the session) records and writes
nothing, so it cannot overwrite the parent's traces.

Invariant: the plugin never changes a test's outcome. The hook wrappers are old-style
(`hookwrapper=True`), so the test's exception is never raised inside them. Every step
of recording and writing is guarded, and a failure to write is reported on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any, Iterator

import pytest

from .config import TraceConfig
from .failure import build_failure
from .isolation import exit_request
from .session import Recording
from .trace_format import write_trace


def trace_file_name(nodeid: str) -> str:
    return hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:16] + ".json"


class TracingPlugin:
    def __init__(self, trace_dir: str, config: TraceConfig, only: set[str]) -> None:
        self.trace_dir = os.path.abspath(trace_dir)
        self.config = config
        self.only = set(only)
        self._recordings: dict[str, Recording] = {}
        self.pid = os.getpid()

    def _selected(self, nodeid: str) -> bool:
        if not self.only:
            return True
        # A selector without parameters selects every parametrized case.
        return nodeid in self.only or nodeid.split("[", 1)[0] in self.only

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        if not self._selected(item.nodeid) or os.getpid() != self.pid:
            yield
            return
        recording: Recording | None = None
        try:
            # Built inside the try: no error of the tracer may reach the test.
            recording = Recording(self.config)
            recording.start()
        except Exception as exc:
            _warn(item.nodeid, "could not start recording", exc)
            recording = None
        try:
            yield
        finally:
            if recording is not None:
                recording.stop()
                self._recordings[item.nodeid] = recording

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        outcome = yield
        if call.when != "call":
            return
        recording = self._recordings.pop(item.nodeid, None)
        if recording is None or os.getpid() != self.pid:
            return
        try:
            report = outcome.get_result()
            trace = recording.trace(item.nodeid)
            trace.outcome = _outcome_of(report)
            excinfo = call.excinfo
            if exit_request(excinfo) is not None and trace.outcome == "failed":
                trace.outcome = "crashed"  # as in the report; see isolation.exit_request
            if excinfo is not None and trace.outcome in ("failed", "xfailed", "crashed"):
                failure, notes = build_failure(
                    excinfo.type, excinfo.value, excinfo.tb, _message_of(report, excinfo),
                    recording.recorder.scope, recording.recorder.renderer,
                )
                trace.failure = failure
                trace.notes.extend(notes)
            self._write(item.nodeid, trace)
        except Exception as exc:
            _warn(item.nodeid, "could not write the trace", exc)

    def _write(self, nodeid: str, trace: Any) -> None:
        name = trace_file_name(nodeid)
        os.makedirs(self.trace_dir, exist_ok=True)
        write_trace(trace, os.path.join(self.trace_dir, name))
        # One short line per append: concurrent writers (xdist workers) do not
        # interleave within a line on POSIX when each line goes out in one write.
        line = json.dumps({"nodeid": nodeid, "file": name}, ensure_ascii=False) + "\n"
        with open(os.path.join(self.trace_dir, "index.jsonl"), "a", encoding="utf-8") as index:
            index.write(line)


def _outcome_of(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome


def _message_of(report: pytest.TestReport, excinfo: Any) -> str:
    """Take the message pytest already formatted, so no user `__str__` runs here."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if isinstance(message, str):
        prefix = f"{excinfo.typename}: "
        return message[len(prefix):] if message.startswith(prefix) else message
    return str(report.longrepr)


def _warn(nodeid: str, what: str, exc: BaseException) -> None:
    sys.stderr.write(f"tracefix: {what} for {nodeid}: {type(exc).__name__}: {exc}\n")
