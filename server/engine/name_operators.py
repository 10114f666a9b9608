"""Repair operators that put another in-scope name, attribute or value in an expression.

These cover the wrong-variable slips that dominate small-program bugs (QuixBugs has
`helper` for `end`, `arr` for `counts`, `outgoing_nodes` for `incoming_nodes`), plus a
few shapes seen there: a call where its argument was meant, a constant condition where a
variable was meant, a missing base case element.

NOTE: no operator inserts a whole missing statement (QuixBugs' depth_first_search,
reverse_linked_list and shunting_yard need one), so those bugs cannot be repaired here.
"""

from __future__ import annotations

import ast
from typing import Iterator

from .edits import ATOM, Edit, Replacement, precedence, wrap
from .operators import Operator, OperatorContext
from .scopes import CONTAINER_KINDS

def _is_called(node: ast.AST, ctx: OperatorContext) -> bool:
    parent = ctx.parent(node)
    return isinstance(parent, ast.Call) and parent.func is node


def replace_name(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
        return
    if node.id not in ctx.scope.names or _is_called(node, ctx):
        return
    start, end = ctx.source.span(node)
    for other in ctx.scope.names:
        if other != node.id and ctx.scope.compatible(node.id, other):
            yield Edit("replace-name", ctx.line, (Replacement(start, end, other),))


def return_name(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, ast.Return) or node.value is None or isinstance(node.value, ast.Name):
        return  # a returned name is covered by replace_name
    start, end = ctx.source.span(node.value)
    for name in ctx.scope.names:
        yield Edit("return-name", ctx.line, (Replacement(start, end, name),))


def drop_operand(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace `a + b` by `a` or by `b`: an extra term, such as `1 + f(x)` for `f(x)`."""
    if not isinstance(node, ast.BinOp):
        return
    start, end = ctx.source.span(node)
    for operand in (node.left, node.right):
        text = wrap(ctx.source.segment(operand), operand, precedence(node))
        yield Edit("drop-operand", ctx.line, (Replacement(start, end, text),))


def call_to_argument(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace `f(x)` by `x`, as in a recursive call made where the item itself was meant."""
    if not isinstance(node, ast.Call) or isinstance(ctx.parent(node), ast.Expr):
        return  # a call made for its effect has no value to replace
    start, end = ctx.source.span(node)
    for arg in node.args:
        if not isinstance(arg, (ast.Starred, ast.GeneratorExp)):
            text = wrap(ctx.source.segment(arg), arg, ATOM - 1)
            yield Edit("call-to-argument", ctx.line, (Replacement(start, end, text),))


def call_to_name(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace a function call's value by a local that already contains the expected value."""
    if not isinstance(node, ast.Call) or isinstance(ctx.parent(node), ast.Expr):
        return
    if not isinstance(node.func, ast.Name) or node.func.id in ("range", "len"):
        return
    start, end = ctx.source.span(node)
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for name in ctx.scope.names:
        if name not in used:
            yield Edit("call-to-name", ctx.line, (Replacement(start, end, name),))


def replace_attribute(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    if not isinstance(node, ast.Attribute) or _is_called(node, ctx):
        return
    start, end = ctx.source.span(node)
    # The attribute name is the last token of the node's text.
    name_start = end - len(node.attr)
    if ctx.source.text[name_start:end] != node.attr:
        return
    for other in ctx.attributes:
        if other != node.attr:
            yield Edit("replace-attribute", ctx.line, (Replacement(name_start, end, other),))


def _conditions_on(name: str, ctx: OperatorContext) -> list[str]:
    kind = ctx.scope.kinds.get(name)
    if kind == "int":
        return [f"{name} == 0"]
    if kind in ("none", "float"):
        return []
    # Containers, bools, objects such as a deque, and names without traced values.
    return [name, f"not {name}"]


def constant_condition(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace `while True` or `return True` by a test of a local, e.g. `while queue`."""
    if isinstance(node, (ast.If, ast.While)):
        value = node.test
    elif isinstance(node, ast.Return):
        value = node.value
    else:
        return
    if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
        return
    start, end = ctx.source.span(value)
    for name in ctx.scope.names:
        for condition in _conditions_on(name, ctx):
            yield Edit("constant-condition", ctx.line, (Replacement(start, end, condition),))


def extend_condition(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Add a forgotten `or not items` guard to an `if` for each traced container local."""
    if not isinstance(node, ast.If) or node.test.lineno != ctx.line:
        return
    start, end = ctx.source.span(node.test)
    text = wrap(ctx.source.text[start:end], node.test, 3)
    for name in ctx.scope.of_kind(*CONTAINER_KINDS):
        yield Edit("extend-condition", ctx.line, (Replacement(start, end, f"{text} or not {name}"),))


def empty_list(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace `[]` by `[[]]` or `[name]`: a base case that should hold one element."""
    if not isinstance(node, ast.List) or node.elts or not isinstance(node.ctx, ast.Load):
        return
    start, end = ctx.source.span(node)
    for text in ["[[]]", *(f"[{name}]" for name in ctx.scope.names)]:
        yield Edit("empty-list", ctx.line, (Replacement(start, end, text),))


def mirror_slice(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """In `f(a[1:], b)`, slice `b` like its sibling: recursion that forgot to shrink one input."""
    if not isinstance(node, ast.Call):
        return
    slices = {
        ctx.source.segment(arg.slice) for arg in node.args
        if isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Slice)
    }
    for arg in node.args:
        if isinstance(arg, ast.Name):
            start, end = ctx.source.span(arg)
            for text in sorted(slices):
                yield Edit("mirror-slice", ctx.line, (Replacement(start, end, f"{arg.id}[{text}]"),))


def slice_iterable(node: ast.AST, ctx: OperatorContext) -> Iterator[Edit]:
    """Replace `for x in items` by `for x in items[k:]` for each integer local `k`."""
    if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Name):
        return
    start, end = ctx.source.span(node.iter)
    for name in ctx.scope.of_kind("int"):
        yield Edit("slice-iterable", ctx.line, (Replacement(start, end, f"{node.iter.id}[{name}:]"),))


NAME_OPERATORS: list[Operator] = [
    replace_name, replace_attribute, return_name, call_to_argument, drop_operand,
    constant_condition, empty_list, mirror_slice, call_to_name, extend_condition,
    slice_iterable,
]


def data_attributes(tree: ast.AST) -> list[str]:
    """Attribute names that the file reads or writes as data, not as methods it calls."""
    called = {
        node.func.attr for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    seen = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return sorted(seen - called)
