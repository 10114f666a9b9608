"""Loop compression: per source line, keep the first K and the last K hits.

This is the trace reduction of NExT (Ni et al., "NExT: Teaching Large Language Models
to Reason about Code Execution", 2024, arXiv 2404.14662): a loop body that runs a
thousand times is shown by its first and last few iterations, and the reader is told
how many were left out.

The recording hot path only appends to `LineStore.hits`; `compact` is called every
few thousand events and at the end to drop the middle. Appending then trimming in
batches costs less per event than maintaining a ring buffer.

A hit is appended when the line finishes (at its frame's next event), so the hits of
one line arrive out of step order when a line calls into a recursion that runs the
same line. `compact` sorts before trimming: what it keeps is still the k smallest and
the k largest step indexes seen, because a hit that finishes late always started
before every hit appended while it was pending.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

# A recorded hit: (step index, frame record, values or None).
Hit = tuple[int, Any, Any]

_step_index = itemgetter(0)


class LineStore:
    """Kept hits of one (file, line) and how many were dropped."""

    __slots__ = ("file", "line", "hits", "omitted")

    def __init__(self, file: int, line: int) -> None:
        self.file = file
        self.line = line
        self.hits: list[Hit] = []
        self.omitted = 0

    @property
    def total(self) -> int:
        return len(self.hits) + self.omitted

    def omitted_between(self, k: int) -> tuple[int, int] | None:
        """Return the step indexes of the last early hit and the first late hit kept."""
        if not self.omitted or len(self.hits) < 2 * k:
            return None
        return (self.hits[k - 1][0], self.hits[k][0])


def compact(store: LineStore, k: int) -> None:
    """Drop the hits between the first k and the last k, counting them as omitted."""
    hits = store.hits
    hits.sort(key=_step_index)
    if len(hits) <= 2 * k:
        return
    store.omitted += len(hits) - 2 * k
    del hits[k:-k]
