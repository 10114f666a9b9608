"""Interpreter lookup: the Python that runs the project's tests.

Lookup order, each branch logged with the source it used:

1. the workspace's own virtual environment, `.venv` then `venv` ("workspace-venv");
2. the interpreter the user configured ("configured");
3. the interpreter running the server ("server").

The workspace's environment comes first because it has the project's dependencies.
An interpreter is accepted only if it can import pytest. Otherwise the error names the
path and what to do.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

logger = logging.getLogger(__name__)

VENV_NAMES = (".venv", "venv")
PROBE_TIMEOUT_S = 30.0

# Interpreters already known to run pytest, keyed by (path, mtime) so a reinstalled
# interpreter is probed again.
_probed: dict[tuple[str, float], str] = {}
_probed_lock = threading.Lock()


class InterpreterError(RuntimeError):
    """The selected Python interpreter is missing or cannot run pytest."""


@dataclass(frozen=True)
class Interpreter:
    path: str  # absolute path of the python executable
    source: str  # "workspace-venv" | "configured" | "server"


def venv_python(venv: str) -> str:
    if os.name == "nt":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_interpreter(root: str, configured: str | None = None) -> Interpreter:
    """Return the interpreter to run the tests of the project at `root`.

    Raises InterpreterError when the chosen interpreter does not exist or cannot
    import pytest. A broken workspace environment is an error rather than a reason to
    fall back, because another interpreter would lack the project's dependencies.
    """
    for name in VENV_NAMES:
        candidate = venv_python(os.path.join(os.path.abspath(root), name))
        if _is_executable(candidate):
            logger.info("using the workspace environment's interpreter %s", candidate)
            return check_interpreter(Interpreter(candidate, "workspace-venv"))

    if configured:
        path = configured
        if os.sep not in configured:
            path = shutil.which(configured) or configured
        path = os.path.abspath(os.path.expanduser(path))
        if not _is_executable(path):
            raise InterpreterError(
                f"the configured Python interpreter {configured!r} was not found or is not "
                f"executable (looked at {path}); set the interpreter setting to the path of "
                "a Python that has pytest installed"
            )
        logger.info("using the configured interpreter %s", path)
        return check_interpreter(Interpreter(path, "configured"))

    logger.info("using the server's own interpreter %s", sys.executable)
    return check_interpreter(Interpreter(sys.executable, "server"))


def check_interpreter(interpreter: Interpreter) -> Interpreter:
    """Return `interpreter` if it can import pytest, and raise InterpreterError if not."""
    try:
        key = (interpreter.path, os.stat(interpreter.path).st_mtime)
    except OSError as exc:
        raise InterpreterError(
            f"the Python interpreter {interpreter.path} ({interpreter.source}) cannot be "
            f"read: {exc}"
        ) from exc
    with _probed_lock:
        if key in _probed:
            return interpreter

    command = [interpreter.path, "-c", "import pytest; print(pytest.__version__)"]
    try:
        probe = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(
            f"the Python interpreter {interpreter.path} ({interpreter.source}) failed to "
            f"start: {exc}"
        ) from exc
    if probe.returncode != 0:
        last_line = (probe.stderr.strip().splitlines() or ["no error output"])[-1]
        raise InterpreterError(
            f"the Python interpreter {interpreter.path} ({interpreter.source}) cannot run "
            f"pytest ({last_line}); install it with `{interpreter.path} -m pip install pytest`"
        )

    logger.debug("%s runs pytest %s", interpreter.path, probe.stdout.strip())
    with _probed_lock:
        _probed[key] = probe.stdout.strip()
    return interpreter
