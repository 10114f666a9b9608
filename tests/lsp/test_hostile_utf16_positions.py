"""LSP positions count UTF-16 code units on every feature, both ways.

The project's module has lines with surrogate-pair emoji before the values, CJK
identifiers, a combining accent and a last line without a newline. The failing assert
line of its test carries an emoji inside a string. The real server runs over stdio
and every range or position it sends is checked in UTF-16 code units, as VS Code
counts them. Positions the client sends go the other way: hover inside an identifier,
after an emoji, inside a surrogate pair or past the end of a line, and edits whose
ranges start right after an emoji.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import open_file, run_tests, start

pytestmark = pytest.mark.timeout(240)

NODEID = "test_tally.py::test_合計"
ACCENT = "e\u0301"  # "é" as "e" followed by a combining acute accent: two code points

MODULE = (
    '"""Totals of labelled values."""\n'
    "\n"
    "\n"
    "def tally(values, 追加):\n"
    '    label = "🎉🎉"; 合計 = 0\n'
    f'    mark = "{ACCENT}"; 件数 = len(values)\n'
    "    for 値 in values:\n"
    "        合計 = 合計 + 値  # 🙂 値\n"
    "    return 合計 - 追加  # 🎉 the bug: subtracts"  # no newline at the end
)
# A form feed line and a line separator inside a string: Python and LSP clients do not
# break lines there, while `str.splitlines` does.
TEST = (
    "from tally import tally\n"
    "\x0c\n"
    'NOTE = "line\u2028separator"\n'
    "\n"
    "def test_合計():  # 🎉\n"
    '    assert tally([1, 2], 4) == 7, "🎉 total"\n'
)


# -- UTF-16 helpers: what a client such as VS Code does with a position -------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(line: str, start: int, end: int) -> str:
    """Return the text of `line` between two UTF-16 columns."""
    units = line.encode("utf-16-le")
    return units[2 * start:2 * end].decode("utf-16-le")


def utf16_offset(text: str, position: types.Position) -> int:
    """Return the code point offset in `text` of an LSP position counted in UTF-16 units.

    The texts here end lines with \\n only, and LSP breaks lines nowhere else, so unlike
    `str.splitlines` a form feed or U+2028 stays inside its line.
    """
    lines = text.split("\n")
    before = sum(len(line) + 1 for line in lines[:position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    prefix = line.encode("utf-16-le")[:2 * position.character].decode("utf-16-le")
    return before + len(prefix)


def apply_utf16_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply non-overlapping LSP text edits to `text`, last first, as a client does."""
    spans = [(utf16_offset(text, e.range.start), utf16_offset(text, e.range.end), e.new_text)
             for e in edits]
    for start, end, new_text in sorted(spans, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


def test_utf16_helpers():
    # The helpers are the reference every check below relies on.
    line = '    label = "🎉🎉"; 合計 = 0'
    assert utf16_len(line) == len(line) + 2
    assert utf16_slice(line, 13, 17) == "🎉🎉"
    edit = types.TextEdit(types.Range(types.Position(0, 20), types.Position(0, 22)), "total")
    assert apply_utf16_edits(line + "\n", [edit]) == '    label = "🎉🎉"; total = 0\n'
    below = types.TextEdit(types.Range(types.Position(1, 0), types.Position(1, 1)), "Y")
    assert apply_utf16_edits("\x0c\u2028\nX", [below]) == "\x0c\u2028\nY"


# -- the project and the server ------------------------------------------------------


def module_lines() -> list[str]:
    return MODULE.split("\n")


def line_number(lines: list[str], marker: str) -> int:
    return next(number for number, line in enumerate(lines) if marker in line)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "utf16"
    root.mkdir()
    (root / "tally.py").write_text(MODULE, encoding="utf-8")
    (root / "test_tally.py").write_text(TEST, encoding="utf-8")
    return root


async def traced(client: LanguageClient, project: Path) -> tuple[Path, Path]:
    module, test_file = project / "tally.py", project / "test_tally.py"
    await start(client, project)
    open_file(client, module)
    open_file(client, test_file)
    result = await run_tests(client, test_file)
    assert result["errors"] == [], result
    assert result["traced"] == [NODEID], result
    return module, test_file


async def hover_at(client: LanguageClient, path: Path, line: int, character: int):
    return await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(path.as_uri()), types.Position(line, character)))


