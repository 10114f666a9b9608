"""Interpreter lookup: each branch of find_interpreter, and the errors it raises."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from runner_helpers import PYENV_VERSIONS
from tracefix.server.runner import InterpreterError, find_interpreter


def _fake_venv(root: Path, name: str, target: str) -> Path:
    """Make ROOT/NAME/bin/python, a script that runs `target`.

    A script rather than a symlink: a symlinked venv python without pyvenv.cfg would
    start the base interpreter, which has no pytest.
    """
    python = root / name / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python


def _python_without_pytest() -> str:
    for version in ("3.13.0", "3.10.13", "3.12.1"):
        candidate = PYENV_VERSIONS / version / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    pytest.skip(f"no pyenv interpreter under {PYENV_VERSIONS} to use as one without pytest")


@pytest.mark.parametrize("name", [".venv", "venv"])
def test_workspace_venv_first(tmp_path, name):
    python = _fake_venv(tmp_path, name, sys.executable)
    found = find_interpreter(str(tmp_path), configured="/does/not/matter")
    assert found.path == str(python)
    assert found.source == "workspace-venv"


def test_dot_venv_preferred_over_venv(tmp_path):
    dot = _fake_venv(tmp_path, ".venv", sys.executable)
    _fake_venv(tmp_path, "venv", sys.executable)
    assert find_interpreter(str(tmp_path)).path == str(dot)


def test_configured_interpreter(tmp_path):
    found = find_interpreter(str(tmp_path), configured=sys.executable)
    assert found.path == os.path.abspath(sys.executable)
    assert found.source == "configured"


def test_server_interpreter_last(tmp_path):
    found = find_interpreter(str(tmp_path))
    assert found.path == sys.executable
    assert found.source == "server"


def test_missing_configured_names_path(tmp_path):
    missing = str(tmp_path / "nowhere" / "python")
    with pytest.raises(InterpreterError, match="nowhere/python") as error:
        find_interpreter(str(tmp_path), configured=missing)
    assert "not found" in str(error.value)


def test_configured_without_pytest(tmp_path):
    python = _python_without_pytest()
    with pytest.raises(InterpreterError, match="cannot run pytest") as error:
        find_interpreter(str(tmp_path), configured=python)
    assert python in str(error.value)
    assert "pip install pytest" in str(error.value)


def test_workspace_venv_without_pytest(tmp_path):
    python = _fake_venv(tmp_path, ".venv", _python_without_pytest())
    with pytest.raises(InterpreterError, match="workspace-venv") as error:
        find_interpreter(str(tmp_path))
    assert str(python) in str(error.value)
