"""A small Debug Adapter Protocol client over TCP, for talking to debugpy.

DAP messages are JSON bodies behind a `Content-Length` header, like LSP. Requests get a
response with the same `request_seq`; events arrive at any time. A reader thread files
each response under its request and queues each event, so callers can wait for either
with a timeout. Nothing here is specific to debugpy beyond the defaults.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from typing import Any, Callable

log = logging.getLogger(__name__)


class DapError(RuntimeError):
    """Raised when the debug adapter rejects a request or the connection fails."""


class DapTimeout(DapError):
    """Raised when a response or an event does not arrive in time."""


class DapClient:
    """One connection to a debug adapter or to a debuggee that listens for one."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._send_lock = threading.Lock()
        self._seq = 0
        self._responses: dict[int, dict[str, Any]] = {}
        self._waiting = threading.Condition()
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name="tracefix-dap-reader", daemon=True)
        self._reader.start()

    @classmethod
    def connect(cls, host: str, port: int, *, timeout: float) -> "DapClient":
        """Connect to `host:port`, retrying until `timeout` seconds pass.

        debugpy opens its port a second or so after the process starts, so refused
        connections are retried.
        """
        deadline = time.monotonic() + timeout
        last: OSError | None = None
        while time.monotonic() < deadline:
            try:
                sock = socket.create_connection((host, port), timeout=min(2.0, timeout))
            except OSError as exc:
                last = exc
                time.sleep(0.1)
                continue
            sock.settimeout(None)
            return cls(sock)
        raise DapTimeout(f"could not connect to the debugger at {host}:{port} within {timeout:.0f} s: {last}")

    # -- sending ----------------------------------------------------------------------

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> int:
        """Send a request without waiting; return its sequence number."""
        with self._send_lock:
            self._seq += 1
            seq = self._seq
            message = {"seq": seq, "type": "request", "command": command}
            if arguments is not None:
                message["arguments"] = arguments
            body = json.dumps(message).encode("utf-8")
            try:
                self._sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            except OSError as exc:
                raise DapError(f"sending {command} to the debugger failed: {exc}") from exc
        return seq

    def response(self, seq: int, command: str, *, timeout: float) -> dict[str, Any]:
        """Wait for the response to request `seq` and return its body."""
        deadline = time.monotonic() + timeout
        with self._waiting:
            while seq not in self._responses:
                left = deadline - time.monotonic()
                if self._closed:
                    raise DapError(f"the debugger closed the connection before responding to {command}")
                if left <= 0:
                    raise DapTimeout(f"the debugger did not respond to {command} within {timeout:g} s")
                self._waiting.wait(left)
            message = self._responses.pop(seq)
        if not message.get("success", False):
            raise DapError(f"the debugger rejected {command}: {message.get('message') or message.get('body')}")
        return message.get("body") or {}

    def request(self, command: str, arguments: dict[str, Any] | None = None, *,
                timeout: float) -> dict[str, Any]:
        """Send a request and wait for its response body."""
        return self.response(self.send(command, arguments), command, timeout=timeout)

    # -- events -----------------------------------------------------------------------

    def event(self, name: str, *, timeout: float,
              accept: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """Wait for the next event called `name` (that `accept` takes); others are dropped."""
        return self.first_event((name,), timeout=timeout, accept=accept)[1]

    def first_event(self, names: tuple[str, ...], *, timeout: float,
                    accept: Callable[[dict[str, Any]], bool] | None = None) -> tuple[str, dict[str, Any]]:
        """Wait for the next event named in `names` (that `accept` takes); return (name, body)."""
        wanted = " or ".join(names)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DapTimeout(f"no {wanted} event from the debugger within {timeout:g} s")
            try:
                message = self._events.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self._closed and self._events.empty():
                    raise DapError(f"the debugger closed the connection before a {wanted} event")
                continue
            name = message.get("event")
            if name in names and (accept is None or accept(message)):
                return name, message.get("body") or {}

    # -- reading ----------------------------------------------------------------------

    def _read_loop(self) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                header, buffer = buffer.split(b"\r\n\r\n", 1)
                length = None
                for line in header.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    log.warning("DAP message without Content-Length: %r", header[:200])
                    return
                while len(buffer) < length:
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                self._dispatch(json.loads(body.decode("utf-8")))
        except (OSError, ValueError) as exc:
            if not self._closed:
                log.debug("DAP connection ended: %s", exc)
        finally:
            with self._waiting:
                self._closed = True
                self._waiting.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "response":
            with self._waiting:
                self._responses[message.get("request_seq", -1)] = message
                self._waiting.notify_all()
        elif kind == "event":
            self._events.put(message)
        # Reverse requests (runInTerminal, startDebugging) are not used with attach.

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._reader.join(timeout=2)
