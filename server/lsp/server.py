"""The tracefix language server: pygls 2 over stdio, standard LSP methods only.

`main()` is what `tracefix serve` and `python -m tracefix.server.lsp` start. This module
contains the server's state (options, locale, results, cached fixes) and the actions that
talk back to the client: publishing diagnostics, asking for an inlay hint refresh,
scheduling background test runs. The per-method handlers are in `handlers.py`; the
conversions to LSP types in `convert.py`.

Only the event loop thread touches this state; runs and explanations happen on worker
threads and hand their results back to the loop (see `scheduler.py`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from tracefix.server.i18n import normalize_locale, translate
from tracefix.tracer.source_text import read_source

from . import convert, jobs
from .options import OptionProblem, ServerOptions, parse_options
from .protocol import AnsweredRequestError, TracefixProtocol
from .results import ResultStore, TestRun, test_file_of
from .scheduler import JobScheduler
from .snapshots import Snapshots
from .selection import select_test_files

log = logging.getLogger(__name__)

NAME = "tracefix"
VERSION = "0.1.0"
# Two workers: a run of one test file and a run of another (or an explanation) can
# overlap, while a burst of saves cannot start more child processes than that.
WORKERS = 2


@dataclass
class CachedFixes:
    """Verified candidates of one explanation for one file, valid for one document version."""

    version: int
    base_text: str  # the document text the candidates were computed against
    candidates: list  # engine Candidate objects, best first
    nodeid: str


class TracefixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, VERSION, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=TracefixProtocol)
        self.options = ServerOptions()
        self.locale = "en"
        self.store = ResultStore()
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tracefix-job")
        # Test selection reads files; it gets its own thread so that it never waits
        # behind a long test run, and never blocks the event loop.
        self.selector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracefix-select")
        self.scheduler = JobScheduler(self.executor)
        self.fixes: dict[str, CachedFixes] = {}  # path → fixes for its open document
        self.backends: dict[str, object] = {}  # model backends by settings (model_stream)
        # From the editor's secret storage (tracefix/setApiKey); never logged.
        self.api_key: str | None = None
        self.explanations: dict[str, object] = {}  # nodeid → engine Explanation
        self.snapshots = Snapshots()  # failure snapshots and debug sessions (debugpy)
        self.published: set[str] = set()  # paths that currently have diagnostics
        self._hint_caches: dict[str, tuple[tuple, dict]] = {}

    # -- setup -------------------------------------------------------------------------

    def configure(self, raw: object) -> None:
        """Apply options from the client, showing and logging each invalid value."""
        self.options, problems = parse_options(raw, self.options)
        log.info("options: %s", self.options)
        for problem in problems:
            self.show_problem(problem)

    def show_problem(self, problem: OptionProblem) -> None:
        expected = translate(f"lsp.options.expected.{problem.expected}", self.locale)
        message = translate("lsp.options.invalid", self.locale, option=problem.key,
                            value=repr(problem.value), expected=expected)
        log.warning("%s", message)
        self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, message))

    def report_server_error(self, error: Exception, source) -> None:
        """Show pygls's errors outside requests, except those already sent as a response."""
        if isinstance(error, AnsweredRequestError):
            return
        super().report_server_error(error, source)

    def show_message(self, kind: types.MessageType, key: str, **fields: object) -> None:
        """Show the catalog message `key` in the client's locale."""
        self.window_show_message(types.ShowMessageParams(kind, translate(key, self.locale, **fields)))

    def set_locale(self, locale: str | None) -> None:
        self.locale = normalize_locale(locale)

    # -- client capabilities -----------------------------------------------------------

    def client_supports(self, dotted: str) -> bool:
        """Tell whether the client declared the capability at `dotted` (snake_case path)."""
        value: object = self.client_capabilities
        for part in dotted.split("."):
            value = getattr(value, part, None)
            if value is None:
                return False
        return bool(value)

    # -- paths and documents -----------------------------------------------------------

    @staticmethod
    def path_of(uri: str) -> str:
        return os.path.normpath(to_fs_path(uri) or uri)

    @staticmethod
    def uri_of(path: str) -> str:
        return from_fs_path(path) or path

    def open_document(self, path: str):
        """Return the open document of `path`, or None when the client has not opened it."""
        return self.workspace.text_documents.get(self.uri_of(path))

    def document_lines(self, path: str) -> list[str]:
        """Return the lines of the open document, or of the file on disk."""
        document = self.open_document(path)
        if document is not None:
            return convert_lines(document.source)
        try:
            return convert_lines(read_source(path, errors="replace"))
        except OSError:
            return []

    def root_for(self, path: str) -> str:
        """Return the workspace folder that contains `path` (the innermost), else its folder."""
        folders = [self.path_of(folder.uri) for folder in self.workspace.folders.values()]
        if self.workspace.root_path:
            folders.append(os.path.normpath(self.workspace.root_path))
        containing = [f for f in folders if path == f or path.startswith(f.rstrip(os.sep) + os.sep)]
        return max(containing, key=len) if containing else os.path.dirname(path)

    @property
    def counter(self):
        return self.workspace.position_codec.impl

    def hint_cache(self, path: str, key: tuple) -> dict:
        """Return the inlay hint cache of `path`, emptied when `key` differs from last time.

        The key names everything a hint depends on: the trace object, the line map's
        generation, the locale and whether tooltips are inline.
        """
        cached = self._hint_caches.get(path)
        if cached is None or cached[0] != key:
            cached = self._hint_caches[path] = (key, {})
        return cached[1]

    # -- background runs ---------------------------------------------------------------

    async def schedule_file(self, path: str, reason: str, *, only_new: bool = False) -> list[asyncio.Future]:
        """Run the tests selected for `path` in the background; return one future per test file.

        With `only_new`, test files that already have results or a run under way are
        left alone (opening a file again must not rerun its tests).
        """
        root = self.root_for(path)
        loop = asyncio.get_running_loop()
        test_files = await loop.run_in_executor(self.selector, select_test_files, root, path)
        if not test_files:
            log.info("%s: no test file imports %s; nothing to run", reason, path)
        if only_new:
            test_files = [t for t in test_files
                          if t not in self.store.runs and not self.scheduler.busy(t)]
        return [self.schedule_test_file(root, test_file, reason) for test_file in test_files]

    def schedule_file_soon(self, path: str, reason: str, *, only_new: bool = False) -> None:
        """Start `schedule_file` from a notification handler, which cannot await it."""
        task = asyncio.ensure_future(self.schedule_file(path, reason, only_new=only_new))
        task.add_done_callback(_log_failure)

    def schedule_test_file(self, root: str, test_file: str, reason: str) -> asyncio.Future:
        log.info("%s: scheduling a run of %s", reason, test_file)
        options, locale = self.options, self.locale
        preferred = self.store.preferred.get(test_file)
        future = self.scheduler.submit(
            test_file, "run",
            lambda: jobs.run_test_file(root, test_file, options, preferred, locale),
            self.apply_run,
        )
        future.add_done_callback(_log_failure)
        return future

    def schedule_trace(self, root: str, test_file: str, nodeid: str) -> asyncio.Future:
        options, locale = self.options, self.locale
        previous = self.store.runs.get(test_file)
        self.store.prefer(test_file, nodeid)
        future = self.scheduler.submit(
            test_file, ("trace", nodeid),
            lambda: jobs.trace_one_test(root, test_file, nodeid, options, previous, locale),
            self.apply_run,
        )
        future.add_done_callback(_log_failure)
        return future

    def apply_run(self, run: TestRun) -> None:
        """Store a finished run and update everything the client shows from it."""
        if run.error:
            message = translate("lsp.run.failed", self.locale,
                                file=os.path.basename(run.test_file), error=run.error)
            log.error("%s", message)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
        touched = self.store.add_run(run)
        for path in touched:
            document = self.open_document(path)
            self.store.sync_line_map(path, document.source if document else None)
        failing = sum(1 for o in run.outcomes.values() if o.outcome in jobs.FAILING_OUTCOMES)
        log.info("%s: %d tests, %d failing, %d traced", run.test_file, len(run.outcomes),
                 failing, len(run.traces))
        self.publish_diagnostics(touched | set(self.published))
        if failing:
            # A failure is likely to be explained next: start loading the model now.
            from .model_stream import warm_up

            self.selector.submit(warm_up, self, self.root_for(run.test_file))
            for nodeid, index in run.traces.items():
                self.snapshots.schedule(self, run.root, nodeid, index)
        self.refresh_client_views()

    def publish_diagnostics(self, paths) -> None:
        sites = self.store.failure_sites()
        related = self.store.related_lines()
        for path in sorted(paths):
            diagnostics = convert.lsp_diagnostics(
                sites, path=path, lines=self.document_lines(path), store=self.store,
                related=related, counter=self.counter, locale=self.locale,
            )
            if diagnostics:
                self.published.add(path)
            else:
                self.published.discard(path)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=self.uri_of(path), diagnostics=diagnostics)
            )

    def refresh_client_views(self) -> None:
        """Ask the client to re-request inlay hints and code lenses, where it supports that."""
        if self.client_supports("workspace.inlay_hint.refresh_support"):
            self.workspace_inlay_hint_refresh(None)
        if self.client_supports("workspace.code_lens.refresh_support"):
            self.workspace_code_lens_refresh(None)

    def test_file_for(self, path: str, nodeid: str) -> str:
        return test_file_of(self.root_for(path), nodeid)

    def shutdown_workers(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.selector.shutdown(wait=False, cancel_futures=True)
        self.snapshots.shutdown()


def convert_lines(text: str) -> list[str]:
    from .positions import split_lines

    return split_lines(text)


def _log_failure(future: asyncio.Future) -> None:
    """Retrieve a background job's error so it is logged once, not reported as unhandled."""
    if not future.cancelled() and future.exception() is not None:
        log.debug("background job ended with %r", future.exception())


def create_server() -> TracefixServer:
    from . import handlers

    server = TracefixServer()
    handlers.register(server)
    return server


def main() -> None:
    """Start the language server on stdin/stdout; logs go to stderr and the LSP log."""
    from .logging_setup import configure_logging

    server = create_server()
    configure_logging(server)
    log.info("tracefix language server %s starting on stdio (Python %s)", VERSION,
             sys.version.split()[0])
    server.start_io()
