"""Trace every QuixBugs task and check that tracing changes no test outcome.

Usage:
    python benchmarks/quixbugs_trace.py [--tasks gcd,flatten] [--bench DIR] [--show NAME]

For each task, `buggy.py` is copied to `NAME.py` beside `test_NAME.py` in a scratch
folder. All tests run once untraced and then through the runner's `trace_tests` with
every test traced. That function traces a test again, with a short recording window,
when its outcome changed under the tracer. The script then checks that every test has a
reliable trace, renders the inline trace of the first failing
test, and checks that the trace has steps in the program's own file. `--show NAME`
prints that task's inline trace.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tracefix.server.runner import find_interpreter, run_pytest, trace_tests
from tracefix.tracer.inline import render_inline

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = REPO.parent / "shared" / "benchmarks" / "quixbugs"
TIMEOUT = 300.0


def stage_task(bench: Path, name: str, folder: Path) -> None:
    shutil.copy(bench / name / "buggy.py", folder / f"{name}.py")
    shutil.copy(bench / name / f"test_{name}.py", folder / f"test_{name}.py")


def check_task(bench: Path, name: str, show: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"tracefix-{name}-") as scratch:
        root = Path(scratch)
        stage_task(bench, name, root)
        interpreter = find_interpreter(str(root))

        started = time.perf_counter()
        plain = run_pytest(str(root), [], interpreter=interpreter, timeout=TIMEOUT)
        plain_seconds = time.perf_counter() - started

        started = time.perf_counter()
        traced = trace_tests(str(root), list(plain.outcomes), interpreter=interpreter,
                             timeout=TIMEOUT, baseline=plain)
        traced_seconds = time.perf_counter() - started

        # The runner re-traces a test whose outcome changed with a shorter recording; a
        # test differs here only when no trace of it is reliable. A skipped test never
        # runs its body, so it has no trace; its traced outcome is compared instead.
        differing = [
            nodeid for nodeid, outcome in plain.outcomes.items()
            if (outcome.outcome == "skipped" and traced.traced.outcomes[nodeid].outcome != "skipped")
            or (outcome.outcome != "skipped"
                and (nodeid not in traced.traces or not traced.traces[nodeid].reliable))
        ]
        retraced = sum(
            1 for nodeid, outcome in plain.outcomes.items()
            if traced.traced.outcomes.get(nodeid) is None
            or traced.traced.outcomes[nodeid].outcome != outcome.outcome
        )
        failing = plain.failing()
        program = str(root / f"{name}.py")
        inline_ok = False
        budget = None
        if failing and failing[0] in traced.traces:
            trace = traced.traces[failing[0]]
            budget = trace.budget.kind if trace.budget else None
            sources = {f.path: Path(f.path).read_text(encoding="utf-8") for f in trace.files}
            text = render_inline(trace, sources)
            program_index = trace.file_index(program)
            inline_ok = program_index is not None and any(
                step.file == program_index for step in trace.steps
            )
            if show:
                print(f"--- {failing[0]}")
                print(text)

    return {
        "task": name,
        "tests": len(plain.outcomes),
        "failing": len(failing),
        "differing": differing,
        "retraced": retraced,
        "inline_ok": inline_ok,
        "budget": budget,
        "ratio": traced_seconds / plain_seconds if plain_seconds else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH,
                        help="QuixBugs folder (default: ../shared/benchmarks/quixbugs)")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--show", default="", help="print the inline trace of this task")
    args = parser.parse_args(argv)

    names = [n for n in args.tasks.split(",") if n] or sorted(
        p.name for p in args.bench.iterdir() if (p / "buggy.py").is_file()
    )
    rows = [check_task(args.bench, name, show=(name == args.show)) for name in names]

    print("| task | tests | failing | outcomes differ | re-traced | inline trace ok | budget hit "
          "| traced/untraced |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['task']} | {row['tests']} | {row['failing']} | "
              f"{', '.join(row['differing']) or 'none'} | {row['retraced']} | {row['inline_ok']} | "
              f"{row['budget'] or '-'} | {row['ratio']:.2f} |")
    same = sum(1 for row in rows if not row["differing"])
    shown = sum(1 for row in rows if row["inline_ok"])
    with_failure = sum(1 for row in rows if row["failing"])
    print(f"\n{same}/{len(rows)} tasks: every test has the same outcome traced and untraced")
    print(f"{shown}/{with_failure} tasks with a failing test: inline trace has steps in the program")
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
