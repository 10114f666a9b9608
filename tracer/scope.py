"""Decide which source files are project code, and so get traced.

A file is project code when it lies under the project root and is not part of an
installed or vendored environment: the standard library, site-packages, a virtual
environment folder, pytest and pluggy, and tracefix itself are always excluded, even
when they sit below the root (a `.venv` inside the project is the common case).
"""

from __future__ import annotations

import os
import sys
import sysconfig

# Folder names that mark an installed environment rather than project sources.
_EXCLUDED_PARTS = frozenset({
    "site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", "__pypackages__",
})

_TRACER_DIR = os.path.dirname(os.path.abspath(__file__))


def _library_prefixes() -> tuple[str, ...]:
    """Return the folders of the standard library and installed packages."""
    prefixes = {_TRACER_DIR}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            path = sysconfig.get_paths().get(key)
        except Exception:  # a broken sysconfig must not stop tracing
            path = None
        if path:
            prefixes.add(os.path.abspath(path))
    # pytest and pluggy may be installed in development mode from a checkout
    # that lies under the root, so their own folders are excluded by location.
    for name in ("_pytest", "pytest", "pluggy"):
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None) if module is not None else None
        if isinstance(location, str):
            prefixes.add(os.path.dirname(os.path.abspath(location)))
    return tuple(sorted(p.rstrip(os.sep) + os.sep for p in prefixes))


class ProjectScope:
    """Answers "is this file project code?" for code object file names, with a cache."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root).rstrip(os.sep) + os.sep
        real = os.path.realpath(root).rstrip(os.sep) + os.sep
        self._roots = (self.root,) if real == self.root else (self.root, real)
        self._excluded = _library_prefixes()
        self._cache: dict[str, str | None] = {}

    def project_path(self, filename: str) -> str | None:
        """Return the absolute path of `filename` when it is project code, else None."""
        try:
            return self._cache[filename]
        except KeyError:
            pass
        result = self._decide(filename)
        self._cache[filename] = result
        return result

    def _decide(self, filename: str) -> str | None:
        # `<string>`, `<frozen importlib._bootstrap>`, `<doctest ...>`: no file on disk.
        if not filename or filename.startswith("<"):
            return None
        path = os.path.abspath(filename)
        candidates = {path, os.path.realpath(path)}
        if not any(c.startswith(r) for c in candidates for r in self._roots):
            return None
        for candidate in candidates:
            if candidate.startswith(self._excluded):
                return None
            for root in self._roots:
                if candidate.startswith(root):
                    inner = candidate[len(root):].split(os.sep)
                    if _EXCLUDED_PARTS.intersection(inner[:-1]):
                        return None
        return path
