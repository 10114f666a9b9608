"""`tracefix snapshot` and `tracefix debug`: the debugpy commands of the CLI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from .debug import DapError, start_debuggee, take_snapshot
from .debug.render import snapshot_prompt_text
from .engine.testids import resolve_test
from .i18n import note_text, translate

EXIT_OK = 0
EXIT_USAGE = 2
DEBUG_WAIT_SECONDS = 3600.0  # how long `tracefix debug` keeps the test waiting for a client


def _failing_test(args: argparse.Namespace, interpreter) -> str:
    nodeid, _ = resolve_test(os.path.abspath(args.root), args.test_id, interpreter=interpreter,
                             timeout=120.0, locale=args.locale, require_failure=True)
    return nodeid


def snapshot_command(args: argparse.Namespace, interpreter, out: TextIO) -> int:
    """Print the state at the failure of TEST_ID, as text or JSON."""
    nodeid = _failing_test(args, interpreter)
    try:
        snapshot = take_snapshot(os.path.abspath(args.root), nodeid, interpreter=interpreter)
    except DapError as exc:
        sys.stderr.write("tracefix: " + translate("cli.error.snapshot", args.locale, test=nodeid,
                                                  error=exc) + "\n")
        return EXIT_USAGE
    if args.json:
        out.write(json.dumps(snapshot.to_json(), ensure_ascii=False, indent=1) + "\n")
        return EXIT_OK
    out.write(translate("cli.heading.snapshot", args.locale, test=nodeid,
                        seconds=f"{snapshot.seconds:.1f}") + "\n")
    text = snapshot_prompt_text(snapshot, limit=20000, locale=args.locale)
    out.write((text or translate("debug.snapshot.not_stopped", args.locale)) + "\n")
    for note in snapshot.notes:
        out.write(f"# {note_text(note, args.locale)}\n")
    return EXIT_OK


def debug_command(args: argparse.Namespace, interpreter, out: TextIO) -> int:
    """Start TEST_ID under debugpy, paused at the failure once a client attaches."""
    nodeid = _failing_test(args, interpreter)
    debuggee = start_debuggee(os.path.abspath(args.root), nodeid, interpreter=interpreter,
                              pause_at_failure=True)
    configuration = attach_configuration(nodeid, debuggee.host, debuggee.port)
    out.write(translate("cli.debug.waiting", args.locale, test=nodeid, host=debuggee.host,
                        port=debuggee.port) + "\n")
    out.write(json.dumps(configuration, indent=2) + "\n")
    out.flush()
    try:
        code = debuggee.wait(timeout=DEBUG_WAIT_SECONDS)
        if code is None:
            out.write(translate("cli.debug.gave_up", args.locale, minutes=int(DEBUG_WAIT_SECONDS // 60)) + "\n")
    except KeyboardInterrupt:
        pass  # Ctrl+C ends the session; the debugged test is killed below.
    finally:
        debuggee.kill()
    return EXIT_OK


def attach_configuration(nodeid: str, host: str, port: int) -> dict:
    """Return the VS Code launch configuration that attaches to a paused debuggee."""
    return {
        "name": f"tracefix: {nodeid}",
        "type": "debugpy",
        "request": "attach",
        "connect": {"host": host, "port": port},
        "justMyCode": True,
    }

