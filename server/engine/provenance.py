"""Follow a failing value back through a trace to the line that produced it.

A hop starts from a name in a frame: the last kept step of that frame that changed the
name is where the value was assigned. If that line assigned the result of a call into
project code, the chain continues at the callee's `return`; if it copied another local,
the chain continues with that local; if the name was never assigned, it was an argument
and the chain ends at the call. Only what the trace recorded is used, so a step dropped
by loop compression or a budget makes the chain stop early rather than guess.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass
from functools import lru_cache

from tracefix.tracer.trace_format import EXCEPTION_KEY, RETURN_KEY, Frame, Step, Trace

MAX_HOPS = 40
# The value a suspended generator handed out on a line; kept here as a literal so that
# traces written before the tracer recorded yields still read.
YIELD_KEY = "__yield__"


@dataclass(frozen=True)
class Origin:
    """One line on the path of the failing value."""

    file: str  # absolute path
    line: int
    frame: int  # Frame.id
    how: str  # "assigned" | "changed" | "returned" | "argument" | "raised" | "input"
    name: str  # the local (or "__return__") that carried the value there
    value: str | None  # rendered value, when recorded
    step: float = float("inf")  # Step.index of the line execution (inf for arguments)


class TraceIndex:
    """Steps grouped by frame, for the look-ups that following a value needs."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.frames: dict[int, Frame] = {frame.id: frame for frame in trace.frames}
        self.steps_of: dict[int, list[Step]] = {}
        for step in sorted(trace.steps, key=lambda s: s.index):
            self.steps_of.setdefault(step.frame, []).append(step)
        self.children: dict[int | None, list[Frame]] = {}
        for frame in trace.frames:
            self.children.setdefault(frame.parent, []).append(frame)

    def path(self, file_index: int) -> str:
        return self.trace.files[file_index].path

    def first_step(self, frame_id: int) -> Step | None:
        steps = self.steps_of.get(frame_id)
        return steps[0] if steps else None

    def last_setting(self, frame_id: int, name: str, before: float) -> Step | None:
        """Return the last step of the frame before index `before` that changed `name`.

        NOTE: this is the last *recorded* change. A change dropped by loop compression,
        or an in-place change past the rendered width of a container, is invisible, so
        the step and value returned may be earlier than the real last change.
        """
        steps = self.steps_of.get(frame_id, [])
        position = bisect.bisect_left([s.index for s in steps], before)
        for step in reversed(steps[:position]):
            if name in step.values:
                return step
        return None

    def calls_during(self, step: Step) -> list[Frame]:
        """Return the project frames called while `step`'s line was executing."""
        steps = self.steps_of.get(step.frame, [])
        indexes = [s.index for s in steps]
        position = bisect.bisect_right(indexes, step.index)
        end = indexes[position] if position < len(indexes) else float("inf")
        called = []
        for child in self.children.get(step.frame, []):
            first = self.first_step(child.id)
            if first is not None and step.index < first.index < end:
                called.append(child)
        return called


@lru_cache(maxsize=64)
def parse_source(text: str) -> ast.AST | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def statement_at(source: str, line: int) -> ast.stmt | None:
    """Return the innermost simple statement (not a compound block) that starts on `line`."""
    tree = parse_source(source)
    if tree is None:
        return None
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno == line:
            if found is None or node.col_offset >= found.col_offset:
                found = node
    return found


def produced_expression(statement: ast.stmt | None) -> ast.AST | None:
    """Return the expression whose value the statement stores or returns."""
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
        return statement.value
    if isinstance(statement, ast.Expr):
        return statement.value
    return None


def read_names(node: ast.AST | None) -> list[str]:
    """Names read in `node`, in source order, without the names of called functions."""
    if node is None:
        return []
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    names = [
        n for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called
    ]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in names))


