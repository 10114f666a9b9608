"""NExT-style inline rendering: source lines annotated with what executing them did.

The format follows NExT (Ni et al. 2024, arXiv 2404.14662), which showed that a model
reasons better about a failing program when each source line carries the values its
execution produced, as an end-of-line comment, with loops shortened to their first
and last iterations:

    def bitcount(n):  # call: n=127
        count = 0  # (9) count=0
        while n:  # (10); (13); (16); ... (31)
            n &= n - 1  # (11) n=126; (14) n=124; (17) n=120; ... (29) n=0

`(9)` is the global step number, so the order of events across lines and functions
can be read back; `...` marks hits that loop compression dropped. Each function that
ran is shown once, in order of first execution, with every activation's hits merged
(recursive calls included); the test function comes last, next to the failure.

`render_inline` is a pure function of the trace and the source texts, so the CLI, the
language server and the prompt builder all print the same thing. Callers read the
texts with `source_text.read_source`, which decodes a file by its coding cookie as
Python does. The prompt builder
passes its keyword options to fit a token budget: fewer hits per line (`k`), shorter
values (`value_width`), only some functions (`functions`, keys from `inline_functions`),
or the same code without any trace comments (`annotate=False`).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from .trace_format import Frame, Step, Trace

_NEWLINE = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> list[str]:
    """Split source text into lines the way Python numbers them.

    Python ends a line only at \\n, \\r\\n or \\r. `str.splitlines` also splits at form
    feeds, \\x1c-\\x1e, \\x85 and \\u2028/\\u2029, which may stand inside a line (a
    form feed between functions, a separator in a string), and would shift every line
    after it.
    """
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a newline: no empty line after it
    return lines

MAX_COMMENT = 600  # characters of one line's annotation before it is cut
ELLIPSIS = "…"  # ends a value cut to `value_width`


@dataclass
class _Unit:
    """One function (or module body) as shown: a line range of one file."""

    file: int
    start: int  # first line shown (the first decorator or the `def`)
    end: int
    def_line: int | None
    first_step: int
    name: str = "<module>"
    steps: list[Step] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    frame_ids: set[int] = field(default_factory=set)
    is_test: bool = False


@dataclass(frozen=True)
class InlineFunction:
    """A function (or a run of module-level lines) as the inline rendering shows it."""

    path: str  # absolute
    name: str  # the `def` name, or "<module>"
    start: int  # first line shown: the first decorator or the `def`
    end: int
    def_line: int | None  # None for module-level code and for files without source
    is_test: bool  # the failing test's own function, which the rendering puts last
    lines: tuple[int, ...]  # the lines that have kept steps

    @property
    def key(self) -> tuple[str, int]:
        """The identity `render_inline(functions=...)` takes: (path, start)."""
        return (self.path, self.start)


def inline_functions(trace: Trace, sources: dict[str, str]) -> list[InlineFunction]:
    """List the functions `render_inline(trace, sources)` shows, in the order it shows them."""
    return [
        InlineFunction(trace.files[unit.file].path, unit.name, unit.start, unit.end,
                       unit.def_line, unit.is_test, tuple(sorted({s.line for s in unit.steps})))
        for unit in _units(trace, sources)
    ]


def render_inline(trace: Trace, sources: dict[str, str], *, k: int | None = None,
                  value_width: int | None = None,
                  functions: Collection[tuple[str, int]] | None = None,
                  annotate: bool = True) -> str:
    """Render `trace` as annotated source; `sources` maps absolute path to source text.

    The keyword options shrink the rendering, and their defaults give the full one.
    `k` shows at most the first k and the last k kept hits of each line, and of the calls
    of each function. `value_width` cuts each rendered value to that many characters, the
    last being `…`. `functions` shows only the functions whose `InlineFunction.key` it
    contains. `annotate=False` shows the plain source of the same functions, without the
    header, the trace comments and the failure footer.
    """
    if k is not None and k < 1:
        raise ValueError(f"k={k} is invalid; show at least one hit per line (k >= 1)")
    if value_width is not None and value_width < 2:
        raise ValueError(f"value_width={value_width} is invalid; it must be at least 2")
    shown_k = k if k is not None else trace.config.get("k", 3)
    out: list[str] = [_header(trace)] if annotate else []
    summaries = {(s.file, s.line): s for s in trace.lines}
    failing = _failing_location(trace)

    for unit in _units(trace, sources):
        path = trace.files[unit.file].path
        if functions is not None and (path, unit.start) not in functions:
            continue
        if out:
            out.append("")
        out.append(f"# {display_path(path, trace.root)}")
        text = _source_of(trace, unit.file, sources)
        lines = source_lines(text) if text is not None else None
        by_line: dict[int, list[Step]] = {}
        for step in unit.steps:
            by_line.setdefault(step.line, []).append(step)
        numbers = range(unit.start, unit.end + 1) if lines is not None else sorted(by_line)
        for number in numbers:
            source = lines[number - 1] if lines is not None and number <= len(lines) else f"line {number}:"
            notes = []
            if annotate and number == unit.def_line and unit.frames:
                notes.append(_calls(unit.frames, shown_k, value_width))
            if annotate and number in by_line:
                notes.append(_hits(by_line[number], summaries.get((unit.file, number)), k,
                                   value_width))
            if annotate and failing == (unit.file, number):
                notes.append(f"!! {trace.failure.exc_type} raised here" if trace.failure else "")
            comment = "; ".join(n for n in notes if n)
            if comment:
                source = f"{source}  # {_cut(comment)}"
            out.append(source.rstrip())

    if annotate:
        out.extend(_footer(trace, value_width))
    return "\n".join(out) + "\n"


def _units(trace: Trace, sources: dict[str, str]) -> list[_Unit]:
    defs = {i: _function_ranges(_source_of(trace, i, sources)) for i in range(len(trace.files))}
    return _group(trace, defs)


def _source_of(trace: Trace, file: int, sources: dict[str, str]) -> str | None:
    """Return the text of `trace.files[file]`: from `sources`, else the trace's own copy.

    The trace carries the text only for generated code (a pseudo path like
    `<generated>` with a source registered in `linecache`), which no reader can open.
    """
    source = trace.files[file]
    text = sources.get(source.path)
    return text if text is not None else source.text


def _header(trace: Trace) -> str:
    shown = f"{len(trace.steps)} of {trace.total_steps} line executions shown"
    return (f"# Trace of {trace.test_id} ({trace.outcome}); Python {trace.python}, "
            f"{trace.backend}; {shown}")


def _footer(trace: Trace, value_width: int | None = None) -> list[str]:
    lines: list[str] = []
    if trace.budget is not None:
        budget = trace.budget
        lines.append(f"# Recording stopped early ({budget.kind} limit {budget.limit:g}) "
                     f"after step {budget.step}: {budget.detail}")
    failure = trace.failure
    if failure is not None:
        where = ""
        if failure.file is not None:
            where = f" at {display_path(failure.file, trace.root)}:{failure.line}"
        # A test that called sys.exit ended its run: it crashed rather than failed.
        word = "CRASHED" if trace.outcome == "crashed" else "FAILED"
        lines.append(f"# {word}{where}: {failure.exc_type}: {_one_line(failure.message)}".rstrip())
        if failure.assertion:
            a = failure.assertion
            left = _shorten(str(a.get("left")), value_width)
            right = _shorten(str(a.get("right")), value_width)
            lines.append(f"# assert operands: left={left} {a.get('op')} right={right}")
    if not trace.reliable:
        lines.append("# NOTE: the traced run's outcome differed from the untraced run.")
    if trace.threads_not_traced:
        # Values those threads set are missing, though the traced code may read them.
        names = ", ".join(_one_line(name) for name in trace.threads_not_traced)
        lines.append(f"# NOTE: other threads ran while recording and are not traced: {names}")
    if lines:
        lines.insert(0, "")
    return lines


def _group(trace: Trace, defs: dict[int, list[tuple[int, int, int, str]]]) -> list[_Unit]:
    """Group steps by the innermost source function that contains their line."""
    frames = {f.id: f for f in trace.frames}
    units: dict[tuple[int, int], _Unit] = {}
    for step in trace.steps:
        frame = frames.get(step.frame)
        span = _innermost(defs.get(step.file, []), step.line)
        if span is None:
            # Module-level code, or no source: show the executed lines only.
            key = (step.file, frame.first_line if frame else 0)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = _Unit(step.file, step.line, step.line, None, step.index)
            unit.start = min(unit.start, step.line)
            unit.end = max(unit.end, step.line)
        else:
            start, def_line, end, name = span
            key = (step.file, def_line)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = _Unit(step.file, start, end, def_line, step.index, name)
        unit.steps.append(step)
        # A set of ids, because comparing Frame dataclasses field by field made a deep
        # recursion's trace (tens of thousands of frames) take minutes to render.
        if frame is not None and frame.first_line in (unit.start, unit.def_line) \
                and frame.id not in unit.frame_ids:
            unit.frames.append(frame)
            unit.frame_ids.add(frame.id)

    ordered = sorted(units.values(), key=lambda u: u.first_step)
    # The test function (named by the node id, "file.py::Class::test_name[params]")
    # goes last, next to the failure.
    test_name = trace.test_id.split("::")[-1].split("[")[0]
    tests = [
        u for u in ordered
        if test_name and any(f.parent is None and f.function == test_name for f in u.frames)
    ]
    for unit in tests:
        unit.is_test = True
    return [u for u in ordered if u not in tests] + tests


def _function_ranges(source: str | None) -> list[tuple[int, int, int, str]]:
    """Return (first line incl. decorators, def line, last line, name) of each function."""
    if source is None:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((start, node.lineno, node.end_lineno or node.lineno, node.name))
    return spans


def _innermost(spans: list[tuple[int, int, int, str]],
               line: int) -> tuple[int, int, int, str] | None:
    best = None
    for span in spans:
        if span[0] <= line <= span[2] and (best is None or span[0] >= best[0]):
            best = span
    return best


def _one_line(text: str) -> str:
    """Escape line breaks so a value cannot end its `#` comment and pose as code."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _shorten(text: str, width: int | None) -> str:
    """Cut `text` to `width` characters, the last being `…`; None leaves it whole."""
    if width is None or len(text) <= width:
        return text
    return text[:width - 1] + ELLIPSIS


