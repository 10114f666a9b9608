"""A local OpenAI-compatible HTTP server for the tests of the remote model backend.

It replaces a remote vLLM (or llama.cpp, Ollama, TGI) server, which cannot run
on these test machines: no GPU, and no network to fetch a model. It speaks the subset
tracefix uses: `GET /v1/models`, and `POST /v1/chat/completions` streamed as
server-sent events over chunked transfer encoding (as vLLM's uvicorn does) or answered
with one JSON body.

Tests script one `Reply` per request and inject faults through it: error statuses,
429 with Retry-After, a stall mid-stream, a hang before the headers, a dropped
connection, an error event. The server records every request, and notes when a client
closed its connection while the server was stalling.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


@dataclass
class Reply:
    """One scripted response. The defaults give a normal three-piece stream."""

    content: list[str] = field(default_factory=lambda: ["Hello", ", ", "world"])
    reasoning: list[str] = field(default_factory=list)  # sent as delta.reasoning_content first
    finish_reason: str = "stop"
    status: int = 200
    body: object = None  # JSON body of a non-200 reply (or of a models reply)
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool | None = None  # None: stream if the request sets "stream", False: one JSON body
    chunk_delay: float = 0.0  # seconds between content chunks
    hang_before_headers: float = 0.0  # seconds to wait before any byte (ends early if the client closes)
    stall_after: int | None = None  # content chunks sent before stalling
    stall_seconds: float = 30.0
    drop_after: int | None = None  # content chunks sent before closing the connection mid-stream
    error_event_after: int | None = None  # content chunks sent before a `data: {"error": …}` event
    split_events: bool = True  # write each event in two pieces, so that it spans reads
    keepalive_comments: bool = True  # ": keep-alive" comment lines between events
    line_break: str = "\n"
    send_done: bool = True  # end with `data: [DONE]`
    completion_tokens: int | None = None  # sent as usage in the last chunk


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, object] | None


class FakeOpenAIServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) that runs on a background thread.

    Use as a context manager. `script(path, *replies)` queues replies for the next
    requests to `path`; an unscripted chat request gets `reply_for(body)`, an unscripted
    models request lists `models`.
    """

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key  # when set, every request needs "Authorization: Bearer <key>"
        self.models: list[dict[str, object]] = [{"id": "test-model", "object": "model", "max_model_len": 4096}]
        self.reply_for: Callable[[dict[str, object]], Reply] = lambda body: Reply()
        self.requests: list[RecordedRequest] = []
        self.client_closed: list[int] = []  # indexes into `requests`, closed by the client during a wait
        self.max_concurrent_chats = 0
        self._active_chats = 0
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        # A short poll interval makes shutdown() return quickly at the end of each test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()  # ends stalls and hangs
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path].extend(replies)

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == CHAT_PATH]

    def wait_for_client_close(self, count: int = 1, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.client_closed) >= count:
                return True
            time.sleep(0.02)
        return False

    # called by the handler threads

    def record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) - 1

    def next_reply(self, path: str, body: dict[str, object] | None) -> Reply | None:
        with self._lock:
            queue = self._scripts[path]
            if queue:
                return queue.popleft()
        return self.reply_for(body or {}) if path == CHAT_PATH else None

    def chat_started(self) -> None:
        with self._lock:
            self._active_chats += 1
            self.max_concurrent_chats = max(self.max_concurrent_chats, self._active_chats)

    def chat_finished(self) -> None:
        with self._lock:
            self._active_chats -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer encoding needs 1.1

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        index = self._record(None)
        if not self._authorized():
            return
        if self.path != MODELS_PATH:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        reply = self.fake.next_reply(self.path, None)
        if reply is not None and self._waited_out(reply, index):
            return
        if reply is not None and reply.status != 200:
            self._send_json(reply.status, reply.body or {"error": {"message": "scripted failure"}}, reply.headers)
            return
        body = reply.body if reply is not None and reply.body is not None else {"object": "list", "data": self.fake.models}
        self._send_json(200, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        index = self._record(body)
        if not self._authorized():
            return
        if self.path != CHAT_PATH:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        reply = self.fake.next_reply(self.path, body)
        assert reply is not None
        self.fake.chat_started()
        try:
            self._answer_chat(reply, body, index)
        finally:
            self.fake.chat_finished()

    def _record(self, body: dict[str, object] | None) -> int:
        headers = {name.lower(): value for name, value in self.headers.items()}
        return self.fake.record(RecordedRequest(self.command, self.path, headers, body))

    def _authorized(self) -> bool:
        if self.fake.api_key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {self.fake.api_key}":
            return True
        self._send_json(401, {"error": {"message": "Invalid API key", "type": "authentication_error"}})
        return False

    def _answer_chat(self, reply: Reply, body: dict[str, object], index: int) -> None:
        if self._waited_out(reply, index):
            return
        if reply.status != 200:
            self._send_json(reply.status, reply.body or {"error": {"message": "scripted failure"}}, reply.headers)
            return
        stream = bool(body.get("stream")) if reply.stream is None else reply.stream
        if not stream:
            self._send_json(200, _whole_completion(reply, body))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self._stream(reply, body, index)

    def _stream(self, reply: Reply, body: dict[str, object], index: int) -> None:
        model = str(body.get("model", ""))
        self._send_event(reply, _chunk(model, {"role": "assistant", "content": ""}))
        for piece in reply.reasoning:
            self._send_event(reply, _chunk(model, {"reasoning_content": piece}))
        for count, piece in enumerate(reply.content):
            if count == reply.drop_after:
                self.close_connection = True  # no terminating chunk: the client sees a broken body
                return
            if count == reply.stall_after:
                self._wait_unless_closed(reply.stall_seconds, index)
                self.close_connection = True
                return
            if count == reply.error_event_after:
                self._send_event(reply, json.dumps({"error": {"message": "CUDA out of memory", "code": 500}}))
                self._end_stream()
                return
            if reply.keepalive_comments:
                self._write_chunk(f": keep-alive{reply.line_break}{reply.line_break}".encode())
            self._send_event(reply, _chunk(model, {"content": piece}))
            if reply.chunk_delay:
                time.sleep(reply.chunk_delay)
        if reply.drop_after == len(reply.content):
            self.close_connection = True
            return
        final = json.loads(_chunk(model, {}, reply.finish_reason))
        if reply.completion_tokens is not None:
            final["usage"] = {"prompt_tokens": 10, "completion_tokens": reply.completion_tokens}
        self._send_event(reply, json.dumps(final))
        if reply.send_done:
            self._send_event(reply, "[DONE]")
        self._end_stream()

    def _send_event(self, reply: Reply, data: str) -> None:
        event = f"data: {data}{reply.line_break}{reply.line_break}".encode()
        if reply.split_events and len(event) > 4:
            middle = len(event) // 2
            self._write_chunk(event[:middle])
            time.sleep(0.002)  # lets the first piece reach the client on its own
            self._write_chunk(event[middle:])
        else:
            self._write_chunk(event)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _waited_out(self, reply: Reply, index: int) -> bool:
        """Hang before the headers if scripted; return True if the connection is then done."""
        if not reply.hang_before_headers:
            return False
        self._wait_unless_closed(reply.hang_before_headers, index)
        self.close_connection = True
        return True

    def _wait_unless_closed(self, seconds: float, index: int) -> None:
        """Send nothing for `seconds`; stop early, and record it, if the client closes the connection."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.fake.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.02)
            if not readable:
                continue
            try:
                peeked = self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                peeked = b""  # reset by the client
            if not peeked:
                self.fake.client_closed.append(index)
                return


def _chunk(model: str, delta: dict[str, object], finish_reason: str | None = None) -> str:
    return json.dumps({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    })


def _whole_completion(reply: Reply, body: dict[str, object]) -> dict[str, object]:
    message: dict[str, object] = {"role": "assistant", "content": "".join(reply.content)}
    if reply.reasoning:
        message["reasoning_content"] = "".join(reply.reasoning)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": reply.completion_tokens or 0},
    }
