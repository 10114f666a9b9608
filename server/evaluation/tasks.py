"""Benchmark tasks as small scratch projects: a buggy program beside a failing pytest file.

Two layouts are understood:

- "quixbugs": one folder per task, `NAME/buggy.py` and `NAME/test_NAME.py`. The task
  project is `NAME.py` (the buggy program) beside `test_NAME.py`.
- "humanevalfix": a folder with `*.jsonl` files (or one such file), one task per line
  with `task_id`, `prompt`, `buggy_solution`, `test` and `entry_point`. The task project
  is `ENTRY.py` = `prompt + buggy_solution` and `test_ENTRY.py`, which imports it,
  contains the task's `test` code and calls `check(ENTRY)` in one pytest test.

Only those inputs are read into a task. The reference fixes that the benchmarks ship
(`fixed.py`, `fixed_min.py`, `fix.diff`, the `canonical_solution` field) are never
copied into a task: the engine must not see them, and the harness scores a task by its
own tests, which the sandbox validation already runs.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = ("quixbugs", "humanevalfix")
BENCHMARKS_ENV = "TRACEFIX_BENCHMARKS"
# Per-test time limit written into HumanEval-Fix test files. A buggy solution that loops
# forever then fails with a TimeoutError that has a trace, instead of running into the
# runner's much longer watchdog. QuixBugs test files carry their own limit (2 s).
HUMANEVALFIX_TEST_TIMEOUT_S = 5.0
# The fields of a HumanEval-Fix line that a task is built from; the other fields,
# `canonical_solution` among them, are dropped as soon as the line is parsed.
_HUMANEVALFIX_FIELDS = ("task_id", "prompt", "buggy_solution", "test", "entry_point")


class TaskError(ValueError):
    """A benchmark folder or task line that cannot be turned into tasks.

    `key` and `fields` name a message of the `eval.` catalog, so the CLI can show the
    error in the user's locale.
    """

    def __init__(self, key: str, **fields: object) -> None:
        self.key = key
        self.fields = fields
        super().__init__(f"{key}: {fields}")


@dataclass(frozen=True)
class Task:
    """One benchmark task: the files of its scratch project and which file is the test."""

    name: str  # unique within the benchmark, usable as a file name
    benchmark: str
    files: dict[str, str]  # relative path -> text of every file of the scratch project
    test_file: str  # relative path of the pytest file to explain
    program_file: str  # relative path of the program under repair

    def write(self, root: str | os.PathLike) -> None:
        """Write the task's files into the existing folder `root`."""
        for relpath, text in self.files.items():
            path = Path(root, relpath)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def repo_root() -> Path:
    """Return the checkout that contains this package (meaningful for an editable install)."""
    return Path(__file__).resolve().parents[2]


def default_bench_dir(benchmark: str) -> Path:
    """Return `$TRACEFIX_BENCHMARKS/<benchmark>`, else `../shared/benchmarks/<benchmark>`."""
    base = os.environ.get(BENCHMARKS_ENV)
    if base:
        return Path(base) / benchmark
    return repo_root().parent / "shared" / "benchmarks" / benchmark


def load_tasks(benchmark: str, bench_dir: str | os.PathLike) -> list[Task]:
    """Load every task of `benchmark` from `bench_dir`, in a stable order.

    Raises TaskError when the folder is missing, contains no task, or a task is malformed.
    """
    if benchmark not in BENCHMARKS:
        raise TaskError("eval.error.unknown_benchmark", benchmark=benchmark,
                        choices=", ".join(BENCHMARKS))
    path = Path(bench_dir)
    if not path.exists():
        raise TaskError("eval.error.bench_dir_missing", path=str(path), benchmark=benchmark,
                        env=BENCHMARKS_ENV)
    tasks = load_quixbugs(path) if benchmark == "quixbugs" else load_humanevalfix(path)
    if not tasks:
        raise TaskError(f"eval.error.no_tasks.{benchmark}", path=str(path))
    return tasks


def load_quixbugs(bench_dir: Path) -> list[Task]:
    """Read every `NAME/buggy.py` + `NAME/test_NAME.py` folder; other folders are skipped."""
    if not bench_dir.is_dir():
        return []
    tasks = []
    for folder in sorted(p for p in bench_dir.iterdir() if p.is_dir()):
        name = folder.name
        buggy = folder / "buggy.py"
        test = folder / f"test_{name}.py"
        if not (buggy.is_file() and test.is_file()):
            continue
        files = {f"{name}.py": _read(buggy), test.name: _read(test)}
        tasks.append(Task(name=name, benchmark="quixbugs", files=files, test_file=test.name,
                          program_file=f"{name}.py"))
    return tasks


