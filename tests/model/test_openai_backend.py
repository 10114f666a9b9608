"""The OpenAI-compatible backend against a local fake server (see openai_server.py)."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from openai_server import CHAT_PATH, MODELS_PATH, FakeOpenAIServer, Reply

from tracefix.server.model import openai_backend
from tracefix.server.model.backend import BackendSettings, GenerationRequest, ModelBackend, ModelError
from tracefix.server.model.openai_backend import OpenAIBackend, SSEParser, parse_endpoint, parse_retry_after

MESSAGES = [{"role": "system", "content": "You fix bugs."}, {"role": "user", "content": "Fix mean()."}]
KEY = "sk-test-7f3a9c0e1b2d4f6a"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    # The tests check retry counts, not delays, so the 0.5 s, 1 s, ... backoff is cut short.
    monkeypatch.setattr(openai_backend, "_BACKOFF_BASE_S", 0.01)


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def make_backend(server: FakeOpenAIServer, api_key: str | None = None, locale: str = "en", **settings) -> OpenAIBackend:
    settings.setdefault("timeout", 10.0)
    return OpenAIBackend(
        BackendSettings(kind="openai", endpoint=server.base_url, **settings), api_key=api_key, locale=locale
    )


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class Recorder:
    """Collects on_delta calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def __call__(self, index: int, piece: str) -> None:
        self.calls.append((index, piece))

    def text(self, index: int) -> str:
        return "".join(piece for i, piece in self.calls if i == index)


# --- streaming ---


def test_backend_implements_protocol(server):
    assert isinstance(make_backend(server), ModelBackend)


def test_stream_arrives_in_order(server):
    server.script(CHAT_PATH, Reply(content=["def ", "mean", "(xs):"], completion_tokens=3))
    recorder = Recorder()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES), on_delta=recorder)

    assert [piece for _, piece in recorder.calls] == ["def ", "mean", "(xs):"]
    assert completion.text == "def mean(xs):"
    assert completion.finish_reason == "stop"
    assert completion.tokens == 3


def test_request_body_and_headers(server):
    make_backend(server).generate(GenerationRequest(MESSAGES, temperature=0.2, top_p=0.9, max_new_tokens=77))

    [request] = server.chat_requests()
    assert request.body["model"] == "test-model"
    assert request.body["messages"] == MESSAGES
    assert request.body["stream"] is True
    assert request.body["temperature"] == 0.2
    assert request.body["top_p"] == 0.9
    assert request.body["max_tokens"] == 77
    assert "seed" not in request.body
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"


def test_reasoning_wrapped_in_think(server):
    server.script(CHAT_PATH, Reply(reasoning=["mean of ", "empty"], content=["return 0"]))
    recorder = Recorder()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES), on_delta=recorder)

    assert completion.text == "<think>mean of empty</think>return 0"
    assert recorder.text(0) == completion.text


def test_reasoning_only_is_closed(server):
    server.script(CHAT_PATH, Reply(reasoning=["thinking"], content=[]))
    recorder = Recorder()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES), on_delta=recorder)

    assert completion.text == "<think>thinking</think>"
    assert recorder.text(0) == completion.text


def test_finish_reason_length(server):
    server.script(CHAT_PATH, Reply(finish_reason="length"))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.finish_reason == "length"


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r"])
def test_line_breaks_of_sse(server, line_break):
    server.script(CHAT_PATH, Reply(line_break=line_break))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.text == "Hello, world"


def test_stream_without_done(server):
    server.script(CHAT_PATH, Reply(send_done=False))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.text == "Hello, world"
    assert completion.finish_reason == "stop"


def test_server_ignoring_stream_flag(server):
    server.script(CHAT_PATH, Reply(stream=False, reasoning=["hm"], content=["x = 1"]))
    recorder = Recorder()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES), on_delta=recorder)

    assert completion.text == "<think>hm</think>x = 1"
    assert recorder.text(0) == completion.text


