"""Static data and control dependence within one function, to widen the failing value's path.

The trace shows only the last recorded change of a local, and loop compression or a
bounded rendering (a dict whose first items stay the same) can hide later changes.
So besides the traced origin, every executed statement that writes one of the origin's
inputs counts as provenance, and the loop or branch header enclosing a provenance line
counts as controlling it.
"""

from __future__ import annotations

import ast

from .scopes import FunctionNode, enclosing_functions

# Methods that change their receiver in place; `items.append(x)` writes `items`.
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "add", "update", "discard",
    "setdefault", "sort", "reverse", "appendleft", "popleft", "extendleft", "__setitem__",
})


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _written_names(statement: ast.stmt) -> set[str]:
    targets: list[ast.AST] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATING_METHODS:
            targets = [func.value]
    names: set[str] = set()
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)):
                root = _root_name(node)
                if root:
                    names.add(root)
    return names


def _statements(function: ast.AST) -> list[ast.stmt]:
    """Statements of `function`, without those of nested defs and classes."""
    found: list[ast.stmt] = []
    stack = list(function.body)  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        if isinstance(node, FunctionNode + (ast.ClassDef,)):
            continue
        if isinstance(node, ast.stmt):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.excepthandler)):
                stack.append(child)
            elif isinstance(child, ast.match_case):
                stack.extend(child.body)
    return found


def writers(tree: ast.AST, line: int, names: set[str]) -> list[int]:
    """Return the lines, in the function around `line`, of statements that write `names`."""
    chain = enclosing_functions(tree, line)
    if not chain or not names:
        return []
    return sorted({s.lineno for s in _statements(chain[-1]) if _written_names(s) & names})


def controlling_line(tree: ast.AST, line: int) -> int | None:
    """Return the header line of the innermost `if`, `while` or `for` whose body contains `line`."""
    best = None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)):
            continue
        blocks = [node.body, node.orelse]
        for block in blocks:
            if block and block[0].lineno <= line <= (block[-1].end_lineno or block[-1].lineno):
                if best is None or node.lineno > best.lineno:
                    best = node
    return best.lineno if best is not None else None
