"""The server over stdio: runs, diagnostics, code lenses, options and locales."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import line_of, open_file, run_tests, start, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.mark.asyncio
async def test_diagnostic_on_failing_assertion(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project)
    open_file(client, test_file)

    result = await run_tests(client, test_file)

    assert result["errors"] == []
    assert "test_max_sublist_sum.py::test_max_sublist_sum[case1]" in result["failing"]
    diagnostics = client.diagnostics[test_file.as_uri()]
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.range.start.line == line_of(test_file, "assert result == expected")
    assert diagnostic.source == "tracefix"
    assert "test_max_sublist_sum[case1] failed" in diagnostic.message
    assert "assert 4 == 5" in diagnostic.message
    assert "3 more tests fail on this line" in diagnostic.message


@pytest.mark.asyncio
async def test_diagnostic_on_raising_line(client: LanguageClient, quixbugs):
    project = quixbugs("gcd")
    await start(client, project)
    source = project / "gcd.py"
    open_file(client, source)

    result = await run_tests(client, source)

    assert result["testFiles"] == [str(project / "test_gcd.py")]
    diagnostics = client.diagnostics[source.as_uri()]
    assert [d.range.start.line for d in diagnostics] == [line_of(source, "return gcd(a % b, b)")]
    assert "RecursionError" in diagnostics[0].message


@pytest.mark.asyncio
async def test_run_on_open_publishes_diagnostics(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project, options={"runOnOpen": True})

    open_file(client, test_file)

    diagnostics = await wait_for(lambda: client.diagnostics.get(test_file.as_uri()),
                                 description="diagnostics after didOpen")
    assert diagnostics[0].range.start.line == line_of(test_file, "assert result == expected")


@pytest.mark.asyncio
async def test_code_lenses_on_failing_test(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project)
    uri = open_file(client, test_file)
    await run_tests(client, test_file)

    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri)))

    def_line = line_of(test_file, "def test_max_sublist_sum(")
    assert [lens.range.start.line for lens in lenses] == [def_line] * 3
    titles = [lens.command.title for lens in lenses]
    assert titles == ["Explain failure [case1]", "Re-run traced [case1]", "Debug this failure [case1]"]
    assert lenses[0].command.command == "tracefix.explainFailure"
    assert list(lenses[0].command.arguments) == [uri, "test_max_sublist_sum.py::test_max_sublist_sum[case1]"]
    assert lenses[1].command.command == "tracefix.rerunTraced"
    assert lenses[2].command.command == "tracefix.debugFailure"


@pytest.mark.asyncio
async def test_japanese_locale_messages(client: LanguageClient, quixbugs):
    project = quixbugs("max_sublist_sum")
    test_file = project / "test_max_sublist_sum.py"
    await start(client, project, locale="ja-JP")
    uri = open_file(client, test_file)
    await run_tests(client, test_file)

    diagnostic = client.diagnostics[uri][0]
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri)))

    assert "失敗しました" in diagnostic.message
    assert lenses[0].command.title.startswith("失敗を説明")


@pytest.mark.asyncio
async def test_invalid_options_are_shown_and_defaulted(client: LanguageClient, tmp_path):
    await start(client, tmp_path, options={"runOnSave": "often", "testTimeout": -3})

    await wait_for(lambda: len(client.messages) >= 2, description="two warnings")

    texts = [m.message for m in client.messages]
    assert any("runOnSave='often'" in text and "true or false" in text for text in texts)
    assert any("testTimeout=-3" in text for text in texts)
    assert all(m.type == types.MessageType.Warning for m in client.messages)

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tracefix": {"trace": {"k": "three"}}}))
    await wait_for(lambda: len(client.messages) >= 3, description="a warning after didChangeConfiguration")
    assert "trace.k='three'" in client.messages[-1].message
