"""Short inlay labels and markdown histories of a traced line.

VS Code cuts a line's inlay hints at 43 characters by default
(`editor.inlayHints.maximumLength`), so a label is kept to LABEL_WIDTH characters and
summarises a loop as first → last value with the hit count, e.g. `i=0 → 9 (×10)`. The
full history, one row per kept execution, goes in the tooltip and the hover.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from tracefix.server.i18n import translate
from tracefix.tracer.trace_format import EXCEPTION_KEY, RETURN_KEY, Frame, Step

LABEL_WIDTH = 40
VALUE_WIDTH = 14  # one value inside a label; the full value is in the tooltip
ELLIPSIS = "…"

# Special entries are shown after the ordinary locals, as Python spells them.
_SPECIAL_PREFIX = {RETURN_KEY: "return ", EXCEPTION_KEY: "raise "}


def shorten(text: str, width: int) -> str:
    """Return `text` cut to `width` characters, ending in an ellipsis when cut."""
    text = " ".join(text.split())  # multi-line reprs would break the one-line label
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def ordered_names(steps: Iterable[Step]) -> list[str]:
    """Return the value names in order of first appearance, special entries last."""
    return _ordered(step.values for step in steps)


def _ordered(rows: Iterable[Mapping[str, str]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            seen.setdefault(name, None)
    names = [name for name in seen if name not in _SPECIAL_PREFIX]
    return names + [name for name in _SPECIAL_PREFIX if name in seen]


def _exception_type(rendered: str) -> str:
    # Exceptions are rendered as "Type: message"; the type alone fits a label better.
    return rendered.split(":", 1)[0]


def inlay_label(steps: Sequence[Step], hits: int) -> str | None:
    """Return the label for a line, or None when none of its executions changed a value."""
    return _label([step.values for step in steps], hits)


def call_label(frames: Sequence[Frame], calls: int) -> str | None:
    """Return the label for a `def` line: each argument's first → last value over the calls.

    `frames` are the recorded calls (those that ran a kept line) and `calls` counts all
    of them. None when no recorded call had arguments.
    """
    return _label([frame.args for frame in frames], calls)


def _label(rows: Sequence[Mapping[str, str]], hits: int) -> str | None:
    parts = []
    for name in _ordered(rows):
        values = [row[name] for row in rows if name in row]
        if name == EXCEPTION_KEY:
            values = [_exception_type(value) for value in values]
        first, last = shorten(values[0], VALUE_WIDTH), shorten(values[-1], VALUE_WIDTH)
        # "4 → 4" still shows that the value moved in between; one value means it never did.
        change = first if len(set(values)) == 1 else f"{first} → {last}"
        prefix = _SPECIAL_PREFIX.get(name)
        parts.append(f"{prefix}{change}" if prefix else f"{name}={change}")
    if not parts:
        return None

    suffix = f" (×{hits})" if hits > 1 else ""
    text = ", ".join(parts)
    room = LABEL_WIDTH - len(suffix)
    if len(text) > room:
        text = text[: room - 1].rstrip(", ") + ELLIPSIS
    return text + suffix


def _cell(value: str) -> str:
    """Return a value as a markdown table cell: code-formatted, pipes escaped, one line."""
    value = value.replace("\r\n", "\n").replace("\n", "↵")
    if "`" in value:
        return value.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")
    return "`" + value.replace("|", "\\|") + "`"


def history_markdown(
    *,
    path_name: str,
    line: int,
    steps: Sequence[Step],
    hits: int,
    omitted: int,
    omitted_between: tuple[int, int] | None,
    frames: Mapping[int, Frame],
    warnings: Sequence[str],
    locale: str,
) -> str:
    """Return the per-execution history of one line as a markdown table.

    Rows are the kept executions in order; where loop compression dropped executions,
    one row gives their count, placed between the steps that bracket the gap.
    """
    header = translate("lsp.history.header", locale, file=path_name, line=line, hits=hits)
    if omitted:
        header += " " + translate("lsp.history.header_omitted", locale, omitted=omitted)
    out = [f"**{header}**", ""]
    out += [f"> {warning}" for warning in warnings]
    if warnings:
        out.append("")

    names = ordered_names(steps)
    show_depth = len({step.frame for step in steps}) > 1
    columns = [translate("lsp.history.step", locale)]
    if show_depth:
        columns.append(translate("lsp.history.depth", locale))
    columns += [_SPECIAL_PREFIX.get(name, name).strip() for name in names]
    if not names:
        columns.append(translate("lsp.history.values", locale))
    out.append("| " + " | ".join(_cell_header(c) for c in columns) + " |")
    numeric = 2 if show_depth else 1  # step (and depth) columns are right-aligned
    out.append("|" + "---:|" * numeric + "---|" * (len(columns) - numeric))

    gap_after = omitted_between[0] if (omitted and omitted_between) else None
    gap_written = False
    for step in steps:
        if gap_after is not None and not gap_written and step.index > gap_after:
            out.append(_gap_row(len(columns), omitted, locale))
            gap_written = True
        row = [str(step.index)]
        if show_depth:
            frame = frames.get(step.frame)
            row.append(str(frame.depth) if frame else "")
        if names:
            row += [_cell(step.values[name]) if name in step.values else "" for name in names]
        else:
            row.append("")
        out.append("| " + " | ".join(row) + " |")
    if omitted and not gap_written:
        # Without a bracketing pair the gap's place is unknown, so the row goes at the end.
        out.append(_gap_row(len(columns), omitted, locale))
    return "\n".join(out)


def _cell_header(name: str) -> str:
    return name.replace("|", "\\|").replace("_", "\\_")


def _gap_row(width: int, omitted: int, locale: str) -> str:
    cells = [ELLIPSIS, "*" + translate("lsp.history.omitted_row", locale, omitted=omitted) + "*"]
    cells += [""] * (width - len(cells))
    return "| " + " | ".join(cells[:max(width, 2)]) + " |"


CALL_ROWS = 5  # calls shown at each end of a long call history


def calls_markdown(*, path_name: str, function: str, line: int, frames: Sequence[Frame],
                   calls: int, warnings: Sequence[str], locale: str) -> str:
    """Return the recorded calls of one function as a markdown table.

    One row per recorded call, in call order: its depth, its arguments, and what it
    returned or raised. A long history is cut to the first and last CALL_ROWS rows with
    one row counting the rest; `calls` (all calls, recorded or not) heads the table.
    """
    header = translate("lsp.calls.header", locale, file=path_name, line=line,
                       function=function, calls=calls)
    if calls > len(frames):
        header += " " + translate("lsp.calls.header_kept", locale, kept=len(frames))
    out = [f"**{header}**", ""]
    out += [f"> {warning}" for warning in warnings]
    if warnings:
        out.append("")
    names = _ordered(frame.args for frame in frames)
    show_depth = len({frame.depth for frame in frames}) > 1
    columns = [translate("lsp.calls.call", locale)]
    if show_depth:
        columns.append(translate("lsp.history.depth", locale))
    columns += names + [translate("lsp.calls.result", locale)]
    out.append("| " + " | ".join(_cell_header(c) for c in columns) + " |")
    numeric = 2 if show_depth else 1
    out.append("|" + "---:|" * numeric + "---|" * (len(columns) - numeric))

    # Rows are numbered by call. A gap in the numbers (calls that ran no kept line) and
    # the middle of a long list each get one row that counts the missing calls.
    shown = list(enumerate(frames, start=1))
    if len(shown) > 2 * CALL_ROWS + 1:
        shown = shown[:CALL_ROWS] + shown[-CALL_ROWS:]
    previous = 0
    for position, frame in shown:
        # Older traces have no call number, so the row's place in the recorded list is used.
        number = frame.call or position
        missing = number - previous - 1
        if missing > 0:
            out.append(_omitted_calls(len(columns), missing, locale))
        previous = number
        row = [str(number)]
        if show_depth:
            row.append(str(frame.depth))
        row += [_cell(frame.args[name]) if name in frame.args else "" for name in names]
        row.append(_result(frame, locale))
        out.append("| " + " | ".join(row) + " |")
    if calls > previous and all(frame.call for frame in frames):
        out.append(_omitted_calls(len(columns), calls - previous, locale))
    return "\n".join(out)


def _omitted_calls(width: int, missing: int, locale: str) -> str:
    cells = [ELLIPSIS, "*" + translate("lsp.calls.omitted_row", locale, omitted=missing) + "*"]
    return "| " + " | ".join(cells + [""] * (width - 2)) + " |"


def _result(frame: Frame, locale: str) -> str:
    if frame.raised is not None:
        return translate("lsp.calls.raised", locale, error=_cell(frame.raised))
    if frame.returned is not None:
        return _cell(frame.returned)
    # The frame was still running when recording stopped, for example at a budget.
    return ""
