"""Fixtures for the runner tests, which run real pytest child processes on small projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runner_helpers import PYENV_VERSIONS

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the runner's cache (runs, sandboxes, bootstrap) out of the user's ~/.cache."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session")
def interpreter():
    from tracefix.server.runner import Interpreter, check_interpreter

    return check_interpreter(Interpreter(sys.executable, "server"))


@pytest.fixture(scope="session")
def venv_without_tracefix() -> Path:
    """A Python 3.12 virtual environment with pytest but without tracefix.

    Built once and kept in ~/.cache/tracefix-tests, because pip needs the package index.
    """
    base = PYENV_VERSIONS / "3.12.1" / "bin" / "python"
    if not base.exists():
        pytest.skip(f"no Python 3.12 at {base}")
    venv = Path.home() / ".cache" / "tracefix-tests" / "venv-pytest-3.12"
    python = venv / "bin" / "python"
    ready = venv / ".pytest-installed"
    if not ready.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True, timeout=120)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "pytest"],
            capture_output=True, text=True, timeout=300,
        )
        if install.returncode != 0:
            pytest.skip(f"pip could not install pytest into {venv}: {install.stderr[-500:]}")
        ready.write_text("ok\n")
    return venv
