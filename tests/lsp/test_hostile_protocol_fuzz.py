"""The language server survives malformed and hostile protocol input.

Hypothesis draws batches of requests and notifications: unknown methods, wrong
parameter shapes, out-of-range positions and ranges, unknown documents, bursts of
changes with random ranges and versions, closes of documents never opened,
cancellations of random ids, `tracefix.*` commands with junk arguments. One server
process over stdio takes all the batches. Every request must get a response (a result or
a JSON-RPC error), the process must keep running, and afterwards ordinary requests and
a clean shutdown still work. A second test writes broken frames to the server's stdin.

These tests talk to the server through the small JSON-RPC client below rather than
through pytest-lsp. The pytest-lsp client converts every message to and from lsprotocol
types, so it cannot send parameters of the wrong shape or bytes that are not a valid
frame.

The workspace contains no test file and runs on open and save are off, so the storm
never starts pytest processes.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(600)

TRACEFIX = Path(sys.executable).with_name("tracefix")
RESPONSE_TIMEOUT = 60.0  # seconds, to catch a request left without a response
# Batches of 10 to 40 messages: the default sends about 3000 messages to one server.
EXAMPLES = int(os.environ.get("TRACEFIX_FUZZ_EXAMPLES", "120"))
MODULE_TEXT = (
    "def total(values):\n"
    '    label = "🎉"; 合計 = 0\n'
    "    for value in values:\n"
    "        合計 += value\n"
    "    return 合計\n"
)
COMMANDS = ["tracefix.runTests", "tracefix.rerunTraced", "tracefix.explainFailure",
            "tracefix.debugFailure", "tracefix.snapshot", "tracefix.explanation",
            "tracefix.applyFix", "tracefix.unknownCommand"]


class StdioServer:
    """The real server as a child process, with a minimal JSON-RPC client on its pipes.

    A reader thread collects responses by id and sends a null result for each request
    from the server (refreshes, progress tokens, showDocument).
    """

    def __init__(self, root: Path, log_path: Path) -> None:
        env = {**os.environ, "XDG_CACHE_HOME": str(root.parent / "cache"),
               "TRACEFIX_LOG_LEVEL": "WARNING"}
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen([str(TRACEFIX), "serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, cwd=root, env=env)
        self.responses: dict[object, dict] = {}
        self.arrived = threading.Condition()
        self.write_lock = threading.Lock()
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # -- writing ---------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        with self.write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: object) -> None:
        body = json.dumps(message).encode("utf-8")
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: object, params: object = None, *, with_params: bool = True) -> str:
        self.next_id += 1
        request_id = f"fuzz-{self.next_id}"
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if with_params:
            message["params"] = params
        self.send(message)
        return request_id

    def notify(self, method: object, params: object = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    # -- reading ---------------------------------------------------------------------

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                header = stream.readline()
                if not header:
                    return  # the server closed stdout
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                with self.arrived:
                    self.responses[message["id"]] = message
                    self.arrived.notify_all()

    def response(self, request_id: object, timeout: float = RESPONSE_TIMEOUT) -> dict:
        with self.arrived:
            self.arrived.wait_for(lambda: request_id in self.responses or not self.alive(),
                                  timeout=timeout)
            found = self.responses.get(request_id)
        assert self.alive(), f"the server exited with {self.process.returncode}; see {self.log.name}"
        assert found is not None, f"no response to request {request_id} after {timeout:g} s"
        return found

    def call(self, method: str, params: object = None) -> object:
        answer = self.response(self.request(method, params))
        assert "error" not in answer, answer
        return answer["result"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=30)
        self.log.close()


def assert_response_shape(answer: dict) -> None:
    """Check that `answer` is a JSON-RPC response: a result, or an error with code and message."""
    assert answer.get("jsonrpc") == "2.0", answer
    assert ("result" in answer) != ("error" in answer), answer
    if "error" in answer:
        assert isinstance(answer["error"].get("code"), int), answer
        assert isinstance(answer["error"].get("message"), str), answer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz") / "project"
    root.mkdir()
    module = root / "total.py"
    module.write_text(MODULE_TEXT, encoding="utf-8")
    running = StdioServer(root, root.parent / "server.log")
    initialized = running.call("initialize", {
        "processId": None, "rootUri": root.as_uri(),
        "capabilities": {"workspace": {"inlayHint": {"refreshSupport": True}}},
        "initializationOptions": {"runOnOpen": False, "runOnSave": False, "snapshot": False},
        "workspaceFolders": [{"uri": root.as_uri(), "name": "project"}],
    })
    assert "capabilities" in initialized
    running.notify("initialized", {})
    running.notify("textDocument/didOpen", {"textDocument": {
        "uri": module.as_uri(), "languageId": "python", "version": 1, "text": MODULE_TEXT}})
    running.root = root
    running.module = module
    yield running
    running.close()


# -- strategies --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
# LSP's uinteger is 0 to 2**31 - 1. Values inside reach the handlers, and values outside
# must be rejected with "Invalid params" before them.
valid_uints = st.one_of(st.integers(0, 12), st.integers(2**31 - 3, 2**31 - 1), st.integers(0, 2**31 - 1))
hostile_ints = st.one_of(st.integers(-5, -1), st.integers(2**31, 2**31 + 2), st.integers(-2**63, 2**63),
                         st.sampled_from([0.5, "3", None, True]))
position_ints = st.one_of(valid_uints, valid_uints, valid_uints, hostile_ints)
# Document versions in any order, so they also go backwards. An LSP integer has 32 bits.
versions = st.one_of(st.integers(0, 20), st.integers(-2**31, 2**31 - 1), hostile_ints)


def positions():
    return st.fixed_dictionaries({"line": position_ints, "character": position_ints})


def ranges():
    return st.fixed_dictionaries({"start": positions(), "end": positions()})


def uris(server):
    return st.just(server.module.as_uri()) | st.sampled_from([
        (server.root / "missing.py").as_uri(),
        (server.root / "notes.txt").as_uri(),
        "untitled:Untitled-1", "", "not a uri", "file:///%ZZ", "file://host/share/x.txt",
    ]) | st.text(max_size=30).filter(lambda text: not text.endswith(".py"))


def documents(server):
    return st.fixed_dictionaries({"uri": uris(server)})


def junk_or(shape):
    """Either a well-shaped value with hostile contents or any JSON value."""
    return st.one_of(shape, shape, shape, json_values)


def request_params(server):
    document = documents(server)
    return {
        "textDocument/hover": st.fixed_dictionaries({"textDocument": document, "position": positions()}),
        "textDocument/inlayHint": st.fixed_dictionaries({"textDocument": document, "range": ranges()}),
        "inlayHint/resolve": st.fixed_dictionaries({"position": positions(), "label": st.text(max_size=5),
                                                    "data": json_values}),
        "textDocument/codeLens": st.fixed_dictionaries({"textDocument": document}),
        "textDocument/codeAction": st.fixed_dictionaries({
            "textDocument": document, "range": ranges(),
            "context": st.fixed_dictionaries({"diagnostics": st.lists(st.fixed_dictionaries({
                "range": ranges(), "message": st.text(max_size=5), "source": st.just("tracefix"),
                "data": json_values}), max_size=2)})}),
        "textDocument/inlineValue": st.fixed_dictionaries({
            "textDocument": document, "range": ranges(),
            "context": st.fixed_dictionaries({"frameId": versions, "stoppedLocation": ranges()})}),
        "workspace/executeCommand": st.fixed_dictionaries({
            "command": st.sampled_from(COMMANDS),
            "arguments": command_arguments(server)}),
    }


def command_arguments(server):
    """Junk arguments that never name a test file, so no command starts a pytest run."""
    non_string = st.none() | st.booleans() | st.integers() | st.lists(st.integers(), max_size=2)
    return st.one_of(
        st.lists(json_values.filter(lambda value: not isinstance(value, str)), max_size=3),
        st.tuples(uris(server), non_string).map(list),
        st.just([]),
    )


def requests(server):
    shaped = request_params(server)
    known = st.sampled_from(sorted(shaped)).flatmap(
        lambda method: st.tuples(st.just(method), junk_or(shaped[method])))
    unknown = st.tuples(
        st.sampled_from(["tracefix/unknown", "textDocument/definition", "$/unknownRequest",
                         "workspace/symbol"]) | st.text(max_size=20),
        json_values)
    return st.tuples(st.just("request"), known | unknown)


def change_events():
    return st.one_of(
        st.fixed_dictionaries({"range": ranges(), "text": st.text(max_size=10)}),
        st.fixed_dictionaries({"text": st.text(max_size=40)}),
        json_values,
    )


def notifications(server):
    document = documents(server)
    versioned = st.fixed_dictionaries({"uri": uris(server), "version": versions})
    shaped = {
        "textDocument/didChange": st.fixed_dictionaries({
            "textDocument": versioned, "contentChanges": st.lists(change_events(), max_size=8)}),
        "textDocument/didOpen": st.fixed_dictionaries({"textDocument": st.fixed_dictionaries({
            "uri": uris(server), "languageId": st.just("python"), "version": versions,
            "text": st.text(max_size=40)})}),
        "textDocument/didClose": st.fixed_dictionaries({"textDocument": document}),
        "textDocument/didSave": st.fixed_dictionaries({"textDocument": document}),
        "$/cancelRequest": st.fixed_dictionaries({"id": hostile_ints | st.text(max_size=10)}),
        "workspace/didChangeConfiguration": st.fixed_dictionaries({"settings": st.fixed_dictionaries(
            {"tracefix": st.dictionaries(st.sampled_from(["runOnOpen", "testTimeout", "trace", "k"]),
                                         json_values, max_size=2)})}),
        "tracefix/setApiKey": st.fixed_dictionaries({"apiKey": json_values}),
    }
    known = st.sampled_from(sorted(shaped)).flatmap(
        lambda method: st.tuples(st.just(method), junk_or(shaped[method])))
    unknown = st.tuples(st.text(max_size=20).filter(lambda name: name != "exit"), json_values)
    return st.tuples(st.just("notification"), known | unknown)


def batches(server):
    return st.lists(st.one_of(requests(server), notifications(server)), min_size=10, max_size=40)


# -- tests -------------------------------------------------------------------------


def send_batch(server: StdioServer, batch) -> list[str]:
    sent = []
    for kind, (method, params) in batch:
        if kind == "request":
            sent.append(server.request(method, params))
        else:
            server.notify(method, params)
    return sent


def test_server_survives_message_storm(server):
    counts = {"requests": 0, "notifications": 0, "errors": 0, "results": 0}

    # No shrinking: every batch goes to the same server process, whose state carries over
    # from earlier batches, so a shrunk batch would not replay the failure. The batch that
    # failed is reported as drawn, and the server log shows what the server did.
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(batch=batches(server))
    def storm(batch):
        sent = send_batch(server, batch)
        counts["requests"] += len(sent)
        counts["notifications"] += len(batch) - len(sent)
        for request_id in sent:
            answer = server.response(request_id)
            assert_response_shape(answer)
            counts["errors"] += "error" in answer
            counts["results"] += "result" in answer
        assert server.alive()

    storm()

    assert counts["requests"] + counts["notifications"] >= 10 * EXAMPLES, counts
    assert counts["errors"] > 0, counts  # the junk was rejected, not silently accepted
    assert counts["results"] > 0, counts  # and the handlers ran on the well-formed requests

    # Junk command arguments are the client's error: "Invalid params", naming the argument.
    for command, arguments, named in (("tracefix.runTests", [], "argument 1 (uri)"),
                                      ("tracefix.explainFailure", [server.module.as_uri(), 5],
                                       "argument 2 (nodeid)"),
                                      ("tracefix.applyFix", ["a::test", "0"], "argument 2 (index)")):
        answer = server.response(server.request("workspace/executeCommand",
                                                {"command": command, "arguments": arguments}))
        assert answer.get("error", {}).get("code") == -32602, (command, answer)
        assert named in answer["error"]["message"], (command, answer)

    # After the storm: a full resync of the real document, then ordinary requests.
    uri = server.module.as_uri()
    server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 10**6},
                                             "contentChanges": [{"text": MODULE_TEXT}]})
    position = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5}}
    assert server.call("textDocument/hover", position) is None
    assert server.call("textDocument/codeLens", {"textDocument": {"uri": uri}}) == []
    result = server.call("workspace/executeCommand",
                         {"command": "tracefix.runTests", "arguments": [uri]})
    assert result["testFiles"] == []
    assert result["errors"] == []
    assert server.call("shutdown") is None
    server.notify("exit")
    assert server.process.wait(timeout=60) == 0


def test_server_survives_broken_frames(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    running = StdioServer(root, tmp_path / "server.log")
    try:
        running.call("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {},
                                    "initializationOptions": {"runOnOpen": False, "runOnSave": False}})
        bodies = [b"not json!", b"[1,2", b"[]", b"null", b"42", b'""', b'{"jsonrpc": "1.0"}',
                  b'{"jsonrpc": "2.0", "id": {"a": 1}}', b'{"jsonrpc": "2.0", "method": 7, "id": 1}',
                  b'{"jsonrpc": "2.0", "method": "textDocument/hover", "id": 2, "params": "x"}',
                  b"\xff\xfe\xfd\xfc", "{\"jsonrpc\": \"2.0\", \"method\": \"\u00e9\"}".encode()]
        frames = [b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]
        frames += [
            b"Content-Length: -5\r\n\r\n",
            b"Content-Length: abc\r\n\r\n",
            b"X-Unknown-Header: 1\r\n\r\n",
            b"\r\n\r\n",
            b"garbage without a header\r\n",
        ]
        for frame in frames:
            running.send_raw(frame)
            assert running.alive()
        # A JSON-RPC 2.0 batch (an array) is not part of LSP. It must be rejected, not fatal.
        running.send([{"jsonrpc": "2.0", "id": "in-batch", "method": "textDocument/hover"}])
        assert running.alive()

        # The request whose params do not fit its method got an error response.
        rejected = running.response(2)
        assert_response_shape(rejected)
        assert rejected["error"]["code"] == -32602  # JSON-RPC "Invalid params"
        assert "textDocument/hover" in rejected["error"]["message"]

        # The stream is still in sync: an ordinary request gets its response.
        answer = running.response(running.request("workspace/executeCommand",
                                                  {"command": "tracefix.unknownCommand", "arguments": []}))
        assert_response_shape(answer)
        assert running.call("shutdown") is None
        running.notify("exit")
        assert running.process.wait(timeout=60) == 0
    finally:
        running.close()
