"""Columns in the client's position encoding (UTF-16 code units unless negotiated otherwise).

Python strings index code points, LSP positions count code units of the negotiated
encoding: an emoji is one code point but two UTF-16 units, so a column computed with
`len()` lands inside or before the character in VS Code. Every column this server sends
or reads goes through these helpers.
"""

from __future__ import annotations

import re
from typing import Protocol

_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


class UnitCounter(Protocol):
    """The part of pygls's `PositionCodec.impl` used here."""

    def code_units_for_char(self, char: str) -> int: ...


def client_units(text: str, counter: UnitCounter) -> int:
    """Return the length of `text` in the client's code units."""
    if text.isascii():  # fast path: one unit per character in every encoding
        return len(text)
    return sum(counter.code_units_for_char(char) for char in text)


def index_from_client_units(line: str, units: int, counter: UnitCounter) -> int:
    """Return the code point index in `line` of a client column; past the end maps to the end.

    A column that points into the middle of a character (half a surrogate pair) maps to
    the character's start, like pygls does.
    """
    if line.isascii():
        return min(units, len(line))
    seen = 0
    for index, char in enumerate(line):
        width = counter.code_units_for_char(char)
        if seen + width > units:
            return index
        seen += width
    return len(line)


def first_non_blank(line: str) -> int:
    """Return the code point index of the first non-whitespace character (0 for blank lines)."""
    stripped = line.lstrip()
    return len(line) - len(stripped) if stripped else 0


def split_lines(text: str) -> list[str]:
    """Split like LSP counts lines: on \\n, \\r\\n and \\r, without the line endings.

    Unlike str.splitlines, form feeds and Unicode line separators do not end a line,
    because LSP clients do not count them as line breaks.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def split_lines_keepends(text: str) -> list[str]:
    """Split on \\n, \\r\\n and \\r keeping the line endings; the last line may lack one."""
    return _LINE_WITH_END.findall(text)
