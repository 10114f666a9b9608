"""The structured report: one JSON line per pytest event, written by the test process.

The runner reads this file instead of pytest's console output. Each line is flushed as
soon as it is written. So when the test process dies (`os._exit`, a segfault, SIGKILL
from the watchdog), the lines written before are still on disk, and the runner can tell
which test was running. Only the process that opened the file writes to it. A child
forked by a test writes nothing, even when it returns into pytest and finishes the
session on its own. Nothing is fsync'ed because the reader runs on the same
machine right after the process exits, and the page cache survives a killed process.

Events, in order:

    {"event": "collected", "nodeids": [...]}
    {"event": "collect-error", "nodeid": ..., "message": ..., "longrepr": ...}
    {"event": "start", "nodeid": ...}
    {"event": "result", "nodeid": ..., "when": ..., "outcome": ..., ...}
    {"event": "leak", "nodeid": ..., "cwd": ..., "env_added": [...], ...}
    {"event": "finish", "exitstatus": n}

A phase that raised SystemExit (the test called `sys.exit`) has the outcome `crashed`.
A leak event follows a test that left the working directory or the environment changed
(see `isolation.TestIsolation`, which has put them back).

A result is written for the setup phase when it did not pass, for the call phase when it
ran, and for the teardown phase always, so a test without a teardown result did not
finish. With coverage on, each result carries the project lines executed since the
previous result of the same test.

The writer also registers `faulthandler` on SIGUSR1, dumping every thread's stack to
`PATH.stacks`, so the runner's watchdog can see where a hung test is stuck, even inside
a C call such as `time.sleep`.

Only the standard library and pytest are used because this module runs in the user's
test process.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import threading
from typing import Any, Callable

import pytest

from .isolation import exit_request
from .notes import Note, note, note_to_json
from .scope import ProjectScope

# Bounds on the text copied from a report, in characters. A cut longrepr keeps its end,
# where the exception is, and a marker gives the number of characters dropped.
MAX_MESSAGE_CHARS = 4_000
MAX_LONGREPR_CHARS = 4_000

STACKS_SUFFIX = ".stacks"


def bound_text(text: str, limit: int, keep_tail: bool = False) -> str:
    """Cut `text` to about `limit` characters, with a marker that gives the number cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    marker = f"\n[... tracefix cut {cut} characters ...]\n"
    if not keep_tail:
        return text[:limit] + marker
    head = limit // 4
    return text[:head] + marker + text[len(text) - (limit - head):]


def project_file_filter(root: str) -> Callable[[str], bool]:
    """Build a cached predicate: is this code filename a project file below `root`?

    The same rule as the recorder's (`scope.ProjectScope`), so that coverage, crash
    locations and traces agree on what counts as the user's code.
    """
    scope = ProjectScope(root)

    def is_project(filename: str) -> bool:
        return scope.project_path(filename) is not None

    return is_project


class _MonitoringLines:
    """Project lines executed, from `sys.monitoring` LINE events (Python 3.12+).

    Each location reports once and then returns DISABLE, so a loop costs one event per
    line, not one per iteration. `restart_events()` re-arms the disabled locations
    before each test.
    NOTE: `restart_events()` also re-arms locations that other tools disabled, so a tool
    that relies on DISABLE (another coverage tool, a tracer) receives extra events.
    """

    def __init__(self, is_project: Callable[[str], bool]) -> None:
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        self._monitoring = monitoring
        self._tool = self._claim_tool_id()
        self._is_project = is_project
        self._disable = monitoring.DISABLE
        self._lines: set[tuple[str, int]] = set()
        monitoring.register_callback(self._tool, monitoring.events.LINE, self._on_line)

    def _claim_tool_id(self) -> int:
        # 4 and 3 have no assigned role in CPython; COVERAGE_ID comes last so that a test
        # that starts coverage.py itself still finds it free.
        for tool in (4, 3, self._monitoring.COVERAGE_ID):
            try:
                self._monitoring.use_tool_id(tool, "tracefix-coverage")
            except ValueError:
                continue
            return tool
        raise RuntimeError("tracefix: no free sys.monitoring tool id (tried 4, 3, 1)")

    def _on_line(self, code: Any, line: int) -> Any:
        if self._is_project(code.co_filename):
            self._lines.add((code.co_filename, line))
        return self._disable

    def start(self) -> None:
        self._monitoring.restart_events()
        self._monitoring.set_events(self._tool, self._monitoring.events.LINE)

    def stop(self) -> None:
        self._monitoring.set_events(self._tool, 0)

    def take(self) -> set[tuple[str, int]]:
        lines, self._lines = self._lines, set()
        return lines

    def close(self) -> None:
        self.stop()
        self._monitoring.register_callback(self._tool, self._monitoring.events.LINE, None)
        self._monitoring.free_tool_id(self._tool)


