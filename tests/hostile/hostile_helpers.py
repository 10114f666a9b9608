"""Helpers for the hostile-code tests: stage a small project, run it with the real runner
untraced and traced, and read values back from the traces by file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Iterable

from tracefix.server.runner import Interpreter, TracedRun, run_pytest, trace_tests
from tracefix.tracer.trace_format import Trace


def write_project(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (name -> text, dedented, or raw bytes) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def run_traced(root: Path, python: Interpreter, test_ids: Iterable[str] | None = None, *,
               timeout: float = 60, trace_options: dict | None = None,
               env: dict[str, str] | None = None) -> TracedRun:
    """Run the project's tests untraced, then trace `test_ids` (default: every test).

    `env` adds to or overrides the environment of both pytest children.
    """
    baseline = run_pytest(str(root), [], interpreter=python, timeout=timeout, env=env)
    ids = list(test_ids) if test_ids is not None else list(baseline.outcomes)
    return trace_tests(str(root), ids, interpreter=python, timeout=timeout,
                       baseline=baseline, trace_options=trace_options, env=env)


def line_of(root: Path, name: str, marker: str) -> int:
    """The 1-based number of the only line of `name` that contains `marker`."""
    lines = (root / name).read_bytes().decode("utf-8", "replace").splitlines()
    found = [n for n, text in enumerate(lines, 1) if marker in text]
    assert len(found) == 1, f"{marker!r} is on lines {found} of {name}"
    return found[0]


def file_of(trace: Trace, root: Path, name: str) -> int:
    index = trace.file_index(str((root / name).resolve()))
    if index is None:
        index = trace.file_index(str(root / name))
    assert index is not None, f"{name} is not in the trace: {[f.path for f in trace.files]}"
    return index


def values_at(trace: Trace, root: Path, name: str, line: int) -> list[dict[str, str]]:
    """The recorded values of each kept hit of `name`:`line`, in step order."""
    index = file_of(trace, root, name)
    return [s.values for s in trace.steps if s.file == index and s.line == line]


def lines_run(trace: Trace, root: Path, name: str) -> list[int]:
    """The lines of `name` in step order (kept steps only)."""
    index = file_of(trace, root, name)
    return [s.line for s in trace.steps if s.file == index]


def hits(trace: Trace, root: Path, name: str, line: int) -> int:
    index = file_of(trace, root, name)
    return sum(s.hits for s in trace.lines if s.file == index and s.line == line)
