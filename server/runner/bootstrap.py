"""Make `tracefix.tracer` importable in the test process.

The project's interpreter usually does not have tracefix installed. The runner builds a
folder in the cache that contains `tracefix/tracer`, a symlink to this installation's
tracer package (a copy where symlinks fail), and puts that folder first on PYTHONPATH.
`tracefix` there has no `__init__.py`, so it stays a namespace package and merges with
an installed tracefix instead of hiding it.

When the interpreter does have tracefix installed, pytest still registers the plugin
once: the `pytest11` entry point has the module's name, `tracefix.tracer.pytest_plugin`,
and pytest skips an entry point whose name `-p` already registered.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading

import tracefix.tracer

from .paths import cache_base

logger = logging.getLogger(__name__)

PLUGIN_MODULE = "tracefix.tracer.pytest_plugin"

_lock = threading.Lock()


def tracer_package_dir() -> str:
    return os.path.dirname(os.path.abspath(tracefix.tracer.__file__))


def _copy_fingerprint(package: str) -> str:
    """Hash the names, sizes and mtimes of the tracer's files, to know when a copy is stale."""
    digest = hashlib.sha256(package.encode())
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            info = os.stat(os.path.join(package, name))
            digest.update(f"{name}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _link_is_current(link: str, package: str) -> bool:
    return os.path.islink(link) and os.path.realpath(link) == os.path.realpath(package)


def bootstrap_dir() -> str:
    """Return a folder that, put on PYTHONPATH, makes `tracefix.tracer` importable."""
    package = tracer_package_dir()
    key = hashlib.sha256(os.path.realpath(package).encode()).hexdigest()[:16]
    base = os.path.join(cache_base(), "bootstrap")

    with _lock:
        linked = os.path.join(base, f"link-{key}")
        if _link_is_current(os.path.join(linked, "tracefix", "tracer"), package):
            return linked
        if _build(linked, package, copy=False):
            return linked

        copied = os.path.join(base, f"copy-{_copy_fingerprint(package)}")
        if os.path.isdir(os.path.join(copied, "tracefix", "tracer")):
            return copied
        _build(copied, package, copy=True)
        return copied


def _build(target: str, package: str, *, copy: bool) -> bool:
    """Build the folder in a temporary place and rename it into `target`.

    The rename makes the folder appear complete or not at all, so another tracefix
    process that builds the same folder at the same time cannot see half of it.
    Returns False when a symlink could not be made.
    """
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
    try:
        os.makedirs(os.path.join(staging, "tracefix"))
        inner = os.path.join(staging, "tracefix", "tracer")
        if copy:
            shutil.copytree(package, inner, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            try:
                os.symlink(package, inner, target_is_directory=True)
            except OSError as exc:
                logger.warning("cannot symlink %s (%s); copying the tracer instead", package, exc)
                return False
        if os.path.isdir(target):
            shutil.rmtree(target, ignore_errors=True)  # a stale link or copy
        try:
            os.rename(staging, target)
        except OSError:
            # Another process renamed its identical folder first; use that one.
            if not os.path.isdir(os.path.join(target, "tracefix", "tracer")):
                raise
        logger.debug("built the tracer bootstrap folder %s", target)
        return True
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)


def child_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a pytest child: tracer importable, no bytecode written."""
    env = dict(os.environ if base is None else base)
    entries = [bootstrap_dir()]
    if env.get("PYTHONPATH"):
        entries.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(entries)
    # Test runs must not write __pycache__ folders into the workspace.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
