"""Start pytest under debugpy in a child process, listening on 127.0.0.1.

The child runs `tracefix.tracer.debuggee`, with tracefix's tracer and this server's own
debugpy on its PYTHONPATH, so the project's interpreter needs neither installed. Like
every test run, it starts in its own process group (debugpy adds an adapter process),
writes no bytecode or pytest cache into the workspace, and is killed as a group.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

from tracefix.server.runner import Interpreter, InterpreterError, find_interpreter
from tracefix.server.runner.bootstrap import child_environment
from tracefix.server.runner.paths import cache_base, new_run_dir

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def debugpy_path_dir() -> str:
    """Return a folder holding only a link to this server's debugpy, for PYTHONPATH."""
    import debugpy

    package = os.path.dirname(os.path.abspath(debugpy.__file__))
    key = hashlib.sha256(package.encode()).hexdigest()[:16]
    folder = os.path.join(cache_base(), "bootstrap", f"debugpy-{key}")
    link = os.path.join(folder, "debugpy")
    if os.path.realpath(link) != os.path.realpath(package):
        os.makedirs(folder, exist_ok=True)
        staging = tempfile.mkdtemp(dir=folder)
        os.symlink(package, os.path.join(staging, "debugpy"))
        os.replace(os.path.join(staging, "debugpy"), link)
        os.rmdir(staging)
    return folder


@dataclass
class Debuggee:
    """A running pytest child that debugpy serves on `port`."""

    process: subprocess.Popen
    port: int
    command: list[str]
    output_path: str  # the child's stdout and stderr

    @property
    def host(self) -> str:
        return HOST

    def alive(self) -> bool:
        return self.process.poll() is None

    def output_tail(self, limit: int = 2000) -> str:
        try:
            with open(self.output_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the child to exit; return its code or None."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill the child's whole process group (pytest and debugpy's adapter).

        debugpy's adapter forks once more to detach itself when it starts, and a fork
        made just after a kill would survive it, so the group is killed until it is empty.
        """
        for _ in range(20):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                break  # the group is empty
            time.sleep(0.05)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("debuggee %d did not exit after SIGKILL", self.process.pid)


def start_debuggee(root: str, nodeid: str, *, interpreter: Interpreter | None = None,
                   pause_at_failure: bool = False, output_dir: str | None = None) -> Debuggee:
    """Start `nodeid` of the project at `root` under debugpy, waiting for a client.

    The test starts only after a client has attached and sent `configurationDone`.
    """
    root = os.path.abspath(root)
    if interpreter is None:
        interpreter = find_interpreter(root)
    port = free_port()
    command = [interpreter.path, "-X", "frozen_modules=off", "-m", "tracefix.tracer.debuggee",
               "--port", str(port)]
    if pause_at_failure:
        command.append("--pause-at-failure")
    command += ["--", "-p", "no:cacheprovider", "--rootdir", root, "--color=no", "-q", nodeid]

    env = child_environment(dict(os.environ))
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], debugpy_path_dir()])
    # pydevd warns on stderr about frozen modules and slow file validation otherwise.
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    output_dir = output_dir or new_run_dir(root)
    output_path = os.path.join(output_dir, "debuggee.log")
    with open(output_path, "wb") as output:
        try:
            process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        except OSError as exc:
            raise InterpreterError(
                f"failed to start the Python interpreter {interpreter.path} "
                f"({interpreter.source}) under debugpy: {exc}") from exc
    log.info("started %s under debugpy on %s:%d (pid %d)", nodeid, HOST, port, process.pid)
    return Debuggee(process, port, command, output_path)
