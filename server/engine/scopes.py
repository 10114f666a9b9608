"""Which names a repair may use at a line, and what kind of value each held in the trace.

Name-replacing repairs only try locals and parameters of the function around the line
(and of the functions enclosing it), and skip a replacement whose traced values are of a
different kind (an int for a list, say). That keeps the candidate count small without
executing anything.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from tracefix.tracer.trace_format import Trace

FunctionNode = (ast.FunctionDef, ast.AsyncFunctionDef)

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)(e[-+]?\d+)?|-?inf|nan", re.IGNORECASE)


def value_kind(rendered: str) -> str:
    """Classify a rendered value: int, float, bool, none, str, list, tuple, dict, or object."""
    text = rendered.strip()
    if text in ("True", "False"):
        return "bool"
    if text == "None":
        return "none"
    if _INT.fullmatch(text):
        return "int"
    if _FLOAT.fullmatch(text):
        return "float"
    if text[:1] in ("'", '"') or text[:2] in ("b'", 'b"'):
        return "str"
    if text.startswith("["):
        return "list"
    if text.startswith("("):
        return "tuple"
    if text.startswith("{"):
        return "dict"  # also sets: both are containers, which is what the checks need
    return "object"


CONTAINER_KINDS = frozenset({"str", "list", "tuple", "dict"})


@dataclass
class LineScope:
    """The names visible at one line and their traced value kinds."""

    function: ast.AST | None  # innermost enclosing def, None at module level
    names: list[str] = field(default_factory=list)  # sorted, deterministic
    kinds: dict[str, str] = field(default_factory=dict)  # name -> kind, or "mixed"

    def compatible(self, a: str, b: str) -> bool:
        """Tell whether `b` may stand in for `a`: same traced kind, or either unknown."""
        kind_a, kind_b = self.kinds.get(a), self.kinds.get(b)
        if kind_a is None or kind_b is None or "mixed" in (kind_a, kind_b):
            return True
        return kind_a == kind_b or {kind_a, kind_b} <= {"int", "float", "bool"}

    def of_kind(self, *kinds: str) -> list[str]:
        return [name for name in self.names if self.kinds.get(name) in kinds]


def enclosing_functions(tree: ast.AST, line: int) -> list[ast.AST]:
    """Return the defs whose body contains `line`, outermost first."""
    chain: list[ast.AST] = []
    node = tree
    while True:
        inner = None
        for child in _statement_children(node):
            if child.lineno <= line <= (child.end_lineno or child.lineno):
                inner = child
                break
        if inner is None:
            return chain
        if isinstance(inner, FunctionNode):
            chain.append(inner)
        node = inner


def _statement_children(node: ast.AST) -> list[ast.AST]:
    """Statements and except clauses directly inside `node`, looking through match cases."""
    children: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.stmt, ast.excepthandler)):
            children.append(child)
        elif isinstance(child, ast.match_case):
            children.extend(child.body)
    return children


def local_names(function: ast.AST) -> set[str]:
    """Parameters and variables bound in the function, not counting nested defs' bodies.

    Names bound by `def` and `class` are left out: swapping a value for a function is
    not a repair worth trying.
    """
    names: set[str] = set()
    args = function.args  # type: ignore[attr-defined]
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            names.add(arg.arg)

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, FunctionNode + (ast.ClassDef,)):
                continue  # its body is another scope
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue  # comprehension variables do not leak out in Python 3
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            visit(child)

    for statement in function.body:  # type: ignore[attr-defined]
        if not isinstance(statement, FunctionNode + (ast.ClassDef,)):
            visit(statement)
    return names


def first_line(function: ast.AST) -> int:
    """The line a code object reports as co_firstlineno: the first decorator, else the def."""
    decorators = function.decorator_list  # type: ignore[attr-defined]
    return decorators[0].lineno if decorators else function.lineno  # type: ignore[attr-defined]


def line_scope(tree: ast.AST, line: int, trace: Trace | None, path: str) -> LineScope:
    chain = enclosing_functions(tree, line)
    if not chain:
        return LineScope(function=None)

    names: set[str] = set()
    for function in chain:
        names |= local_names(function)
    kinds = _traced_kinds(trace, path, [first_line(f) for f in chain]) if trace else {}
    return LineScope(
        function=chain[-1],
        names=sorted(names),
        kinds={name: kind for name, kind in kinds.items() if name in names},
    )


def _traced_kinds(trace: Trace, path: str, first_lines: list[int]) -> dict[str, str]:
    file_index = trace.file_index(path)
    if file_index is None:
        return {}
    frame_ids = {
        frame.id for frame in trace.frames
        if frame.file == file_index and frame.first_line in first_lines
    }
    seen: dict[str, set[str]] = {}
    for frame in trace.frames:
        if frame.id in frame_ids:
            for name, value in frame.args.items():
                seen.setdefault(name, set()).add(value_kind(value))
    for step in trace.steps:
        if step.frame in frame_ids:
            for name, value in step.values.items():
                if not (name.startswith("__") and name.endswith("__")):  # __return__ etc.
                    seen.setdefault(name, set()).add(value_kind(value))
    return {name: kinds.pop() if len(kinds) == 1 else "mixed" for name, kinds in seen.items()}
