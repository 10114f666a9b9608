"""A trace indexed by file and line, built once when the trace arrives.

Hover and inlay-hint requests arrive on every scroll and cursor move, so they must not
walk the trace's steps. This index groups the kept steps by (file, line) and computes
each line's inlay label up front, and groups the recorded calls of each function by
its first line, so a `def` line can show the arguments it was called with. The markdown
history is built on first use and cached, because most lines are never hovered. Line numbers here are the trace's:
1-based and relative to the file as it was when traced.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tracefix.tracer.trace_format import Frame, LineSummary, Step, Trace

from .summaries import call_label, inlay_label


@dataclass
class LineHistory:
    """Everything the trace kept about one source line."""

    line: int  # 1-based, in the traced version of the file
    hits: int  # executions, kept or not
    omitted: int  # executions that loop compression dropped
    omitted_between: tuple[int, int] | None  # step indexes bracketing the dropped ones
    steps: list[Step] = field(default_factory=list)  # kept executions, in order
    label: str | None = None  # inlay text; None when no execution changed a value
    markdown: dict[str, str] = field(default_factory=dict)  # locale → cached history


@dataclass
class CallHistory:
    """The recorded calls of one function, keyed by its first line (`co_firstlineno`)."""

    first_line: int  # 1-based, traced version: the `def` line or its first decorator
    function: str
    frames: list[Frame] = field(default_factory=list)  # recorded calls, in call order
    calls: int = 0  # all calls while recording; more than len(frames) when some were not kept
    label: str | None = None  # inlay text; None when no call had arguments
    markdown: dict[str, str] = field(default_factory=dict)  # locale → cached table


@dataclass
class FileIndex:
    path: str
    sha256: str  # of the file when it was traced; compared with the saved file
    lines: dict[int, LineHistory] = field(default_factory=dict)
    calls: dict[int, CallHistory] = field(default_factory=dict)


_serials = itertools.count(1)


class TraceIndex:
    """A trace plus per-file, per-line lookups of what it recorded."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        # Unique for the process's lifetime, unlike id(), so caches can key on it.
        self.serial = next(_serials)
        self.frames: dict[int, Frame] = {frame.id: frame for frame in trace.frames}
        self.files: dict[str, FileIndex] = {
            source.path: FileIndex(source.path, source.sha256) for source in trace.files
        }
        self._index_steps(trace)
        self._index_calls(trace)

    def _index_steps(self, trace: Trace) -> None:
        paths = [source.path for source in trace.files]
        summaries: dict[tuple[int, int], LineSummary] = {
            (summary.file, summary.line): summary for summary in trace.lines
        }

        for step in trace.steps:
            lines = self.files[paths[step.file]].lines
            history = lines.get(step.line)
            if history is None:
                summary = summaries.get((step.file, step.line))
                history = LineHistory(
                    line=step.line,
                    hits=summary.hits if summary else 0,
                    omitted=summary.omitted if summary else 0,
                    omitted_between=summary.omitted_between if summary else None,
                )
                lines[step.line] = history
            history.steps.append(step)

        for history in self._all_lines():
            # A trace without a summary for a line still counts the hits it kept.
            history.hits = max(history.hits, len(history.steps) + history.omitted)
            history.label = inlay_label(history.steps, history.hits)

    def _index_calls(self, trace: Trace) -> None:
        paths = [source.path for source in trace.files]
        # Frame ids grow in call order, and the trace lists frames as they start.
        for frame in sorted(trace.frames, key=lambda f: f.id):
            # Lambdas and comprehensions ("<lambda>", "<listcomp>") have no `def` line.
            if not 0 <= frame.file < len(paths) or frame.function.startswith("<"):
                continue
            calls = self.files[paths[frame.file]].calls
            history = calls.get(frame.first_line)
            if history is None:
                history = calls[frame.first_line] = CallHistory(frame.first_line, frame.function)
            history.frames.append(frame)
        for summary in trace.calls:
            if 0 <= summary.file < len(paths):
                history = self.files[paths[summary.file]].calls.get(summary.first_line)
                if history is not None:
                    history.calls = summary.calls
        for file_index in self.files.values():
            for history in file_index.calls.values():
                # A trace without call counts still counts the calls it kept.
                history.calls = max(history.calls, len(history.frames))
                history.label = call_label(history.frames, history.calls)

    def _all_lines(self):
        for file_index in self.files.values():
            yield from file_index.lines.values()

    def file(self, path: str) -> FileIndex | None:
        return self.files.get(path)

    def line(self, path: str, line: int) -> LineHistory | None:
        file_index = self.files.get(path)
        return file_index.lines.get(line) if file_index else None

    def calls(self, path: str, first_line: int) -> CallHistory | None:
        file_index = self.files.get(path)
        return file_index.calls.get(first_line) if file_index else None

    def distinct_frames(self, history: LineHistory) -> int:
        return len({step.frame for step in history.steps})