class _SettraceLines:
    """Project lines executed, from `sys.settrace` (Python before 3.12).

    Only frames of project files get a local trace function, so library code pays for
    the call event alone. Threads started during the test are traced through
    `threading.settrace`. The previous trace functions are put back after each test.
    """

    def __init__(self, is_project: Callable[[str], bool]) -> None:
        self._is_project = is_project
        self._lines: set[tuple[str, int]] = set()
        self._previous: Any = None
        self._previous_threading: Any = None

    def _global_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and self._is_project(frame.f_code.co_filename):
            return self._local_trace
        return None

    def _local_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self._lines.add((frame.f_code.co_filename, frame.f_lineno))
        return self._local_trace

    def start(self) -> None:
        self._previous = sys.gettrace()
        self._previous_threading = threading.gettrace()
        threading.settrace(self._global_trace)
        sys.settrace(self._global_trace)

    def stop(self) -> None:
        sys.settrace(self._previous)
        threading.settrace(self._previous_threading)

    def take(self) -> set[tuple[str, int]]:
        lines, self._lines = self._lines, set()
        return lines

    def close(self) -> None:
        pass


def _outcome(report: pytest.TestReport) -> str:
    """Map one phase report to an outcome name, as pytest's terminal summary counts it."""
    if hasattr(report, "wasxfail"):
        if report.skipped:
            return "xfailed"
        if report.passed:
            return "xpassed"
    if report.passed:
        return "passed"
    if report.skipped:
        return "skipped"
    return "failed" if report.when == "call" else "error"


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if report.passed and not hasattr(report, "wasxfail"):
        return ""
    if hasattr(report, "wasxfail") and report.wasxfail:
        return str(report.wasxfail)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        # A skip: (path, line, "Skipped: reason").
        reason = str(longrepr[2])
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    text = str(longrepr or "").strip()
    return text.splitlines()[-1] if text else ""


def _crash_location(report: pytest.TestReport, is_project: Callable[[str], bool]) -> dict[str, Any] | None:
    """Return the deepest traceback entry in project code, else pytest's crash location.

    pytest's own crash location is the innermost frame, which can be library code or a
    trace function (a RecursionError is often raised inside one), where an editor
    cannot show it on the user's line.
    """
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is None or report.passed:
        return None
    entries = getattr(getattr(report.longrepr, "reprtraceback", None), "reprentries", None) or []
    for entry in reversed(entries):
        location = getattr(entry, "reprfileloc", None)
        if location is None:
            continue
        path = os.path.abspath(str(location.path))
        if is_project(path):
            return {"path": path, "line": int(location.lineno)}
    return {"path": os.path.abspath(str(crash.path)), "line": int(crash.lineno)}


