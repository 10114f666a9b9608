"""The latest test outcomes and traces, per test file, and the line maps of open documents.

Only the event loop thread reads or changes a ResultStore: background runs hand a
finished TestRun to the loop, which calls `add_run`. That keeps handlers free of locks
and lets every request see one consistent state. Paths are absolute, as the runner and
the tracer write them. Line numbers are the trace's (1-based) unless a name says
`current` (0-based, in the open document as edited since).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Sequence

from tracefix.server.runner import FAILING_OUTCOMES, TestOutcome

from .line_map import LineMap
from .trace_index import CallHistory, LineHistory, TraceIndex

_DEF_LINE = re.compile(r"\s*(async\s+)?def\s")


@dataclass
class TestRun:
    """The result of one background run of one test file."""

    __test__ = False  # not a pytest test class, despite the name

    test_file: str
    root: str
    outcomes: dict[str, TestOutcome]  # nodeid → outcome, in collection order
    traces: dict[str, TraceIndex]  # failing nodeid → its indexed trace
    # Traced file → its text when tracing, read back and checked against the trace's
    # sha256; a file edited since is absent, so its hints are never placed.
    sources: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why the run failed to produce outcomes, for the user
    # Failing nodeid → the engine's most suspicious (file, 1-based line), best first.
    suspicious: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ShownTrace:
    """The trace whose values are shown_trace in one file, and that file's text when traced."""

    nodeid: str
    index: TraceIndex
    traced_text: str


@dataclass(frozen=True)
class FailureSite:
    """The location of one test's failure, in trace line numbers."""

    nodeid: str
    path: str
    line: int  # 1-based; 0 means "at the test's def line, wherever it is now"
    outcome: TestOutcome
    trace: TraceIndex | None


