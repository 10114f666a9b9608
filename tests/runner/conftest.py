"""Shared helpers for the runner tests: real pytest child processes on small projects."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

QUIXBUGS = Path("/work/shared/benchmarks/quixbugs")
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


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


def write_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def quixbugs_task(name: str, folder: Path) -> Path:
    """Stage a QuixBugs task as a project: buggy.py as NAME.py beside test_NAME.py."""
    task = QUIXBUGS / name
    if not task.is_dir():
        pytest.skip(f"QuixBugs task {name} not found at {task}")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(task / "buggy.py", folder / f"{name}.py")
    shutil.copy(task / f"test_{name}.py", folder / f"test_{name}.py")
    return folder


def tree_hash(root: Path) -> str:
    """Hash every path, file content and symlink target below `root`."""
    digest = hashlib.sha256()
    for parent, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(parent, name)
            digest.update(str(path.relative_to(root)).encode())
            if path.is_symlink():
                digest.update(b"link:" + os.readlink(path).encode())
            elif path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


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
