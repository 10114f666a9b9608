"""The panel's commands: `tracefix.explanation` (fixes and the trace as series) and `tracefix.applyFix`.

QuixBugs `gcd` (recursion with swapped arguments) is explained once; then the data a
panel shows is checked against the trace, and a fix is applied through the server's
`workspace/applyEdit`, with the document version the fix was computed for.
"""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import open_file, run_tests, start
from test_explain import apply_workspace_edit, pytest_passes

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

CASE2 = "test_gcd.py::test_gcd[case2]"


def record_edits(client: LanguageClient) -> list[types.WorkspaceEdit]:
    """Apply the server's `workspace/applyEdit` to the files on disk and record each edit."""
    edits: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)
        apply_workspace_edit(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    return edits


@pytest.mark.asyncio
async def test_panel_data_and_apply_fix(client: LanguageClient, quixbugs):
    edits = record_edits(client)

    project = quixbugs("gcd")
    module, test_file = project / "gcd.py", project / "test_gcd.py"
    await start(client, project)
    open_file(client, module)
    open_file(client, test_file)
    await run_tests(client, test_file)
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), CASE2]))

    data = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explanation", [CASE2]))
    assert data["nodeid"] == CASE2
    assert data["model"] is None
    assert data["candidates"]
    best = data["candidates"][0]
    assert best["verified"]
    assert best["diff"].startswith("--- a/gcd.py")
    series = data["series"]
    assert series["function"] == "gcd"
    names = [v["name"] for v in series["variables"]]
    assert names[:2] == ["a", "b"]
    a_points = series["variables"][0]["points"]
    assert all(p["number"] is not None for p in a_points)  # gcd's arguments are ints
    assert series["highlight_step"] in series["steps"]

    missing = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explanation", ["test_gcd.py::test_nope"]))
    assert missing is None

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.applyFix", [CASE2, best["index"]]))
    assert result == {"applied": True, "reason": ""}
    (change,) = edits[0].document_changes
    assert change.text_document.version == 1
    assert pytest_passes(project).returncode == 0

    # The buffer moves on (version 2): the same fix is now refused, with the reason.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=module.as_uri()),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# edited\n")]))
    stale = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.applyFix", [CASE2, best["index"]]))
    assert stale["applied"] is False
    assert "another version" in stale["reason"]
    assert len(edits) == 1


@pytest.mark.asyncio
async def test_apply_fix_to_a_closed_file(client: LanguageClient, quixbugs):
    # The panel's Apply works on a file that is not open: the edit carries no version,
    # and it goes out only while the file on disk is the one that was traced.
    edits = record_edits(client)

    project = quixbugs("gcd")
    module, test_file = project / "gcd.py", project / "test_gcd.py"
    original = module.read_text(encoding="utf-8")
    await start(client, project)
    open_file(client, test_file)
    await run_tests(client, test_file)
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [test_file.as_uri(), CASE2]))
    data = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explanation", [CASE2]))
    best = data["candidates"][0]
    assert best["verified"]

    # Changed on disk since the trace: refused, and nothing is sent.
    module.write_text(original + "\n# edited\n", encoding="utf-8")
    stale = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.applyFix", [CASE2, best["index"]]))
    assert stale["applied"] is False
    assert "another version" in stale["reason"]
    assert edits == []

    module.write_text(original, encoding="utf-8")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.applyFix", [CASE2, best["index"]]))
    assert result == {"applied": True, "reason": ""}
    (change,) = edits[0].document_changes
    assert change.text_document.version is None
    assert module.read_text(encoding="utf-8") != original
    assert pytest_passes(project).returncode == 0
