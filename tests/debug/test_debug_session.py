"""'Debug this failure': the test waits under debugpy and pauses at the failure for an editor."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tracefix.server.debug import DapClient, start_debuggee
from tracefix.server.debug_cli import attach_configuration

pytestmark = pytest.mark.timeout(120)


def attach_like_vscode(debuggee) -> DapClient:
    """Attach as VS Code does with its default exception setting (uncaught only)."""
    client = DapClient.connect(debuggee.host, debuggee.port, timeout=30)
    client.request("initialize", {"clientID": "vscode", "adapterID": "debugpy",
                                  "linesStartAt1": True, "pathFormat": "path"}, timeout=10)
    attach = client.send("attach", {"justMyCode": True})
    client.event("initialized", timeout=10)
    client.request("setExceptionBreakpoints", {"filters": ["uncaught"]}, timeout=10)
    client.request("configurationDone", {}, timeout=10)
    client.response(attach, "attach", timeout=10)
    return client


def test_paused_at_the_failure_for_an_attached_client(project):
    debuggee = start_debuggee(str(project), "test_calc.py::test_deep", pause_at_failure=True)
    assert debuggee.host == "127.0.0.1"
    client = attach_like_vscode(debuggee)
    try:
        # pytest catches the failure, so "uncaught" alone would never stop: the debuggee's
        # own user-unhandled breakpoint does.
        stopped = client.event("stopped", timeout=60)
        assert stopped["reason"] == "exception"
        frames = client.request("stackTrace", {"threadId": stopped["threadId"], "levels": 10},
                                timeout=10)["stackFrames"]
        top = frames[0]
        assert (top["source"]["path"], top["line"]) == (str(project / "calc.py"), 22)
        names = [frame["name"].removesuffix(" (Current frame)") for frame in frames]
        assert names[:4] == ["<listcomp>", "parse", "deep", "test_deep"]
        threads = client.request("threads", {}, timeout=10)["threads"]
        assert stopped["threadId"] in [thread["id"] for thread in threads]
        client.request("disconnect", {"terminateDebuggee": True}, timeout=10)
        assert debuggee.wait(timeout=20) is not None
    finally:
        client.close()
        debuggee.kill()


def test_debug_command_prints_how_to_attach(project):
    process = subprocess.Popen(
        [sys.executable, "-m", "tracefix.server.cli", "--root", str(project), "--locale", "en",
         "debug", "test_calc.py::test_total"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = process.stdout.readline()
        assert "test_calc.py::test_total is waiting under debugpy on 127.0.0.1:" in first
        port = int(first.split("127.0.0.1:", 1)[1].split(".", 1)[0])
        configuration = json.loads("".join(iter(process.stdout.readline, "}\n")) + "}")
        assert configuration == attach_configuration("test_calc.py::test_total", "127.0.0.1", port)

        class Address:
            host, port = "127.0.0.1", configuration["connect"]["port"]

        client = attach_like_vscode(Address)
        stopped = client.event("stopped", timeout=60)
        frames = client.request("stackTrace", {"threadId": stopped["threadId"], "levels": 1},
                                timeout=10)["stackFrames"]
        assert frames[0]["line"] == 7
        client.request("disconnect", {"terminateDebuggee": True}, timeout=10)
        client.close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        time.sleep(0.5)  # let the killed group's processes be reaped before the leak check