def _hits(steps: list[Step], summary: object, k: int | None = None,
          value_width: int | None = None) -> str:
    """Render the kept hits of one line, with `...` where compression dropped some.

    With `k` smaller than half the kept hits, only the first k and the last k are shown,
    and one `...` stands for every hit between them, recorded or not.
    """
    ordered = sorted(steps, key=lambda s: s.index)
    gap = getattr(summary, "omitted_between", None)
    if k is not None and len(ordered) > 2 * k:
        ordered = ordered[:k] + ordered[-k:]
        gap = (ordered[k - 1].index, ordered[k].index)
    parts: list[str] = []
    gap_shown = False
    for step in ordered:
        if gap and not gap_shown and step.index >= gap[1]:
            parts.append("...")
            gap_shown = True
        values = "; ".join(f"{name}={_shorten(_one_line(value), value_width)}"
                           for name, value in step.values.items())
        parts.append(f"({step.index}) {values}" if values else f"({step.index})")
    return _join_hits(parts)


def _join_hits(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if not text:
            text = part
        elif part == "..." or text.endswith("..."):
            text = f"{text} {part}" if text.endswith("...") else f"{text}; {part}"
        else:
            text = f"{text}; {part}"
    return text


def _calls(frames: list[Frame], k: int, value_width: int | None = None) -> str:
    """Render the arguments of each activation: the first k and the last k."""
    def one(frame: Frame) -> str:
        args = ", ".join(f"{name}={_shorten(_one_line(value), value_width)}"
                         for name, value in frame.args.items())
        return f"call: {args}" if args else "call"

    # The trace holds only activations with a kept step, so the number of calls left
    # out here is not known; `...` marks that some were.
    ordered = sorted(frames, key=lambda f: f.id)
    if len(ordered) <= 2 * k:
        return "; ".join(one(f) for f in ordered)
    head = "; ".join(one(f) for f in ordered[:k])
    tail = "; ".join(one(f) for f in ordered[-k:])
    return f"{head}; ... {tail}"


def _failing_location(trace: Trace) -> tuple[int, int] | None:
    failure = trace.failure
    if failure is None or failure.file is None or failure.line is None:
        return None
    index = trace.file_index(failure.file)
    return (index, failure.line) if index is not None else None


def display_path(path: str, root: str) -> str:
    """Return `path` relative to `root` when it lies under it, else unchanged."""
    try:
        relative = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _cut(comment: str) -> str:
    if len(comment) <= MAX_COMMENT:
        return comment
    return f"{comment[:MAX_COMMENT]}…(+{len(comment) - MAX_COMMENT} chars)"
