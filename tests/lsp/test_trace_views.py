"""Inlay hints and hovers show the traced values on the right lines, through edits.

The expected values are worked out by hand from QuixBugs `max_sublist_sum` (the buggy
version) on its first failing case, `[4, -5, 2, 1, -1, 3]`:

    max_ending_here = 0                               # 0
    max_so_far = 0                                    # 0
    for x in arr:                                     # x = 4, -5, 2, 1, -1, 3; 7 hits
        max_ending_here = max_ending_here + x         # 4, -1, 1, 2, 1, 4
        max_so_far = max(max_so_far, max_ending_here) # 4, then never changes
    return max_so_far                                 # 4 (the test expects 5)
"""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import inlay_hints, line_of, open_file, run_tests, start, wait_for

pytestmark = pytest.mark.timeout(120)

CASE1 = "test_max_sublist_sum.py::test_max_sublist_sum[case1]"
CASE4 = "test_max_sublist_sum.py::test_max_sublist_sum[case4]"


async def traced_project(client: LanguageClient, quixbugs, *, edit=None, **start_options):
    project = quixbugs("max_sublist_sum", edit=edit)
    module = project / "max_sublist_sum.py"
    await start(client, project, **start_options)
    open_file(client, module)
    result = await run_tests(client, module)
    assert result["traced"] == [CASE1], result
    return project, module


@pytest.mark.asyncio
async def test_inlay_hints_show_values_by_line(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs)

    hints = await inlay_hints(client, module)

    assert hints == {
        # The `def` line shows the arguments of the call, cut to the label's width.
        line_of(module, "def max_sublist_sum(arr):"): "arr=[4, -5, 2, 1,…",
        line_of(module, "max_ending_here = 0"): "max_ending_here=0",
        line_of(module, "max_so_far = 0"): "max_so_far=0",
        line_of(module, "for x in arr:"): "x=4 → 3 (×7)",
        line_of(module, "max_ending_here = max_ending_here + x"): "max_ending_here=4 → 4 (×6)",
        line_of(module, "max_so_far = max("): "max_so_far=4 (×6)",
        line_of(module, "return max_so_far"): "return 4",
    }
    assert all(len(label) <= 40 for label in hints.values())
    assert client.inlay_hint_refreshes >= 1


@pytest.mark.asyncio
async def test_hover_shows_history_table(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs)
    line = line_of(module, "max_ending_here = max_ending_here + x")

    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(module.as_uri()), types.Position(line, 10)))

    rows = [row for row in hover.contents.value.splitlines() if row.startswith("| ")]
    assert rows[0].split("|")[2].strip() == "max\\_ending\\_here"
    values = [row.split("|")[2].strip() for row in rows[1:]]
    assert values == ["`4`", "`-1`", "`1`", "`2`", "`1`", "`4`"]
    assert "ran 6 times" in hover.contents.value
    assert hover.range.start.line == line


@pytest.mark.asyncio
async def test_def_line_shows_the_calls_of_a_recursion(client: LanguageClient, quixbugs):
    # gcd(13, 13) recurses as gcd(0, 13) until the recursion limit: no line assigns a
    # local, so the arguments on the `def` line are what shows the bug.
    project = quixbugs("gcd")
    module = project / "gcd.py"
    await start(client, project)
    open_file(client, module)
    result = await run_tests(client, module)
    assert result["traced"] == ["test_gcd.py::test_gcd[case2]"], result
    def_line = line_of(module, "def gcd(a, b):")

    hints = await inlay_hints(client, module)
    label = hints[def_line]
    calls = int(label.rsplit("(×", 1)[1].rstrip(")"))
    assert label == f"a=13 → 0, b=13 (×{calls})"
    assert calls > 100  # every call is counted, up to the recursion limit

    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(module.as_uri()), types.Position(def_line, 4)))
    text = hover.contents.value
    # Loop compression keeps the first 3 and the last 3 calls (K=3).
    assert f"gcd was called {calls} times (6 of them recorded)" in text
    rows = [[cell.strip() for cell in row.split("|")[1:-1]]
            for row in text.splitlines() if row.startswith("| ")]
    assert rows[0] == ["call", "depth", "a", "b", "result"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "…", str(calls - 2), str(calls - 1), str(calls)]
    assert rows[1][2:4] == ["`13`", "`13`"]
    assert rows[2][2:4] == ["`0`", "`13`"]
    assert rows[4][1] == f"*calls not shown: {calls - 6}*"
    assert [row[1] for row in rows[1:4]] == ["1", "2", "3"]  # depth below the test function


