"""Both backends on every interpreter found, in child processes, give the same trace.

The child imports tracefix.tracer through a symlink on PYTHONPATH and drives the
recorder directly, so the 3.10, 3.12 and 3.13 interpreters need nothing installed.
"""

import sys

import pytest

from tracer_helpers import SAMPLES, interpreter, run_child

# Records each sample call and prints what must not depend on the backend.
DRIVER = f"""
import json, sys
from tracefix.tracer import Recording, TraceConfig
from tracer_samples import algos
calls = [(algos.gcd, (35, 21)), (algos.bitcount, (127,)), (algos.collect, (4,)),
         (algos.loop, (50,)), (algos.fails, ({{}},)), (algos.catches, ()),
         (algos.mutate, ([1, 2, 3], {{}})), (algos.factorial, (5,)), (algos.nan_loop, ())]
recording = Recording(TraceConfig(root={str(SAMPLES)!r}, backend=sys.argv[1]))
recording.start()
for func, args in calls:
    try:
        func(*args)
    except KeyError:
        pass
recording.stop()
trace = recording.trace("backends")
print(json.dumps({{
    "backend": trace.backend,
    "steps": [[s.index, s.line, s.values] for s in trace.steps],
    "frames": [[f.function, f.depth, f.args, f.returned, f.raised] for f in trace.frames],
    "lines": [[l.line, l.hits, l.omitted] for l in trace.lines],
    "budget": trace.budget.kind if trace.budget else None,
    "notes": trace.notes,
}}))
"""


@pytest.fixture(scope="module")
def reference(tracer_path):
    """The trace from this interpreter's settrace backend."""
    return run_child(sys.executable, DRIVER, tracer_path, "settrace")


CASES = [("3.10", "settrace"), ("3.12", "settrace"), ("3.12", "monitoring"), ("3.13", "settrace"), ("3.13", "monitoring")]


@pytest.mark.parametrize("version,backend", CASES, ids=[f"{v}-{b}" for v, b in CASES])
def test_backend_matches_reference(version, backend, reference, tracer_path):
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed under ~/.pyenv/versions")

    result = run_child(python, DRIVER, tracer_path, backend)

    assert result["backend"] == backend
    assert result["notes"] == []
    assert result["budget"] is None
    assert result["frames"] == reference["frames"]
    assert result["lines"] == reference["lines"]
    assert result["steps"] == reference["steps"]


def test_reference_has_expected_shape(reference):
    # Guards the comparison above against an empty or truncated reference.
    assert reference["backend"] == "settrace"
    # gcd 4, bitcount 1, collect and squares 2, loop, fails, catches, mutate 1 each,
    # factorial 5, nan_loop 1.
    assert len(reference["frames"]) == 17
    assert any(values.get("__yield__") == "9" for _i, _line, values in reference["steps"])


def test_monitoring_tool_id_is_released(tracer_path):
    python = interpreter("3.12") or interpreter("3.13")
    if python is None:
        pytest.skip("no Python 3.12+ under ~/.pyenv/versions")
    script = f"""
import json, sys
from tracefix.tracer import Recording, TraceConfig
sys.monitoring.use_tool_id(3, "other tool")
recording = Recording(TraceConfig(root={str(SAMPLES)!r}, backend="monitoring")).start()
used = [t for t in range(6) if sys.monitoring.get_tool(t) == "tracefix"]
recording.stop()
print(json.dumps({{"used": used, "after": [sys.monitoring.get_tool(t) for t in range(6)]}}))
"""
    result = run_child(python, script, tracer_path)

    assert result["used"] == [4]  # 3 was taken by the other tool
    assert result["after"] == [None, None, None, "other tool", None, None]