def test_non_ascii_text_split_across_reads(server):
    server.script(CHAT_PATH, Reply(content=["平均は", "空のリストで", "失敗"]))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.text == "平均は空のリストで失敗"


# --- n samples ---


def test_samples_get_seed_plus_index(server):
    server.reply_for = lambda body: Reply(content=[f"seed {body['seed']}"])
    recorder = Recorder()

    completions = make_backend(server).generate(GenerationRequest(MESSAGES, n=3, seed=7), on_delta=recorder)

    assert [completion.text for completion in completions] == ["seed 7", "seed 8", "seed 9"]
    assert sorted(request.body["seed"] for request in server.chat_requests()) == [7, 8, 9]
    assert all("n" not in request.body for request in server.chat_requests())
    for index in range(3):
        assert recorder.text(index) == completions[index].text


def test_samples_run_at_most_four_at_once(server):
    server.reply_for = lambda body: Reply(content=["a", "b", "c"], chunk_delay=0.1)

    completions = make_backend(server).generate(GenerationRequest(MESSAGES, n=7))

    assert len(completions) == 7
    assert all(completion.text == "abc" for completion in completions)
    assert len(server.chat_requests()) == 7
    assert server.max_concurrent_chats == 4


def test_one_failed_sample_of_two(server):
    server.script(CHAT_PATH, Reply(status=400, body={"error": {"message": "bad temperature"}}))

    completions = make_backend(server).generate(GenerationRequest(MESSAGES, n=2))

    reasons = sorted(completion.finish_reason for completion in completions)
    assert reasons == ["error", "stop"]
    failed = next(completion for completion in completions if completion.finish_reason == "error")
    assert "HTTP 400" in failed.error
    assert "bad temperature" in failed.error


# --- retries ---


def test_retries_after_server_errors(server):
    server.script(CHAT_PATH, Reply(status=500), Reply(status=503))

    [completion] = make_backend(server, retries=2).generate(GenerationRequest(MESSAGES))

    assert completion.text == "Hello, world"
    assert len(server.chat_requests()) == 3


def test_retries_exhausted_raise_http_error(server):
    server.script(CHAT_PATH, *[Reply(status=502, body={"detail": "upstream down"})] * 3)

    with pytest.raises(ModelError) as caught:
        make_backend(server, retries=1).generate(GenerationRequest(MESSAGES))

    assert caught.value.key == "model.openai.http_error"
    assert caught.value.fields["status"] == 502
    assert "upstream down" in str(caught.value)
    assert len(server.chat_requests()) == 2


def test_client_error_not_retried(server):
    server.script(CHAT_PATH, Reply(status=400))

    with pytest.raises(ModelError, match="HTTP 400"):
        make_backend(server, retries=3).generate(GenerationRequest(MESSAGES))

    assert len(server.chat_requests()) == 1


def test_429_honours_retry_after(server):
    server.script(CHAT_PATH, Reply(status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.text == "Hello, world"
    assert len(server.chat_requests()) == 2
    assert time.monotonic() - started >= 0.9


def test_retry_after_parsing():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("3600") == 30.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_dropped_before_any_token_is_retried(server):
    server.script(CHAT_PATH, Reply(drop_after=0))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.text == "Hello, world"
    assert len(server.chat_requests()) == 2


def test_no_retry_after_tokens_arrived(server):
    server.script(CHAT_PATH, Reply(drop_after=2))
    recorder = Recorder()

    [completion] = make_backend(server, retries=3).generate(GenerationRequest(MESSAGES), on_delta=recorder)

    assert completion.finish_reason == "error"
    assert completion.text == "Hello, "
    assert recorder.text(0) == "Hello, "
    assert server.base_url in completion.error
    assert len(server.chat_requests()) == 1


def test_error_event_after_tokens(server):
    server.script(CHAT_PATH, Reply(error_event_after=1))

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES))

    assert completion.finish_reason == "error"
    assert completion.text == "Hello"
    assert "CUDA out of memory" in completion.error


