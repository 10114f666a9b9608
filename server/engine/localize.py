"""Fault localization: rank project lines by Ochiai, boosted by the failing value's provenance.

Ochiai (Abreu et al., "On the Accuracy of Spectrum-based Fault Localization", 2007)
scores a line by ef / sqrt(nf * (ef + ep)), where ef and ep count the failing and
passing tests that executed it and nf counts all failing tests. With the few tests of a
typical file, many lines tie; the lines that produced the failing value (from the trace)
then break the tie, because the trace shows the wrong value flowing through them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol, Sequence

from ..i18n import translate
from .results import Candidate, Suspicious

FAILING = frozenset({"failed", "error", "crashed", "timeout"})
PASSING = frozenset({"passed", "xpassed"})

# Added to the Ochiai score (at most 1.0). A provenance line outranks any line without
# provenance whose Ochiai score is up to PROVENANCE_BOOST lower; the failing line of an
# exception gets a smaller boost because the fault is often earlier than the raise.
PROVENANCE_BOOST = 0.3
FAILING_LINE_BOOST = 0.1
CONTROL_BOOST = 0.15  # a loop or branch header that decides whether a provenance line runs


class Outcome(Protocol):
    outcome: str
    lines: Sequence[Sequence[object]] | None


@dataclass(frozen=True)
class Spectrum:
    """Per-line counts of the failing and passing tests that executed it."""

    failed: dict[tuple[str, int], int]
    passed: dict[tuple[str, int], int]
    total_failed: int
    total_passed: int


def is_test_file(path: str, root: str) -> bool:
    """Tell whether pytest conventions mark `path` as test code rather than the project."""
    name = os.path.basename(path)
    if name == "conftest.py" or (name.startswith("test_") and name.endswith(".py")):
        return True
    if name.endswith("_test.py"):
        return True
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    parts = relative.split(os.sep)[:-1]
    return "tests" in parts


def ochiai(ef: int, ep: int, nf: int) -> float:
    if ef == 0 or nf == 0:
        return 0.0
    return ef / math.sqrt(nf * (ef + ep))


def build_spectrum(outcomes: Mapping[str, Outcome],
                   extra_failing_lines: Mapping[str, Iterable[tuple[str, int]]] = {}) -> Spectrum:
    """Count the tests that executed each line.

    `extra_failing_lines` supplies the executed lines of failing tests whose coverage is
    missing (a test that timed out or crashed writes none); the trace of such a test
    shows what it executed.
    """
    failed: dict[tuple[str, int], int] = {}
    passed: dict[tuple[str, int], int] = {}
    total_failed = total_passed = 0
    for nodeid, outcome in outcomes.items():
        lines = outcome.lines
        if outcome.outcome in FAILING:
            if lines is None:
                lines = list(extra_failing_lines.get(nodeid, ()))
            counts = failed
            total_failed += 1
        elif outcome.outcome in PASSING:
            if lines is None:
                continue
            counts = passed
            total_passed += 1
        else:
            continue
        for path, line in {(str(p), int(n)) for p, n in lines}:
            counts[path, line] = counts.get((path, line), 0) + 1
    return Spectrum(failed, passed, total_failed, total_passed)


def localize(spectrum: Spectrum, root: str, *, provenance: Sequence[tuple[str, int]] = (),
             failing_line: tuple[str, int] | None = None, locale: str = "en",
             allow_test_edits: bool = False,
             control: Sequence[tuple[str, int]] = ()) -> list[Suspicious]:
    """Rank the lines that any failing test executed, most suspicious first.

    Ties are broken by path and line number so that the order never depends on
    dictionary or set iteration.
    """
    provenance_set = set(provenance)
    control_set = set(control) - provenance_set
    candidates = set(spectrum.failed) | provenance_set | control_set
    if failing_line is not None:
        candidates.add(failing_line)

    project = {key for key in candidates if not is_test_file(key[0], root)}
    if project and not allow_test_edits:
        candidates = project

    ranked = []
    for path, line in candidates:
        ef = spectrum.failed.get((path, line), 0)
        ep = spectrum.passed.get((path, line), 0)
        score = ochiai(ef, ep, spectrum.total_failed)
        reasons = [translate("engine.suspicious.ochiai", locale, score=f"{score:.2f}", ef=ef,
                             nf=spectrum.total_failed, ep=ep, np=spectrum.total_passed)]
        if (path, line) in provenance_set:
            score += PROVENANCE_BOOST
            reasons.append(translate("engine.suspicious.provenance", locale))
        if (path, line) in control_set:
            score += CONTROL_BOOST
            reasons.append(translate("engine.suspicious.control", locale))
        if failing_line == (path, line):
            score += FAILING_LINE_BOOST
            reasons.append(translate("engine.suspicious.failing_line", locale))
        ranked.append(Suspicious(path, line, round(score, 6), translate(
            "engine.suspicious.join", locale).join(reasons)))

    ranked.sort(key=lambda s: (-s.score, s.file, s.line))
    return ranked


def promote_repaired(suspicious: Sequence[Suspicious], candidates: Sequence[Candidate],
                     locale: str = "en") -> list[Suspicious]:
    """Move the lines that a verified fix changes to the front of the ranking.

    A patch at a line that makes every failing test pass and keeps the passing ones
    passing is stronger evidence than spectra alone, which cannot tell apart lines that
    always run together. Promoted lines keep the order of their best candidate (the
    candidates come ranked) and score above every other line.
    """
    verified_lines: list[tuple[str, int]] = []
    for candidate in candidates:
        key = (candidate.file, candidate.line)
        if candidate.verified and key not in verified_lines:
            verified_lines.append(key)
    if not verified_lines:
        return list(suspicious)

    by_line = {(s.file, s.line): s for s in suspicious}
    top = max((s.score for s in suspicious), default=0.0)
    join = translate("engine.suspicious.join", locale)
    fixed_here = translate("engine.suspicious.verified_fix", locale)
    promoted = []
    for index, key in enumerate(verified_lines):
        known = by_line.get(key)
        reason = join.join(r for r in (fixed_here, known.reason if known else "") if r)
        promoted.append(Suspicious(key[0], key[1], round(top + 1.0 - 0.01 * index, 6), reason))
    rest = [s for s in suspicious if (s.file, s.line) not in set(verified_lines)]
    return promoted + rest