async def hints_by_line(client: LanguageClient, path: Path) -> dict[int, types.InlayHint]:
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(path.as_uri()),
        types.Range(types.Position(0, 0), types.Position(50, 0))))
    return {hint.position.line: hint for hint in hints or []}


# -- server to client: ranges and positions the server sends -------------------------


@pytest.mark.asyncio
async def test_diagnostic_and_lens_ranges_in_utf16(client: LanguageClient, project):
    module, test_file = await traced(client, project)
    test_lines = TEST.split("\n")

    (diagnostic,) = client.diagnostics[test_file.as_uri()]
    assert_line = line_number(test_lines, "assert tally")
    text = test_lines[assert_line]
    assert diagnostic.range.start.line == assert_line
    assert diagnostic.range.end.line == assert_line
    # The range covers the statement exactly: from `assert` to the closing quote, after
    # which an end counted in code points would fall one unit short.
    assert utf16_slice(text, diagnostic.range.start.character,
                       diagnostic.range.end.character) == text.strip()
    assert diagnostic.range.end.character == utf16_len(text)

    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(test_file.as_uri())))
    def_line = line_number(test_lines, "def test_合計")
    assert [lens.command.command for lens in lenses] == [
        "tracefix.explainFailure", "tracefix.rerunTraced", "tracefix.debugFailure"]
    for lens in lenses:
        assert lens.range.start == types.Position(def_line, 0)
        assert lens.range.end == types.Position(def_line, utf16_len(test_lines[def_line]))
        assert list(lens.command.arguments) == [test_file.as_uri(), NODEID]


@pytest.mark.asyncio
async def test_hints_and_inline_values_at_utf16_ends(client: LanguageClient, project):
    module, _ = await traced(client, project)
    lines = module_lines()

    hints = await hints_by_line(client, module)
    for marker in ('label = "🎉🎉"', "mark = ", "for 値 in values", "合計 = 合計 + 値", "return 合計"):
        number = line_number(lines, marker)
        assert number in hints, (marker, sorted(hints))
        assert hints[number].position.character == utf16_len(lines[number]), marker
    label_line = line_number(lines, 'label = "🎉🎉"')
    assert "🎉🎉" in hints[label_line].label
    assert "合計=0" in hints[label_line].label
    assert "件数=2" in hints[line_number(lines, "mark = ")].label

    values = await client.text_document_inline_value_async(types.InlineValueParams(
        text_document=types.TextDocumentIdentifier(module.as_uri()),
        range=types.Range(types.Position(0, 0), types.Position(len(lines), 0)),
        context=types.InlineValueContext(
            frame_id=1, stopped_location=types.Range(types.Position(label_line, 0),
                                                     types.Position(label_line, 0)))))
    by_line = {value.range.start.line: value for value in values}
    assert set(by_line) == set(hints)
    for number, value in by_line.items():
        end = types.Position(number, utf16_len(lines[number]))
        assert value.range == types.Range(end, end)
        assert value.text == hints[number].label


@pytest.mark.asyncio
async def test_hover_positions_in_utf16(client: LanguageClient, project):
    module, _ = await traced(client, project)
    lines = module_lines()
    label_line = line_number(lines, 'label = "🎉🎉"')
    loop_body = line_number(lines, "合計 = 合計 + 値")
    emoji = utf16_len(lines[label_line].split("🎉")[0])  # UTF-16 column of the first 🎉

    positions = {
        "inside a CJK identifier": (loop_body, 9),
        "after a CJK identifier": (loop_body, 10),
        "after two emoji": (label_line, emoji + 4),
        "inside a surrogate pair": (label_line, emoji + 1),
        "past the end of the line": (label_line, utf16_len(lines[label_line]) + 50),
    }
    for case, (line, character) in positions.items():
        hover = await hover_at(client, module, line, character)
        assert hover is not None, case
        indent = len(lines[line]) - len(lines[line].lstrip())
        assert hover.range.start == types.Position(line, indent), case
        assert hover.range.end == types.Position(line, utf16_len(lines[line])), case
        if line == loop_body:
            assert "ran 2 times" in hover.contents.value, case
        else:
            assert "label" in hover.contents.value, case
            assert "🎉🎉" in hover.contents.value, case