def test_error_event_before_tokens_raises(server):
    server.script(CHAT_PATH, Reply(error_event_after=0))

    with pytest.raises(ModelError) as caught:
        make_backend(server).generate(GenerationRequest(MESSAGES))

    assert caught.value.key == "model.openai.stream_error"
    assert len(server.chat_requests()) == 1


def test_unreachable_after_retries():
    backend = OpenAIBackend(BackendSettings(kind="openai", endpoint=closed_port_url(), model="m", retries=2))

    with pytest.raises(ModelError) as caught:
        backend.generate(GenerationRequest(MESSAGES))

    assert caught.value.key == "model.openai.unreachable"


# --- timeouts ---


def test_stall_mid_stream_times_out(server):
    server.script(CHAT_PATH, Reply(stall_after=1, stall_seconds=30))
    started = time.monotonic()

    [completion] = make_backend(server, timeout=0.5).generate(GenerationRequest(MESSAGES))

    assert time.monotonic() - started < 15  # well under the 30 s stall
    assert completion.finish_reason == "error"
    assert completion.text == "Hello"
    assert "timed out" in completion.error
    assert len(server.chat_requests()) == 1


def test_hang_before_headers_times_out(server):
    server.script(CHAT_PATH, Reply(hang_before_headers=30))
    started = time.monotonic()

    with pytest.raises(ModelError) as caught:
        make_backend(server, timeout=0.5, retries=2).generate(GenerationRequest(MESSAGES))

    assert time.monotonic() - started < 15  # well under the 30 s hang
    assert caught.value.key == "model.openai.timeout"
    assert len(server.chat_requests()) == 1  # a timeout is not retried


# --- cancellation ---


def test_cancel_mid_stream_is_prompt(server):
    server.script(CHAT_PATH, Reply(stall_after=1, stall_seconds=30))
    cancelled = threading.Event()
    recorder = Recorder()

    def on_delta(index: int, piece: str) -> None:
        recorder(index, piece)
        if piece == "Hello":
            threading.Timer(0.3, cancelled.set).start()

    started = time.monotonic()
    [completion] = make_backend(server, timeout=60).generate(
        GenerationRequest(MESSAGES), on_delta=on_delta, cancel=cancelled.is_set
    )

    assert time.monotonic() - started < 15  # well under the 30 s stall and the 60 s timeout
    assert completion.finish_reason == "cancelled"
    assert completion.text == "Hello"
    assert server.wait_for_client_close(1)


def test_cancel_before_headers_is_prompt(server):
    server.reply_for = lambda body: Reply(hang_before_headers=30)
    cancelled = threading.Event()
    threading.Timer(0.5, cancelled.set).start()
    started = time.monotonic()

    completions = make_backend(server, timeout=60).generate(
        GenerationRequest(MESSAGES, n=2), cancel=cancelled.is_set
    )

    assert time.monotonic() - started < 15
    assert [completion.finish_reason for completion in completions] == ["cancelled", "cancelled"]
    assert server.wait_for_client_close(2)


def test_cancel_during_retry_wait(server):
    server.script(CHAT_PATH, Reply(status=429, headers={"Retry-After": "30"}))
    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()
    started = time.monotonic()

    [completion] = make_backend(server).generate(GenerationRequest(MESSAGES), cancel=cancelled.is_set)

    assert time.monotonic() - started < 15
    assert completion.finish_reason == "cancelled"
    assert len(server.chat_requests()) == 1


def test_on_delta_error_stops_other_samples(server):
    server.reply_for = lambda body: (
        Reply(content=["x", "boom"], chunk_delay=0.3) if body["seed"] == 0 else Reply(stall_after=0)
    )

    def on_delta(index: int, piece: str) -> None:
        if piece == "boom":
            raise RuntimeError("editor went away")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="editor went away"):
        make_backend(server, timeout=60).generate(GenerationRequest(MESSAGES, n=2, seed=0), on_delta=on_delta)

    assert time.monotonic() - started < 15  # well under the 30 s stall
    assert server.wait_for_client_close(1)


