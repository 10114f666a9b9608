"""A map from traced lines to their current place in an open document being edited.

A trace describes the file as it was when the test ran. After edits, a hint must move
with its line or disappear, and never sit on a wrong line. The map follows every
content change. Lines above a change keep their number, and lines below shift by the
number of lines inserted or deleted. A line inside the changed range survives only
where it keeps its place at either end of the range, as when Enter is pressed at the
end or the start of a line. As a final guard, a traced line is shown only while the document's
line has exactly the text that was traced, so typing into a line hides its hints and
undoing the typing shows them again.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from .positions import split_lines


class LineMap:
    """Maps 0-based traced line numbers to 0-based line numbers of the current document."""

    def __init__(self, traced_text: str, current_text: str) -> None:
        self.traced_text = traced_text  # kept to tell whether a new trace needs a new map
        self._traced = [line.rstrip() for line in split_lines(traced_text)]
        self._current = split_lines(current_text)
        if current_text == traced_text:
            self._to_current = {line: line for line in range(len(self._traced))}
        else:
            self._to_current = _match_lines(self._traced, [l.rstrip() for l in self._current])
        self._to_traced: dict[int, int] | None = None
        self.generation = 0  # counts changes, so caches keyed by it expire

    @property
    def current_lines(self) -> list[str]:
        return self._current

    def apply_change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Apply one ranged content change; positions are (line, code point index)."""
        start_line, start_char = self._clamp(start)
        end_line, end_char = self._clamp(end)
        if (end_line, end_char) < (start_line, start_char):
            start_line, start_char, end_line, end_char = end_line, end_char, start_line, start_char

        head = self._current[start_line][:start_char]
        tail = self._current[end_line][end_char:]
        new_lines = split_lines(head + text + tail)
        self._current[start_line:end_line + 1] = new_lines
        last_new = start_line + len(new_lines) - 1
        shift = len(new_lines) - (end_line - start_line + 1)

        moved: dict[int, int] = {}
        for traced, current in self._to_current.items():
            if current < start_line:
                moved[traced] = current
            elif current > end_line:
                moved[traced] = current + shift
            elif current == start_line and self._matches(traced, start_line):
                moved[traced] = start_line  # e.g. Enter pressed at the end of the line
            elif current == end_line and self._matches(traced, last_new):
                moved[traced] = last_new  # e.g. Enter pressed at the start of the line
            elif start_line == end_line and len(new_lines) == 1:
                moved[traced] = start_line  # edited in place; hidden until the text matches
            # Otherwise the line was split, joined or deleted: its hints are dropped.
        self._to_current = moved
        self._to_traced = None
        self.generation += 1

    def replace_all(self, text: str) -> None:
        """Apply a whole-document change by matching the old lines against the new ones."""
        new_lines = split_lines(text)
        old_to_new = _match_lines([l.rstrip() for l in self._current], [l.rstrip() for l in new_lines])
        self._to_current = {
            traced: old_to_new[current]
            for traced, current in self._to_current.items()
            if current in old_to_new
        }
        self._current = new_lines
        self._to_traced = None
        self.generation += 1

    def current_line(self, traced: int) -> int | None:
        """Return where traced line `traced` is now, or None when it is gone or edited."""
        current = self._to_current.get(traced)
        if current is None or not self._matches(traced, current):
            return None
        return current

    def traced_line(self, current: int) -> int | None:
        """Return the traced line shown at document line `current`, if any."""
        if self._to_traced is None:
            self._to_traced = {c: t for t, c in self._to_current.items()}
        traced = self._to_traced.get(current)
        if traced is None or not self._matches(traced, current):
            return None
        return traced

    def _matches(self, traced: int, current: int) -> bool:
        return (
            0 <= current < len(self._current)
            and 0 <= traced < len(self._traced)
            and self._current[current].rstrip() == self._traced[traced]
        )

    def _clamp(self, position: tuple[int, int]) -> tuple[int, int]:
        line, char = position
        if line >= len(self._current):
            return len(self._current) - 1, len(self._current[-1])
        return max(line, 0), max(0, min(char, len(self._current[line])))


def _match_lines(old: list[str], new: list[str]) -> dict[int, int]:
    """Return old line → new line for the lines that a line diff keeps unchanged."""
    # autojunk would treat frequent lines (blank lines, `else:`) as junk and leave
    # them unmatched; those lines are exactly the ones a diff must anchor on.
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    mapping: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            mapping[block.a + offset] = block.b + offset
    return mapping
