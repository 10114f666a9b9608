"""`tracefix eval` in a child process: real benchmark tasks, resume, and input errors."""

import json
import os
import subprocess
import sys
import time

import pytest

from benchdata import HUMANEVALFIX, QUIXBUGS

QUIXBUGS_TASKS = ["flatten", "get_factors"]
HUMANEVALFIX_TASKS = ["Python/2", "Python/60"]


def _tracefix_eval(*args, cwd, locale="C.UTF-8", timeout=240):
    env = {**os.environ, "LANG": locale, "LC_ALL": "", "LC_MESSAGES": "", "OMP_NUM_THREADS": "1",
           "XDG_CACHE_HOME": str(cwd / "cache"), "TRACEFIX_API_KEY": ""}
    return subprocess.run([sys.executable, "-m", "tracefix.server.cli", "eval", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def quixbugs_run(tmp_path_factory):
    if not QUIXBUGS.is_dir():
        pytest.skip(f"no QuixBugs tasks at {QUIXBUGS}")
    cwd = tmp_path_factory.mktemp("eval-quixbugs")
    before = {name: _listing(QUIXBUGS / name) for name in QUIXBUGS_TASKS}
    result = _tracefix_eval("--benchmark", "quixbugs", "--tasks", ",".join(QUIXBUGS_TASKS),
                            "--jobs", "2", "--budget", "90", "--out", "out", cwd=cwd)
    return cwd, result, before


def test_quixbugs_builtin_run_reports_fixes(quixbugs_run):
    cwd, result, _ = quixbugs_run
    assert result.returncode == 0, result.stderr
    assert "# Fix-rate evaluation: quixbugs (2 tasks)" in result.stdout
    assert "| built-in engine | 2 | 2 | 2 (100.0%) | 100.0% |" in result.stdout
    assert "| flatten | fixed | yes |" in result.stdout
    assert (cwd / "out" / "report.md").read_text(encoding="utf-8") == result.stdout
    for name in QUIXBUGS_TASKS:
        record = json.loads((cwd / "out" / "tasks" / f"{name}.json").read_text(encoding="utf-8"))
        builtin = record["variants"]["builtin"]
        assert record["complete"] is True
        assert builtin["status"] == "fixed"
        assert builtin["test_failed"] is True
        assert (builtin["n"], builtin["c"]) == (1, 1)
        assert builtin["candidates"] >= builtin["tried"] >= builtin["verified"] == 1
        assert builtin["seconds"] > 0
    summary = json.loads((cwd / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"][0]["pass_at"]["1"] == 1.0


def test_quixbugs_run_leaves_benchmark_untouched(quixbugs_run):
    _, result, before = quixbugs_run
    assert result.returncode == 0, result.stderr
    for name, listing in before.items():
        assert _listing(QUIXBUGS / name) == listing


def test_resume_skips_complete_tasks(quixbugs_run):
    cwd, first, _ = quixbugs_run
    assert first.returncode == 0, first.stderr
    tasks = cwd / "out" / "tasks"
    # Mark flatten's record incomplete, as a crash leaves it: only flatten runs again.
    flatten = tasks / "flatten.json"
    record = json.loads(flatten.read_text(encoding="utf-8"))
    record["complete"] = False
    flatten.write_text(json.dumps(record), encoding="utf-8")
    mtime_before = (tasks / "get_factors.json").stat().st_mtime_ns
    time.sleep(0.01)

    result = _tracefix_eval("--benchmark", "quixbugs", "--tasks", ",".join(QUIXBUGS_TASKS),
                            "--budget", "90", "--out", "out", "--resume", "--locale", "ja",
                            cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "get_factors: 以前の実行で完了済み" in result.stderr
    assert "flatten: 修正済み" in result.stderr
    assert (tasks / "get_factors.json").stat().st_mtime_ns == mtime_before
    assert json.loads(flatten.read_text(encoding="utf-8"))["complete"] is True
    assert "# 修正率の評価: quixbugs (2 タスク)" in result.stdout


def test_humanevalfix_builtin_run(tmp_path):
    if not HUMANEVALFIX.is_dir():
        pytest.skip(f"no HumanEval-Fix tasks at {HUMANEVALFIX}")
    result = _tracefix_eval("--benchmark", "humanevalfix", "--tasks", ",".join(HUMANEVALFIX_TASKS),
                            "--jobs", "2", "--budget", "90", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| Python_2 | fixed | yes |" in result.stdout
    assert "| Python_60 | fixed | yes |" in result.stdout
    record = json.loads((tmp_path / "out" / "tasks" / "Python_60.json").read_text(encoding="utf-8"))
    builtin = record["variants"]["builtin"]
    assert builtin["test_id"] == "test_sum_to_n.py::test_sum_to_n"
    assert "+    return sum(range(n + 1))" in builtin["fix_diff"]


@pytest.mark.parametrize("args,expected", [
    (["--benchmark", "defects4j"], ["'defects4j'", "quixbugs, humanevalfix"]),
    (["--benchmark", "quixbugs", "--bench-dir", "no-such-folder"],
     ["no-such-folder", "--bench-dir", "TRACEFIX_BENCHMARKS"]),
    (["--benchmark", "quixbugs", "--engine", "model"], ["--model", "--endpoint"]),
    (["--benchmark", "quixbugs", "--engine", "gpt"], ["'gpt'", "builtin, model"]),
    (["--benchmark", "quixbugs", "--samples", "5"], ["--samples", "--engine model"]),
    (["--benchmark", "quixbugs", "--k", "1,x"], ["'1,x'", "1,5,10"]),
    (["--benchmark", "quixbugs", "--jobs", "0"], ["--jobs=0", "at least 1"]),
    (["--benchmark", "quixbugs", "--budget", "0"], ["--budget=0"]),
    (["--benchmark", "quixbugs", "--tasks", "gcd,nope"], ["nope", "breadth_first_search"]),
])
def test_invalid_input_exits_2(tmp_path, args, expected):
    if "--bench-dir" not in args and not QUIXBUGS.is_dir():
        pytest.skip(f"no QuixBugs tasks at {QUIXBUGS}")
    result = _tracefix_eval(*args, "--out", "out", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr
    assert not (tmp_path / "out" / "tasks").exists()


def test_unreachable_endpoint_exits_2(tmp_path):
    if not QUIXBUGS.is_dir():
        pytest.skip(f"no QuixBugs tasks at {QUIXBUGS}")
    # Port 9 (discard) on the loopback interface: nothing listens, so the connection is refused.
    result = _tracefix_eval("--benchmark", "quixbugs", "--engine", "model",
                            "--endpoint", "http://127.0.0.1:9/v1", "--samples", "2",
                            "--tasks", "gcd", "--out", "out", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "127.0.0.1:9" in result.stderr
    assert not (tmp_path / "out" / "tasks").exists()


def test_invalid_input_in_japanese(tmp_path):
    result = _tracefix_eval("--benchmark", "quixbugs", "--engine", "model", "--out", "out",
                            cwd=tmp_path, locale="ja_JP.UTF-8", timeout=60)
    assert result.returncode == 2
    assert "モデルが必要です" in result.stderr
