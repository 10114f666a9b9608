"""Helpers for the language server tests: client capabilities, requests, waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient


def capabilities(*, resolve: bool = False) -> types.ClientCapabilities:
    """Client capabilities like VS Code's, with or without inlay hint resolve."""
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            inlay_hint=types.InlayHintWorkspaceClientCapabilities(refresh_support=True),
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
            configuration=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
        text_document=types.TextDocumentClientCapabilities(
            inlay_hint=types.InlayHintClientCapabilities(
                resolve_support=types.ClientInlayHintResolveOptions(properties=["tooltip"])
                if resolve else None),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[types.CodeActionKind.QuickFix]))),
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        ),
        window=types.WindowClientCapabilities(
            work_done_progress=True,
            show_document=types.ShowDocumentClientCapabilities(support=True),
        ),
    )


async def start(client: LanguageClient, root: Path, *, locale: str = "en",
                options: dict | None = None, resolve: bool = False) -> None:
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(resolve=resolve),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
        locale=locale,
        # Background failure snapshots (a debugpy re-run each) are off unless a test
        # turns them on, so that other tests do not pay for them.
        initialization_options={"runOnOpen": False, "snapshot": False, **(options or {})},
    ))


def open_file(client: LanguageClient, path: Path, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "python", version, path.read_text(encoding="utf-8"))))
    return uri


async def run_tests(client: LanguageClient, path: Path) -> dict:
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "tracefix.runTests", [path.as_uri()]))
    assert result is not None
    return result


async def wait_for(condition, timeout: float = 60.0, description: str = "condition"):
    """Poll `condition()` (a function or a coroutine function) until it returns a true value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {description}")
        await asyncio.sleep(0.1 if timeout <= 60 else 0.5)


async def inlay_hints(client: LanguageClient, path: Path, lines: int = 200) -> dict[int, str]:
    """Return {0-based line: label} of the hints the server gives for `path`."""
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        types.TextDocumentIdentifier(path.as_uri()),
        types.Range(types.Position(0, 0), types.Position(lines, 0))))
    return {hint.position.line: hint.label for hint in hints or []}


def line_of(path: Path, text: str) -> int:
    """Return the 0-based number of the first line of `path` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not found in {path}")
