"""Logging for the language server: stderr plus the client's log channel (`window/logMessage`).

stdout carries the LSP messages, so nothing may print there. Records of the `tracefix`
loggers at INFO and above also go to the client, where editors show them in the
server's output channel. pygls's own records stay on stderr only: forwarding them would
log every message sent, including the log messages themselves.

`TRACEFIX_LOG_LEVEL` (DEBUG, INFO, WARNING, ...) sets the stderr level; default INFO.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from lsprotocol import types

_LEVELS = [
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
    (logging.NOTSET, types.MessageType.Log),
]


class ClientLogHandler(logging.Handler):
    """Send log records to the client as `window/logMessage` notifications."""

    def __init__(self, server, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._server.protocol, "writer", None) is None:
            return  # not connected yet, or already closed
        message_type = next(kind for level, kind in _LEVELS if record.levelno >= level)
        params = types.LogMessageParams(type=message_type, message=self.format(record))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._server.window_log_message(params)
        elif self._loop is not None and not self._loop.is_closed():
            # Worker threads must not write to stdout themselves: two writers could
            # interleave the bytes of two messages.
            self._loop.call_soon_threadsafe(self._server.window_log_message, params)


def configure_logging(server) -> None:
    level = getattr(logging, os.environ.get("TRACEFIX_LOG_LEVEL", "INFO").upper(), logging.INFO)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stderr.setLevel(level)
    root = logging.getLogger()
    root.addHandler(stderr)
    root.setLevel(min(level, logging.INFO))
    logging.getLogger("pygls").setLevel(max(level, logging.WARNING))

    client = ClientLogHandler(server)
    client.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
    logging.getLogger("tracefix").addHandler(client)
