"""Locations of the runner's files, all of them outside the workspace.

Reports, traces and sandbox copies live in a per-project cache folder,
`$XDG_CACHE_HOME/tracefix/<hash of the project root>/` (default `~/.cache`), so running
tests never adds files to the user's project. When that folder would fall inside the
project (a project rooted at the home folder), the system temp folder is used instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time

logger = logging.getLogger(__name__)

# Old run folders are deleted when more than KEEP_RUNS exist, but only once they are
# older than MIN_RUN_AGE_S, so a run that another thread still uses is never removed.
KEEP_RUNS = 20
MIN_RUN_AGE_S = 15 * 60


def _inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


def cache_base(root: str | None = None) -> str:
    """Return tracefix's cache folder, one that is not inside `root`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    base = os.path.join(os.path.abspath(base), "tracefix")
    if root is not None and _inside(base, root):
        base = os.path.join(tempfile.gettempdir(), f"tracefix-{os.getuid()}")
    os.makedirs(base, exist_ok=True)
    return base


def cache_dir(root: str) -> str:
    """Return the cache folder of the project at `root`, creating it if needed."""
    real_root = os.path.realpath(root)
    digest = hashlib.sha256(real_root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    path = os.path.join(cache_base(root), "projects", digest)
    os.makedirs(path, exist_ok=True)
    return path


def new_run_dir(root: str) -> str:
    """Create a fresh folder for one pytest run's report and traces."""
    runs = os.path.join(cache_dir(root), "runs")
    os.makedirs(runs, exist_ok=True)
    clean_old_runs(runs)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return tempfile.mkdtemp(prefix=f"{stamp}-", dir=runs)


def new_sandbox_dir(root: str) -> str:
    """Create an empty folder for one sandbox copy of the project."""
    sandboxes = os.path.join(cache_dir(root), "sandboxes")
    os.makedirs(sandboxes, exist_ok=True)
    return tempfile.mkdtemp(prefix="sandbox-", dir=sandboxes)


def clean_old_runs(runs: str) -> None:
    """Delete the oldest run folders beyond KEEP_RUNS that are older than MIN_RUN_AGE_S."""
    aged: list[tuple[float, str]] = []
    try:
        for entry in os.scandir(runs):
            try:
                if entry.is_dir(follow_symlinks=False):
                    aged.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
            except FileNotFoundError:
                continue  # Another thread deleted it first.
    except FileNotFoundError:
        return
    aged.sort(reverse=True)
    now = time.time()
    for mtime, path in aged[KEEP_RUNS:]:
        if now - mtime < MIN_RUN_AGE_S:
            continue
        logger.debug("deleting old run folder %s", path)
        shutil.rmtree(path, ignore_errors=True)