def test_cancelled_before_start(server):
    completions = make_backend(server).generate(GenerationRequest(MESSAGES, n=2), cancel=lambda: True)

    assert [completion.finish_reason for completion in completions] == ["cancelled", "cancelled"]
    assert server.requests == []


# --- load ---


def test_load_takes_first_model(server):
    server.models = [{"id": "qwen-coder", "max_model_len": 32768}, {"id": "other"}]
    backend = make_backend(server)

    backend.load()

    assert backend.name == "qwen-coder"
    assert backend.context_window == 32768


def test_load_is_idempotent(server):
    backend = make_backend(server)

    backend.load()
    backend.load()
    backend.generate(GenerationRequest(MESSAGES))

    assert [request.path for request in server.requests] == [MODELS_PATH, CHAT_PATH]


def test_load_reports_progress(server):
    messages = []

    make_backend(server).load(progress=lambda message, percent: messages.append((message, percent)))

    assert messages == [(f"Connecting to {server.base_url}", None)]


def test_context_window_setting_wins(server):
    backend = make_backend(server, context_window=2048)

    backend.load()

    assert backend.context_window == 2048


def test_context_window_default(server):
    server.models = [{"id": "llama3"}]
    backend = make_backend(server)

    backend.load()

    assert backend.context_window == 8192


def test_load_model_not_listed(server):
    server.models = [{"id": "alpha"}, {"id": "beta"}]

    with pytest.raises(ModelError) as caught:
        make_backend(server, model="gamma").load()

    assert caught.value.key == "model.openai.model_not_found"
    assert "gamma" in str(caught.value)
    assert "alpha, beta" in str(caught.value)


def test_load_named_model(server):
    server.models = [{"id": "alpha"}, {"id": "beta", "max_model_len": 1000}]
    backend = make_backend(server, model="beta")

    backend.load()

    assert backend.name == "beta"
    assert backend.context_window == 1000


def test_load_no_models(server):
    server.models = []

    with pytest.raises(ModelError, match="lists no models"):
        make_backend(server).load()


def test_load_unreachable_names_url():
    url = closed_port_url()

    with pytest.raises(ModelError) as caught:
        OpenAIBackend(BackendSettings(kind="openai", endpoint=url, retries=1)).load()

    assert caught.value.key == "model.openai.unreachable"
    assert url in str(caught.value)
    assert "running" in str(caught.value)


def test_load_retries_server_error(server):
    server.script(MODELS_PATH, Reply(status=503))

    make_backend(server).load()

    assert [request.path for request in server.requests] == [MODELS_PATH, MODELS_PATH]


def test_load_without_v1_suggests_it(server):
    base = server.base_url.removesuffix("/v1")
    backend = OpenAIBackend(BackendSettings(kind="openai", endpoint=base))

    with pytest.raises(ModelError) as caught:
        backend.load()

    assert caught.value.key == "model.openai.models_not_found"
    assert f"{base}/v1" in str(caught.value)


def test_load_bad_json(server):
    server.script(MODELS_PATH, Reply(body=["not", "a", "list"]))

    with pytest.raises(ModelError) as caught:
        make_backend(server).load()

    assert caught.value.key == "model.openai.bad_response"


def test_load_cancelled(server):
    server.script(MODELS_PATH, Reply(hang_before_headers=30))
    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()

    with pytest.raises(ModelError) as caught:
        make_backend(server).load(cancel=cancelled.is_set)

    assert caught.value.key == "model.openai.cancelled"
    assert server.wait_for_client_close(1)


# --- endpoint ---


