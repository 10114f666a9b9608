"""The model side of "Explain failure" in the language server.

For one explanation, `ModelStream` builds the candidate sources (the configured model
plus the built-in engine), opens the report as soon as the diagnosis is known, and then
streams the model's reasoning into it while it is generated: the markdown file
is rewritten in place (any client that shows it reloads it) and every piece is also sent
as a `tracefix/reasoning` notification, which the VS Code extension renders live.

Backends are kept on the server between explanations, keyed by their settings, so a
local model loads once. The API key comes from the editor's secret storage through the
`tracefix/setApiKey` notification or from the environment; it is never logged.

All methods except `__init__` run on the explanation's worker thread; whatever talks to
the client is handed to the event loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Callable

from lsprotocol import types

from tracefix.server.engine import BuiltinRepairSearch, ExplainSettings, FailureContext
from tracefix.server.i18n import translate
from tracefix.server.model.backend import ModelError
from tracefix.server.model.config import ModelOptions, describe, load_options, make_backend

from .report import render_pending, write_text

log = logging.getLogger(__name__)

REASONING_NOTIFICATION = "tracefix/reasoning"
WRITE_INTERVAL = 0.3  # seconds between rewrites of the streaming report
_backends_lock = threading.Lock()


def backend_for(ls, options: ModelOptions, locale: str):
    """Return the server's backend for `options`, made once and kept for later explanations."""
    settings = options.backend
    key = json.dumps(describe(ModelOptions(backend=settings))["backend"], sort_keys=True)
    with _backends_lock:
        cache = ls.backends
        if key not in cache:
            log.info("creating model backend %s", settings.kind)
            cache.clear()  # one model at a time: the previous one's memory is freed
            cache[key] = make_backend(settings, api_key=ls.api_key, locale=locale)
        return cache[key]


def warm_up(ls, root: str) -> None:
    """Begin loading the configured local model in the background, if there is one.

    Called when a run found failures, so that the model is ready when the user requests
    an explanation. Errors are only logged here; the explanation reports them.
    """
    try:
        options = load_options(root, editor=ls.options.model)
        if options.backend.kind != "transformers":
            return
        backend = backend_for(ls, options, ls.locale)
        if not backend.loaded:
            log.info("loading model %s in the background", options.backend.model)
            backend.start_loading()
    except ModelError as exc:
        log.info("model not preloaded: %s", exc)


class ModelStream:
    def __init__(self, ls, loop: asyncio.AbstractEventLoop, root: str, nodeid: str,
                 locale: str, progress: Callable[[str, "int | None"], None],
                 cancel: threading.Event) -> None:
        self.ls, self.loop, self.root, self.nodeid = ls, loop, root, nodeid
        self.locale, self.progress, self.cancel = locale, progress, cancel
        self.options = ModelOptions()
        self.backend = None
        self.context: FailureContext | None = None
        self.texts: dict[int, str] = {}
        self.report_path = ""
        self.shown = False
        self._last_write = 0.0
        self._lock = threading.Lock()

    # -- sources ------------------------------------------------------------------

    def sources(self, settings: ExplainSettings) -> list | None:
        """Return the sources to ask: None (built-in only) when no model is configured or usable."""
        from tracefix.server.model.source import ModelCandidateSource

        try:
            self.options = load_options(self.root, editor=self.ls.options.model)
            if not self.options.enabled:
                return None
            backend = backend_for(self.ls, self.options, self.locale)
        except ModelError as exc:
            # A bad setting must not cost the user the explanation, so show it and go on built-in.
            self._show(types.MessageType.Warning, translate(
                "lsp.model.unusable", self.locale, error=exc.render(self.locale)))
            return None
        self.backend = backend
        model = ModelCandidateSource(backend, self.options, on_delta=self.delta,
                                     progress=self.progress, cancel=self.cancel)
        builtin = BuiltinRepairSearch(max_lines=settings.max_lines,
                                      max_candidates=settings.max_candidates)
        return [model] + ([builtin] if self.options.include_builtin else [])

    @property
    def model_name(self) -> str:
        """The model's name; a remote backend reports it only once it has been reached."""
        return self.backend.name if self.backend is not None else ""

    # -- streaming ----------------------------------------------------------------

    def on_context(self, context: FailureContext) -> None:
        """Open the report as soon as the diagnosis is known, before the model's completions."""
        self.context = context
        if self.model_name:
            self._write(force=True)
            self._open_report()

    def delta(self, sample: int, text: str) -> None:
        with self._lock:
            self.texts[sample] = self.texts.get(sample, "") + text
        self.loop.call_soon_threadsafe(self._notify, {"nodeid": self.nodeid, "sample": sample,
                                                      "text": text, "model": self.model_name})
        self._write()

    def _notify(self, params: dict) -> None:
        try:
            self.ls.protocol.notify(REASONING_NOTIFICATION, params)
        except Exception as exc:  # a client gone mid-stream; the report still has it all
            log.debug("could not send %s: %s", REASONING_NOTIFICATION, exc)

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.context is None or (not force and now - self._last_write < WRITE_INTERVAL):
            return
        self._last_write = now
        with self._lock:
            texts = dict(self.texts)
        from .report import report_path

        self.report_path = report_path(self.root, self.nodeid)
        write_text(self.report_path, render_pending(self.nodeid, self.context, self.model_name,
                                                    texts, self.locale))

    def _open_report(self) -> None:
        if not self.ls.client_supports("window.show_document.support"):
            return

        async def show() -> None:
            result = await self.ls.window_show_document_async(types.ShowDocumentParams(
                uri=self.ls.uri_of(self.report_path), take_focus=True))
            self.shown = bool(result and result.success)

        asyncio.run_coroutine_threadsafe(show(), self.loop)

    def _show(self, kind: types.MessageType, message: str) -> None:
        log.warning("%s", message)
        self.loop.call_soon_threadsafe(
            self.ls.window_show_message, types.ShowMessageParams(kind, message))
