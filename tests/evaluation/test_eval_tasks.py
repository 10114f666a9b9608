"""Benchmark tasks become scratch projects without any reference fix."""

import json
import os
import sys
import threading
from pathlib import Path

import pytest

from benchdata import HUMANEVALFIX, QUIXBUGS
from eval_helpers import REFERENCE_MARKER, write_tiny_benchmark
from tracefix.server.evaluation import tasks as tasks_module
from tracefix.server.evaluation.tasks import (TaskError, default_bench_dir, load_tasks,
                                              select_tasks)

needs_quixbugs = pytest.mark.skipif(not QUIXBUGS.is_dir(), reason=f"no QuixBugs tasks at {QUIXBUGS}")
needs_humanevalfix = pytest.mark.skipif(not HUMANEVALFIX.is_dir(),
                                        reason=f"no HumanEval-Fix tasks at {HUMANEVALFIX}")

# Files the harness opens while loading tasks, recorded by an audit hook that stays
# installed (audit hooks cannot be removed) but records only while `_recording` is set.
_opened: list[str] = []
_recording = threading.Event()


def _audit(event, args):
    if event == "open" and _recording.is_set() and isinstance(args[0], (str, os.PathLike)):
        _opened.append(os.fspath(args[0]))


sys.addaudithook(_audit)


def _load_recording_opens(benchmark, folder):
    _opened.clear()
    _recording.set()
    try:
        return load_tasks(benchmark, folder), list(_opened)
    finally:
        _recording.clear()


@needs_quixbugs
def test_quixbugs_tasks_hold_buggy_program_only():
    tasks, opened = _load_recording_opens("quixbugs", QUIXBUGS)
    assert len(tasks) == 30
    for task in tasks:
        folder = QUIXBUGS / task.name
        assert sorted(task.files) == sorted([f"{task.name}.py", f"test_{task.name}.py"])
        assert task.files[task.program_file] == (folder / "buggy.py").read_text(encoding="utf-8")
        assert task.files[task.program_file] != (folder / "fixed_min.py").read_text(encoding="utf-8")
        assert task.test_file == f"test_{task.name}.py"
    read_names = {Path(path).name for path in opened}
    assert "buggy.py" in read_names  # the hook records the loader's reads
    assert not read_names & {"fixed.py", "fixed_min.py", "fix.diff"}


@needs_humanevalfix
def test_humanevalfix_tasks_hold_no_canonical_solution(tmp_path):
    tasks = load_tasks("humanevalfix", HUMANEVALFIX)
    lines = [json.loads(line) for line in
             (HUMANEVALFIX / "humanevalfix_python.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(tasks) == len(lines) == 82
    by_name = {t.name: t for t in tasks}
    for line in lines:
        task = by_name[line["task_id"].replace("/", "_")]
        entry = line["entry_point"]
        assert sorted(task.files) == sorted([f"{entry}.py", f"test_{entry}.py"])
        program = task.files[task.program_file]
        assert program == line["prompt"] + line["buggy_solution"]
        assert program != line["prompt"] + line["canonical_solution"]
        if line["canonical_solution"] not in line["buggy_solution"]:
            for text in task.files.values():
                assert line["canonical_solution"] not in text, task.name
        compile(task.files[task.test_file], task.test_file, "exec")


@needs_humanevalfix
def test_humanevalfix_test_file_calls_check_in_test():
    task = select_tasks(load_tasks("humanevalfix", HUMANEVALFIX), ["Python/32"])[0]
    test = task.files[task.test_file]
    assert "from find_zero import *" in test
    assert "def test_find_zero():\n    check(find_zero)\n" in test
    # The module-level call of the original test code is gone.
    assert "\ncheck(find_zero)" not in test


def test_scratch_project_has_task_files_only(tmp_path):
    bench = write_tiny_benchmark(tmp_path / "bench")
    tasks = load_tasks("quixbugs", bench)
    assert [t.name for t in tasks] == ["absolute", "clamp"]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    tasks[1].write(scratch)
    assert sorted(p.name for p in scratch.iterdir()) == ["clamp.py", "test_clamp.py"]
    for path in scratch.iterdir():
        assert REFERENCE_MARKER not in path.read_text(encoding="utf-8")


def test_task_selection_by_id_and_unknown(tmp_path):
    tasks = load_tasks("quixbugs", write_tiny_benchmark(tmp_path / "bench"))
    assert [t.name for t in select_tasks(tasks, ["clamp"])] == ["clamp"]
    assert len(select_tasks(tasks, [])) == 2
    assert len(select_tasks(tasks, [""])) == 2  # what `--tasks ""`.split(",") gives
    with pytest.raises(TaskError) as caught:
        select_tasks(tasks, ["clamp", "nope"])
    assert caught.value.key == "eval.error.unknown_tasks"
    assert caught.value.fields["names"] == "nope"


def test_missing_or_empty_bench_dir(tmp_path):
    with pytest.raises(TaskError) as missing:
        load_tasks("quixbugs", tmp_path / "absent")
    assert missing.value.key == "eval.error.bench_dir_missing"
    with pytest.raises(TaskError) as empty:
        load_tasks("humanevalfix", tmp_path)
    assert empty.value.key == "eval.error.no_tasks.humanevalfix"
    with pytest.raises(TaskError) as unknown:
        load_tasks("defects4j", tmp_path)
    assert unknown.value.key == "eval.error.unknown_benchmark"


def test_humanevalfix_bad_line_names_line(tmp_path):
    good = {"task_id": "Python/1", "prompt": "def f(x):\n", "buggy_solution": "    return x\n",
            "canonical_solution": "    return x + 1\n", "entry_point": "f",
            "test": "def check(f):\n    assert f(1) == 2\n\ncheck(f)\n"}
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"task_id": "Python/2"}) + "\n",
                    encoding="utf-8")
    with pytest.raises(TaskError) as caught:
        load_tasks("humanevalfix", path)
    assert caught.value.fields["line"] == 2
    assert "prompt" in caught.value.fields["detail"]


def test_bench_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACEFIX_BENCHMARKS", str(tmp_path))
    assert default_bench_dir("quixbugs") == tmp_path / "quixbugs"
    monkeypatch.delenv("TRACEFIX_BENCHMARKS")
    expected = tasks_module.repo_root().parent / "shared" / "benchmarks" / "humanevalfix"
    assert default_bench_dir("humanevalfix") == expected
