""""Explain failure": progress, the report shown in the editor, verified versioned quick fixes.

QuixBugs `gcd` (buggy: `return gcd(a % b, b)`, which recurses forever) is explained once
per test. The engine traces, searches and validates candidates in sandboxes, which takes
about 25 s here. The fix is then applied to the scratch project the way a client applies
a WorkspaceEdit, and pytest must pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import line_of, open_file, run_tests, start

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

CASE2 = "test_gcd.py::test_gcd[case2]"  # the first failing case


async def explain(client: LanguageClient, quixbugs, locale: str = "en"):
    project = quixbugs("gcd")
    module = project / "gcd.py"
    test_file = project / "test_gcd.py"
    await start(client, project, locale=locale)
    open_file(client, module)
    open_file(client, test_file)
    await run_tests(client, test_file)

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), CASE2]))
    assert "error" not in result, result
    return project, module, test_file, result


async def code_actions(client: LanguageClient, path: Path, line: int) -> list[types.CodeAction]:
    uri = path.as_uri()
    diagnostics = [d for d in client.diagnostics.get(uri, []) if d.range.start.line == line]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri),
        types.Range(types.Position(line, 0), types.Position(line, 0)),
        types.CodeActionContext(diagnostics=diagnostics)))
    return actions or []


def apply_workspace_edit(edit: types.WorkspaceEdit) -> None:
    """Apply the edit to the files on disk, as a client applies it to its buffers."""
    for change in edit.document_changes:
        path = Path(types.TextDocumentIdentifier(change.text_document.uri).uri.removeprefix("file://"))
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)

        def offset(position: types.Position) -> int:
            # The edits are line-granular (character 0) or end at the end of the text.
            return sum(len(line) for line in lines[:position.line]) + position.character

        text = "".join(lines)
        for text_edit in sorted(change.edits, key=lambda e: offset(e.range.start), reverse=True):
            text = text[:offset(text_edit.range.start)] + text_edit.new_text + text[offset(text_edit.range.end):]
        path.write_text(text, encoding="utf-8")


def pytest_passes(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=project, capture_output=True, text=True, timeout=120)


@pytest.mark.asyncio
async def test_explain_report_progress_and_fixes(client: LanguageClient, quixbugs):
    project, module, test_file, result = await explain(client, quixbugs)

    # The report: outside the workspace, shown in the editor, holding the diagnosis.
    report = Path(result["report"])
    assert client.shown_documents[-1].uri == report.as_uri()
    assert not report.is_relative_to(project)
    text = report.read_text(encoding="utf-8")
    assert text.startswith(f"# Why {CASE2} fails")
    assert result["summary"]
    assert result["summary"] in text
    assert "## Verified fixes" in text
    assert "Explained by the built-in engine; no model is configured" in text

    # Progress: begin, at least one report, end, on a token the server created.
    (reports,) = [r for token, r in client.progress_reports.items() if "explain" in str(token)]
    assert reports[0].kind == "begin"
    assert any(r.kind == "report" for r in reports)
    assert reports[-1].kind == "end"

    # On the raising line: "Explain failure" first, then the verified fixes, best first,
    # for document version 1.
    line = line_of(module, "return gcd(a % b, b)")
    actions = await code_actions(client, module, line)
    assert actions[0].title == "Explain failure of test_gcd[case2]"
    assert actions[0].command.command == "tracefix.explainFailure"
    assert actions[0].kind.startswith("quickfix")
    fixes = [a for a in actions if a.kind == "quickfix"]
    assert fixes
    best = fixes[0]
    assert best.is_preferred
    assert not any(a.is_preferred for a in fixes[1:])
    assert best.title == "Fix line 5: `a % b, b` → `b, a % b` (passes 6/6 tests)"
    passed, total = best.title.rsplit("passes ", 1)[1].split(" ")[0].split("/")
    assert passed == total
    (change,) = best.edit.document_changes
    assert change.text_document.uri == module.as_uri()
    assert change.text_document.version == 1

    # Applied as a client applies it, the fix makes the project's tests pass.
    apply_workspace_edit(best.edit)
    run = pytest_passes(project)
    assert run.returncode == 0, run.stdout[-2000:]

    # Once the buffer changes (version 2), the version-1 fixes are no longer offered.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=module.as_uri()),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# edited\n")]))
    actions = await code_actions(client, module, line + 1)
    assert [a for a in actions if a.kind == "quickfix"] == []


@pytest.mark.asyncio
async def test_explain_in_japanese(client: LanguageClient, quixbugs):
    project, module, test_file, result = await explain(client, quixbugs, locale="ja")

    text = Path(result["report"]).read_text(encoding="utf-8")
    assert text.startswith(f"# {CASE2} が失敗する理由")
    line = line_of(module, "return gcd(a % b, b)")
    fixes = [a for a in await code_actions(client, module, line) if a.kind == "quickfix"]
    assert fixes
    assert "6/6 件が成功" in fixes[0].title
