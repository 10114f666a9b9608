"""Helpers for the tracer tests: record sample code in-process or in another Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tracefix.tracer import Recording, Trace, TraceConfig

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "tracer_samples"
TRACER_DIR = HERE.parents[1] / "tracer"
from benchdata import QUIXBUGS  # noqa: E402
PYENV = Path(os.path.expanduser("~/.pyenv/versions"))


def record(func, *args, backend: str = "auto", **config) -> tuple[object, Trace]:
    """Call `func(*args)` under a recording rooted at the samples folder."""
    recording = Recording(TraceConfig(root=str(SAMPLES), backend=backend, **config))
    recording.start()
    try:
        result = func(*args)
    except Exception as exc:  # the tests look at the trace of failing code too
        result = exc
    finally:
        recording.stop()
    return result, recording.trace("sample")


def values_at(trace: Trace, line: int) -> list[dict[str, str]]:
    """The values of each kept hit of a line of tracer_samples/algos.py, in step order."""
    algos = trace.file_index(str(SAMPLES / "algos.py"))
    return [s.values for s in trace.steps if s.file == algos and s.line == line]


def summary(trace: Trace, line: int):
    algos = trace.file_index(str(SAMPLES / "algos.py"))
    return next(s for s in trace.lines if s.file == algos and s.line == line)


def interpreter(version: str) -> str | None:
    """Path of a pyenv interpreter like 3.12, or None when it is not installed."""
    for candidate in sorted(PYENV.glob(f"{version}*/bin/python")):
        return str(candidate)
    return None


def run_child(python: str, script: str, tracer_path: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{tracer_path}{os.pathsep}{HERE}", OMP_NUM_THREADS="1")
    done = subprocess.run([python, "-c", script, *args], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
