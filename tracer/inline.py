"""NExT-style inline rendering: source lines annotated with what executing them did.

The format follows NExT (Ni et al. 2024, arXiv 2404.14662), which showed that a model
reasons better about a failing program when each source line carries the values its
execution produced, as an end-of-line comment, with loops shortened to their first
and last iterations:

    def bitcount(n):  # call: n=127
        count = 0  # (9) count=0
        while n:  # (10); (13); (16); ... (31)
            n &= n - 1  # (11) n=126; (14) n=124; (17) n=120; ... (29) n=0

`(9)` is the global step number, so the order of events across lines and functions
can be read back; `...` marks hits that loop compression dropped. Each function that
ran is shown once, in order of first execution, with every activation's hits merged
(recursive calls included); the test function comes last, next to the failure.

`render_inline` is a pure function of the trace and the source texts, so the CLI, the
language server and the prompt builder all print the same thing.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

from .trace_format import Frame, Step, Trace

MAX_COMMENT = 600  # characters of one line's annotation before it is cut


@dataclass
class _Unit:
    """One function (or module body) as shown: a line range of one file."""

    file: int
    start: int  # first line shown (the first decorator or the `def`)
    end: int
    def_line: int | None
    first_step: int
    steps: list[Step] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)


def render_inline(trace: Trace, sources: dict[str, str]) -> str:
    """Render `trace` as annotated source; `sources` maps absolute path to source text."""
    out: list[str] = [_header(trace)]
    defs = {i: _function_ranges(sources.get(f.path)) for i, f in enumerate(trace.files)}
    units = _group(trace, defs)
    summaries = {(s.file, s.line): s for s in trace.lines}
    failing = _failing_location(trace)

    for unit in units:
        path = trace.files[unit.file].path
        out.append("")
        out.append(f"# {_display_path(path, trace.root)}")
        text = sources.get(path)
        lines = text.splitlines() if text is not None else None
        by_line: dict[int, list[Step]] = {}
        for step in unit.steps:
            by_line.setdefault(step.line, []).append(step)
        numbers = range(unit.start, unit.end + 1) if lines is not None else sorted(by_line)
        for number in numbers:
            source = lines[number - 1] if lines is not None and number <= len(lines) else f"line {number}:"
            notes = []
            if number == unit.def_line and unit.frames:
                notes.append(_calls(unit.frames, trace.config.get("k", 3)))
            if number in by_line:
                notes.append(_hits(by_line[number], summaries.get((unit.file, number))))
            if failing == (unit.file, number):
                notes.append(f"!! {trace.failure.exc_type} raised here" if trace.failure else "")
            comment = "; ".join(n for n in notes if n)
            if comment:
                source = f"{source}  # {_cut(comment)}"
            out.append(source.rstrip())

    out.extend(_footer(trace))
    return "\n".join(out) + "\n"


def _header(trace: Trace) -> str:
    shown = f"{len(trace.steps)} of {trace.total_steps} line executions shown"
    return (f"# Trace of {trace.test_id} ({trace.outcome}); Python {trace.python}, "
            f"{trace.backend}; {shown}")


def _footer(trace: Trace) -> list[str]:
    lines: list[str] = []
    if trace.budget is not None:
        budget = trace.budget
        lines.append(f"# Recording stopped early ({budget.kind} limit {budget.limit:g}) "
                     f"after step {budget.step}: {budget.detail}")
    failure = trace.failure
    if failure is not None:
        where = ""
        if failure.file is not None:
            where = f" at {_display_path(failure.file, trace.root)}:{failure.line}"
        lines.append(f"# FAILED{where}: {failure.exc_type}: {_one_line(failure.message)}".rstrip())
        if failure.assertion:
            a = failure.assertion
            lines.append(f"# assert operands: left={a.get('left')} {a.get('op')} right={a.get('right')}")
    if not trace.reliable:
        lines.append("# NOTE: the traced run's outcome differed from the untraced run.")
    if lines:
        lines.insert(0, "")
    return lines


def _group(trace: Trace, defs: dict[int, list[tuple[int, int, int]]]) -> list[_Unit]:
    """Group steps by the innermost source function that contains their line."""
    frames = {f.id: f for f in trace.frames}
    units: dict[tuple[int, int], _Unit] = {}
    for step in trace.steps:
        frame = frames.get(step.frame)
        span = _innermost(defs.get(step.file, []), step.line)
        if span is None:
            # Module-level code, or no source: show the executed lines only.
            key = (step.file, frame.first_line if frame else 0)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = _Unit(step.file, step.line, step.line, None, step.index)
            unit.start = min(unit.start, step.line)
            unit.end = max(unit.end, step.line)
        else:
            start, def_line, end = span
            key = (step.file, def_line)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = _Unit(step.file, start, end, def_line, step.index)
        unit.steps.append(step)
        if frame is not None and frame.first_line in (unit.start, unit.def_line) \
                and frame not in unit.frames:
            unit.frames.append(frame)

    ordered = sorted(units.values(), key=lambda u: u.first_step)
    # The test function (named by the node id, "file.py::Class::test_name[params]")
    # goes last, next to the failure.
    test_name = trace.test_id.split("::")[-1].split("[")[0]
    tests = [
        u for u in ordered
        if test_name and any(f.parent is None and f.function == test_name for f in u.frames)
    ]
    return [u for u in ordered if u not in tests] + tests


def _function_ranges(source: str | None) -> list[tuple[int, int, int]]:
    """Return (first line incl. decorators, def line, last line) of each function."""
    if source is None:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((start, node.lineno, node.end_lineno or node.lineno))
    return spans


def _innermost(spans: list[tuple[int, int, int]], line: int) -> tuple[int, int, int] | None:
    best = None
    for span in spans:
        if span[0] <= line <= span[2] and (best is None or span[0] >= best[0]):
            best = span
    return best


def _one_line(text: str) -> str:
    """Escape line breaks so a value cannot end its `#` comment and pose as code."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _hits(steps: list[Step], summary: object) -> str:
    """Render the kept hits of one line, with `...` where compression dropped some."""
    gap = getattr(summary, "omitted_between", None)
    parts: list[str] = []
    gap_shown = False
    for step in sorted(steps, key=lambda s: s.index):
        if gap and not gap_shown and step.index >= gap[1]:
            parts.append("...")
            gap_shown = True
        values = "; ".join(f"{name}={_one_line(value)}" for name, value in step.values.items())
        parts.append(f"({step.index}) {values}" if values else f"({step.index})")
    return _join_hits(parts)


