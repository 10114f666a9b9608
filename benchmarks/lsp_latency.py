"""Measure inlay-hint and hover latency of the language server on a 5,000-line traced file.

Runs in-process. It builds the real server and gives it a workspace with one open
document and a stored trace of that document (generated, 5,000 lines, every line
traced, loop lines compressed). It then calls the registered `textDocument/inlayHint`
and `textDocument/hover` handlers directly and times them, with and without turning the
result into JSON-ready data (the converter step pygls runs before writing it).
The target is p95 <= 5 ms per request.

    python benchmarks/lsp_latency.py [--lines 5000] [--requests 400]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time

from lsprotocol import types
from pygls.workspace import Workspace

from tracefix.server.lsp.results import TestRun
from tracefix.server.lsp.server import create_server
from tracefix.server.lsp.trace_index import TraceIndex
from tracefix.server.runner import TestOutcome
from tracefix.tracer.trace_format import Frame, LineSummary, SourceFile, Step, Trace

VIEWPORT_LINES = 60  # lines an editor requests hints for when it shows one screen


def generate_source(lines: int) -> str:
    """Return a Python file of `lines` lines: functions whose bodies run loops."""
    out = []
    while len(out) < lines:
        n = len(out)
        out += [
            f"def f{n}(values):",
            "    total = 0",
            "    for i, v in enumerate(values):",
            "        total += v * i  # ünïcode 🙂 comment",
            "    return total",
        ]
    return "\n".join(out[:lines]) + "\n"


def generate_trace(path: str, text: str, k: int = 3, loop_hits: int = 50) -> Trace:
    """Return a trace in which every line ran, loop lines `loop_hits` times (2k kept)."""
    trace = Trace(test_id="test_big.py::test_big", outcome="failed", root=os.path.dirname(path),
                  python="3.11", backend="settrace", config={"k": k})
    trace.files.append(SourceFile(path, hashlib.sha256(text.encode()).hexdigest()))
    trace.frames.append(Frame(0, 0, "f", "f", 1, None, "MainThread", 0))
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        looping = line.startswith("        ") or line.lstrip().startswith("for ")
        hits = loop_hits if looping else 1
        kept = list(range(min(k, hits))) + list(range(max(hits - k, k), hits))
        for hit in kept:
            values = {"total": str(hit * 7), "i": str(hit)} if looping else {"total": "0"}
            trace.steps.append(Step(index + hit, 0, 0, number, values))
        omitted = hits - len(kept)
        trace.lines.append(LineSummary(0, number, hits, omitted,
                                       (index + k - 1, index + hits - k) if omitted else None))
        index += hits
    trace.total_steps = index
    return trace


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5000, help="lines in the traced file")
    parser.add_argument("--requests", type=int, default=400, help="requests timed per kind")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="tracefix-bench-")
    path = os.path.join(folder, "big.py")
    text = generate_source(args.lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    uri = f"file://{path}"

    server = create_server()
    server.protocol._workspace = Workspace(f"file://{folder}", types.TextDocumentSyncKind.Incremental)
    server.protocol.client_capabilities = types.ClientCapabilities()
    server.workspace.put_text_document(types.TextDocumentItem(uri, "python", 1, text))

    started = time.perf_counter()
    trace = generate_trace(path, text)
    index = TraceIndex(trace)
    outcome = TestOutcome(trace.test_id, "failed")
    server.store.add_run(TestRun(os.path.join(folder, "test_big.py"), folder,
                                 {trace.test_id: outcome}, {trace.test_id: index}, {path: text}))
    server.store.sync_line_map(path, text)
    print(f"indexing {len(trace.steps)} steps of {args.lines} lines: "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")

    features = server.protocol.fm.features
    inlay = features[types.TEXT_DOCUMENT_INLAY_HINT]
    hover = features[types.TEXT_DOCUMENT_HOVER]
    unstructure = server.protocol._converter.unstructure
    doc = types.TextDocumentIdentifier(uri)
    rng = random.Random(1)

    def viewport() -> types.InlayHintParams:
        first = rng.randrange(0, args.lines - VIEWPORT_LINES)
        return types.InlayHintParams(doc, types.Range(types.Position(first, 0),
                                                      types.Position(first + VIEWPORT_LINES, 0)))

    def whole_file() -> types.InlayHintParams:
        return types.InlayHintParams(doc, types.Range(types.Position(0, 0), types.Position(args.lines, 0)))

    def hover_params() -> types.HoverParams:
        return types.HoverParams(doc, types.Position(rng.randrange(args.lines), 4))

    cases = [
        ("inlayHint, 60-line viewport", inlay, viewport),
        ("inlayHint, whole file", inlay, whole_file),
        ("hover, random line", hover, hover_params),
    ]
    print(f"{'request':34} {'p50 ms':>8} {'p95 ms':>8} {'+JSON p95':>10}")
    for name, handler, make in cases:
        plain, serialized = [], []
        for _ in range(args.requests):
            params = make()
            t0 = time.perf_counter()
            result = handler(params)
            t1 = time.perf_counter()
            unstructure(result)
            t2 = time.perf_counter()
            plain.append((t1 - t0) * 1000)
            serialized.append((t2 - t0) * 1000)
        print(f"{name:34} {statistics.median(plain):8.3f} {percentile(plain, 0.95):8.3f} "
              f"{percentile(serialized, 0.95):10.3f}")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