@pytest.mark.asyncio
async def test_rerun_traced_shows_omitted_count(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs)
    line = line_of(module, "max_ending_here = max_ending_here + x")

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.rerunTraced", [module.as_uri(), CASE4]))
    assert result["traced"] is True

    hints = await inlay_hints(client, module)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(module.as_uri()), types.Position(line, 10)))
    # case4 is [4, -2, -8, 5, -2, 7, 7, 2, -6, 5]: ten hits, the middle four dropped.
    assert hints[line] == "max_ending_here=4 → 12 (×10)"
    assert "*executions omitted: 4*" in hover.contents.value
    values = [row.split("|")[2].strip() for row in hover.contents.value.splitlines()
              if row.startswith("| ")][1:]
    assert values == ["`4`", "`2`", "`-6`", "*executions omitted: 4*", "`13`", "`7`", "`12`"]


@pytest.mark.asyncio
async def test_hint_columns_count_utf16_units(client: LanguageClient, quixbugs):
    comment = "  # 🙂 日本語"

    def add_comment(source: str) -> str:
        return source.replace("max_ending_here + x\n", "max_ending_here + x" + comment + "\n")

    project, module = await traced_project(client, quixbugs, edit=add_comment)
    line = line_of(module, "max_ending_here = max_ending_here + x")
    text = module.read_text(encoding="utf-8").splitlines()[line]

    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(module.as_uri()),
        types.Range(types.Position(0, 0), types.Position(40, 0))))

    hint = next(h for h in hints if h.position.line == line)
    assert hint.position.character == len(text.encode("utf-16-le")) // 2
    assert hint.position.character == len(text) + 1  # the emoji is two UTF-16 units


@pytest.mark.asyncio
async def test_edits_move_or_drop_hints(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs)
    uri = module.as_uri()
    loop_line = line_of(module, "for x in arr:")
    body_line = line_of(module, "max_ending_here = max_ending_here + x")
    before = await inlay_hints(client, module)

    # Two lines inserted at the top: every hint moves down by two.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=uri),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# a\n# b\n")]))
    moved = await inlay_hints(client, module)
    assert moved == {line + 2: label for line, label in before.items()}

    # Typing into the loop body hides that line's hint and no other.
    body_text = "        max_ending_here = max_ending_here + x"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=3, uri=uri),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(body_line + 2, len(body_text)),
                              types.Position(body_line + 2, len(body_text))), text=" * 2")]))
    edited = await inlay_hints(client, module)
    assert body_line + 2 not in edited
    assert edited[loop_line + 2] == before[loop_line]
    assert len(edited) == len(before) - 1


@pytest.mark.asyncio
async def test_saved_content_mismatch_drops_hints(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs, options={"runOnSave": False})
    assert await inlay_hints(client, module)

    module.write_text(module.read_text(encoding="utf-8").replace("+ x", "+ x + 0"), encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(module.as_uri())))

    await wait_for(lambda: client.inlay_hint_refreshes >= 2, description="a refresh after save")
    assert await inlay_hints(client, module) == {}


@pytest.mark.asyncio
async def test_resolve_fills_tooltip(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs, resolve=True)
    line = line_of(module, "max_ending_here = max_ending_here + x")

    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(module.as_uri()),
        types.Range(types.Position(0, 0), types.Position(40, 0))))
    hint = next(h for h in hints if h.position.line == line)
    assert hint.tooltip is None

    resolved = await client.inlay_hint_resolve_async(hint)
    assert "| step | max\\_ending\\_here |" in resolved.tooltip.value


@pytest.mark.asyncio
async def test_inline_tooltip_without_resolve(client: LanguageClient, quixbugs):
    project, module = await traced_project(client, quixbugs)
    line = line_of(module, "for x in arr:")

    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(module.as_uri()),
        types.Range(types.Position(0, 0), types.Position(40, 0))))

    hint = next(h for h in hints if h.position.line == line)
    assert hint.tooltip.kind == types.MarkupKind.Markdown
    assert "*executions omitted: 1*" in hint.tooltip.value

