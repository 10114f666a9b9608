"""Kind 7: a test that prints tens of megabytes. What the runner keeps, what the report
and the trace hold and what a model is given are bounded, with a marker saying how much
was dropped, and the runner's memory stays bounded."""

from __future__ import annotations

import tracemalloc

from hostile_helpers import run_traced, write_project
from tracefix.server.engine.diagnose import diagnose
from tracefix.server.engine.pipeline import load_sources
from tracefix.server.engine.results import FailureContext
from tracefix.server.model.prompt import build_prompt
from tracefix.server.runner.process import HEAD_BYTES, TAIL_BYTES

MB = 1_000_000

PROJECT = {
    "noisy.py": '''
        def chatter(lines):
            total = 0
            for i in range(lines):
                print("line", i, "x" * 90)
                total += i
            return total

        def shout(size):
            return "y" * size
        ''',
    "test_noisy.py": '''
        import os
        from noisy import chatter, shout

        def test_prints_30_mb():
            # About 30 MB through print, captured by pytest and shown with the failure.
            assert chatter(300_000) == 0

        def test_writes_to_the_fd():
            # Straight to file descriptor 1, around pytest's sys.stdout.
            for _ in range(100):
                os.write(1, b"z" * 100_000 + b"\\n")
            assert False

        def test_huge_message():
            # pytest cuts assertion messages itself; an exception's message it keeps whole.
            raise ValueError(shout(10 * 1024 * 1024))
        ''',
}


def test_huge_output_is_bounded_everywhere(tmp_path, python):
    root = write_project(tmp_path / "p", PROJECT)
    tracemalloc.start()
    try:
        run = run_traced(root, python, timeout=240)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    for result in (run.baseline, run.traced):
        assert {o.outcome for o in result.outcomes.values()} == {"failed"}, result.output[-3000:]
        # The console output: head and tail kept, the rest counted and marked.
        assert result.output_dropped > 30 * MB
        assert len(result.output.encode()) < HEAD_BYTES + TAIL_BYTES + 200
        assert f"[... tracefix dropped {result.output_dropped} bytes of output ...]" \
            in result.output
        for outcome in result.outcomes.values():
            assert len(outcome.message) < 4_100 and len(outcome.longrepr) < 4_200
    # Python objects made by the runner stay far below the output's size: none of the
    # 40 MB printed was held at once.
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB of Python allocations"

    trace = run.traces["test_noisy.py::test_huge_message"]
    assert trace.reliable
    assert len(trace.failure.message) < 2_100 and "chars)" in trace.failure.message
    assert all(len(v) < 1_000 for s in trace.steps for v in s.values.values())

    # The prompt for a model has a bounded cut of the failure, never the 10 MB string.
    sources = load_sources(trace)
    context = FailureContext(
        root=str(root), test_id=trace.test_id, trace=trace, inline="", sources=sources,
        diagnosis=diagnose(trace, sources, "en"), suspicious=[],
        test_source=(root / "test_noisy.py").read_text(),
    )
    prompt = build_prompt(context, count_tokens=lambda text: len(text) // 4, budget=10**6)
    text = "".join(message["content"] for message in prompt.messages)
    assert len(text) < 30_000
    assert "chars)" in text
