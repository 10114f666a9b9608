"""The tracer plugin loads in interpreters with and without tracefix installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner_helpers import write_project
from tracefix.server.runner import Interpreter, run_pytest
from tracefix.server.runner.bootstrap import bootstrap_dir, tracer_package_dir

SAMPLE = {
    "calc.py": """\
        def double(x):
            result = x + x
            return result
        """,
    "test_calc.py": """\
        from calc import double

        def test_good():
            assert double(2) == 4

        def test_bad():
            assert double(2) == 5
        """,
}


def test_bootstrap_folder_links_tracer():
    folder = Path(bootstrap_dir())
    inner = folder / "tracefix" / "tracer"
    assert inner.resolve() == Path(tracer_package_dir()).resolve()
    assert not (folder / "tracefix" / "__init__.py").exists()  # stays a namespace package
    assert bootstrap_dir() == str(folder)  # built once, then reused


def test_interpreter_without_tracefix(tmp_path, venv_without_tracefix):
    python = str(venv_without_tracefix / "bin" / "python")
    probe = subprocess.run([python, "-c", "import tracefix.tracer"], capture_output=True)
    assert probe.returncode != 0, "the test venv must not have tracefix installed"

    root = write_project(tmp_path, SAMPLE)
    result = run_pytest(str(root), [], interpreter=Interpreter(python, "configured"),
                        timeout=60, coverage=True)

    assert {n: o.outcome for n, o in result.outcomes.items()} == {
        "test_calc.py::test_good": "passed",
        "test_calc.py::test_bad": "failed",
    }, result.output
    # Python 3.12 records coverage with sys.monitoring.
    lines = result.outcomes["test_calc.py::test_good"].lines
    assert [line for path, line in lines if path == str(root / "calc.py")] == [2, 3]
    # The second test gets the same lines again because DISABLE was re-armed between tests.
    lines = result.outcomes["test_calc.py::test_bad"].lines
    assert [line for path, line in lines if path == str(root / "calc.py")] == [2, 3]


def test_interpreter_with_tracefix_registers_plugin_once(tmp_path):
    """With tracefix installed, the entry point and `-p` name the same plugin."""
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; "
         "print([e.name for e in m.entry_points(group='pytest11')])"],
        capture_output=True, text=True, check=True,
    )
    assert "tracefix.tracer.pytest_plugin" in probe.stdout

    root = write_project(tmp_path, SAMPLE)
    result = run_pytest(str(root), [], interpreter=Interpreter(sys.executable, "server"),
                        timeout=60)

    assert result.exit_code == 1, result.output
    assert result.outcomes["test_calc.py::test_bad"].outcome == "failed"
    report = Path(result.run_dir, "report.jsonl").read_text().splitlines()
    starts = [json.loads(line) for line in report if '"start"' in line]
    assert len(starts) == 2  # a second ReportWriter would write each event twice


def test_copied_bootstrap_imports_plugin(tmp_path, venv_without_tracefix):
    """The copy used where symlinks fail is importable as well."""
    from tracefix.server.runner.bootstrap import _build

    folder = tmp_path / "copy"
    assert _build(str(folder), tracer_package_dir(), copy=True)
    assert not (folder / "tracefix" / "tracer").is_symlink()

    python = str(venv_without_tracefix / "bin" / "python")
    probe = subprocess.run(
        [python, "-c", "import tracefix.tracer.pytest_plugin as p; print(p.__file__)"],
        capture_output=True, text=True, env={"PYTHONPATH": str(folder)},
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(folder))
