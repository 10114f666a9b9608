"""`tracefix snapshot` prints the state at the failure, as text or JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)


def tracefix(project, *args):
    return subprocess.run([sys.executable, "-m", "tracefix.server.cli", "--root", str(project), *args],
                          capture_output=True, text=True, timeout=100)


def test_snapshot_text(project):
    result = tracefix(project, "--locale", "en", "snapshot", "test_calc.py::test_deep")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("## State at the failure of test_calc.py::test_deep (debugpy, ")
    assert "ValueError: invalid literal for int() with base 10: 'x'" in lines[1]
    # A list shown whole by its value gets no rows for its items.
    assert "# parse (calc.py:22): parts=['1', 'x']; text='1,x'" in lines

    japanese = tracefix(project, "--locale", "ja", "snapshot", "test_calc.py::test_deep")
    assert japanese.returncode == 0, japanese.stderr
    assert japanese.stdout.splitlines()[1].startswith("# 失敗時の状態（デバッガーで読み取り）: ValueError: ")


def test_snapshot_json_of_first_failing_test(project):
    result = tracefix(project, "snapshot", "test_calc.py", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["test_id"] == "test_calc.py::test_total"
    assert data["frames"][0]["line"] == 7


def test_snapshot_of_unknown_test_is_an_error(project):
    result = tracefix(project, "snapshot", "test_calc.py::test_nope")

    assert result.returncode == 2
    assert "test_nope" in result.stderr
