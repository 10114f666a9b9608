"""Failure contexts from real traces of QuixBugs tasks, built the way the explain pipeline does.

Only `buggy.py` and the test file of a task are read; the reference fixes never are.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchdata import QUIXBUGS
from tracefix.server.engine import trace_failure
from tracefix.server.engine.diagnose import diagnose
from tracefix.server.engine.localize import build_spectrum, localize
from tracefix.server.engine.pipeline import ExplainSettings, load_sources
from tracefix.server.engine.results import FailureContext
from tracefix.server.runner import find_interpreter, run_pytest


def stage_task(name: str, folder: Path) -> Path:
    """Copy task `name`'s buggy program and its tests into `folder`; return the test file."""
    if not QUIXBUGS.is_dir():
        import pytest

        pytest.skip(f"no QuixBugs tasks at {QUIXBUGS}")
    shutil.copy(QUIXBUGS / name / "buggy.py", folder / f"{name}.py")
    test_file = folder / f"test_{name}.py"
    shutil.copy(QUIXBUGS / name / f"test_{name}.py", test_file)
    return test_file


def quixbugs_context(name: str, folder: Path, *, locale: str = "en",
                     trace_options: dict | None = None) -> FailureContext:
    """Trace the first failing test of task `name` staged in `folder` and build its context.

    The spectrum for fault localization comes from one untraced run of the test file
    with coverage, as in `explain_failure`.
    """
    test_file = stage_task(name, folder)
    root = str(folder)
    settings = ExplainSettings(trace_options=trace_options)
    result = trace_failure(root, test_file.name, locale=locale, settings=settings)
    trace = result.trace
    sources = load_sources(trace)
    diagnosis = diagnose(trace, sources, locale)

    baseline = run_pytest(root, [test_file.name], interpreter=find_interpreter(root),
                          timeout=120, coverage=True)
    executed = [(trace.files[s.file].path, s.line) for s in trace.lines]
    spectrum = build_spectrum(baseline.outcomes, {result.test_id: executed})
    failing_line = None
    if diagnosis.failing_file and diagnosis.failing_line:
        failing_line = (diagnosis.failing_file, diagnosis.failing_line)
    suspicious = localize(spectrum, root, provenance=diagnosis.provenance,
                          failing_line=failing_line, locale=locale, control=diagnosis.control)

    test_path = os.path.join(root, result.test_id.split("::", 1)[0])
    return FailureContext(
        root=root, test_id=result.test_id, trace=trace, inline=result.inline, sources=sources,
        diagnosis=diagnosis, suspicious=suspicious,
        test_source=sources.get(test_path) or Path(test_path).read_text(encoding="utf-8"),
        locale=locale,
    )


def count_quarter_chars(messages: list[dict[str, str]]) -> int:
    """Estimate tokens as a quarter of the characters, plus 4 per message for the chat markup."""
    return sum(len(m["content"]) for m in messages) // 4 + 4 * len(messages)
