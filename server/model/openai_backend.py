"""The backend for any OpenAI-compatible chat completions API (vLLM, llama.cpp server, Ollama, TGI).

It uses the standard library only (`http.client`), so the server installs without an
HTTP client package.

Endpoint rule: `settings.endpoint` is the API base URL, the value the OpenAI client
takes as `base_url`. A trailing slash is ignored and nothing else is added: requests go
to `{endpoint}/models` and `{endpoint}/chat/completions`, so for the servers above the
endpoint usually ends in `/v1` (for example `http://127.0.0.1:8000/v1`).

Each of the n samples is its own streamed request, because many servers ignore `n`.
At most `MAX_CONCURRENT_SAMPLES` requests run at once. A sample is retried after a
connection error, HTTP 429 or 5xx only while none of its text has reached `on_delta`,
so the caller never sees text twice. A timeout is not retried, because a stuck server
would then cost (retries + 1) × timeout.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import logging
import math
import os
import random
import re
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, TypeVar
from urllib.parse import urlsplit

from ..i18n import translate
from .backend import (
    BackendSettings,
    Cancel,
    Completion,
    DeltaCallback,
    GenerationRequest,
    ModelError,
    ProgressCallback,
    never,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CONCURRENT_SAMPLES = 4
DEFAULT_CONTEXT_WINDOW = 8192  # used when neither the settings nor the server give one

_BACKOFF_BASE_S = 0.5  # delay before the first retry, doubled for each further retry (plus jitter)
_BACKOFF_MAX_S = 8.0
_RETRY_AFTER_MAX_S = 30.0  # a longer Retry-After from the server is cut to this
_CANCEL_POLL_S = 0.05
_READ_SIZE = 64 * 1024
_MAX_ERROR_BODY_BYTES = 64 * 1024  # of an error response, read only for its message
_MAX_MODELS_BODY_BYTES = 4 * 1024 * 1024
_MAX_EVENT_BYTES = 8 * 1024 * 1024  # one server-sent event line; more means a broken stream
_MAX_DETAIL_CHARS = 300  # of server-provided text put into an error message

# count_tokens: ASCII text averages 3-4 characters per token with the BPE tokenizers of
# current code models, so 3 over-counts (the safe side when fitting a context window).
# Other characters (CJK, accented) often take a token each or more, so each counts as one.
_ASCII_CHARS_PER_TOKEN = 3
_TOKENS_PER_MESSAGE = 4  # role and chat-template markers around each message
_TOKENS_PER_REPLY = 3  # markers that open the assistant's reply

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


# --- endpoint ------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A validated API base URL, split for `http.client`."""

    url: str  # without a trailing slash, e.g. http://127.0.0.1:8000/v1
    scheme: str  # "http" or "https"
    host: str  # host name or IP address, without IPv6 brackets
    port: int
    path: str  # base path without a trailing slash, "" for the root

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_endpoint(value: str) -> Endpoint:
    """Validate an endpoint setting; raise ModelError naming the value if it is not usable.

    The URL must be http:// or https://, name a host, and have no query, fragment or
    user:password part (the key belongs in the environment, not in a URL that gets logged).
    """
    text = value.strip()
    if not text:
        raise ModelError("model.openai.endpoint_missing")
    redacted = _USERINFO.sub(r"\1***@", text)  # never echo a password written into the URL
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise ModelError("model.openai.bad_url", url=redacted) from None
    if parts.username is not None or parts.password is not None:
        raise ModelError("model.openai.url_credentials", url=redacted)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ModelError("model.openai.bad_url", url=redacted)
    path = parts.path.rstrip("/")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    url = f"{parts.scheme}://{parts.netloc}{path}"
    return Endpoint(url=url, scheme=parts.scheme, host=parts.hostname, port=port, path=path)


# --- server-sent events --------------------------------------------------------------


