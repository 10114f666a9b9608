"""The built-in repair search: small AST edits at the most suspicious lines.

Candidates are ordered by the rank of their line, then by operator (the order of
`KIND_ORDER`, cheapest and most common slips first), deduplicated by resulting text,
checked to compile, and capped. Validation happens elsewhere (`validation.py`).
"""

from __future__ import annotations

import ast
import difflib
import logging
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from tracefix.tracer.source_text import read_source
from tracefix.tracer.trace_format import Trace

from ..i18n import translate
from .edits import Edit, SourceText, overlapping
from .localize import is_test_file
from .markdown import code
from .name_operators import NAME_OPERATORS, data_attributes
from .operators import STRUCTURAL_OPERATORS, OperatorContext
from .results import Candidate, FailureContext
from .scopes import line_scope

logger = logging.getLogger(__name__)

OPERATORS = STRUCTURAL_OPERATORS + NAME_OPERATORS

KIND_ORDER = [
    "compare-operator", "binary-operator", "boolean-operator", "integer-off-by-one",
    "bound-off-by-one", "swap-operands", "swap-arguments", "negate-condition",
    "remove-not", "replace-name", "replace-attribute", "return-name", "call-to-argument",
    "drop-operand", "constant-condition", "empty-list", "mirror-slice", "call-to-name",
    "extend-condition", "slice-iterable",
]


def line_edits(text: str, path: str, line: int, trace: Trace | None = None) -> list[Edit]:
    """Return every edit the operators make at `line` of `text`, in operator order.

    Returns an empty list when the text does not parse.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    source = SourceText(text)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    context = OperatorContext(source, line_scope(tree, line, trace, path), line, parents,
                              data_attributes(tree))
    nodes = [n for n in ast.walk(tree) if getattr(n, "lineno", None) == line]
    nodes.sort(key=lambda n: (n.col_offset, -(n.end_col_offset or 0)))

    edits: list[Edit] = []
    for operator in OPERATORS:
        for node in nodes:
            edits.extend(e for e in operator(node, context) if not overlapping(e.replacements))
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    edits.sort(key=lambda e: order.get(e.kind, len(order)))  # stable: keeps node order
    return edits


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, after trimming the common prefix and suffix."""
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def unified_diff(old: str, new: str, relpath: str) -> str:
    """Return a unified diff that `patch -p1` and `git apply` accept, even without a final newline."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     f"a/{relpath}", f"b/{relpath}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


def describe(edit: Edit, text: str, locale: str) -> tuple[str, int]:
    """Return the localized description of an edit and its size in changed characters."""
    before, after = edit.fragments(text)
    distance = edit_distance(before, after)
    if not before.strip() or not after.strip() or "\n" in before:
        # A fragment that is blank (a deleted `not`) or spans lines reads better as the
        # whole line before and after.
        source = SourceText(text)
        before = source.line_text(edit.line).strip()
        after = SourceText(edit.apply(text)).line_text(edit.line).strip()
    return translate("engine.candidate.description", locale, line=edit.line,
                     before=code(before), after=code(after)), distance


@dataclass
class BuiltinRepairSearch:
    """Candidate source that tries small edits at the top-ranked suspicious lines.

    Candidates come in two rounds: first up to `first_round` edits of each line, in line
    rank order, then the remaining edits, again in line rank order. Within a line, edits
    follow KIND_ORDER. The first round keeps a line with many possible edits (many
    locals) from using up the validation budget before the next line gets a try.
    """

    name: str = "builtin"
    max_lines: int = 5
    max_candidates: int = 200
    first_round: int = 15

    def propose(self, context: FailureContext) -> Iterator[Candidate]:
        per_line = list(self._per_line(context))
        ordered = [c for line in per_line for c in line[: self.first_round]]
        ordered += [c for line in per_line for c in line[self.first_round:]]
        if len(ordered) > self.max_candidates:
            logger.info("repair search keeps %d of %d candidates", self.max_candidates, len(ordered))
        return iter(ordered[: self.max_candidates])

    def _per_line(self, context: FailureContext) -> Iterator[list[Candidate]]:
        seen: set[tuple[str, str]] = set()
        for rank, suspicious in enumerate(self._lines(context)):
            path = suspicious.file
            text = context.sources.get(path)
            if text is None:
                text = _read(path)
                if text is None:
                    continue
            relpath = os.path.relpath(path, context.root)
            candidates = []
            for edit in line_edits(text, path, suspicious.line, context.trace):
                new_text = edit.apply(text)
                if new_text == text or (path, new_text) in seen or not _compiles(new_text, path):
                    continue
                seen.add((path, new_text))
                description, distance = describe(edit, text, context.locale)
                candidates.append(Candidate(
                    source=self.name, file=path, new_text=new_text, description=description,
                    line=suspicious.line, diff=unified_diff(text, new_text, relpath),
                    kind=edit.kind, distance=distance, rank=rank,
                ))
            yield candidates

    def _lines(self, context: FailureContext) -> list:
        lines = [s for s in context.suspicious
                 if context.allow_test_edits or not is_test_file(s.file, context.root)]
        return lines[: self.max_lines]


def _read(path: str) -> str | None:
    try:
        return read_source(path)
    except (OSError, UnicodeDecodeError) as exc:
        logger.warning("cannot read %s for repair: %s", path, exc)
        return None


def _compiles(text: str, path: str) -> bool:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def propose_all(sources: Iterable, context: FailureContext) -> list[Candidate]:
    """Collect candidates from every source, logging and skipping a source that fails."""
    candidates: list[Candidate] = []
    for source in sources:
        try:
            candidates.extend(source.propose(context))
        except Exception:  # a plug-in source must not take the pipeline down
            logger.exception("candidate source %r failed; its candidates are skipped",
                             getattr(source, "name", source))
    return candidates
