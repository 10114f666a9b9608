"""Run pytest under debugpy, listening on 127.0.0.1, for a debugger to attach.

Usage (the server starts it, with tracefix and debugpy on the child's PYTHONPATH):

    python -X frozen_modules=off -m tracefix.tracer.debuggee --port PORT
        [--pause-at-failure] -- PYTEST_ARGS...

It waits for the client to finish its configuration (`configurationDone`), then runs
`pytest.main(PYTEST_ARGS)` in this process and exits with pytest's exit code.

With `--pause-at-failure` it adds a "user-unhandled" exception breakpoint after the
client's configuration, so the test pauses where the failure leaves project code
whatever exception settings the editor sent. pytest catches a failing test's exception,
so the editor's default "uncaught" setting alone never stops. The breakpoint is set
through pydevd's own `add_break_on_exception`, the call that debugpy's
`setExceptionBreakpoints` handler makes.

This module is not part of the tracer proper: it imports debugpy, and only debug runs
start it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time


def _pause_at_failure() -> None:
    # pydevd is vendored by debugpy and importable once debugpy is imported.
    from _pydevd_bundle.pydevd_constants import get_global_debugger

    debugger = get_global_debugger()
    if debugger is None:
        raise RuntimeError("debugpy is listening but pydevd has no debugger")
    debugger.add_break_on_exception(
        "BaseException",
        condition=None,
        expression=None,
        notify_on_handled_exceptions=False,
        notify_on_unhandled_exceptions=False,
        notify_on_user_unhandled_exceptions=True,
        notify_on_first_raise_only=False,
        ignore_libraries=True,
    )
    debugger.on_breakpoints_changed()


def _watch_parent(parent: int) -> None:
    """Exit when the process that started this one is gone.

    The server or CLI that started this child kills it when done, but a server that is
    killed itself cannot, and a child waiting for a client would wait forever.
    """
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            # This process leads its own group, which contains debugpy's adapter too.
            try:
                os.killpg(os.getpgid(0), signal.SIGKILL)
            finally:
                os._exit(3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracefix.tracer.debuggee")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pause-at-failure", action="store_true")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args

    threading.Thread(target=_watch_parent, args=(os.getppid(),), name="tracefix-parent-watch",
                     daemon=True).start()

    import debugpy

    # Only loopback: a debug port lets its client run any code in this process.
    debugpy.listen(("127.0.0.1", args.port))
    print(f"tracefix: debugpy listening on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    debugpy.wait_for_client()
    if args.pause_at_failure:
        _pause_at_failure()

    import pytest

    return int(pytest.main(pytest_args))


def _end_group(code: int) -> None:
    """Exit, taking debugpy's adapter along when this process leads its own group.

    debugpy starts its adapter to outlive the debugged process, and an adapter was seen
    to stay after its session ended, so the server's start of this process in a group
    of its own is used to end them together.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if os.getpgid(0) == os.getpid():
        signal.signal(signal.SIGTERM, lambda *_: os._exit(code))
        os.killpg(os.getpid(), signal.SIGTERM)
    os._exit(code)


if __name__ == "__main__":
    _end_group(main())
