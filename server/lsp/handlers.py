"""One thin handler per LSP method: read the request, ask the store or a job, convert.

Registered on a TracefixServer by `register`. The heavy work lives elsewhere: runs in
`jobs.py` on worker threads, explanations in `explain.py`, LSP values in `convert.py`.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tracefix.server.i18n import translate

from . import convert, explain, panel_data
from .documents import use_lsp_line_breaks
from .positions import index_from_client_units
from .server import TracefixServer
from .summaries import shorten

log = logging.getLogger(__name__)

EXPLAIN_KIND = "quickfix.tracefix.explain"
SET_API_KEY = "tracefix/setApiKey"  # notification: {"apiKey": str | null}
ARGUMENTS_WIDTH = 200  # characters of a command's arguments quoted in an error message


def register(server: TracefixServer) -> None:
    """Register every handler and command on `server`."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: TracefixServer, params: types.InitializeParams) -> None:
        use_lsp_line_breaks(ls.workspace)  # before the first didOpen
        ls.set_locale(params.locale)
        ls.configure(params.initialization_options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: TracefixServer, params: types.DidChangeConfigurationParams) -> None:
        ls.configure(params.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TracefixServer, params: types.DidOpenTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        ls.store.sync_line_map(path, params.text_document.text)
        if path in ls.published:
            ls.publish_diagnostics([path])
        if ls.options.run_on_open:
            ls.schedule_file_soon(path, "open", only_new=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TracefixServer, params: types.DidChangeTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        line_map = ls.store.line_maps.get(path)
        if line_map is None:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                lines = line_map.current_lines
                line_map.apply_change(_position(lines, change.range.start, ls),
                                      _position(lines, change.range.end, ls), change.text)
            else:
                line_map.replace_all(change.text)
        if path in ls.published:
            ls.publish_diagnostics([path])

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TracefixServer, params: types.DidSaveTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        if ls.store.mark_saved(path):
            log.info("%s no longer matches its trace; its values are hidden until the next run", path)
            ls.refresh_client_views()
        if ls.options.run_on_save:
            ls.schedule_file_soon(path, "save")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TracefixServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.store.sync_line_map(ls.path_of(params.text_document.uri), None)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: TracefixServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        tooltip = not ls.client_supports("text_document.inlay_hint.resolve_support")
        return _hints(ls, params.text_document.uri, params.range, tooltip=tooltip)

    @server.feature(types.INLAY_HINT_RESOLVE)
    def inlay_hint_resolve(ls: TracefixServer, hint: types.InlayHint) -> types.InlayHint:
        data = hint.data if isinstance(hint.data, dict) else {}
        shown_trace = ls.store.visible_trace(data.get("path", ""))
        if shown_trace is not None and shown_trace.nodeid == data.get("nodeid"):
            text = convert.hint_text(shown_trace, data["path"], data, ls.locale)
            if text:
                hint.tooltip = convert.lsp_markdown(text)
        return hint

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: TracefixServer, params: types.HoverParams) -> types.Hover | None:
        path = ls.path_of(params.text_document.uri)
        line_map = ls.store.line_maps.get(path)
        lines = line_map.current_lines if line_map else ls.document_lines(path)
        parts = []
        # A `def` line shows the function's calls. Every line shows what its executions changed.
        calls = ls.store.calls_at(path, params.position.line, lines)
        if calls is not None:
            parts.append(convert.calls_text(calls[0], calls[1], path, ls.locale))
        found = ls.store.history_at(path, params.position.line)
        if found is not None:
            parts.append(convert.history_text(found[0], found[1], path, ls.locale))
        # On the failing line, the state at the failure, once its snapshot has arrived.
        shown_trace = ls.store.visible_trace(path)
        traced = ls.store.traced_line(path, params.position.line)
        state = convert.failure_state_text(shown_trace, path, traced + 1 if traced is not None else None,
                                           ls.locale) if shown_trace is not None else None
        if state:
            parts.append(state)
        if not parts:
            return None
        return types.Hover(
            contents=convert.lsp_markdown("\n\n".join(parts)),
            range=convert.lsp_line_range(lines, params.position.line, ls.counter),
        )

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: TracefixServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        path = ls.path_of(params.text_document.uri)
        failing = [(o.nodeid, o.outcome) for o in ls.store.failing(path)]
        if not failing:
            return []
        return convert.lsp_code_lenses(failing, uri=params.text_document.uri,
                                       lines=ls.document_lines(path), counter=ls.counter,
                                       locale=ls.locale)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: TracefixServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        path = ls.path_of(uri)
        ours = [d for d in params.context.diagnostics if d.source == convert.SOURCE]
        nodeids = [d.data["nodeid"] for d in ours if isinstance(d.data, dict) and "nodeid" in d.data]
        if not nodeids:
            found = ls.store.history_at(path, params.range.start.line)
            nodeids = [found[0].nodeid] if found else []
        explain_actions = [
            types.CodeAction(
                title=explain.explain_title(ls, nodeid), kind=EXPLAIN_KIND, diagnostics=ours or None,
                command=types.Command(title=explain.explain_title(ls, nodeid),
                                      command="tracefix.explainFailure", arguments=[uri, nodeid]),
            )
            for nodeid in dict.fromkeys(nodeids)
        ]
        actions = explain_actions + explain.quick_fixes(ls, path, ours)
        if params.context.only:
            # The client asked for some kinds only (e.g. source actions on save).
            actions = [a for a in actions
                       if any(a.kind == k or a.kind.startswith(k + ".") for k in params.context.only)]
        return actions

    @server.command("tracefix.runTests")
    async def run_tests(ls: TracefixServer, *args):
        path = ls.path_of(_argument(ls, args, 0, "uri"))
        futures = await ls.schedule_file(path, "command")
        results = await asyncio.gather(*futures, return_exceptions=True)
        runs = [r for r in results if not isinstance(r, BaseException)]
        return {
            "testFiles": [run.test_file for run in runs],
            "failing": [o.nodeid for run in runs for o in ls.store.failing(run.test_file)],
            "traced": [nodeid for run in runs for nodeid in run.traces],
            "errors": [str(r) for r in results if isinstance(r, BaseException)]
                      + [run.error for run in runs if run.error],
        }

    @server.command("tracefix.rerunTraced")
    async def rerun_traced(ls: TracefixServer, *args):
        path = ls.path_of(_argument(ls, args, 0, "uri"))
        nodeid = _argument(ls, args, 1, "nodeid")
        run = await ls.schedule_trace(ls.root_for(path), ls.test_file_for(path, nodeid), nodeid)
        return {"nodeid": nodeid, "traced": nodeid in run.traces, "error": run.error}

    @server.command("tracefix.explainFailure")
    async def explain_failure(ls: TracefixServer, *args):
        path, nodeid = _failing_test(ls, args)
        if nodeid is None:
            return None
        return await explain.explain(ls, path, nodeid)

    @server.command("tracefix.debugFailure")
    async def debug_failure(ls: TracefixServer, *args):
        path, nodeid = _failing_test(ls, args)
        if nodeid is None:
            return None
        root = ls.root_for(path)
        session = await asyncio.get_running_loop().run_in_executor(
            None, ls.snapshots.start_session, root, nodeid, ls.options.interpreter)
        # Clients other than the VS Code extension attach by hand, so the message gives the address.
        ls.show_message(types.MessageType.Info, "lsp.debug.waiting", test=nodeid,
                        host=session["host"], port=session["port"])
        return {"nodeid": nodeid, **session}

    @server.command("tracefix.snapshot")
    async def snapshot(ls: TracefixServer, *args):
        path, nodeid = _failing_test(ls, args)
        if nodeid is None:
            return None
        return await ls.snapshots.take_now(ls, ls.root_for(path), nodeid)

    @server.feature(types.TEXT_DOCUMENT_INLINE_VALUE)
    def inline_value(ls: TracefixServer, params: types.InlineValueParams) -> list[types.InlineValue]:
        # A debugger paused in this file shows each line's recorded history beside it.
        hints = _hints(ls, params.text_document.uri, params.range, tooltip=False)
        return [types.InlineValueText(range=types.Range(hint.position, hint.position), text=hint.label)
                for hint in hints]

    @server.command("tracefix.explanation")
    def explanation_data(ls: TracefixServer, *args):
        nodeid = _argument(ls, args, 0, "nodeid")
        explanation = ls.explanations.get(nodeid)
        if explanation is None:
            return None
        return panel_data.explanation_data(nodeid, explanation,
                                           explain.offered_candidates(ls, nodeid))

    @server.command("tracefix.applyFix")
    async def apply_fix(ls: TracefixServer, *args):
        nodeid = _argument(ls, args, 0, "nodeid")
        if len(args) < 2 or not isinstance(args[1], int) or isinstance(args[1], bool):
            raise _invalid_argument(ls, args, 1, "index")
        return await explain.apply_fix(ls, nodeid, args[1])

    @server.feature(SET_API_KEY)
    def set_api_key(ls: TracefixServer, params) -> None:
        # The key comes from the editor's secret storage; only whether it is set is logged.
        key = getattr(params, "apiKey", None) if params is not None else None
        ls.api_key = key if isinstance(key, str) and key else None
        ls.backends.clear()  # a backend keeps the key it was made with
        log.info("API key for the model endpoint %s", "set" if ls.api_key else "cleared")

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TracefixServer, *args) -> None:
        ls.shutdown_workers()


