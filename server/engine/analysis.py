"""Find, in a trace, what failed, where the failing value came from and the facts around it.

This module only extracts facts; `diagnose.py` turns them into localized markdown.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

from tracefix.tracer.trace_format import EXCEPTION_KEY, Frame, LineSummary, Trace

from .dependence import controlling_line, writers
from .scopes import first_line
from .localize import is_test_file
from .provenance import (Origin, TraceIndex, follow, inputs_of, parse_source,
                         produced_expression, raising_step, read_names, statement_at)

MAX_NAMES_AT_RAISE = 3
MAX_INPUTS = 3
MAX_LOOPS = 3
MAX_BRANCHES = 3


@dataclass
class Branch:
    file: str
    line: int
    condition: str  # source text of the test
    taken: bool  # the last recorded evaluation


@dataclass
class Findings:
    """Facts about one failure, in trace terms (rendered values, absolute paths)."""

    kind: str  # "assertion" | "exception" | "none"
    exc_type: str = ""
    message: str = ""
    failing_file: str | None = None
    failing_line: int | None = None
    failing_function: str | None = None
    expression: str | None = None  # the asserted expression's source
    op: str | None = None
    actual: tuple[str, str] | None = None  # (operand source, rendered value)
    expected: tuple[str, str] | None = None
    operands: tuple[tuple[str, str], tuple[str, str]] | None = None  # when no side is "actual"
    chain: list[Origin] = field(default_factory=list)
    inputs: list[Origin] = field(default_factory=list)  # what the chain's last line read
    writers: list[tuple[str, int]] = field(default_factory=list)  # other executed writes of inputs
    control: list[tuple[str, int]] = field(default_factory=list)  # headers enclosing the path
    values_at_raise: list[tuple[str, str]] = field(default_factory=list)
    entry: Frame | None = None  # the first project call made by the test
    calls: dict[str, int] = field(default_factory=dict)  # qualname -> calls (only > 1)
    loops: list[LineSummary] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)


def test_function_name(test_id: str) -> str:
    name = test_id.split("::")[-1]
    return name.split("[", 1)[0]


def analyze(trace: Trace, sources: dict[str, str]) -> Findings:
    index = TraceIndex(trace)
    root = trace.root
    failure = trace.failure
    test_frame = _test_frame(trace, index)
    findings = Findings(kind="none")
    findings.entry = _entry_call(index, test_frame, root)
    findings.calls = _call_counts(trace, index, sources, root)
    findings.loops = _loops(trace, root)
    if failure is None:
        return findings

    findings.exc_type = failure.exc_type
    findings.message = failure.message
    location = _failing_location(trace, root)
    findings.failing_file, findings.failing_line = location
    in_test = location[0] is not None and is_test_file(location[0], root)
    if failure.exc_type.rsplit(".", 1)[-1] == "AssertionError" and in_test and test_frame:
        findings.kind = "assertion"
        _explain_assertion(findings, index, sources, test_frame, failure.assertion or {})
    else:
        findings.kind = "exception"
        _explain_exception(findings, index, sources)

    if findings.chain:
        findings.inputs = inputs_of(index, sources, findings.chain[-1], MAX_INPUTS)
        _add_dependences(findings, trace, sources)
    frames = list(dict.fromkeys(origin.frame for origin in findings.chain))
    findings.branches = _branches(index, sources, frames, root)
    return findings


def _add_dependences(findings: Findings, trace: Trace, sources: dict[str, str]) -> None:
    executed = {(trace.files[s.file].path, s.line) for s in trace.lines}
    origin = findings.chain[-1]
    tree = parse_source(sources.get(origin.file, ""))
    if tree is not None and not is_test_file(origin.file, trace.root):
        # Every name the origin line reads, also those whose traced change loop
        # compression dropped.
        statement = statement_at(sources.get(origin.file, ""), origin.line)
        names = set(read_names(produced_expression(statement) or statement)) | {origin.name}
        findings.writers = [(origin.file, line) for line in writers(tree, origin.line, names)
                            if (origin.file, line) in executed]

    path = [(o.file, o.line) for o in findings.chain + findings.inputs if o.how != "argument"]
    control = []
    for file, line in dict.fromkeys(path + findings.writers):
        tree = parse_source(sources.get(file, ""))
        if tree is None or is_test_file(file, trace.root):
            continue
        header = controlling_line(tree, line)
        if header is not None:
            control.append((file, header))
    findings.control = list(dict.fromkeys(control))


def _test_frame(trace: Trace, index: TraceIndex) -> Frame | None:
    path_part = trace.test_id.split("::", 1)[0]
    test_path = os.path.normpath(os.path.join(trace.root, path_part))
    name = test_function_name(trace.test_id)
    matches = [f for f in trace.frames
               if f.function == name and index.path(f.file) == test_path]
    return matches[-1] if matches else None


def _failing_location(trace: Trace, root: str) -> tuple[str | None, int | None]:
    """Return the innermost project frame outside the tests, else the failure line.

    A timeout raised by a signal handler in the test file is reported there, but the
    code that was running is the innermost project frame below it.
    """
    failure = trace.failure
    entries = [e for e in (failure.traceback if failure else []) if e.in_project]
    project = [e for e in entries if not is_test_file(e.file, root)]
    if project:
        return project[-1].file, project[-1].line
    if failure is not None and failure.file is not None:
        return failure.file, failure.line
    if entries:
        return entries[-1].file, entries[-1].line
    return None, None


def _explain_assertion(findings: Findings, index: TraceIndex, sources: dict[str, str],
                       test_frame: Frame, assertion: dict[str, str]) -> None:
    path = index.path(test_frame.file)
    statement = statement_at(sources.get(path, ""), findings.failing_line or 0)
    steps = [s for s in index.steps_of.get(test_frame.id, []) if s.line == findings.failing_line]
    before = steps[-1].index if steps else float("inf")
    findings.failing_function = test_frame.qualname
    findings.op = assertion.get("op")
    findings.expression = assertion.get("expr")

    sides: list[tuple[ast.AST, str]] = []
    if isinstance(statement, ast.Assert):
        findings.expression = findings.expression or ast.get_source_segment(
            sources.get(path, ""), statement.test)
        test = statement.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            sides = [(test.left, "left"), (test.comparators[0], "right")]
        else:
            sides = [(test, "left")]

    # The actual value is the side whose value comes from project code.
    for node, key in sides:
        chain = _chain_for(index, sources, test_frame, node, steps[-1] if steps else None, before)
        if any(not is_test_file(o.file, index.trace.root) for o in chain):
            findings.chain = chain
            other = "right" if key == "left" else "left"
            source = sources.get(path, "")
            if key in assertion:
                findings.actual = (ast.get_source_segment(source, node) or key, assertion[key])
            other_node = next((n for n, k in sides if k == other), None)
            if other in assertion and other_node is not None:
                findings.expected = (ast.get_source_segment(source, other_node) or other,
                                     assertion[other])
            return
    if "left" in assertion and "right" in assertion and len(sides) == 2:
        source = sources.get(path, "")
        findings.operands = (
            (ast.get_source_segment(source, sides[0][0]) or "left", assertion["left"]),
            (ast.get_source_segment(source, sides[1][0]) or "right", assertion["right"]),
        )


def _chain_for(index: TraceIndex, sources: dict[str, str], frame: Frame, node: ast.AST,
               failing_step, before: float) -> list[Origin]:
    if isinstance(node, ast.Name):
        return follow(index, sources, frame.id, node.id, before)
    if isinstance(node, ast.Call) and failing_step is not None:
        called = index.calls_during(failing_step)
        if called:
            return follow(index, sources, called[-1].id, "__return__", float("inf"))
    for name in read_names(node):
        chain = follow(index, sources, frame.id, name, before)
        if chain:
            return chain
    return []


def _explain_exception(findings: Findings, index: TraceIndex, sources: dict[str, str]) -> None:
    path, line = findings.failing_file, findings.failing_line
    frame, step = _raising_frame(index, path, line)
    if frame is None or step is None:
        return
    findings.failing_function = frame.qualname
    findings.chain.append(Origin(path, line, frame.id, "raised", EXCEPTION_KEY,
                                 step.values.get(EXCEPTION_KEY) or findings.exc_type))
    statement = statement_at(sources.get(path, ""), line)
    for name in read_names(statement)[:MAX_NAMES_AT_RAISE]:
        chain = follow(index, sources, frame.id, name, step.index + 0.5)
        if chain:
            findings.values_at_raise.append((name, chain[0].value or ""))
            findings.chain.extend(o for o in chain if (o.file, o.line) != (path, line))


def _raising_frame(index: TraceIndex, path: str | None, line: int | None):
    file_index = index.trace.file_index(path) if path else None
    if file_index is None:
        return None, None
    frames = [f for f in index.trace.frames if f.file == file_index]
    for frame in reversed(frames):
        steps = [s for s in index.steps_of.get(frame.id, []) if s.line == line]
        if steps:
            step = raising_step(index, frame.id)
            return frame, step if step is not None and step.line == line else steps[-1]
    return None, None


def _entry_call(index: TraceIndex, test_frame: Frame | None, root: str) -> Frame | None:
    candidates = index.children.get(test_frame.id, []) if test_frame else index.trace.frames
    for frame in candidates:
        if not is_test_file(index.path(frame.file), root):
            return frame
    return None


def _call_counts(trace: Trace, index: TraceIndex, sources: dict[str, str],
                 root: str) -> dict[str, int]:
    """Count calls per function.

    The trace may keep only some frames of a function called many times, so the hit
    count of the function's first body line is used where that line runs once per
    call (it is not a loop header).
    """
    frames: dict[tuple[int, int], list[Frame]] = {}
    for frame in trace.frames:
        if not is_test_file(index.path(frame.file), root):
            frames.setdefault((frame.file, frame.first_line), []).append(frame)
    hits = {(s.file, s.line): s.hits for s in trace.lines}

    counts: dict[str, int] = {}
    for (file_index, first), group in frames.items():
        count = len(group)
        body_line = _first_body_line(sources.get(index.path(file_index), ""), first)
        if body_line is not None:
            count = max(count, hits.get((file_index, body_line), 0))
        counts[group[0].qualname] = counts.get(group[0].qualname, 0) + count
    return {name: n for name, n in counts.items() if n > 1}


def _first_body_line(source: str, first: int) -> int | None:
    tree = parse_source(source)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and first_line(node) == first:
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # a docstring runs no line event
            if body and not isinstance(body[0], (ast.For, ast.AsyncFor, ast.While)):
                return body[0].lineno
            return None
    return None


def _loops(trace: Trace, root: str) -> list[LineSummary]:
    lines = [s for s in trace.lines
             if s.hits > 1 and not is_test_file(trace.files[s.file].path, root)]
    lines.sort(key=lambda s: (-s.hits, s.file, s.line))
    return lines[:MAX_LOOPS]


def _branches(index: TraceIndex, sources: dict[str, str], frame_ids: list[int],
              root: str) -> list[Branch]:
    """Say which way the last `if`/`while` evaluated in each frame on the value's path."""
    branches: list[Branch] = []
    for frame_id in frame_ids:
        frame = index.frames[frame_id]
        path = index.path(frame.file)
        tree = parse_source(sources.get(path, ""))
        if tree is None or is_test_file(path, root):
            continue
        tests = {node.lineno: node for node in ast.walk(tree) if isinstance(node, (ast.If, ast.While))}
        steps = index.steps_of.get(frame_id, [])
        for step, following in zip(reversed(steps[:-1]), reversed(steps[1:])):
            node = tests.get(step.line)
            if node is None:
                continue
            body = range(node.body[0].lineno, node.body[-1].end_lineno + 1)
            condition = ast.get_source_segment(sources[path], node.test) or ""
            branches.append(Branch(path, step.line, condition, following.line in body))
            break
        if len(branches) >= MAX_BRANCHES:
            break
    return list({(b.file, b.line): b for b in branches}.values())
