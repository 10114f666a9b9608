"""Fixtures for the hostile-code tests: each kind runs the real runner and tracer in
pytest child processes, on 3.11 (the suite's own interpreter) and, for the tracer, on 3.12 and 3.13 when pyenv has them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
VENVS = Path.home() / ".cache" / "tracefix-tests"
# numpy and pandas for kind 15 (values whose == returns arrays).
PACKAGES = ["pytest", "numpy", "pandas"]


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


def _venv_with_pytest(version: str) -> Path:
    """A virtual environment of pyenv's Python `version` with pytest, numpy and pandas
    (and no tracefix).

    Built once and kept in ~/.cache/tracefix-tests, because pip needs the package index.
    """
    bases = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python"))
    if not bases:
        pytest.skip(f"no Python {version} under {PYENV_VERSIONS}")
    venv = VENVS / f"venv-hostile-{version}"
    python = venv / "bin" / "python"
    ready = venv / ".installed"
    if not ready.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(bases[-1]), "-m", "venv", str(venv)], check=True, timeout=120)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PACKAGES],
            capture_output=True, text=True, timeout=300,
        )
        if install.returncode != 0:
            pytest.skip(f"pip could not install pytest into {venv}: {install.stderr[-500:]}")
        ready.write_text("ok\n")
    return python


def _interpreter(version: str):
    from tracefix.server.runner import Interpreter, check_interpreter

    if version == "3.11":
        return check_interpreter(Interpreter(sys.executable, "server"))
    return check_interpreter(Interpreter(str(_venv_with_pytest(version)), "configured"))


@pytest.fixture(scope="session")
def python():
    """The suite's own interpreter (3.11), for the runner-level kinds."""
    return _interpreter("3.11")


@pytest.fixture(scope="session", params=["3.11", "3.12", "3.13"])
def any_python(request):
    """Each interpreter the tracer must work on: 3.11, and 3.12 / 3.13 where present."""
    return _interpreter(request.param)
