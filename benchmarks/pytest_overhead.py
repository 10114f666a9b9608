"""Compare a traced pytest run of a small failing test with the untraced run.

Usage:
    python benchmarks/pytest_overhead.py [--repeat 10] [--project examples/moving_average]

Runs three variants of the same pytest invocation, interleaved so that machine noise
hits all of them alike, and prints the median wall time of each and their ratios:
- plain: `python -m pytest TEST` with nothing of tracefix;
- untraced: the runner's run (structured report, watchdog, bootstrap), no recording;
- traced: the same run with the failing test recorded and its trace written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tracefix.server.runner import find_interpreter, run_pytest

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=REPO / "examples" / "moving_average")
    parser.add_argument("--test", default="test_stats.py::test_moving_average_of_four_values")
    parser.add_argument("--repeat", type=int, default=10, help="runs of each variant")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tracefix-overhead-") as scratch:
        root = Path(scratch) / "project"
        shutil.copytree(args.project, root, ignore=shutil.ignore_patterns("__pycache__"))
        interpreter = find_interpreter(str(root))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        timings: dict[str, list[float]] = {"plain": [], "untraced": [], "traced": []}

        for _ in range(args.repeat):
            started = time.perf_counter()
            subprocess.run(
                [interpreter.path, "-m", "pytest", "-q", "-p", "no:cacheprovider", args.test],
                cwd=root, env=env, capture_output=True, check=False,
            )
            timings["plain"].append(time.perf_counter() - started)

            started = time.perf_counter()
            run_pytest(str(root), [args.test], interpreter=interpreter, timeout=120)
            timings["untraced"].append(time.perf_counter() - started)

            started = time.perf_counter()
            run = run_pytest(str(root), [args.test], interpreter=interpreter, timeout=120,
                             trace_dir=str(Path(scratch) / "traces"), trace_only=[args.test])
            timings["traced"].append(time.perf_counter() - started)
            if args.test not in run.traces:
                print(f"no trace was written for {args.test}", file=sys.stderr)
                return 1

    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{args.repeat} runs each, median wall time on {args.project.name}:{args.test}")
    print("| variant | median s | / plain | / untraced |")
    print("|---|---|---|---|")
    for name, median in medians.items():
        print(f"| {name} | {median:.3f} | {median / medians['plain']:.2f} | "
              f"{median / medians['untraced']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
