"""run_pytest on small projects: outcome mapping, crashes, timeouts, bounded output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner_helpers import tree_hash, write_project
from tracefix.server.runner import collect_test_ids, run_pytest

OUTCOME_FILES = {
    "lib.py": """\
        def add(a, b):
            total = a
            for _ in range(3):
                total += 0
            return total + b
        """,
    "test_kinds.py": """\
        import pytest
        from lib import add

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")

        @pytest.fixture
        def bad_teardown():
            yield 1
            raise ValueError("teardown broke")

        def test_pass():
            assert add(1, 2) == 3

        def test_fail():
            assert add(1, 2) == 4

        def test_fixture_error(broken):
            pass

        def test_teardown_error(bad_teardown):
            pass

        def test_skip():
            pytest.skip("not here")

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert 0

        @pytest.mark.xfail(reason="fixed meanwhile")
        def test_xpass():
            pass
        """,
}


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory, interpreter):
    root = write_project(tmp_path_factory.mktemp("kinds"), OUTCOME_FILES)
    before = tree_hash(root)
    result = run_pytest(str(root), [], interpreter=interpreter, timeout=60, coverage=True)
    return root, before, result


@pytest.mark.parametrize("name, expected", [
    ("test_pass", "passed"),
    ("test_fail", "failed"),
    ("test_fixture_error", "error"),
    ("test_teardown_error", "error"),
    ("test_skip", "skipped"),
    ("test_xfail", "xfailed"),
    ("test_xpass", "xpassed"),
])
def test_outcome_mapping(kinds_run, name, expected):
    _, _, result = kinds_run
    assert result.outcomes[f"test_kinds.py::{name}"].outcome == expected


def test_messages_and_crash_location(kinds_run):
    root, _, result = kinds_run
    fail = result.outcomes["test_kinds.py::test_fail"]
    assert "assert 3 == 4" in fail.message
    assert fail.crash_path == str(root / "test_kinds.py")
    assert fail.crash_line == 17
    assert "RuntimeError: fixture broke" in result.outcomes["test_kinds.py::test_fixture_error"].message
    assert "teardown broke" in result.outcomes["test_kinds.py::test_teardown_error"].message
    assert result.outcomes["test_kinds.py::test_skip"].message == "not here"
    assert result.outcomes["test_kinds.py::test_xfail"].message == "known bug"


def test_coverage_lines_per_test(kinds_run):
    root, _, result = kinds_run
    lines = result.outcomes["test_kinds.py::test_pass"].lines
    lib = str(root / "lib.py")
    assert [line for path, line in lines if path == lib] == [2, 3, 4, 5]
    assert (str(root / "test_kinds.py"), 14) in lines
    skipped = result.outcomes["test_kinds.py::test_skip"].lines
    assert all(path != lib for path, _ in skipped)


def test_run_leaves_workspace_unchanged(kinds_run):
    root, before, result = kinds_run
    assert tree_hash(root) == before
    assert not (root / "__pycache__").exists()
    assert not (root / ".pytest_cache").exists()
    assert not result.run_dir.startswith(str(root))


def test_exit_marks_crashed_and_rest_run_again(tmp_path, interpreter):
    write_project(tmp_path, {"test_exit.py": """\
        import os

        def test_before():
            pass

        def test_exit():
            os._exit(3)

        def test_after():
            pass
        """})
    result = run_pytest(str(tmp_path), [], interpreter=interpreter, timeout=60)
    outcomes = {nodeid.split("::")[1]: o.outcome for nodeid, o in result.outcomes.items()}
    # test_after ran in a second process, after the first one died with test_exit.
    assert outcomes == {"test_before": "passed", "test_exit": "crashed", "test_after": "passed"}
    assert result.exit_code == 3
    assert "exited with code 3" in result.outcomes["test_exit.py::test_exit"].message
    assert not result.timed_out


HANG_FILES = {
    "spin.py": """\
        def spin():
            count = 0
            while True:
                count += 1
        """,
    "test_hang.py": """\
        import time
        from spin import spin

        def test_done():
            pass

        def test_python_loop():
            spin()

        def test_sleep():
            time.sleep(600)

        def test_after():
            pass
        """,
}


@pytest.mark.parametrize("name, stuck_lines", [
    ("test_python_loop", {("spin.py", 3), ("spin.py", 4)}),
    ("test_sleep", {("test_hang.py", 11)}),
])
def test_hang_times_out_with_stuck_at(tmp_path, interpreter, name, stuck_lines):
    write_project(tmp_path, HANG_FILES)
    selectors = ["test_hang.py::test_done", f"test_hang.py::{name}", "test_hang.py::test_after"]
    result = run_pytest(str(tmp_path), selectors, interpreter=interpreter, timeout=4)

    assert result.timed_out
    assert result.duration < 15
    hung = result.outcomes[f"test_hang.py::{name}"]
    assert hung.outcome == "timeout"
    assert result.outcomes["test_hang.py::test_done"].outcome == "passed"
    assert result.outcomes["test_hang.py::test_after"].outcome == "passed"  # run again

    path, _, line = result.stuck_at.rpartition(":")
    assert (os.path.relpath(path, tmp_path), int(line)) in stuck_lines
    assert hung.crash_path == path
    assert "stuck at" in hung.message


def test_child_group_is_killed(tmp_path, interpreter):
    """A process the test started in the background dies with the run."""
    marker = tmp_path / "child.pid"
    write_project(tmp_path, {"test_spawn.py": f"""\
        import subprocess, sys, time

        def test_spawn():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            open({str(marker)!r}, "w").write(str(child.pid))
            time.sleep(600)
        """})
    result = run_pytest(str(tmp_path), [], interpreter=interpreter, timeout=4)
    assert result.timed_out
    pid = int(marker.read_text())
    assert _process_state(pid) in (None, "Z")  # gone, or dead and waiting to be reaped


def _process_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rpartition(")")[2].split()[0]


def test_huge_output_is_bounded(tmp_path, interpreter):
    write_project(tmp_path, {"test_loud.py": """\
        import sys

        def test_loud():
            chunk = "x" * 1023 + "\\n"
            for _ in range(30 * 1024):
                sys.stdout.write(chunk)
            sys.stdout.write("THE END\\n")
            assert False
        """})
    # -s lets the output reach the pipe instead of pytest's capture.
    result = run_pytest(str(tmp_path), [], interpreter=interpreter, timeout=60,
                        env={"PYTEST_ADDOPTS": "-s"})
    assert result.outcomes["test_loud.py::test_loud"].outcome == "failed"
    assert result.output_dropped > 29 * 1024 * 1024
    assert len(result.output) < 512 * 1024
    assert f"dropped {result.output_dropped} bytes" in result.output
    assert "THE END" in result.output


def test_collect_test_ids(tmp_path, interpreter):
    write_project(tmp_path, {"tests/test_few.py": """\
        import pytest

        def test_one():
            pass

        @pytest.mark.parametrize("n", [1, 2])
        def test_many(n):
            pass
        """})
    ids = collect_test_ids(str(tmp_path), "tests/test_few.py", interpreter=interpreter)
    assert ids == [
        "tests/test_few.py::test_one",
        "tests/test_few.py::test_many[1]",
        "tests/test_few.py::test_many[2]",
    ]


def test_collect_error_is_reported(tmp_path, interpreter):
    write_project(tmp_path, {"test_broken.py": "def test_x(:\n    pass\n"})
    with pytest.raises(RuntimeError, match="test_broken.py"):
        collect_test_ids(str(tmp_path), "test_broken.py", interpreter=interpreter)
    result = run_pytest(str(tmp_path), [], interpreter=interpreter, timeout=60)
    assert "SyntaxError" in result.collect_errors["test_broken.py"]
    assert result.outcomes == {}


def test_option_like_selector_rejected(tmp_path, interpreter):
    with pytest.raises(ValueError, match="--lf"):
        run_pytest(str(tmp_path), ["--lf"], interpreter=interpreter, timeout=10)