def _hints(ls: TracefixServer, uri: str, lines: types.Range, *, tooltip: bool) -> list[types.InlayHint]:
    """Return the inlay hints of `uri` on the lines of `lines`, from the hint cache."""
    path = ls.path_of(uri)
    shown_trace = ls.store.visible_trace(path)
    line_map = ls.store.line_maps.get(path)
    if shown_trace is None or line_map is None:
        return []
    cache = ls.hint_cache(path, (shown_trace.index.serial, line_map.generation, ls.locale, tooltip))
    return convert.lsp_inlay_hints(
        shown_trace, path=path, lines=line_map.current_lines, first=lines.start.line,
        last=lines.end.line, store=ls.store, counter=ls.counter,
        tooltip=tooltip, locale=ls.locale, cache=cache,
    )


def _failing_test(ls: TracefixServer, args) -> tuple[str, str | None]:
    """Return the path of argument 0 (a uri) and the test of argument 1, else its first failing one.

    With no test given and none failing, an info message is shown and the node id is None.
    """
    path = ls.path_of(_argument(ls, args, 0, "uri"))
    if len(args) > 1 and args[1] and not isinstance(args[1], str):
        raise _invalid_argument(ls, args, 1, "nodeid")
    nodeid = args[1] if len(args) > 1 and args[1] else _first_failing(ls, path)
    if nodeid is None:
        ls.show_message(types.MessageType.Info, "lsp.explain.no_failure")
    return path, nodeid