def follow(index: TraceIndex, sources: dict[str, str], frame_id: int, name: str,
           before: float) -> list[Origin]:
    """Return the chain of lines that produced `name` as seen in `frame_id` before `before`."""
    chain: list[Origin] = []
    for _ in range(MAX_HOPS):
        frame = index.frames.get(frame_id)
        if frame is None:
            break
        step = index.last_setting(frame_id, name, before)
        if name == RETURN_KEY and (step is None or step.values.get(name) == "None"):
            # A generator's values leave through `yield`, not through its return.
            yielded = index.last_setting(frame_id, YIELD_KEY, before)
            if yielded is not None:
                step, name = yielded, YIELD_KEY
        if step is None:
            if name in frame.args:
                chain.append(Origin(index.path(frame.file), frame.first_line, frame_id,
                                    "argument", name, frame.args[name]))
            break

        path = index.path(step.file)
        statement = statement_at(sources.get(path, ""), step.line)
        expression = produced_expression(statement)
        if name in (RETURN_KEY, YIELD_KEY):
            how = "returned"
        elif isinstance(statement, ast.Expr):
            how = "changed"  # mutated in place, e.g. by `items.append(x)`
        else:
            how = "assigned"
        chain.append(Origin(path, step.line, frame_id, how, name, step.values.get(name), step.index))
        next_hop = _next_hop(index, step, expression, step.values.get(name))
        if next_hop is None:
            break
        frame_id, name, before = next_hop
    return chain


def _next_hop(index: TraceIndex, step: Step, expression: ast.AST | None,
              value: str | None) -> tuple[int, str, float] | None:
    if expression is None:
        return None
    if isinstance(expression, ast.Name):
        return step.frame, expression.id, step.index
    if not any(isinstance(node, ast.Call) for node in ast.walk(expression)):
        return None  # the line computed the value itself: this is its origin

    # The value is, or is built from, a call's result. When project code ran for that
    # call, the callee's return carried (part of) the value, so the chain continues
    # there; it prefers the callee that returned exactly the recorded value.
    called = index.calls_during(step)
    if not called:
        return None
    matching = [frame for frame in called if value is not None and frame.returned == value]
    callee = (matching or called)[-1]
    return callee.id, RETURN_KEY, float("inf")


def inputs_of(index: TraceIndex, sources: dict[str, str], origin: Origin,
              limit: int) -> list[Origin]:
    """Return where the locals read by the origin's line got the values it used.

    This is one step of data dependence past the origin, so that a line feeding wrong
    inputs into a correct computation (a loop header iterating the wrong list, say) is
    on the path too.
    """
    if origin.how not in ("assigned", "changed", "returned"):
        return []
    statement = statement_at(sources.get(origin.file, ""), origin.line)
    inputs: list[Origin] = []
    for name in read_names(produced_expression(statement) or statement)[: limit + 1]:
        if name == origin.name or len(inputs) >= limit:
            continue
        step = index.last_setting(origin.frame, name, origin.step)
        frame = index.frames[origin.frame]
        if step is not None:
            inputs.append(Origin(index.path(step.file), step.line, origin.frame, "input", name,
                                 step.values.get(name), step.index))
        elif name in frame.args:
            inputs.append(Origin(index.path(frame.file), frame.first_line, origin.frame,
                                 "argument", name, frame.args[name]))
    return inputs


def raising_step(index: TraceIndex, frame_id: int) -> Step | None:
    """Return the frame's last step that recorded an exception leaving the line."""
    for step in reversed(index.steps_of.get(frame_id, [])):
        if EXCEPTION_KEY in step.values:
            return step
    steps = index.steps_of.get(frame_id)
    return steps[-1] if steps else None


def collapse(chain: list[Origin]) -> list[tuple[Origin, int]]:
    """Merge consecutive origins on the same line (recursion), counting the repeats."""
    merged: list[tuple[Origin, int]] = []
    for origin in chain:
        last = merged[-1][0] if merged else None
        if last and (last.file, last.line, last.how, last.name) == (
                origin.file, origin.line, origin.how, origin.name):
            merged[-1] = (merged[-1][0], merged[-1][1] + 1)
        else:
            merged.append((origin, 1))
    return merged