# -- client to server: edits whose ranges are counted in UTF-16 -----------------------


@pytest.mark.asyncio
async def test_edits_after_emoji_in_utf16(client: LanguageClient, project):
    module, _ = await traced(client, project)
    uri = module.as_uri()
    lines = module_lines()
    label_line = line_number(lines, 'label = "🎉🎉"')
    text = lines[label_line]
    after_emoji = utf16_len(text.split('";')[0])  # just before the closing quote

    def change(version: int, start: int, end: int, new_text: str) -> None:
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(label_line, start), types.Position(label_line, end)),
                text=new_text)]))

    assert label_line in await hints_by_line(client, module)

    # Typing after the emoji hides the line's hint.
    change(2, after_emoji, after_emoji, "X")
    assert label_line not in await hints_by_line(client, module)

    # Retyping the rest of the line from the typed "X" on: only where the server placed
    # the "X" after the emoji does the line become the traced text again.
    tail = text[len(text.split('";')[0]):]
    change(3, after_emoji, after_emoji + 1 + utf16_len(tail), tail)
    hints = await hints_by_line(client, module)
    assert label_line in hints
    assert hints[label_line].position.character == utf16_len(text)

    # Appending after the last emoji of the loop body moves that hint to the new end.
    body = line_number(lines, "合計 = 合計 + 値")
    end = utf16_len(lines[body])
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=4, uri=uri),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(body, end), types.Position(body, end)), text="   ")]))
    hints = await hints_by_line(client, module)
    assert hints[body].position.character == end + 3


@pytest.mark.asyncio
@pytest.mark.slow
async def test_quick_fix_edit_in_utf16(client: LanguageClient, project):
    module, test_file = await traced(client, project)

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.explainFailure", [module.as_uri(), NODEID]))
    assert "error" not in result, result
    assert result["fixes"], result

    lines = module_lines()
    return_line = line_number(lines, "return 合計")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(module.as_uri()),
        types.Range(types.Position(return_line, 0), types.Position(return_line, 0)),
        types.CodeActionContext(diagnostics=[])))
    fixes = [a for a in actions or [] if a.kind == types.CodeActionKind.QuickFix]
    assert fixes, actions
    (change,) = fixes[0].edit.document_changes
    assert change.text_document.uri == module.as_uri()

    # Applied in UTF-16 units, the edit changes the operator and nothing else, and the
    # last line keeps its missing newline.
    fixed = apply_utf16_edits(MODULE, change.edits)
    assert fixed == MODULE.replace("合計 - 追加", "合計 + 追加")
    for edit in change.edits:
        end = edit.range.end
        assert end.line < len(lines)
        assert end.character <= utf16_len(lines[end.line])


@pytest.mark.asyncio
async def test_edit_below_line_separators(client: LanguageClient, project):
    _, test_file = await traced(client, project)
    text = TEST
    lines = text.split("\n")
    blank = line_number(lines, "NOTE = ") + 1
    assert lines[blank] == ""

    # Deleting the blank line above the test moves it up by one line in the editor. The
    # server must apply the change at the same line, although two lines above it contain
    # characters that `str.splitlines` breaks at.
    deletion = types.TextEdit(types.Range(types.Position(blank, 0), types.Position(blank + 1, 0)), "")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=2, uri=test_file.as_uri()),
        [types.TextDocumentContentChangePartial(range=deletion.range, text="")]))
    text = apply_utf16_edits(text, [deletion])
    lines = text.split("\n")

    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        types.TextDocumentIdentifier(test_file.as_uri())))
    def_line = line_number(lines, "def test_合計")
    assert lenses
    for lens in lenses:
        assert lens.range.start == types.Position(def_line, 0)
        assert lens.range.end == types.Position(def_line, utf16_len(lines[def_line]))

    # The diagnostic was published again for the edited document, on the moved line.
    (diagnostic,) = client.diagnostics[test_file.as_uri()]
    assert_line = line_number(lines, "assert tally")
    assert diagnostic.range.start == types.Position(assert_line, 4)
    assert diagnostic.range.end == types.Position(assert_line, utf16_len(lines[assert_line]))
