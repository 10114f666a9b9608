"""Describe how a traced test failed, from its exception and traceback.

Runs inside the test process after the test call, so it follows the tracer's rule:
no user code runs. Names are read through `type`'s descriptors, assertion operands
by a plain lookup in the failing frame's locals, never by evaluating an expression.
"""

from __future__ import annotations

import ast
from types import FrameType, TracebackType
from typing import Any

from .notes import note
from .scope import ProjectScope
from .source_text import read_source
from .trace_format import Failure, TracebackEntry
from .values import Renderer, qualified_type_name, truncate

MAX_MESSAGE = 2000  # characters of the failure message kept
MAX_TRACEBACK = 100  # traceback entries kept: the outermost 20 and the innermost 80
_OPERATORS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}


def build_failure(exc_type: type, exc: BaseException | None, tb: TracebackType | None,
                  message: str, scope: ProjectScope, renderer: Renderer) -> tuple[Failure, list[str]]:
    """Return the Failure and notes about anything left out of it."""
    notes: list[str] = []
    entries: list[tuple[TracebackEntry, FrameType]] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        path = scope.project_path(code.co_filename)
        entry = TracebackEntry(
            file=path or code.co_filename,
            line=tb.tb_lineno,
            function=code.co_name,
            in_project=path is not None,
        )
        entries.append((entry, tb.tb_frame))
        tb = tb.tb_next

    failing = next((pair for pair in reversed(entries) if pair[0].in_project), None)
    assertion = None
    if failing is not None and issubclass(exc_type, AssertionError):
        assertion = assertion_operands(failing[0].file, failing[0].line, failing[1], renderer)

    kept = [entry for entry, _frame in entries]
    if len(kept) > MAX_TRACEBACK:
        notes.append(note("trace.note.traceback_cut", left_out=len(kept) - MAX_TRACEBACK,
                          total=len(kept)))
        kept = kept[:20] + kept[-(MAX_TRACEBACK - 20):]

    failure = Failure(
        exc_type=qualified_type_name(exc_type),
        message=truncate(message, MAX_MESSAGE),
        file=failing[0].file if failing else None,
        line=failing[0].line if failing else None,
        assertion=assertion,
        traceback=kept,
    )
    return failure, notes


def assertion_operands(path: str, line: int, frame: FrameType,
                       renderer: Renderer) -> dict[str, str] | None:
    """Render the operands of `assert left <op> right` on `line` when they are names
    or constants; None for any other assertion."""
    try:
        source = read_source(path)
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    node = next(
        (n for n in ast.walk(tree)
         if isinstance(n, ast.Assert) and n.lineno <= line <= (n.end_lineno or n.lineno)),
        None,
    )
    if node is None or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
        return None
    compare = node.test
    left = _operand(compare.left, frame, renderer)
    right = _operand(compare.comparators[0], frame, renderer)
    if left is None or right is None:
        return None
    return {
        "expr": ast.get_source_segment(source, compare) or ast.unparse(compare),
        "op": _OPERATORS.get(type(compare.ops[0]), "?"),
        "left": left,
        "right": right,
    }


def _operand(node: ast.expr, frame: FrameType, renderer: Renderer) -> str | None:
    if isinstance(node, ast.Constant):
        return renderer.render(node.value)
    if not isinstance(node, ast.Name):
        return None
    value = _lookup(frame, node.id)
    return None if value is _MISSING else renderer.render(value)


_MISSING = object()


def _lookup(frame: FrameType, name: str) -> Any:
    """Read a name from the frame's locals, then globals, by plain mapping lookup."""
    f_locals = frame.f_locals  # a dict, or on 3.13+ a C-level FrameLocalsProxy
    if name in f_locals:
        return f_locals[name]
    f_globals = frame.f_globals
    if type(f_globals) is dict and name in f_globals:
        return f_globals[name]
    return _MISSING
