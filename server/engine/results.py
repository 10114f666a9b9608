"""The values the engine hands to the CLI and the language server, and the candidate seam.

These types are the engine's public contract (see docs/internal-api.md). They carry
rendered strings and paths only, never LSP types, so the CLI, the language server and a
later model backend can all consume them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, runtime_checkable

from tracefix.tracer.trace_format import Trace

# progress(message, percent): percent is None when the amount of work is unknown.
ProgressCallback = Callable[[str, "int | None"], None]


@dataclass(frozen=True)
class Diagnosis:
    """What failed and where the wrong value came from, as short markdown."""

    summary: str  # one line, plain text with values in code spans
    markdown: str
    failing_file: str | None  # absolute path of the assertion or raising line
    failing_line: int | None
    # Lines that produced the failing value, from the failing line back to the origin.
    provenance: list[tuple[str, int]] = field(default_factory=list)
    reliable: bool = True  # False when the trace must not be presented as the truth
    # Loop and branch headers that decide whether provenance lines run.
    control: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Suspicious:
    """A line ranked by fault localization; `reason` is localized text."""

    file: str  # absolute path
    line: int
    score: float
    reason: str


@dataclass
class Candidate:
    """A proposed fix: the whole new text of one file, plus how it fared in validation."""

    source: str  # "builtin", or the name of another candidate source
    file: str  # absolute path of the edited file
    new_text: str
    description: str  # localized, e.g. "line 5: `a % b, b` → `b, a % b`"
    line: int
    verified: bool = False
    passed: int = 0
    total: int = 0
    diff: str = ""  # unified diff from the current text to new_text
    kind: str = ""  # which repair operator made it ("" for other sources)
    distance: int = 0  # characters changed; smaller changes rank first
    rank: int = 0  # position of its line in the suspicious list (0 = most suspicious)
    detail: str = ""  # validation detail from the runner, for logs and hovers
    # Model samples that proposed exactly this text (for pass@k); empty for other sources.
    samples: tuple[int, ...] = ()


@dataclass
class Explanation:
    """The result of the explain pipeline for one failing test."""

    test_id: str
    trace: Trace
    inline: str  # the NExT inline rendering of the trace
    diagnosis: Diagnosis
    suspicious: list[Suspicious]
    candidates: list[Candidate]  # verified first, then smaller change, then line rank
    notes: list[str] = field(default_factory=list)  # localized remarks (budget, timeouts)
    # What candidate sources kept about their work, e.g. a model's reasoning per sample
    # (tracefix.server.model.source.ModelReport); the engine does not look inside.
    reports: list[object] = field(default_factory=list)


@dataclass
class FailureContext:
    """Everything a candidate source may look at to propose fixes for one failure."""

    root: str
    test_id: str
    trace: Trace
    inline: str
    sources: dict[str, str]  # absolute path -> text of every file the trace touched
    diagnosis: Diagnosis
    suspicious: list[Suspicious]
    test_source: str  # text of the failing test's file
    locale: str = "en"
    allow_test_edits: bool = False


@runtime_checkable
class CandidateSource(Protocol):
    """Anything that proposes fixes; the built-in repair search is one, a model another."""

    name: str

    def propose(self, context: FailureContext) -> Iterable[Candidate]:
        ...
