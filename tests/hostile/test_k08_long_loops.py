"""Kind 8: a loop that runs hundreds of thousands of times over growing containers.

The traced run must end like the untraced one and keep only the first and last k hits
of each loop line, with the right hit count. Its trace file must have a bounded size,
and its memory use must stay within a bound of the untraced run's. The project's
conftest writes the child's peak RSS (`ru_maxrss`) to a file per run, so the two runs
can be compared without timing anything.
"""

from __future__ import annotations

import os

from hostile_helpers import hits, line_of, run_traced, values_at, write_project

ITERATIONS = 300_000

LOOP = {
    "conftest.py": '''
        import resource

        def pytest_sessionfinish(session):
            # ru_maxrss is in KiB on Linux.
            traced = bool(session.config.getoption("--tracefix-trace-dir", None))
            name = "maxrss-traced.txt" if traced else "maxrss-untraced.txt"
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with open(session.config.rootpath / name, "w") as out:
                out.write(str(peak))
        ''',
    "grow.py": f'''
        def grow(n={ITERATIONS}):
            items = []
            table = {{}}
            text = ""
            for i in range(n):
                items.append(i)
                table[i] = len(items)
                text += "ab"
            return len(items), len(table), len(text)
        ''',
    "test_grow.py": '''
        from grow import grow

        def test_grow():
            assert grow() == (0, 0, 0)
        ''',
}

# Loose bounds that only catch unbounded growth: the kept hits of four lines with
# k=3 and values cut to 120 characters fit in well under a megabyte.
MAX_TRACE_BYTES = 2_000_000
MAX_EXTRA_RSS_KIB = 150 * 1024


def test_long_loop_is_compressed_and_bounded(tmp_path, any_python):
    root = write_project(tmp_path / "p", LOOP)
    # Four line events per iteration: the default event budget (1,000,000) would stop
    # recording before the loop ends, so it is raised to record the whole loop.
    run = run_traced(root, any_python, timeout=300,
                     trace_options={"max_events": 5_000_000, "max_seconds": 600})
    nodeid = "test_grow.py::test_grow"
    assert run.baseline.outcomes[nodeid].outcome == "failed"
    assert run.traced.outcomes[nodeid].outcome == "failed"
    assert run.traced.outcomes[nodeid].message == run.baseline.outcomes[nodeid].message
    trace = run.traces[nodeid]
    assert trace.reliable, trace.notes
    assert trace.budget is None, trace.budget

    k = trace.config["k"]
    for marker in ("items.append(i)", "table[i] = len(items)", 'text += "ab"'):
        line = line_of(root, "grow.py", marker)
        assert hits(trace, root, "grow.py", line) == ITERATIONS, marker
        assert len(values_at(trace, root, "grow.py", line)) == 2 * k, marker

    # The last kept hits show the final sizes, with long values cut to the value width.
    text_line = line_of(root, "grow.py", 'text += "ab"')
    last_text = values_at(trace, root, "grow.py", text_line)[-1]["text"]
    assert last_text.endswith(f"…(+{2 * ITERATIONS - trace.config['value_width']} chars)")
    append_line = line_of(root, "grow.py", "items.append(i)")
    assert values_at(trace, root, "grow.py", append_line)[-1]["items"].endswith(
        f"...+{ITERATIONS - trace.config['container_items']}]")

    trace_bytes = os.path.getsize(run.traced.traces[nodeid])
    assert trace_bytes < MAX_TRACE_BYTES

    untraced_kib = int((root / "maxrss-untraced.txt").read_text())
    traced_kib = int((root / "maxrss-traced.txt").read_text())
    assert traced_kib < untraced_kib * 2 + MAX_EXTRA_RSS_KIB, (traced_kib, untraced_kib)
