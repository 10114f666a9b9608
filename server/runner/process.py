"""Run one child process with a wall-clock deadline and bounded output.

The child gets its own process group (`start_new_session`), so the watchdog can kill
everything the tests started, not only the pytest process. On timeout the watchdog
first sends SIGUSR1, which the report writer's `faulthandler` turns into a stack dump,
waits briefly for the dump, then sends SIGKILL to the whole group.

stdout and stderr share one pipe, read on a thread into `BoundedOutput`, which keeps
the head and the tail and counts the bytes dropped between them. A test that prints
gigabytes therefore costs a fixed amount of memory.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 192 * 1024
READ_CHUNK = 64 * 1024

# How long the watchdog waits for faulthandler's stack dump before it kills the group.
STACK_DUMP_WAIT_S = 2.0
# How long the reader thread may take to drain the pipe after the group is dead.
# A grandchild that left the group (setsid) can keep the pipe open forever.
READER_JOIN_S = 5.0


class BoundedOutput:
    """Keeps the first `head` and the last `tail` bytes written, and counts the rest."""

    def __init__(self, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> None:
        self._head_limit = head
        self._tail_limit = tail
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            room = self._head_limit - len(self._head)
            if room > 0:
                self._head += data[:room]
                data = data[room:]
            if not data:
                return
            self._tail += data
            excess = len(self._tail) - self._tail_limit
            if excess > 0:
                del self._tail[:excess]
                self.dropped += excess

    def text(self) -> str:
        """Return the kept output, with a marker where bytes were dropped."""
        with self._lock:
            head = self._head.decode("utf-8", "replace")
            tail = self._tail.decode("utf-8", "replace")
            if not self.dropped:
                return head + tail
            marker = f"\n[... tracefix dropped {self.dropped} bytes of output ...]\n"
            return head + marker + tail


@dataclass
class ProcessResult:
    exit_code: int  # negative: killed by that signal number
    timed_out: bool
    output: str
    output_dropped: int  # bytes of output left out of `output`
    duration: float  # seconds


def _read_into(stream, output: BoundedOutput) -> None:
    try:
        while True:
            data = stream.read1(READ_CHUNK) if hasattr(stream, "read1") else stream.read(READ_CHUNK)
            if not data:
                return
            output.write(data)
    except (OSError, ValueError):
        return  # The pipe was closed under us after the reader join timed out.


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # The whole group already exited.


def _wait_for_stack_dump(stacks_path: str | None, deadline: float) -> None:
    """Wait until faulthandler's dump in `stacks_path` stops growing, or the deadline."""
    if stacks_path is None:
        return
    last_size = -1
    while time.monotonic() < deadline:
        try:
            size = os.path.getsize(stacks_path)
        except OSError:
            size = 0
        if size > 0 and size == last_size:
            return
        last_size = size
        time.sleep(0.1)


def run_process(
    command: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    timeout: float,
    stacks_path: str | None = None,
) -> ProcessResult:
    """Run `command` to completion or until `timeout` seconds pass, then kill its group.

    `stacks_path` is the file the child's faulthandler writes to on SIGUSR1. When it is
    given, a timed-out child is asked for its stacks before it is killed.
    """
    started = time.monotonic()
    output = BoundedOutput()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pgid = process.pid  # the session leader's pid is the group id
    reader = threading.Thread(
        target=_read_into, args=(process.stdout, output), name=f"tracefix-output-{pgid}",
        daemon=True,
    )
    reader.start()
    logger.debug("started pid %d: %s", process.pid, " ".join(command))

    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        logger.info("pid %d timed out after %.1f s; dumping stacks and killing it",
                    process.pid, timeout)
        if stacks_path is not None:
            try:
                process.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
            _wait_for_stack_dump(stacks_path, time.monotonic() + STACK_DUMP_WAIT_S)
    finally:
        # Also on a normal exit: background processes the tests left behind die too.
        _kill_group(pgid)
        process.wait()

    reader.join(READER_JOIN_S)
    if reader.is_alive():
        # Closing the pipe now would block on the reader's lock, so the daemon thread
        # keeps it until that process exits.
        logger.warning("output of pid %d still open after the group was killed; "
                       "a process outside the group holds it", pgid)
    else:
        process.stdout.close()

    return ProcessResult(
        exit_code=process.returncode,
        timed_out=timed_out,
        output=output.text(),
        output_dropped=output.dropped,
        duration=time.monotonic() - started,
    )
