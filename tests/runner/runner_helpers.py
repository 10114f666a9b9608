"""Helpers for the runner tests: staging small projects and hashing folder trees.

Kept out of conftest.py so that test modules can import them by a unique module name.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from benchdata import QUIXBUGS  # noqa: E402
from tree_hash import tree_hash  # noqa: E402,F401  (imported by the runner tests)
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
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


