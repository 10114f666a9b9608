"""A throwaway copy of the project, for running tests on a patched version.

The copy lives in the runner's cache, outside the workspace, and is deleted on exit.
It leaves out what tests do not need or must not share: version control, virtual
environments (the workspace's interpreter is used in place, not copied), caches and
build outputs. Symlinks stay links, but a link that points into the workspace is
rewritten to point into the copy, so a test that writes through it cannot change the
workspace.
"""

from __future__ import annotations

import logging
import os
import shutil

from tracefix.tracer.source_text import encode_source

from .paths import new_sandbox_dir

logger = logging.getLogger(__name__)

SKIPPED_NAMES = frozenset((
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "node_modules", ".pytest_cache",
    ".tracefix", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".eggs", ".hypothesis",
))
# Build outputs, skipped only at the top level where a package could not be named so.
SKIPPED_TOP_LEVEL = frozenset(("build", "dist"))


def _skipped(name: str, parent: str, root: str) -> bool:
    if name in SKIPPED_NAMES or name.endswith(".egg-info"):
        return True
    if parent == root and name in SKIPPED_TOP_LEVEL:
        return True
    # Any virtual environment, whatever its name.
    return os.path.isfile(os.path.join(parent, name, "pyvenv.cfg"))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def _copy_link(source: str, target: str, root: str, copy_root: str) -> None:
    """Recreate the symlink `source` at `target`, redirecting workspace targets to the copy."""
    link = os.readlink(source)
    resolved = os.path.normpath(os.path.join(os.path.dirname(source), link))
    real_root = os.path.realpath(root)
    if os.path.isabs(link):
        if _inside(resolved, root) or _inside(resolved, real_root):
            base = root if _inside(resolved, root) else real_root
            link = os.path.join(copy_root, os.path.relpath(resolved, base))
    elif not _inside(resolved, root):
        # A relative link out of the project would dangle from the copy's location.
        link = resolved
    os.symlink(link, target)


def copy_project(root: str, copy_root: str) -> None:
    """Copy the project at `root` into the existing empty folder `copy_root`."""
    root = os.path.abspath(root)
    for parent, dirnames, filenames in os.walk(root):
        target_parent = os.path.join(copy_root, os.path.relpath(parent, root))
        kept = []
        for name in dirnames:
            source = os.path.join(parent, name)
            if _skipped(name, parent, root):
                continue
            if os.path.islink(source):
                _copy_link(source, os.path.join(target_parent, name), root, copy_root)
                continue  # os.walk does not descend into links either
            os.mkdir(os.path.join(target_parent, name))
            kept.append(name)
        dirnames[:] = kept

        for name in filenames:
            source = os.path.join(parent, name)
            target = os.path.join(target_parent, name)
            if name.endswith((".pyc", ".pyo")):
                continue
            if os.path.islink(source):
                _copy_link(source, target, root, copy_root)
            else:
                shutil.copy2(source, target)


class Sandbox:
    """Context manager for a copy of the project that is deleted on exit.

    Each instance has its own folder, so several sandboxes can be used at once from
    different threads.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.path = ""

    def __enter__(self) -> "Sandbox":
        self.path = new_sandbox_dir(self.root)
        try:
            copy_project(self.root, self.path)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        logger.debug("copied %s to the sandbox %s", self.root, self.path)
        return self

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, relpath: str, text: str) -> str:
        """Replace the file at `relpath` in the copy with `text`, and return its path.

        Raises ValueError when `relpath` is absolute or leads out of the copy, including
        through a symlinked folder, and UnicodeEncodeError when `text` contains a
        character that the encoding its coding cookie declares cannot encode.
        """
        normal = os.path.normpath(relpath)
        if os.path.isabs(normal) or normal == ".." or normal.startswith(".." + os.sep):
            raise ValueError(
                f"invalid patch path {relpath!r}: expected a path relative to the project root"
            )
        target = os.path.join(self.path, normal)
        real_parent = os.path.realpath(os.path.dirname(target))
        if not _inside(real_parent, os.path.realpath(self.path)):
            raise ValueError(
                f"invalid patch path {relpath!r}: its folder is a symlink that leads out of "
                f"the project ({real_parent})"
            )
        if os.path.islink(target):
            os.unlink(target)  # write a file of our own, never through the link
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Encoded by its coding cookie, so a patched latin-1 file stays latin-1, and
        # written as bytes, so the patch keeps its own line endings.
        with open(target, "wb") as out:
            out.write(encode_source(text))
        return target
