"""Make QuixBugs task projects for engine tests: buggy.py copied beside its test file."""

import os
import shutil

BENCH = "/work/shared/benchmarks/quixbugs"


def available() -> bool:
    return os.path.isdir(BENCH)


def make_task(parent, name: str) -> str:
    """Copy task `name` into a new folder under `parent` and return the folder's path."""
    root = os.path.join(str(parent), name)
    os.makedirs(root, exist_ok=True)
    shutil.copy(os.path.join(BENCH, name, "buggy.py"), os.path.join(root, f"{name}.py"))
    shutil.copy(os.path.join(BENCH, name, f"test_{name}.py"), os.path.join(root, f"test_{name}.py"))
    return root