def load_humanevalfix(bench_dir: Path) -> list[Task]:
    """Read every task line of the `*.jsonl` files in `bench_dir` (or of that one file)."""
    if bench_dir.is_file():
        sources = [bench_dir]
    else:
        sources = sorted(bench_dir.glob("*.jsonl"))
    tasks = []
    for source in sources:
        with open(source, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    tasks.append(_humanevalfix_task(_parse_line(line, source, number),
                                                    source, number))
    return sorted(tasks, key=lambda t: _natural_key(t.name))


def _parse_line(line: str, source: Path, number: int) -> dict[str, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TaskError("eval.error.bad_task_line", path=str(source), line=number,
                        detail=str(exc)) from exc
    if not isinstance(record, dict):
        raise TaskError("eval.error.bad_task_line", path=str(source), line=number,
                        detail="not a JSON object")
    missing = [name for name in _HUMANEVALFIX_FIELDS if not isinstance(record.get(name), str)]
    if missing:
        raise TaskError("eval.error.bad_task_line", path=str(source), line=number,
                        detail="missing text fields: " + ", ".join(missing))
    # Keep only the fields a task needs; `canonical_solution` goes no further than here.
    return {name: record[name] for name in _HUMANEVALFIX_FIELDS}


def _humanevalfix_task(record: dict[str, str], source: Path, number: int) -> Task:
    entry = record["entry_point"]
    if not entry.isidentifier():
        raise TaskError("eval.error.bad_task_line", path=str(source), line=number,
                        detail=f"entry_point {entry!r} is not a Python name")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", record["task_id"])
    program = record["prompt"] + record["buggy_solution"]
    try:
        test = humanevalfix_test_file(record["test"], entry, record["task_id"])
    except SyntaxError as exc:
        raise TaskError("eval.error.bad_task_line", path=str(source), line=number,
                        detail=f"the test field does not parse: {exc}") from exc
    files = {f"{entry}.py": program, f"test_{entry}.py": test}
    return Task(name=name, benchmark="humanevalfix", files=files, test_file=f"test_{entry}.py",
                program_file=f"{entry}.py")


def humanevalfix_test_file(test_code: str, entry_point: str, task_id: str) -> str:
    """Turn a HumanEval-Fix `test` field into a pytest file for the module `entry_point`.

    The field defines `check(candidate)` and ends with a module-level `check(ENTRY)` call.
    That call is removed, because at module level it would fail at collection instead
    of inside a test, and `check(ENTRY)` runs in the test function instead.
    """
    body = _drop_top_level_check_calls(test_code).strip("\n")
    return _HUMANEVALFIX_TEMPLATE.format(task_id=task_id, entry=entry_point, body=body,
                                         timeout=HUMANEVALFIX_TEST_TIMEOUT_S)


def _drop_top_level_check_calls(code: str) -> str:
    """Remove the module-level `check(...)` statements, keeping every other line as written."""
    lines = code.splitlines(keepends=True)
    tree = ast.parse(code)
    drop: set[int] = set()
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "check"):
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return "".join(line for i, line in enumerate(lines) if i not in drop)


# The star import brings in the program's helpers and imports (e.g. `poly` and `math`
# in Python/32), which HumanEval's own harness provides by running the test code in the
# program's namespace.
_HUMANEVALFIX_TEMPLATE = '''\
# HumanEval-Fix task {task_id}: the task's test code, run by one pytest test.
import signal
import threading

import pytest

from {entry} import *  # noqa: F401,F403
from {entry} import {entry}

_TIMEOUT = {timeout}


@pytest.fixture(autouse=True)
def _per_test_timeout():
    """Fail a test that runs longer than _TIMEOUT seconds (POSIX main thread only)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _on_alarm(signum, frame):
        raise TimeoutError("test exceeded %.1f s, probably an endless loop" % _TIMEOUT)

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, _TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


{body}


def test_{entry}():
    check({entry})
'''


def select_tasks(tasks: list[Task], names: list[str]) -> list[Task]:
    """Keep the tasks named in `names` (task names, or HumanEval task ids like Python/0).

    Raises TaskError naming the unknown names.
    """
    wanted = {re.sub(r"[^A-Za-z0-9_.-]", "_", n.strip()) for n in names if n.strip()}
    if not wanted:
        return tasks
    known = {t.name for t in tasks}
    unknown = sorted(wanted - known, key=_natural_key)
    if unknown:
        sample = ", ".join(t.name for t in tasks[:3])
        raise TaskError("eval.error.unknown_tasks", names=", ".join(unknown),
                        benchmark=tasks[0].benchmark if tasks else "?", sample=sample)
    return [t for t in tasks if t.name in wanted]


def _natural_key(name: str) -> list:
    """Sort `Python_10` after `Python_9`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