def _join_hits(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if not text:
            text = part
        elif part == "..." or text.endswith("..."):
            text = f"{text} {part}" if text.endswith("...") else f"{text}; {part}"
        else:
            text = f"{text}; {part}"
    return text


def _calls(frames: list[Frame], k: int) -> str:
    """Render the arguments of each activation: the first k and the last k."""
    def one(frame: Frame) -> str:
        args = ", ".join(f"{name}={_one_line(value)}" for name, value in frame.args.items())
        return f"call: {args}" if args else "call"

    # The trace holds only activations with a kept step, so the number of calls left
    # out here is not known; `...` marks that some were.
    ordered = sorted(frames, key=lambda f: f.id)
    if len(ordered) <= 2 * k:
        return "; ".join(one(f) for f in ordered)
    head = "; ".join(one(f) for f in ordered[:k])
    tail = "; ".join(one(f) for f in ordered[-k:])
    return f"{head}; ... {tail}"


def _failing_location(trace: Trace) -> tuple[int, int] | None:
    failure = trace.failure
    if failure is None or failure.file is None or failure.line is None:
        return None
    index = trace.file_index(failure.file)
    return (index, failure.line) if index is not None else None


def _display_path(path: str, root: str) -> str:
    try:
        relative = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _cut(comment: str) -> str:
    if len(comment) <= MAX_COMMENT:
        return comment
    return f"{comment[:MAX_COMMENT]}…(+{len(comment) - MAX_COMMENT} chars)"
