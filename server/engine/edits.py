"""Textual edits located by AST nodes, spliced into the original text.

Repair candidates must change only the bytes that the edit is about, so that comments
and formatting elsewhere stay identical. An `Edit` is therefore a set of replacements of
character ranges of the original text, computed from node positions, instead of an
`ast.unparse` of the whole file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceText:
    """A file's text with conversions from AST positions to character offsets.

    AST column offsets count UTF-8 bytes, while Python strings index characters, so each
    conversion decodes the line prefix. Lines are split on the three newline forms that
    the Python tokenizer accepts; `str.splitlines` would also split on form feeds and
    other separators that Python treats as ordinary characters.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0]
        for match in _NEWLINE.finditer(text):
            self.line_starts.append(match.end())

    def line_text(self, lineno: int) -> str:
        start = self.line_starts[lineno - 1]
        end = self.line_starts[lineno] if lineno < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    def offset(self, lineno: int, col_bytes: int) -> int:
        prefix = self.line_text(lineno).encode("utf-8")[:col_bytes]
        return self.line_starts[lineno - 1] + len(prefix.decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]


@dataclass(frozen=True)
class Replacement:
    start: int  # character offsets into the original text
    end: int
    text: str


@dataclass(frozen=True)
class Edit:
    """One repair: non-overlapping replacements made by one operator at one line."""

    kind: str
    line: int
    replacements: tuple[Replacement, ...]

    def apply(self, text: str) -> str:
        result = text
        # Right to left, so earlier offsets stay valid.
        for repl in sorted(self.replacements, key=lambda r: r.start, reverse=True):
            result = result[: repl.start] + repl.text + result[repl.end :]
        return result

    def fragments(self, text: str) -> tuple[str, str]:
        """Return the changed region before and after the edit, for descriptions."""
        start = min(r.start for r in self.replacements)
        end = max(r.end for r in self.replacements)
        before = text[start:end]
        after = before
        for repl in sorted(self.replacements, key=lambda r: r.start, reverse=True):
            after = after[: repl.start - start] + repl.text + after[repl.end - start :]
        return before, after


def overlapping(replacements: tuple[Replacement, ...]) -> bool:
    ordered = sorted(replacements, key=lambda r: r.start)
    return any(a.end > b.start for a, b in zip(ordered, ordered[1:]))


# Operator precedence, low to high, following the Python grammar; used to decide
# whether an expression moved to another position needs parentheses.
_BINOP_PRECEDENCE = {
    ast.BitOr: 7, ast.BitXor: 8, ast.BitAnd: 9, ast.LShift: 10, ast.RShift: 10,
    ast.Add: 11, ast.Sub: 11, ast.Mult: 12, ast.Div: 12, ast.FloorDiv: 12, ast.Mod: 12,
    ast.MatMult: 12, ast.Pow: 14,
}
ATOM = 16


def precedence(node: ast.AST) -> int:
    if isinstance(node, (ast.Lambda, ast.NamedExpr)):
        return 0
    if isinstance(node, ast.IfExp):
        return 2
    if isinstance(node, ast.BoolOp):
        return 3 if isinstance(node.op, ast.Or) else 4
    if isinstance(node, ast.UnaryOp):
        return 5 if isinstance(node.op, ast.Not) else 13
    if isinstance(node, ast.Compare):
        return 6
    if isinstance(node, ast.BinOp):
        return _BINOP_PRECEDENCE[type(node.op)]
    if isinstance(node, ast.Await):
        return 15
    if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Starred)):
        return 0
    return ATOM


def wrap(text: str, node: ast.AST, needed: int) -> str:
    """Parenthesize `text` (the source of `node`) unless it binds at least as tightly as `needed`."""
    return text if precedence(node) >= needed else f"({text})"


def has_own_parentheses(source: SourceText, node: ast.AST, parent: ast.AST) -> bool:
    """Tell whether `node`, an operand of `parent`, is written inside its own parentheses."""
    start, end = source.span(node)
    parent_start, parent_end = source.span(parent)
    before = source.text[parent_start:start].rstrip()
    after = source.text[end:parent_end].lstrip()
    return before.endswith("(") and after.startswith(")")
