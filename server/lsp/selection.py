"""Selection of the test files to run for a file that was opened, saved or named in a command.

The rule is a cheap text search rather than an import graph, so that it stays fast:

- A test file (`test_*.py` or `*_test.py`) selects itself.
- Any other Python file `pkg/mod.py` selects every test file in the workspace whose text
  imports the module by its last name, with `import mod`, `import pkg.mod`,
  `from mod import ...`, `from pkg.mod import ...` or `from pkg import mod`.

NOTE: the heuristic misses tests that reach the module only through another module
(a test of `app` when `app` imports `mod`) and names on a continuation line of a
parenthesized import, and it may select a test that imports a different module of the
same last name. Running a test file's own tests by command works in every case.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

# Folders that hold no project tests but can be large.
_SKIPPED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__",
                 "site-packages", "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache"}
_MAX_TEST_FILE_BYTES = 2_000_000  # larger files are generated data, not tests
_MAX_FILES_SCANNED = 20_000  # bounds a save in a huge workspace; later files are missed


def is_test_file(path: str) -> bool:
    name = os.path.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def module_name(path: str) -> str:
    return Path(path).stem


def import_pattern(module: str) -> re.Pattern[str]:
    """Return a regex matching an import statement that names `module` as a module."""
    name = re.escape(module)
    dotted = r"[\w.]*"
    return re.compile(
        rf"^[ \t]*(?:"
        rf"from[ \t]+(?:{dotted}\.)?{name}(?:\.{dotted})?[ \t]+import\b"  # from pkg.mod import x
        rf"|from[ \t]+{dotted}[ \t]+import[ \t(]+[^\n]*\b{name}\b"  # from pkg import mod
        rf"|import[ \t]+[^\n]*\b{name}\b"  # import pkg.mod, other
        rf")",
        re.MULTILINE,
    )


def iter_test_files(root: str):
    """Yield the test files under `root`, skipping tool and environment folders."""
    scanned = 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            scanned += 1
            if scanned > _MAX_FILES_SCANNED:
                log.warning("stopped looking for test files after %d files under %s",
                            _MAX_FILES_SCANNED, root)
                return
            path = os.path.join(directory, name)
            if is_test_file(path):
                yield path


def select_test_files(root: str, path: str) -> list[str]:
    """Return the absolute paths of the test files to run for `path` (sorted)."""
    path = os.path.abspath(path)
    if is_test_file(path):
        return [path]
    if not path.endswith(".py"):
        return []

    pattern = import_pattern(module_name(path))
    selected = []
    for candidate in iter_test_files(root):
        try:
            if os.path.getsize(candidate) > _MAX_TEST_FILE_BYTES:
                continue
            with open(candidate, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as exc:
            log.warning("cannot read %s while selecting tests for %s: %s", candidate, path, exc)
            continue
        if pattern.search(text):
            selected.append(candidate)
    return selected
