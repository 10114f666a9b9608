"""Repair operators that change operators, constants, bounds and operand order.

Each operator takes one AST node that starts on the line under repair and yields the
`Edit`s it can make there. An operator only builds replacement text from the original
source segments, so everything it does not touch keeps its exact spelling.
Name-based operators live in `name_operators.py`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .edits import Edit, Replacement, SourceText, has_own_parentheses, precedence, wrap
from .scopes import LineScope


@dataclass
class OperatorContext:
    source: SourceText
    scope: LineScope
    line: int
    parents: dict[int, ast.AST]  # id(node) -> parent node
    attributes: list[str] = field(default_factory=list)  # data attribute names in the file

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))


Operator = Callable[[ast.AST, OperatorContext], Iterator[Edit]]

BINOP_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^", ast.MatMult: "@",
}
# The operators each one is most often confused with.
BINOP_SWAPS = {
    "+": ["-"], "-": ["+"], "*": ["/", "//"], "/": ["//", "*"], "//": ["/", "*"],
    "%": ["//"], "**": ["*"], "<<": [">>"], ">>": ["<<"], "&": ["|"], "|": ["&"], "^": ["|"],
}
COMPARE_SYMBOLS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}
COMPARE_SWAPS = {
    "<": ["<=", ">"], "<=": ["<", ">="], ">": [">=", "<"], ">=": [">", "<="],
    "==": ["!="], "!=": ["=="], "is": ["is not"], "is not": ["is"], "in": ["not in"],
    "not in": ["in"],
}
COMPARE_INVERSES = {
    "<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==",
    "is": "is not", "is not": "is", "in": "not in", "not in": "in",
}
# Operators whose operands give a different result when swapped (`+` concatenates).
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
                   ast.RShift, ast.MatMult, ast.Add)


def _token_replacement(source: SourceText, left_end: int, right_start: int,
                       old: str, new: str) -> Replacement | None:
    """Replace the operator token `old` written between two operands with `new`.

    Returns None when the text between the operands contains anything besides the token,
    blanks, parentheses and line continuations (a comment, say), because then the token
    cannot be found safely.
    """
    between = source.text[left_end:right_start]
    if re.sub(r"[\s()\\]+", " ", between).strip() != old:
        return None
    match = re.search(r"\s+".join(re.escape(word) for word in old.split()), between)
    if match is None:
        return None
    return Replacement(left_end + match.start(), left_end + match.end(), new)


def binary_operator(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp):
        left_end, right_start = ctx.source.span(node.left)[1], ctx.source.span(node.right)[0]
        suffix = ""
    elif isinstance(node, ast.AugAssign):
        left_end, right_start = ctx.source.span(node.target)[1], ctx.source.span(node.value)[0]
        suffix = "="
    else:
        return
    symbol = BINOP_SYMBOLS[type(node.op)]
    for new in BINOP_SWAPS.get(symbol, []):
        repl = _token_replacement(ctx.source, left_end, right_start, symbol + suffix, new + suffix)
        if repl:
            yield Edit("binary-operator", ctx.line, (repl,))


def compare_operator(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, ast.Compare):
        return
    operands = [node.left, *node.comparators]
    for i, op in enumerate(node.ops):
        symbol = COMPARE_SYMBOLS[type(op)]
        left_end = ctx.source.span(operands[i])[1]
        right_start = ctx.source.span(operands[i + 1])[0]
        for new in COMPARE_SWAPS[symbol]:
            repl = _token_replacement(ctx.source, left_end, right_start, symbol, new)
            if repl:
                yield Edit("compare-operator", ctx.line, (repl,))


def boolean_operator(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, ast.BoolOp):
        return
    old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
    replacements = []
    for a, b in zip(node.values, node.values[1:]):
        repl = _token_replacement(ctx.source, ctx.source.span(a)[1], ctx.source.span(b)[0], old, new)
        if repl is None:
            return
        replacements.append(repl)
    yield Edit("boolean-operator", ctx.line, tuple(replacements))


def _inside_fstring(node: ast.AST, ctx: OperatorContext) -> bool:
    # Positions of nodes inside f-strings are unreliable before Python 3.12.
    parent = ctx.parent(node)
    while parent is not None:
        if isinstance(parent, ast.JoinedStr):
            return True
        parent = ctx.parent(parent)
    return False


def integer_constant(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not (isinstance(node, ast.Constant) and type(node.value) is int):
        return
    if _inside_fstring(node, ctx):
        return
    start, end = ctx.source.span(node)
    parent = ctx.parent(node)
    for delta in (1, -1):
        new = node.value + delta
        if new == 0 and _is_added_operand(node, parent):
            # `x - 1` → `x - 0` means `x`: offer the plain `x`, which reads as a fix.
            left_end = ctx.source.span(parent.left)[1]
            parent_end = ctx.source.span(parent)[1]
            if parent_end == end:
                yield Edit("integer-off-by-one", ctx.line, (Replacement(left_end, end, ""),))
            continue
        text = str(new)
        # `x - -1` parses but reads badly, so a new negative literal inside an operator
        # expression or before `.` gets parentheses.
        if new < 0 and isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Attribute)):
            text = f"({text})"
        yield Edit("integer-off-by-one", ctx.line, (Replacement(start, end, text),))


def _is_added_operand(node: ast.AST, parent: ast.AST | None) -> bool:
    """Tell whether `node` is the right operand of a `+` or `-`."""
    return (isinstance(parent, ast.BinOp) and parent.right is node
            and isinstance(parent.op, (ast.Add, ast.Sub)))


def _bound_positions(node: ast.AST, ctx: OperatorContext) -> Iterator[tuple[ast.AST, bool]]:
    """Yield (expression, needs_int_evidence) for each index-like position in `node`."""
    if isinstance(node, ast.Call):
        is_range = isinstance(node.func, ast.Name) and node.func.id == "range"
        for arg in node.args:
            if not isinstance(arg, ast.Starred):
                yield arg, not is_range
    elif isinstance(node, ast.Slice):
        for bound in (node.lower, node.upper):
            if bound is not None:
                yield bound, False
    elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        for element in elements:
            if not isinstance(element, ast.Slice):
                yield element, True


def bound_off_by_one(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Add or subtract 1 from a range bound, slice bound, index or integer argument."""
    for expr, needs_evidence in _bound_positions(node, ctx):
        if isinstance(expr, ast.Constant):
            continue  # integer_constant covers literals
        if (isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub))
                and isinstance(expr.right, ast.Constant) and type(expr.right.value) is int):
            continue  # `n - 1 + 1`: integer_constant adjusts the literal instead
        if needs_evidence and not _is_int(expr, ctx):
            continue
        start, end = ctx.source.span(expr)
        text = wrap(ctx.source.text[start:end], expr, 11)
        for sign in ("+", "-"):
            yield Edit("bound-off-by-one", ctx.line, (Replacement(start, end, f"{text} {sign} 1"),))