class ReportWriter:
    """pytest plugin that writes the JSON-lines report; registered by `pytest_plugin`."""

    def __init__(self, path: str, root: str, coverage: bool = False) -> None:
        self.path = path
        self.root = root
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._out = open(path, "w", encoding="utf-8")
        self._pid = os.getpid()
        self._broken = False
        self._stacks = self._register_stack_dump(path + STACKS_SUFFIX)
        self._coverage: _MonitoringLines | _SettraceLines | None = None
        self._coverage_note = ""
        self._is_project = project_file_filter(root)
        self._exits: dict[tuple[str, str], str] = {}  # (nodeid, phase) -> "sys.exit(3)"
        if coverage:
            self._coverage = self._make_coverage(self._is_project)

    @staticmethod
    def _register_stack_dump(stacks_path: str) -> Any:
        if not hasattr(signal, "SIGUSR1"):
            return None  # Windows: the watchdog kills without a stack dump.
        stacks = open(stacks_path, "w", encoding="utf-8")
        faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True, chain=False)
        return stacks

    def _make_coverage(self, is_project: Callable[[str], bool]) -> Any:
        if sys.version_info >= (3, 12):
            try:
                return _MonitoringLines(is_project)
            except RuntimeError as exc:
                self._coverage_note = str(exc)
                return None
        if sys.gettrace() is not None:
            # Replacing a debugger's or coverage.py's trace function would break it.
            self._coverage_note = "tracefix: coverage off because another trace function is set"
            return None
        return _SettraceLines(is_project)

    def _write(self, event: dict[str, Any]) -> None:
        if self._broken or os.getpid() != self._pid:
            return
        try:
            # ensure_ascii keeps lone surrogates from test output writable.
            self._out.write(json.dumps(event, ensure_ascii=True) + "\n")
            self._out.flush()
        except OSError as exc:
            # A full disk must not change the tests' outcomes, so the runner gets a short file.
            self._broken = True
            sys.stderr.write(f"tracefix: cannot write the report {self.path}: {exc}\n")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._write({"event": "collected", "nodeids": [item.nodeid for item in session.items]})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        text = str(report.longrepr or "")
        self._write({
            "event": "collect-error",
            "nodeid": report.nodeid,
            "message": bound_text(text.strip().splitlines()[-1] if text.strip() else "",
                                  MAX_MESSAGE_CHARS),
            "longrepr": bound_text(text, MAX_LONGREPR_CHARS, keep_tail=True),
        })

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._write({"event": "start", "nodeid": nodeid})
        if self._coverage is not None:
            self._coverage.take()
            self._coverage.start()

    def write_leak(self, nodeid: str, leak: dict[str, Any]) -> None:
        self._write({"event": "leak", "nodeid": nodeid, **leak})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        yield
        exited = exit_request(call.excinfo)
        if exited is not None:
            self._exits[(item.nodeid, call.when)] = exited

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        exited = self._exits.pop((report.nodeid, report.when), None)
        if report.when == "setup" and report.passed:
            return
        outcome, message = _outcome(report), _message(report)
        if exited is not None and outcome in ("failed", "error"):
            outcome, message = "crashed", note("trace.outcome.exit_called", call=exited)
        lines = None
        if self._coverage is not None:
            if report.when == "teardown":
                self._coverage.stop()
            lines = sorted([os.path.abspath(path), line] for path, line in self._coverage.take())
        self._write({
            "event": "result",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": outcome,
            "duration": report.duration,
            # A Note (from tracefix) keeps its key, so the server can show it translated.
            "message": note_to_json(message) if isinstance(message, Note)
            else bound_text(message, MAX_MESSAGE_CHARS),
            "crash": _crash_location(report, self._is_project),
            "longrepr": bound_text(report.longreprtext or "", MAX_LONGREPR_CHARS, keep_tail=True),
            "lines": lines,
        })

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        if self._coverage is not None:
            self._coverage.stop()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        event: dict[str, Any] = {"event": "finish", "exitstatus": int(exitstatus)}
        if self._coverage_note:
            event["note"] = self._coverage_note
        self._write(event)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._coverage is not None:
            self._coverage.close()
            self._coverage = None
        if self._stacks is not None:
            faulthandler.unregister(signal.SIGUSR1)
            self._stacks.close()
            self._stacks = None
        self._out.close()
