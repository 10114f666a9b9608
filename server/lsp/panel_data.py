"""Data for an editor panel that shows one explanation: fixes, and the trace as series.

`explanation_data` is what the command `tracefix.explanation` returns. It holds the
diagnosis and the offered candidates with their diffs. For the function most likely at
fault, it also holds each variable's recorded values over the execution steps, and the
step where the failing value was set. Values stay the tracer's rendered strings; `number` is
filled only when the string is a plain finite number, so a client can chart it without
parsing user data itself.
"""

from __future__ import annotations

import math
import os

MAX_VARIABLES = 12  # a panel shows at most this many variables of one function
MAX_POINTS = 400  # per variable; loop compression already keeps traces short


def explanation_data(nodeid: str, explanation, offered: list) -> dict:
    """Return the panel's view of `explanation`; `offered` are the candidates shown as fixes."""
    candidates = [{
        "index": index, "description": c.description, "source": c.source,
        "verified": c.verified, "passed": c.passed, "total": c.total, "diff": c.diff,
        "file": c.file,
    } for index, c in enumerate(explanation.candidates) if c in offered]
    model = next((r.model for r in explanation.reports if hasattr(r, "answers")), None)
    return {
        "nodeid": nodeid,
        "summary": explanation.diagnosis.summary,
        "diagnosis_markdown": explanation.diagnosis.markdown,
        "model": model,
        "candidates": candidates,
        "series": trace_series(explanation),
    }


def trace_series(explanation) -> dict | None:
    """Return each variable's values over the steps of the function most likely at fault."""
    trace = explanation.trace
    target = _target_line(explanation)
    if target is None:
        return None
    path, line = target
    file_index = trace.file_index(path)
    hit = next((s for s in reversed(trace.steps) if s.file == file_index and s.line == line), None)
    if hit is None:
        return None
    frames = {f.id: f for f in trace.frames}
    function = frames[hit.frame].qualname
    # Every activation of the function, merged, as the inline trace shows it.
    ids = {f.id for f in trace.frames if f.qualname == function and f.file == file_index}
    steps = [s for s in trace.steps if s.frame in ids]

    variables: dict[str, list[dict]] = {}
    first_step: dict[int, int] = {}
    for step in steps:
        first_step.setdefault(step.frame, step.index)
    for frame_id, index in first_step.items():
        for name, text in frames[frame_id].args.items():
            variables.setdefault(name, []).append(_point(index, text))
    for step in steps:
        for name, text in step.values.items():
            variables.setdefault(_display_name(name), []).append(_point(step.index, text))

    ordered = sorted(variables.items(), key=lambda item: item[1][0]["step"])[:MAX_VARIABLES]
    return {
        "function": function,
        "file": path,
        "steps": sorted({s.index for s in steps}),
        "variables": [{"name": name, "points": sorted(points, key=lambda p: p["step"])[:MAX_POINTS]}
                      for name, points in ordered],
        "highlight_step": _highlight(explanation, file_index, ids, steps),
    }


def _target_line(explanation) -> tuple[str, int] | None:
    """Return the top-ranked suspicious line outside the test, else the failing line."""
    test_file = explanation.test_id.split("::", 1)[0]
    for item in explanation.suspicious:
        if not item.file.endswith(os.sep + test_file) and item.file != test_file:
            return item.file, item.line
    diagnosis = explanation.diagnosis
    if diagnosis.failing_file and diagnosis.failing_line:
        return diagnosis.failing_file, diagnosis.failing_line
    return None


def _highlight(explanation, file_index: int | None, frame_ids: set[int], steps) -> int | None:
    """The last step, in the function, of the line that set the failing value."""
    failing = (explanation.diagnosis.failing_file, explanation.diagnosis.failing_line)
    for path, line in explanation.diagnosis.provenance:
        if (path, line) == failing or explanation.trace.file_index(path) != file_index:
            continue
        matches = [s.index for s in steps if s.line == line and s.values]
        if matches:
            return matches[-1]
    matches = [s.index for s in steps if (explanation.diagnosis.failing_file, s.line) == failing]
    return matches[-1] if matches else None


def _display_name(key: str) -> str:
    return {"__return__": "return", "__exception__": "raise", "__yield__": "yield"}.get(key, key)


def _point(step: int, text: str) -> dict:
    return {"step": step, "text": text, "number": _number(text)}


def _number(text: str) -> float | None:
    """Return the value of a rendered int or float (not bool, not a container), else None."""
    if text in ("True", "False"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