@pytest.mark.parametrize("value", ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/", " http://127.0.0.1:8000/v1 "])
def test_endpoint_trailing_slash_ignored(value):
    endpoint = parse_endpoint(value)

    assert endpoint.url == "http://127.0.0.1:8000/v1"
    assert endpoint.path == "/v1"
    assert endpoint.port == 8000


def test_endpoint_default_ports():
    assert parse_endpoint("https://models.example.com/v1").port == 443
    assert parse_endpoint("http://localhost/v1").port == 80


@pytest.mark.parametrize(
    "value",
    ["ftp://127.0.0.1/v1", "127.0.0.1:8000/v1", "localhost:8000", "http:///v1", "http://h:99999/v1", "http://h/v1?x=1"],
)
def test_endpoint_invalid(value):
    with pytest.raises(ModelError) as caught:
        parse_endpoint(value)

    assert caught.value.key == "model.openai.bad_url"
    assert value.strip() in str(caught.value)


def test_endpoint_missing():
    with pytest.raises(ModelError) as caught:
        OpenAIBackend(BackendSettings(kind="openai", endpoint=""))

    assert caught.value.key == "model.openai.endpoint_missing"


def test_endpoint_with_password_hides_it():
    with pytest.raises(ModelError) as caught:
        parse_endpoint("http://user:hunter2@127.0.0.1:8000/v1")

    assert caught.value.key == "model.openai.url_credentials"
    assert "hunter2" not in str(caught.value)


# --- auth and secrets ---


def test_key_argument_sent_as_bearer():
    with FakeOpenAIServer(api_key=KEY) as server:
        [completion] = make_backend(server, api_key=KEY).generate(GenerationRequest(MESSAGES))

        assert completion.text == "Hello, world"
        assert all(request.headers["authorization"] == f"Bearer {KEY}" for request in server.requests)


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("MY_MODEL_KEY", KEY)
    with FakeOpenAIServer(api_key=KEY) as server:
        make_backend(server, api_key_env="MY_MODEL_KEY").load()

        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_key_argument_beats_environment(monkeypatch):
    monkeypatch.setenv("TRACEFIX_API_KEY", "sk-from-env")
    with FakeOpenAIServer(api_key=KEY) as server:
        make_backend(server, api_key=KEY).load()

        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_missing_key_names_variable(monkeypatch):
    monkeypatch.delenv("TRACEFIX_API_KEY", raising=False)
    with FakeOpenAIServer(api_key=KEY) as server:
        with pytest.raises(ModelError) as caught:
            make_backend(server).load()

    assert caught.value.key == "model.openai.unauthorized_no_key"
    assert "TRACEFIX_API_KEY" in str(caught.value)
    assert len(server.requests) == 1  # 401 is not retried


def test_wrong_key_rejected_without_echo(monkeypatch):
    wrong = "sk-wrong-0123456789"
    monkeypatch.setenv("TRACEFIX_API_KEY", wrong)
    with FakeOpenAIServer(api_key=KEY) as server:
        backend = make_backend(server, model="test-model")
        backend._loaded = True  # go straight to the chat request, to check that path too
        with pytest.raises(ModelError) as caught:
            backend.generate(GenerationRequest(MESSAGES, n=6))

    assert caught.value.key == "model.openai.unauthorized"
    assert "TRACEFIX_API_KEY" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in caught.value.render("ja")
    # The first 401 stops the samples that had not started yet.
    assert len(server.chat_requests()) <= 4


def test_key_never_logged(caplog, monkeypatch):
    monkeypatch.setenv("TRACEFIX_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []
    with FakeOpenAIServer(api_key=KEY) as server:
        backend = make_backend(server)
        server.script(CHAT_PATH, Reply(status=500), Reply(drop_after=1))
        backend.generate(GenerationRequest(MESSAGES, n=2, seed=1))
        server.api_key = "sk-other"
        other = make_backend(server)
        try:
            other.load()
        except ModelError as error:
            errors.append(error)
        representations = [repr(backend), str(backend), repr(other), repr(vars(backend))]

    assert len(errors) == 1
    assert "retry 1 of 2" in caplog.text  # the logs did record the run
    assert "ended early" in caplog.text
    assert KEY not in caplog.text
    for text in representations + [str(error) for error in errors] + [repr(error.args) for error in errors]:
        assert KEY not in text


def test_key_with_line_break_rejected(monkeypatch):
    monkeypatch.setenv("TRACEFIX_API_KEY", "sk-abc\r\nX-Evil: 1")

    with pytest.raises(ModelError) as caught:
        OpenAIBackend(BackendSettings(kind="openai", endpoint="http://127.0.0.1:1/v1"))

    assert caught.value.key == "model.openai.bad_key"
    assert "sk-abc" not in str(caught.value)


@pytest.mark.parametrize(
    ("endpoint", "warned"),
    [
        ("http://10.1.2.3:8000/v1", True),
        ("http://gpu-box.internal:8000/v1", True),
        ("https://gpu-box.internal/v1", False),
        ("http://127.0.0.1:8000/v1", False),
        ("http://localhost:8000/v1", False),
        ("http://[::1]:8000/v1", False),
    ],
)
def test_plain_http_key_warning(caplog, endpoint, warned):
    caplog.set_level(logging.WARNING)

    OpenAIBackend(BackendSettings(kind="openai", endpoint=endpoint), api_key=KEY)  # connects nowhere

    assert ("unencrypted" in caplog.text) == warned
    assert KEY not in caplog.text


def test_no_warning_without_key(caplog, monkeypatch):
    monkeypatch.delenv("TRACEFIX_API_KEY", raising=False)
    caplog.set_level(logging.WARNING)

    OpenAIBackend(BackendSettings(kind="openai", endpoint="http://10.1.2.3:8000/v1"))

    assert "unencrypted" not in caplog.text


# --- locale ---


def test_errors_render_in_japanese(server):
    server.models = [{"id": "alpha"}]

    with pytest.raises(ModelError) as caught:
        make_backend(server, model="gamma").load()

    japanese = caught.value.render("ja")
    assert "gamma" in japanese
    assert "alpha" in japanese
    assert "利用できるモデル" in japanese


def test_sample_error_in_backend_locale(server):
    server.script(CHAT_PATH, Reply(drop_after=1))

    [completion] = make_backend(server, locale="ja").generate(GenerationRequest(MESSAGES))

    assert completion.finish_reason == "error"
    assert "保持されます" in completion.error


# --- estimates and parsing ---


def test_count_tokens_estimate(server):
    backend = make_backend(server)

    assert backend.count_tokens([]) == 3
    assert backend.count_tokens([{"role": "user", "content": "abcdef"}]) == 3 + 4 + 2
    assert backend.count_tokens([{"role": "user", "content": "abcd"}]) == 3 + 4 + 2
    assert backend.count_tokens([{"role": "user", "content": "平均"}]) == 3 + 4 + 2
    assert backend.count_tokens(MESSAGES) > backend.count_tokens(MESSAGES[:1])


def test_sse_parser_byte_by_byte():
    body = b": hello\r\n\r\ndata: {\"a\": 1}\r\n\r\ndata: line one\ndata: line two\n\nevent: x\ndata: [DONE]\n\n"
    parser = SSEParser()
    events = []

    for byte in body:
        events.extend(parser.feed(bytes([byte])))
    events.extend(parser.close())

    assert events == ['{"a": 1}', "line one\nline two", "[DONE]"]


def test_sse_parser_flushes_at_close():
    parser = SSEParser()

    assert parser.feed(b"data: last") == []
    assert parser.close() == ["last"]


def test_sse_parser_rejects_huge_line(monkeypatch):
    monkeypatch.setattr(openai_backend, "_MAX_EVENT_BYTES", 10)

    with pytest.raises(ValueError):
        SSEParser().feed(b"data: " + b"x" * 20)
