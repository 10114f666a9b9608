"""debugpy through the server: the snapshot on hover, "Debug this failure", inline values.

QuixBugs `max_sublist_sum` (buggy) returns 4 for `[4, -5, 2, 1, -1, 3]`, and its test
fails at `assert result == expected`, where the snapshot must show result=4.
"""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import inlay_hints, line_of, open_file, run_tests, start, wait_for
from tracefix.server.debug import DapClient

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

CASE1 = "test_max_sublist_sum.py::test_max_sublist_sum[case1]"


async def hover_text(client: LanguageClient, path, line: int) -> str:
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(path.as_uri()), types.Position(line, 8)))
    return hover.contents.value if hover else ""


@pytest.mark.asyncio
async def test_snapshot_appears_on_hover_of_failing_line(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project, options={"snapshot": True})
    open_file(client, test_file)
    result = await run_tests(client, test_file)
    assert result["traced"] == [CASE1]
    assert_line = line_of(test_file, "assert result == expected")

    # The snapshot is taken in the background after the run; the hover shows it once done.
    async def state():
        text = await hover_text(client, test_file, assert_line)
        return text if "State at the failure (debugpy):" in text else None

    text = await wait_for(state, timeout=120, description="the snapshot in the hover")
    assert "`AssertionError: assert 4 == 5`" in text
    assert "`test_max_sublist_sum` at test_max_sublist_sum.py:" in text
    rows = {row.split("|")[1].strip(): row.split("|")[2].strip()
            for row in text.splitlines() if row.startswith("| `")}
    assert rows["`result`"] == "`4`"
    assert rows["`expected`"] == "`5`"


@pytest.mark.asyncio
async def test_snapshot_command_and_debug_session(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project)
    uri = open_file(client, test_file)
    await run_tests(client, test_file)

    snapshot = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.snapshot", [uri, CASE1]))
    assert snapshot["stopped"] and snapshot["exception_type"] == "AssertionError"

    session = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.debugFailure", [uri, CASE1]))
    assert session["host"] == "127.0.0.1"
    assert session["configuration"]["connect"] == {"host": "127.0.0.1", "port": session["port"]}
    assert session["configuration"]["type"] == "debugpy"
    await wait_for(lambda: any(f"127.0.0.1:{session['port']}" in m.message for m in client.messages),
                   description="the message that says where to attach")

    dap = DapClient.connect(session["host"], session["port"], timeout=30)
    try:
        dap.request("initialize", {"clientID": "vscode", "adapterID": "debugpy",
                                   "linesStartAt1": True, "pathFormat": "path"}, timeout=10)
        attach = dap.send("attach", {"justMyCode": True})
        dap.event("initialized", timeout=10)
        dap.request("setExceptionBreakpoints", {"filters": []}, timeout=10)
        dap.request("configurationDone", {}, timeout=10)
        dap.response(attach, "attach", timeout=10)
        stopped = dap.event("stopped", timeout=60)
        top = dap.request("stackTrace", {"threadId": stopped["threadId"], "levels": 1},
                          timeout=10)["stackFrames"][0]
        assert top["source"]["path"] == str(test_file)
        assert top["line"] == line_of(test_file, "assert result == expected") + 1

        # While the debugger is paused, inline values come from the recorded trace.
        module = project / "max_sublist_sum.py"
        open_file(client, module)
        values = await client.text_document_inline_value_async(types.InlineValueParams(
            text_document=types.TextDocumentIdentifier(module.as_uri()),
            range=types.Range(types.Position(0, 0), types.Position(30, 0)),
            context=types.InlineValueContext(frame_id=1, stopped_location=types.Range(
                types.Position(0, 0), types.Position(0, 0)))))
        shown = {value.range.start.line: value.text for value in values}
        assert shown == await inlay_hints(client, module)
        assert shown[line_of(module, "return max_so_far")] == "return 4"
        dap.request("disconnect", {"terminateDebuggee": True}, timeout=10)
    finally:
        dap.close()
