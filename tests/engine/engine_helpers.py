"""Make QuixBugs task projects for engine tests: buggy.py copied beside its test file."""

import os
import shutil

from benchdata import QUIXBUGS

BENCH = str(QUIXBUGS)


def available() -> bool:
    return os.path.isdir(BENCH)


def reference(name: str, file: str) -> str:
    """Return the text of a task's file, such as `buggy.py` or `fixed_min.py`."""
    with open(os.path.join(BENCH, name, file), encoding="utf-8") as f:
        return f.read()


def make_task(parent, name: str) -> str:
    """Copy task `name` into a new folder under `parent` and return the folder's path."""
    root = os.path.join(str(parent), name)
    os.makedirs(root, exist_ok=True)
    shutil.copy(os.path.join(BENCH, name, "buggy.py"), os.path.join(root, f"{name}.py"))
    shutil.copy(os.path.join(BENCH, name, f"test_{name}.py"), os.path.join(root, f"test_{name}.py"))
    return root
