"""The failure snapshot as text: markdown for the hover, plain lines for a model's prompt."""

from __future__ import annotations

import os
from typing import Any

from tracefix.server.i18n import note_text, translate

from .snapshot import FailureSnapshot, SnapshotValue, snapshot_from_json

HOVER_FRAMES = 4  # frames shown in a hover, innermost first
HOVER_ROWS = 12  # rows per frame in a hover
PROMPT_CHARS = 1500  # characters of snapshot text in a prompt


def _member(parent: str, child: SnapshotValue) -> str:
    return f"{parent}[{child.name}]" if child.name.isdigit() or child.name.startswith("'") \
        else f"{parent}.{child.name}"


def _rows(value: SnapshotValue, prefix: str = "") -> list[tuple[str, str, str]]:
    """Return (name, value, note) rows of a value and its members, depth first.

    Members are listed only where the value's own text does not show them: an object's
    default repr (`<calc.Blocking object at 0x…>`) or a text cut to the value width.
    `[1, 2, 3]` is shown whole, so rows for its items would only repeat it.
    """
    name = prefix or value.name
    rows = [(name, value.value, value.note)]
    if not (value.value.startswith("<") or value.value.endswith("…")):
        return rows
    for child in value.children:
        rows += _rows(child, _member(name, child))
    if value.more and value.children:
        # "big[…]" or "obj.…": members left out by the count limit.
        indexed = value.children[0].name.isdigit()
        rows.append((f"{name}[…]" if indexed else f"{name}.…", "", ""))
    return rows


def _cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return f"`{text}`" if text and "`" not in text else text


def snapshot_markdown(data: dict[str, Any] | FailureSnapshot, locale: str) -> str:
    """Return the snapshot as markdown: the exception, then each frame's locals."""
    snapshot = data if isinstance(data, FailureSnapshot) else snapshot_from_json(data)
    if not snapshot.stopped:
        return "**" + translate("debug.snapshot.header", locale) + "** " + \
            translate("debug.snapshot.not_stopped", locale)
    error = f"{snapshot.exception_type}: {snapshot.message}" if snapshot.message else snapshot.exception_type
    out = ["**" + translate("debug.snapshot.header", locale) + "** " + _cell(error), ""]
    for frame in snapshot.frames[:HOVER_FRAMES]:
        out.append(translate("debug.snapshot.frame", locale, function=frame.name,
                             file=os.path.basename(frame.file), line=frame.line))
        out.append("")
        rows = [row for value in frame.locals for row in _rows(value)]
        if rows:
            out.append(f"| {translate('debug.snapshot.name', locale)} | {translate('debug.snapshot.value', locale)} |")
            out.append("|---|---|")
            for name, value, note in rows[:HOVER_ROWS]:
                shown = _cell(value) if not note else f"*{note_text(note, locale)}*"
                out.append(f"| {_cell(name)} | {shown} |")
            if len(rows) > HOVER_ROWS:
                out.append(f"| … | *{translate('debug.snapshot.more_rows', locale, count=len(rows) - HOVER_ROWS)}* |")
            out.append("")
    if len(snapshot.frames) > HOVER_FRAMES:
        out.append("*" + translate("debug.snapshot.more_frames", locale,
                                   count=len(snapshot.frames) - HOVER_FRAMES) + "*")
    out += [f"> {note_text(note, locale)}" for note in snapshot.notes]
    return "\n".join(out).rstrip()


def snapshot_prompt_text(data: dict[str, Any] | FailureSnapshot, limit: int = PROMPT_CHARS,
                         locale: str = "en") -> str:
    """Return the snapshot as `#` comment lines for a prompt, at most `limit` characters.

    Prompts take the English text; the `snapshot` command shows it in the user's locale.
    """
    snapshot = data if isinstance(data, FailureSnapshot) else snapshot_from_json(data)
    if not snapshot.stopped:
        return ""
    exception = f"{snapshot.exception_type}: {' '.join(snapshot.message.split())}"
    lines = ["# " + translate("debug.snapshot.prompt_header", locale, exception=exception)]
    for frame in snapshot.frames:
        values = []
        for value in frame.locals:
            for name, text, note in _rows(value):
                if note:
                    values.append(f"{name}=<{note_text(note, locale)}>")
                elif text:
                    values.append(f"{name}={' '.join(text.split())}")
                else:
                    values.append(name)  # the marker of members left out
        shown = "; ".join(values) if values else translate("debug.snapshot.no_locals", locale)
        lines.append(f"# {frame.name} ({os.path.basename(frame.file)}:{frame.line}): {shown}")
    text = "\n".join(lines)
    if len(text) > limit:
        text = text[: limit - 1].rsplit("\n", 1)[0] + "\n# " + translate("debug.snapshot.cut", locale)
    return text