class SSEParser:
    """Incremental parser of a `text/event-stream` body.

    `feed(bytes)` returns the data of every event completed so far; an event, or a line,
    may arrive split across any number of reads. Comment lines (keep-alives) are skipped.
    Only `data` fields matter to OpenAI-compatible streams; `event`, `id` and `retry` are
    ignored.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._started = False

    def feed(self, chunk: bytes) -> list[str]:
        if not self._started and chunk:
            self._started = True
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # the format allows a leading BOM
        self._buffer += chunk
        events: list[str] = []
        buffer = self._buffer
        start = 0
        while True:
            end = _first_line_break(buffer, start)
            if end < 0:
                break
            if buffer[end] == 0x0D:  # "\r", alone or in "\r\n"
                if end + 1 == len(buffer):
                    break  # its "\n" may be in the next read
                next_start = end + 2 if buffer[end + 1] == 0x0A else end + 1
            else:
                next_start = end + 1
            self._take_line(buffer[start:end], events)
            start = next_start
        self._buffer = buffer[start:]
        if len(self._buffer) > _MAX_EVENT_BYTES:
            raise ValueError(f"a server-sent event line is longer than {_MAX_EVENT_BYTES} bytes")
        return events

    def close(self) -> list[str]:
        """Return the events still pending at the end of the body (some servers omit the last blank line)."""
        events: list[str] = []
        if self._buffer:
            self._take_line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
        self._take_line(b"", events)
        return events

    def _take_line(self, raw: bytes, events: list[str]) -> None:
        # Line breaks never occur inside a UTF-8 sequence, so a whole line decodes cleanly.
        line = raw.decode("utf-8", "replace")
        if not line:
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)


def _first_line_break(buffer: bytes, start: int) -> int:
    positions = [p for p in (buffer.find(b"\r", start), buffer.find(b"\n", start)) if p >= 0]
    return min(positions) if positions else -1


# --- one sample's text ---------------------------------------------------------------


class _SampleText:
    """The text of one sample as it streams in, passed on to `on_delta` piece by piece.

    Reasoning that a server sends apart from the answer (`delta.reasoning_content`, or
    `delta.reasoning` in Ollama and newer vLLM) is put into the text inside
    `<think>…</think>`, the form reasoning models write inline.
    """

    def __init__(self, index: int, emit: DeltaCallback) -> None:
        self.index = index
        self._emit = emit
        self._pieces: list[str] = []
        self._in_think = False
        self.finish_reason: str | None = None
        self.tokens = 0

    @property
    def has_text(self) -> bool:
        return bool(self._pieces)

    @property
    def chars(self) -> int:
        return sum(len(piece) for piece in self._pieces)

    def add(self, content: str, reasoning: str) -> None:
        piece = ""
        if reasoning:
            if not self._in_think:
                piece += "<think>"
                self._in_think = True
            piece += reasoning
        if content:
            if self._in_think:
                piece += "</think>"
                self._in_think = False
            piece += content
        self._append(piece)

    def completion(self, finish_reason: str, error: str = "") -> Completion:
        if self._in_think:
            self._in_think = False
            self._append("</think>")
        return Completion("".join(self._pieces), finish_reason, error=error, tokens=self.tokens)

    def _append(self, piece: str) -> None:
        if piece:
            self._pieces.append(piece)
            self._emit(self.index, piece)

    def read_chunk(self, chunk: object, url: str) -> None:
        """Add one parsed chat.completion.chunk (or a whole chat.completion) to the text."""
        if not isinstance(chunk, dict):
            raise ModelError("model.openai.bad_response", url=url, detail=_shorten(json.dumps(chunk)))
        if "error" in chunk:
            raise ModelError("model.openai.stream_error", url=url, detail=_error_detail(chunk))
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.tokens = usage["completion_tokens"]
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            # A stream carries "delta"; a non-streamed reply carries the whole "message".
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                self.add(_as_text(delta.get("content")), _as_text(reasoning))
            reason = choice.get("finish_reason")
            if reason:
                # Servers also send "eos" or "content_filter", but only "length" means truncated.
                self.finish_reason = "length" if reason == "length" else "stop"


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


# --- cancellation --------------------------------------------------------------------


class _Cancelled(Exception):
    """Raised inside a request when `cancel()` turned true; never leaves this module."""


class _CancelWatcher:
    """Polls `cancel()` on a thread; once it is true, sets `stopped` and shuts down open sockets.

    A thread blocked in `recv` does not wake up when another thread closes its socket,
    but it does when the socket is shut down, so a sample stops at once however long the
    server stays silent.
    """

    def __init__(self, cancel: Cancel) -> None:
        self._cancel = cancel
        self.stopped = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[http.client.HTTPConnection] = set()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _CancelWatcher:
        if self._cancel is never:
            return self
        if self._cancel():
            self.stopped.set()
            return self
        self._thread = threading.Thread(target=self._watch, name="tracefix-openai-cancel", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished.set()
        if self._thread is not None:
            self._thread.join()

    def track(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _watch(self) -> None:
        while not self._finished.wait(_CANCEL_POLL_S):
            try:
                cancelled = self._cancel()
            except Exception:  # a broken callback must not leave requests unstoppable forever
                log.exception("the cancel callback failed; requests now run to their end")
                return
            if cancelled:
                self.stop()
                return

    def stop(self) -> None:
        """Set `stopped` and shut down the sockets of the requests in flight."""
        self.stopped.set()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _shut_down(connection)


def _shut_down(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        # NOTE: a connection still in connect() has no socket yet. It stops when connect()
        # returns, because the sample checks `stopped` right after, or at the connect timeout.
        return
    try:
        # The plain socket method, so that an SSL socket's TLS state is left to its owner thread.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the server or by the sample itself


# --- errors and retries --------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt: connection error, HTTP 429 or 5xx, before any text."""

    def __init__(self, error: ModelError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _StreamEnded(Exception):
    """The server closed the stream before a finish_reason or `data: [DONE]`."""


def parse_retry_after(value: str | None) -> float | None:
    """Return the delay in seconds that a Retry-After header requests (seconds or HTTP date), at most 30."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), _RETRY_AFTER_MAX_S)


def _backoff_delay(retry_number: int) -> float:
    # Jitter spreads the retries of concurrent samples that failed together.
    delay = min(_BACKOFF_MAX_S, _BACKOFF_BASE_S * 2 ** (retry_number - 1))
    return delay * random.uniform(1.0, 1.25)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[: _MAX_DETAIL_CHARS - 1] + "…"
    return text


def _error_detail(body: object) -> str:
    """Return the message of an error body: OpenAI's error.message, FastAPI's detail, or the text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return _shorten(error["message"])
        for key in ("error", "detail", "message"):
            if isinstance(body.get(key), str):
                return _shorten(body[key])
    return _shorten(json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed in the middle of the response"  # its str() is only a byte count
    return str(exc) or type(exc).__name__


class _Secret:
    """An API key that stays out of reprs, tracebacks with locals, and logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


def _resolve_api_key(api_key: str | None, env_name: str) -> _Secret | None:
    value = api_key if api_key else (os.environ.get(env_name, "") if env_name else "")
    value = value.strip()
    if not value:
        return None
    # http.client puts a rejected header value, the key included, into its exception text,
    # so a key that is not plain printable ASCII is rejected here first.
    if not all(33 <= ord(ch) <= 126 for ch in value):
        raise ModelError("model.openai.bad_key", env=env_name or "-")
    return _Secret(value)


# --- the backend ---------------------------------------------------------------------


class OpenAIBackend:
    """A `ModelBackend` that streams chat completions from an OpenAI-compatible server.

    The API key comes from `api_key` (the editor's secret storage) or else from the
    environment variable `settings.api_key_env`. It is sent only in the `Authorization:
    Bearer` header and is kept out of logs, errors and reprs. `locale` is the language of
    the error text put into failed Completions.
    """

    def __init__(self, settings: BackendSettings, *, api_key: str | None = None, locale: str = "en") -> None:
        self._settings = settings
        self._locale = locale
        self._endpoint = parse_endpoint(settings.endpoint)
        self._api_key = _resolve_api_key(api_key, settings.api_key_env)
        self._model = settings.model.strip()
        self._server_context_window: int | None = None
        self._loaded = False
        self._load_lock = threading.Lock()
        self.name = self._model or f"{self._endpoint.host}:{self._endpoint.port}"
        if self._api_key is not None and self._endpoint.scheme == "http" and not self._endpoint.is_loopback:
            log.warning(
                "the API key will be sent unencrypted over plain http to %s; use an https:// endpoint",
                self._endpoint.host,
            )

    def __repr__(self) -> str:
        key_state = "set" if self._api_key is not None else "unset"
        return f"OpenAIBackend(endpoint={self._endpoint.url!r}, model={self.name!r}, api_key={key_state})"

    @property
    def context_window(self) -> int:
        """The settings' value if positive, else the server's `max_model_len` (known after load), else 8192."""
        if self._settings.context_window > 0:
            return self._settings.context_window
        return self._server_context_window or DEFAULT_CONTEXT_WINDOW

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Estimate the prompt's tokens without a tokenizer (a remote server has the only one).

        The estimate is ceil(ASCII characters / 3) plus one per other character, plus 4 per
        message and 3 for the reply's opening. It over-counts English and code.
        """
        total = _TOKENS_PER_REPLY
        for message in messages:
            content = message.get("content") or ""
            if not isinstance(content, str):
                content = json.dumps(content, ensure_ascii=False)
            ascii_chars = len(content.encode("ascii", "ignore"))
            total += _TOKENS_PER_MESSAGE + math.ceil(ascii_chars / _ASCII_CHARS_PER_TOKEN)
            total += len(content) - ascii_chars
        return total

    # --- load ---

    def load(self, progress: ProgressCallback | None = None, cancel: Cancel = never) -> None:
        """Check that the server responds and serves the model, by one GET of `{endpoint}/models`.

        If `settings.model` is empty, the first listed model is used. Idempotent.
        """
        with _CancelWatcher(cancel) as watcher:
            try:
                self._load(watcher, progress)
            except _Cancelled:
                raise ModelError("model.openai.cancelled", url=self._endpoint.url) from None

    def _load(self, watcher: _CancelWatcher, progress: ProgressCallback | None = None) -> None:
        with self._load_lock:
            if self._loaded:
                return
            if progress is not None:
                progress(translate("model.openai.progress_connecting", self._locale, url=self._endpoint.url), None)
            models = self._with_retries("listing models", lambda: self._fetch_models(watcher), watcher)
            entry = self._choose_model(models)
            self._model = entry["id"]
            self.name = self._model
            max_model_len = entry.get("max_model_len")
            if isinstance(max_model_len, int) and max_model_len > 0:
                self._server_context_window = max_model_len
            self._loaded = True
        log.info(
            "using model %s at %s (context window %d tokens)", self._model, self._endpoint.url, self.context_window
        )

    def _fetch_models(self, watcher: _CancelWatcher) -> list[dict[str, object]]:
        url = self._endpoint.url + "/models"
        connection = self._connection()
        watcher.track(connection)
        try:
            response = self._send(connection, "GET", "/models", None, watcher)
            if response.status == 404 and not self._endpoint.path.endswith("/v1"):
                raise ModelError("model.openai.models_not_found", url=url, suggestion=self._endpoint.url + "/v1")
            self._check_status(response, url)
            try:
                raw = response.read(_MAX_MODELS_BODY_BYTES)
            except TimeoutError:
                raise ModelError("model.openai.timeout", url=url, seconds=self._settings.timeout) from None
            except (OSError, http.client.HTTPException) as exc:
                if watcher.stopped.is_set():
                    raise _Cancelled from None
                raise _Retryable(ModelError("model.openai.unreachable", url=url, reason=_describe(exc))) from None
            if watcher.stopped.is_set():
                raise _Cancelled
        finally:
            watcher.untrack(connection)
            connection.close()
        body = _parse_json(raw, url)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ModelError("model.openai.bad_response", url=url, detail=_shorten(json.dumps(body)))
        return [entry for entry in data if isinstance(entry, dict) and isinstance(entry.get("id"), str)]

    def _choose_model(self, models: list[dict[str, object]]) -> dict[str, object]:
        url = self._endpoint.url + "/models"
        if not models:
            raise ModelError("model.openai.no_models", url=url)
        if not self._model:
            return models[0]
        for entry in models:
            if entry["id"] == self._model:
                return entry
        available = ", ".join(str(entry["id"]) for entry in models)
        raise ModelError("model.openai.model_not_found", url=url, model=self._model, available=available)

    # --- generate ---

    def generate(
        self,
        request: GenerationRequest,
        *,
        on_delta: DeltaCallback | None = None,
        cancel: Cancel = never,
    ) -> list[Completion]:
        """Return `request.n` completions, one streamed request each, at most 4 at once.

        `on_delta` is called from worker threads, but never from two at the same time, and
        each sample's pieces arrive in order. With a seed, sample i requests seed + i.
        """
        if request.n < 1:
            return []
        emit = _serialized(on_delta)
        with _CancelWatcher(cancel) as watcher:
            try:
                self._load(watcher)
            except _Cancelled:
                return [Completion("", "cancelled") for _ in range(request.n)]
            fatal: list[ModelError] = []  # a rejected API key stops the samples not yet started
            workers = min(MAX_CONCURRENT_SAMPLES, request.n)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tracefix-openai") as pool:
                futures = [
                    pool.submit(self._sample_outcome, index, request, watcher, emit, fatal)
                    for index in range(request.n)
                ]
                try:
                    outcomes = [future.result() for future in futures]
                except BaseException:
                    # An exception from on_delta (or KeyboardInterrupt) ends the other samples
                    # too, so that the pool's shutdown does not wait for whole generations.
                    watcher.stop()
                    raise
        if all(isinstance(outcome, ModelError) for outcome in outcomes):
            raise outcomes[0]
        completions = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, ModelError):
                log.warning("sample %d of %d failed: %s", index, request.n, outcome)
                outcome = Completion("", "error", error=outcome.render(self._locale))
            completions.append(outcome)
        return completions

    def _sample_outcome(
        self,
        index: int,
        request: GenerationRequest,
        watcher: _CancelWatcher,
        emit: DeltaCallback,
        fatal: list[ModelError],
    ) -> Completion | ModelError:
        if fatal:
            return fatal[0]
        text = _SampleText(index, emit)
        body = self._chat_body(request, index)
        try:
            return self._with_retries(f"sample {index}", lambda: self._stream_once(body, text, watcher), watcher)
        except _Cancelled:
            return text.completion("cancelled")
        except ModelError as error:
            if error.key in ("model.openai.unauthorized", "model.openai.unauthorized_no_key"):
                fatal.append(error)
            return error

    def _chat_body(self, request: GenerationRequest, index: int) -> bytes:
        body: dict[str, object] = {
            "model": self._model,
            "messages": request.messages,
            "stream": True,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_new_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.seed + index
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _stream_once(self, body: bytes, text: _SampleText, watcher: _CancelWatcher) -> Completion:
        """Make one attempt at a sample; raise _Retryable only while no text has been emitted."""
        url = self._endpoint.url + "/chat/completions"
        connection = self._connection()
        watcher.track(connection)
        try:
            log.debug("sample %d: POST %s", text.index, url)
            response = self._send(connection, "POST", "/chat/completions", body, watcher)
            self._check_status(response, url)
            try:
                self._read_reply(response, text, watcher, url)
                return text.completion(text.finish_reason or "stop")
            except _Cancelled:
                raise
            except TimeoutError:
                error = ModelError("model.openai.timeout", url=url, seconds=self._settings.timeout)
                retryable = False  # a stuck server would cost (retries + 1) × timeout
            except (OSError, http.client.HTTPException) as exc:
                error = ModelError("model.openai.stream_broken", url=url, reason=_describe(exc))
                retryable = True
            except _StreamEnded:
                error = ModelError("model.openai.stream_ended", url=url)
                retryable = True
            except ModelError as exc:
                error = exc
                retryable = False
            if watcher.stopped.is_set():
                raise _Cancelled
            if text.finish_reason is not None:
                # The model had finished; only the closing `data: [DONE]` went missing.
                log.debug("sample %d: stream ended without [DONE] after finish_reason: %s", text.index, error)
                return text.completion(text.finish_reason)
            if text.has_text:
                log.warning("sample %d ended early after %d characters: %s", text.index, text.chars, error)
                return text.completion("error", error=error.render(self._locale))
            if retryable:
                raise _Retryable(error)
            raise error
        finally:
            watcher.untrack(connection)
            connection.close()

    def _read_reply(
        self, response: http.client.HTTPResponse, text: _SampleText, watcher: _CancelWatcher, url: str
    ) -> None:
        content_type = (response.getheader("Content-Type") or "").lower()
        if content_type.startswith("application/json"):
            # A server that ignores `stream: true` responds with one chat.completion.
            raw = response.read()
            if watcher.stopped.is_set():
                raise _Cancelled
            reply = _parse_json(raw, url)
            text.read_chunk(reply, url)
            text.finish_reason = text.finish_reason or "stop"
            return
        parser = SSEParser()
        while True:
            if watcher.stopped.is_set():
                raise _Cancelled
            data = response.read1(_READ_SIZE)
            if not data:
                if watcher.stopped.is_set():
                    raise _Cancelled
                if self._take_events(parser.close(), text, url):
                    return
                raise _StreamEnded
            try:
                events = parser.feed(data)
            except ValueError as exc:
                raise ModelError("model.openai.bad_response", url=url, detail=str(exc)) from None
            if self._take_events(events, text, url):
                return

    @staticmethod
    def _take_events(events: list[str], text: _SampleText, url: str) -> bool:
        """Add the events' text; return True at `data: [DONE]`."""
        for payload in events:
            if payload.strip() == "[DONE]":
                return True
            try:
                chunk = json.loads(payload)
            except ValueError:
                raise ModelError("model.openai.bad_response", url=url, detail=_shorten(payload)) from None
            text.read_chunk(chunk, url)
        return False

    # --- HTTP ---

    def _connection(self) -> http.client.HTTPConnection:
        # One connection per request: each sample's socket must be shut down on its own
        # when cancelled, and requests are few and long, so keep-alive would save little.
        timeout = self._settings.timeout
        if self._endpoint.scheme == "https":
            return http.client.HTTPSConnection(
                self._endpoint.host, self._endpoint.port, timeout=timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._endpoint.host, self._endpoint.port, timeout=timeout)

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream, application/json", "User-Agent": "tracefix"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._api_key is not None:
            headers["Authorization"] = "Bearer " + self._api_key.reveal()
        return headers

    def _send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        suffix: str,
        body: bytes | None,
        watcher: _CancelWatcher,
    ) -> http.client.HTTPResponse:
        """Connect, send one request and read the response headers."""
        url = self._endpoint.url + suffix
        try:
            connection.connect()
            # Checked after connect(), so either `stopped` is visible now, or the watcher
            # set it later and then found this socket to shut down.
            if watcher.stopped.is_set():
                raise _Cancelled
            connection.request(method, self._endpoint.path + suffix, body=body, headers=self._headers(body is not None))
            return connection.getresponse()
        except TimeoutError:
            if watcher.stopped.is_set():
                raise _Cancelled from None
            raise ModelError("model.openai.timeout", url=url, seconds=self._settings.timeout) from None
        except ssl.SSLError as exc:
            # A certificate or TLS version problem does not go away by retrying.
            raise ModelError("model.openai.unreachable", url=url, reason=_describe(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            if watcher.stopped.is_set():
                raise _Cancelled from None
            raise _Retryable(ModelError("model.openai.unreachable", url=url, reason=_describe(exc))) from None

    def _check_status(self, response: http.client.HTTPResponse, url: str) -> None:
        """Raise ModelError (or _Retryable for 429 and 5xx) unless the status is 2xx."""
        status = response.status
        if 200 <= status < 300:
            return
        detail = self._read_error_detail(response)
        if status in (401, 403):
            key = "model.openai.unauthorized" if self._api_key is not None else "model.openai.unauthorized_no_key"
            raise ModelError(key, url=url, status=status, env=self._settings.api_key_env or "-", detail=detail)
        error = ModelError("model.openai.http_error", url=url, status=status, detail=detail)
        if status == 429 or status >= 500:
            raise _Retryable(error, parse_retry_after(response.getheader("Retry-After")))
        raise error

    def _read_error_detail(self, response: http.client.HTTPResponse) -> str:
        try:
            raw = response.read(_MAX_ERROR_BODY_BYTES)
        except (OSError, http.client.HTTPException):
            raw = b""
        text = raw.decode("utf-8", "replace")
        try:
            detail = _error_detail(json.loads(text))
        except ValueError:
            detail = _shorten(text)
        if self._api_key is not None:
            # A server may echo the request; the key must not reach an error message.
            detail = detail.replace(self._api_key.reveal(), "***")
        return detail or response.reason or "-"

    def _with_retries(self, operation: str, attempt: Callable[[], T], watcher: _CancelWatcher) -> T:
        total = max(0, self._settings.retries) + 1
        for number in range(1, total + 1):
            if watcher.stopped.is_set():
                raise _Cancelled
            try:
                return attempt()
            except _Retryable as failure:
                if number == total:
                    raise failure.error from None
                delay = failure.retry_after if failure.retry_after is not None else _backoff_delay(number)
                log.warning("%s failed: %s; retry %d of %d in %.1f s", operation, failure.error, number, total - 1, delay)
                if watcher.stopped.wait(delay):
                    raise _Cancelled from None
        raise AssertionError("unreachable: the last attempt returns or raises")


def _serialized(on_delta: DeltaCallback | None) -> DeltaCallback:
    """Wrap `on_delta` so that worker threads call it one at a time."""
    if on_delta is None:
        return lambda index, piece: None
    lock = threading.Lock()

    def emit(index: int, piece: str) -> None:
        with lock:
            on_delta(index, piece)

    return emit


def _parse_json(raw: bytes, url: str) -> object:
    """Decode a JSON response body, raising ModelError with its start when it is invalid."""
    try:
        return json.loads(raw)
    except ValueError:
        raise ModelError(
            "model.openai.bad_response", url=url, detail=_shorten(raw.decode("utf-8", "replace"))
        ) from None