def _is_int(expr: ast.AST, ctx: OperatorContext) -> bool:
    if isinstance(expr, ast.Name):
        return ctx.scope.kinds.get(expr.id) == "int"
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.FloorDiv, ast.Mod)):
        return any(_is_int(side, ctx) for side in (expr.left, expr.right))
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len"


def _moved(ctx: OperatorContext, node: ast.AST, destination: ast.AST, parent: ast.AST,
           needed: int) -> str:
    """Return the source of `node`, parenthesized if needed to replace `destination` in `parent`."""
    text = ctx.source.segment(node)
    if has_own_parentheses(ctx.source, destination, parent):
        return text
    return wrap(text, node, needed)


def swap_operands(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE):
        level = precedence(node)
        # Left-associative operators need a tighter operand on the right; `**` is the reverse.
        left_needed, right_needed = (level + 1, level) if isinstance(node.op, ast.Pow) else (level, level + 1)
        left, right = node.left, node.right
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        left_needed = right_needed = 7  # a chained comparison must not form
        left, right = node.left, node.comparators[0]
    else:
        return
    (left_start, left_end), (right_start, right_end) = ctx.source.span(left), ctx.source.span(right)
    yield Edit("swap-operands", ctx.line, (
        Replacement(left_start, left_end, _moved(ctx, right, left, node, left_needed)),
        Replacement(right_start, right_end, _moved(ctx, left, right, node, right_needed)),
    ))


def swap_arguments(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, ast.Call) or len(node.args) < 2 or len(node.args) > 4:
        return
    if any(isinstance(arg, (ast.Starred, ast.GeneratorExp)) for arg in node.args):
        return
    for i in range(len(node.args)):
        for j in range(i + 1, len(node.args)):
            a, b = node.args[i], node.args[j]
            (a_start, a_end), (b_start, b_end) = ctx.source.span(a), ctx.source.span(b)
            yield Edit("swap-arguments", ctx.line, (
                Replacement(a_start, a_end, ctx.source.segment(b)),
                Replacement(b_start, b_end, ctx.source.segment(a)),
            ))


def negate_condition(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, (ast.If, ast.While, ast.IfExp)):
        return
    test = node.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return  # remove_not covers this
    if test.lineno != ctx.line:
        return
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        # `not a < b` reads badly; the inverse operator says the same.
        symbol = COMPARE_SYMBOLS[type(test.ops[0])]
        left_end = ctx.source.span(test.left)[1]
        right_start = ctx.source.span(test.comparators[0])[0]
        repl = _token_replacement(ctx.source, left_end, right_start, symbol,
                                  COMPARE_INVERSES[symbol])
        if repl:
            yield Edit("negate-condition", ctx.line, (repl,))
            return
    start, end = ctx.source.span(test)
    text = ctx.source.text[start:end]
    if not has_own_parentheses(ctx.source, test, node):
        text = wrap(text, test, 5)
    yield Edit("negate-condition", ctx.line, (Replacement(start, end, f"not {text}"),))


def remove_not(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return
    start = ctx.source.span(node)[0]
    operand_start = ctx.source.span(node.operand)[0]
    # Delete `not` and the blanks after it, keeping any parentheses around the operand
    # so that its grouping in the surrounding expression stays the same.
    match = re.match(r"not\s*", ctx.source.text[start:operand_start])
    if match:
        yield Edit("remove-not", ctx.line, (Replacement(start, start + match.end(), ""),))


STRUCTURAL_OPERATORS: list[Operator] = [
    compare_operator, binary_operator, boolean_operator, integer_constant,
    bound_off_by_one, swap_operands, swap_arguments, negate_condition, remove_not,
]