def sha256_of_file(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def _inside(path: str | None, root: str) -> bool:
    return bool(path) and os.path.normpath(path).startswith(os.path.normpath(root) + os.sep)


def test_file_of(root: str, nodeid: str) -> str:
    return os.path.normpath(os.path.join(root, nodeid.split("::", 1)[0]))


class ResultStore:
    def __init__(self) -> None:
        self.runs: dict[str, TestRun] = {}  # test file → its latest run
        self.order: list[str] = []  # test files, most recently run last
        self.preferred: dict[str, str] = {}  # test file → nodeid chosen by "Re-run traced"
        self.line_maps: dict[str, LineMap] = {}  # open document path → its map
        self.stale: set[str] = set()  # saved content no longer matches the trace
        self._shown: dict[str, ShownTrace | None] = {}

    # -- updates ---------------------------------------------------------------------

    def add_run(self, run: TestRun) -> set[str]:
        """Store a finished run; return the paths whose diagnostics or hints changed."""
        previous = self.runs.get(run.test_file)
        self.runs[run.test_file] = run
        if run.test_file in self.order:
            self.order.remove(run.test_file)
        self.order.append(run.test_file)

        touched = {run.test_file}
        for old_or_new in (previous, run):
            if old_or_new is not None:
                touched |= self._paths_of(old_or_new)
        self.stale -= touched
        self._shown.clear()
        return touched

    def _paths_of(self, run: TestRun) -> set[str]:
        paths = set()
        for index in run.traces.values():
            paths |= set(index.files)
        for outcome in run.outcomes.values():
            if outcome.crash_path:
                paths.add(outcome.crash_path)
        return paths

    def prefer(self, test_file: str, nodeid: str) -> None:
        self.preferred[test_file] = nodeid
        self._shown.clear()

    def mark_saved(self, path: str) -> bool:
        """Compare the saved file with its trace; return True when its hints were dropped."""
        shown_trace = self.shown_trace(path)
        if shown_trace is None:
            return False
        file_index = shown_trace.index.file(path)
        if file_index is not None and sha256_of_file(path) != file_index.sha256:
            self.stale.add(path)
            return True
        return False

    # -- queries ---------------------------------------------------------------------

    def shown_trace(self, path: str) -> ShownTrace | None:
        """Return the trace whose values are shown_trace in `path`, or None.

        The most recent run that traced `path` wins; within a run the test chosen by
        "Re-run traced" comes first, then failing tests in collection order.
        """
        if path in self._shown:
            return self._shown[path]
        found = None
        for test_file in reversed(self.order):
            run = self.runs[test_file]
            for nodeid in self._trace_order(run):
                index = run.traces[nodeid]
                if path in index.files and path in run.sources:
                    found = ShownTrace(nodeid, index, run.sources[path])
                    break
            if found:
                break
        self._shown[path] = found
        return found

    def _trace_order(self, run: TestRun) -> list[str]:
        preferred = self.preferred.get(run.test_file)
        order = [preferred] if preferred in run.traces else []
        return order + [nodeid for nodeid in run.traces if nodeid != preferred]

    def sync_line_map(self, path: str, document_text: str | None) -> None:
        """Create, keep or drop the line map of `path` after a run or an open/close.

        `document_text` is the open document's text, or None when it is not open. A map
        is rebuilt only when the shown_trace trace's text changed, so edits made since the
        map was built stay tracked.
        """
        shown_trace = self.shown_trace(path)
        if document_text is None or shown_trace is None:
            self.line_maps.pop(path, None)
            return
        current = self.line_maps.get(path)
        if current is None or current.traced_text is not shown_trace.traced_text:
            self.line_maps[path] = LineMap(shown_trace.traced_text, document_text)

    def visible_trace(self, path: str) -> ShownTrace | None:
        """Return the shown_trace trace of `path` unless its saved content no longer matches."""
        return None if path in self.stale else self.shown_trace(path)

    def history_at(self, path: str, current_line: int) -> tuple[ShownTrace, LineHistory] | None:
        """Return the traced history shown_trace at 0-based `current_line` of `path`, if any."""
        shown_trace = self.visible_trace(path)
        if shown_trace is None:
            return None
        traced_line = self.traced_line(path, current_line)
        if traced_line is None:
            return None
        history = shown_trace.index.line(path, traced_line + 1)
        return (shown_trace, history) if history else None

    def calls_at(self, path: str, current_line: int,
                 lines: Sequence[str]) -> tuple[ShownTrace, CallHistory] | None:
        """Return the recorded calls of the function whose `def` is at `current_line`.

        A frame records `co_firstlineno`, which is the first decorator's line when there
        are decorators, so the decorator lines above a `def` are searched too. `lines`
        is the document as the editor shows it.
        """
        shown_trace = self.visible_trace(path)
        if shown_trace is None or not 0 <= current_line < len(lines):
            return None
        if not _DEF_LINE.match(lines[current_line]):
            return None
        line = current_line
        while line >= 0:
            traced_line = self.traced_line(path, line)
            history = shown_trace.index.calls(path, traced_line + 1) if traced_line is not None else None
            if history is not None:
                return shown_trace, history
            line -= 1
            if line < 0 or not lines[line].lstrip().startswith("@"):
                return None
        return None

    def traced_line(self, path: str, current_line: int) -> int | None:
        """Return the 0-based traced line now at `current_line`; identity if not open."""
        line_map = self.line_maps.get(path)
        return line_map.traced_line(current_line) if line_map else current_line

    def current_line(self, path: str, traced_line: int) -> int | None:
        """Return where 0-based `traced_line` is now; identity if the file is not open."""
        line_map = self.line_maps.get(path)
        return line_map.current_line(traced_line) if line_map else traced_line

    def failing(self, test_file: str) -> list[TestOutcome]:
        run = self.runs.get(test_file)
        if run is None:
            return []
        return [o for o in run.outcomes.values() if o.outcome in FAILING_OUTCOMES]

    def failure_sites(self) -> list[FailureSite]:
        """Return where each failing test of every stored run failed."""
        sites = []
        for test_file in self.order:
            run = self.runs[test_file]
            for outcome in run.outcomes.values():
                if outcome.outcome not in FAILING_OUTCOMES:
                    continue
                index = run.traces.get(outcome.nodeid)
                failure = index.trace.failure if index else None
                if failure is not None and failure.file and failure.line:
                    path, line = failure.file, failure.line
                elif outcome.crash_line and _inside(outcome.crash_path, run.root):
                    # A crash location outside the project (a tracer frame that hit the
                    # recursion limit, a library) is no place for the user to look.
                    path, line = outcome.crash_path, outcome.crash_line
                else:
                    # No project location (a collection error, a crash outside the
                    # project): line 0 stands for the test's `def` line, found in the
                    # current text when diagnostics are built.
                    path, line = test_file, 0
                sites.append(FailureSite(outcome.nodeid, path, line, outcome, index))
        return sites

    def related_lines(self) -> dict[str, list[tuple[str, int]]]:
        related: dict[str, list[tuple[str, int]]] = {}
        for run in self.runs.values():
            related.update(run.suspicious)
        return related

    def run_for(self, nodeid: str) -> TestRun | None:
        for run in self.runs.values():
            if nodeid in run.outcomes:
                return run
        return None