def _argument(ls: TracefixServer, args, index: int, name: str) -> str:
    """Return string argument `index` of a command, or raise "Invalid params"."""
    if len(args) <= index or not isinstance(args[index], str):
        raise _invalid_argument(ls, args, index, name)
    return args[index]


def _invalid_argument(ls: TracefixServer, args, index: int, name: str) -> JsonRpcInvalidParams:
    # A JSON-RPC "Invalid params" error, not an internal error: the client sent the junk.
    # The message is shown to the user, so it is translated and the arguments are cut short.
    return JsonRpcInvalidParams(translate("lsp.command.invalid_argument", ls.locale,
                                          index=index + 1, name=name,
                                          arguments=shorten(repr(list(args)), ARGUMENTS_WIDTH)))


def _position(lines: list[str], position: types.Position, ls: TracefixServer) -> tuple[int, int]:
    """Convert a client position to (line, code point index) in `lines`."""
    if position.line >= len(lines):
        return position.line, 0
    return position.line, index_from_client_units(lines[position.line], position.character, ls.counter)


def _first_failing(ls: TracefixServer, path: str) -> str | None:
    shown_trace = ls.store.visible_trace(path)
    if shown_trace is not None:
        return shown_trace.nodeid
    for site in ls.store.failure_sites():
        if site.path == path or ls.test_file_for(path, site.nodeid) == path:
            return site.nodeid
    return None
