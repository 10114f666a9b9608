"""The pytest plugin in real pytest child processes: outcomes, trace files, failures."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracefix.tracer import read_trace
from tracefix.tracer.pytest_trace import trace_file_name
from tracer_helpers import QUIXBUGS

# `-rA` summary lines; SKIPPED lines name a file and line instead of a node id.
OUTCOME_LINE = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)", re.M)

# Recursion errors, generators, graph objects, heapq, and plain passing programs.
# The slow test covers the other tasks, including infinite loops that the tests'
# timeout stops (sqrt, next_permutation), which take seconds each.
REPRESENTATIVE = ["gcd", "flatten", "kheapsort", "breadth_first_search", "subsequences",
                  "shunting_yard", "quicksort", "powerset", "max_sublist_sum"]


def run_pytest(folder: Path, *options: str) -> dict[str, str]:
    """Run pytest in `folder`; return {nodeid: outcome word} from its summary."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "-p", "tracefix.tracer.pytest_plugin", *options],
        cwd=folder, capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "tracefix:" not in done.stderr, done.stderr
    return {nodeid: word for word, nodeid in OUTCOME_LINE.findall(done.stdout)}


def quixbugs_project(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(QUIXBUGS / name / "buggy.py", folder / f"{name}.py")
    shutil.copy(QUIXBUGS / name / f"test_{name}.py", folder / f"test_{name}.py")
    return folder


def check_traced_equals_untraced(name: str, tmp_path: Path, *options: str) -> None:
    folder = quixbugs_project(name, tmp_path)
    trace_dir = tmp_path / f"{name}-traces"

    untraced = run_pytest(folder)
    traced = run_pytest(folder, "--tracefix-trace-dir", str(trace_dir), *options)

    assert untraced, f"no outcomes parsed for {name}"
    assert traced == untraced
    index = [json.loads(line) for line in (trace_dir / "index.jsonl").read_text().splitlines()]
    # Tests skipped in their call phase are traced too but not named by `-rA`.
    assert set(untraced) <= {entry["nodeid"] for entry in index}
    words = {"PASSED": "passed", "FAILED": "failed"}
    for entry in index:
        assert entry["file"] == trace_file_name(entry["nodeid"])
        trace = read_trace(str(trace_dir / entry["file"]))
        assert trace.test_id == entry["nodeid"]
        if entry["nodeid"] not in untraced:
            assert trace.outcome == "skipped"
            continue
        assert trace.outcome == words[untraced[entry["nodeid"]]]
        assert trace.total_steps > 0
        if trace.outcome == "failed":
            assert trace.failure is not None
            assert trace.failure.file is not None and trace.failure.file.startswith(str(folder))


@pytest.mark.skipif(not QUIXBUGS.is_dir(), reason="QuixBugs tasks are not staged here")
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_quixbugs_traced_outcomes_unchanged(name, tmp_path):
    check_traced_equals_untraced(name, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not QUIXBUGS.is_dir(), reason="QuixBugs tasks are not staged here")
def test_all_quixbugs_traced_outcomes_unchanged(tmp_path):
    names = sorted(p.name for p in QUIXBUGS.iterdir() if (p / "buggy.py").is_file())
    for name in names:
        if name not in REPRESENTATIVE:
            # The QuixBugs tests fail themselves after 2 s of wall time. Recording
            # slows code down 20-60 times, so a test that takes 0.04 s untraced
            # (longest_common_subsequence case10) would hit that timeout; the
            # seconds budget stops recording first and the rest runs untraced.
            check_traced_equals_untraced(name, tmp_path, "--tracefix-max-seconds", "1")


PROJECT = {
    "calc.py": """\
        def add(a, b):
            return a + b + 1


        def parse(text):
            number = int(text)
            return number
        """,
    "test_calc.py": """\
        import os

        from calc import add, parse


        def test_assert_names():
            result = add(1, 2)
            expected = 3
            assert result == expected


        def test_exception_in_project():
            parse("x1")


        def test_passes_after_chdir(tmp_path):
            os.chdir(tmp_path)
            assert add(0, 0) == 1


        def test_loop_over_budget():
            total = 0
            for i in range(300):
                total = add(total, i)
            assert total == 45150
        """,
}


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    for name, text in PROJECT.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def load(trace_dir: Path, nodeid: str):
    return read_trace(str(trace_dir / trace_file_name(nodeid)))


def test_assertion_failure_details(project, tmp_path):
    trace_dir = tmp_path / "traces"
    outcomes = run_pytest(project, "--tracefix-trace-dir", str(trace_dir))

    assert outcomes["test_calc.py::test_assert_names"] == "FAILED"
    failure = load(trace_dir, "test_calc.py::test_assert_names").failure
    assert failure.exc_type == "AssertionError"
    assert (failure.file, failure.line) == (str(project / "test_calc.py"), 9)
    assert failure.assertion == {"expr": "result == expected", "op": "==",
                                 "left": "4", "right": "3"}
    assert failure.message.startswith("assert 4 == 3")
    assert [e.in_project for e in failure.traceback][-1] is True


def test_exception_failure_points_at_deepest_project_line(project, tmp_path):
    trace_dir = tmp_path / "traces"
    run_pytest(project, "--tracefix-trace-dir", str(trace_dir))

    trace = load(trace_dir, "test_calc.py::test_exception_in_project")
    assert trace.failure.exc_type == "ValueError"
    assert (trace.failure.file, trace.failure.line) == (str(project / "calc.py"), 6)
    assert trace.failure.assertion is None
    parse_frame = next(f for f in trace.frames if f.function == "parse")
    assert parse_frame.args == {"text": "'x1'"}
    assert parse_frame.raised.startswith("ValueError: invalid literal")


def test_relative_trace_dir_survives_chdir(project):
    outcomes = run_pytest(project, "--tracefix-trace-dir", "traces")

    assert outcomes["test_calc.py::test_passes_after_chdir"] == "PASSED"
    trace = load(project / "traces", "test_calc.py::test_passes_after_chdir")
    assert trace.outcome == "passed"
    assert trace.root == str(project)


def test_budget_keeps_outcomes(project, tmp_path):
    trace_dir = tmp_path / "traces"
    untraced = run_pytest(project)
    traced = run_pytest(project, "--tracefix-trace-dir", str(trace_dir),
                        "--tracefix-max-events", "100")

    assert traced == untraced
    trace = load(trace_dir, "test_calc.py::test_loop_over_budget")
    assert trace.outcome == "passed"
    assert trace.budget.kind == "events"
    assert trace.total_steps == 100


def test_trace_only_selects_tests(project, tmp_path):
    trace_dir = tmp_path / "traces"
    run_pytest(project, "--tracefix-trace-dir", str(trace_dir),
               "--tracefix-trace-only", "test_calc.py::test_assert_names")

    index = (trace_dir / "index.jsonl").read_text().splitlines()
    assert [json.loads(line)["nodeid"] for line in index] == ["test_calc.py::test_assert_names"]


def test_inline_trace_hides_assertion_temporaries(project, tmp_path):
    from tracefix.tracer.inline import render_inline

    trace_dir = tmp_path / "traces"
    run_pytest(project, "--tracefix-trace-dir", str(trace_dir))
    trace = load(trace_dir, "test_calc.py::test_assert_names")
    sources = {f.path: Path(f.path).read_text() for f in trace.files}
    text = render_inline(trace, sources)

    assert "@py_assert" not in text
    assert "@py_format" not in text
    # pytest's assertion message spans several lines; each must stay inside its comment.
    test_source = (project / "test_calc.py").read_text().splitlines()
    for line in text.splitlines():
        code = line.split("  # ", 1)[0]
        assert not code or code.startswith("#") or code in test_source + (
            project / "calc.py").read_text().splitlines(), line
