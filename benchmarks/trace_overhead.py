"""Measure what recording a trace costs: wall time, trace size and peak memory.

Runs each configuration in its own child process, side by side in one run:

    python benchmarks/trace_overhead.py [--n 1000] [--repeat 3]

The workload is a nested loop whose body runs n*n times (1,000,000 by default),
called from a project file under a temporary root, once untraced and once under each
tracefix backend the interpreter supports; `snoop` runs on the same function where it
is installed (see benchmarks/requirements.txt). Interpreters: the one running this
script plus ~/.pyenv/versions/3.12*/3.13* when present; tracefix is put on their path
through a temporary `tracefix/tracer` symlink, so they need nothing installed.

Reported per row: median wall time of the call, the ratio to the untraced median of the
same interpreter, the trace file size, and the extra peak RSS over the untraced child.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

TRACER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tracer")

WORKLOAD = textwrap.dedent("""\
    def nested(n):
        total = 0
        for i in range(n):
            for j in range(n):
                total += i * j
        return total


    def appending(n):
        out = []
        for i in range(n):
            out.append(i % 7)
        return len(out)
""")

# Runs in the child: one configuration, prints one JSON line.
CHILD = textwrap.dedent("""\
    import json, os, resource, sys, time
    root, mode, n, func_name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sys.path.insert(0, root)
    import work
    func = getattr(work, func_name)
    result = {"mode": mode}
    if mode == "untraced":
        start = time.perf_counter(); func(n); result["seconds"] = time.perf_counter() - start
    elif mode == "snoop":
        import snoop
        out = os.path.join(root, "snoop.txt")
        traced = snoop.Config(out=out, color=False).snoop(func)
        start = time.perf_counter(); traced(n); result["seconds"] = time.perf_counter() - start
        result["bytes"] = os.path.getsize(out)
    else:
        from tracefix.tracer import Recording, TraceConfig, write_trace
        # Budgets raised so that the whole loop is recorded, not the first 1,000,000
        # line events that the default max_events allows.
        recording = Recording(TraceConfig(root=root, backend=mode, max_events=10**9,
                                          max_seconds=3600.0))
        start = time.perf_counter()
        recording.start()
        func(n)
        recording.stop()
        result["seconds"] = time.perf_counter() - start
        trace = recording.trace("bench")
        path = os.path.join(root, "trace.json")
        write_trace(trace, path)
        result["bytes"] = os.path.getsize(path)
        result["budget"] = trace.budget.kind if trace.budget else None
        result["steps"] = [len(trace.steps), trace.total_steps]
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))
""")


def interpreters() -> list[str]:
    found = [sys.executable]
    home = os.path.expanduser("~/.pyenv/versions")
    for pattern in ("3.12*", "3.13*"):
        found.extend(sorted(glob.glob(os.path.join(home, pattern, "bin", "python"))))
    return found


def version_of(python: str) -> tuple[int, int]:
    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def has_module(python: str, name: str) -> bool:
    return subprocess.run([python, "-c", f"import {name}"], capture_output=True).returncode == 0


def run_child(python: str, root: str, mode: str, n: int, func: str, path_dir: str) -> dict:
    env = dict(os.environ, PYTHONPATH=path_dir, OMP_NUM_THREADS="1")
    done = subprocess.run([python, os.path.join(root, "child.py"), root, mode, str(n), func],
                          capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{python} {mode} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="loop size: the body runs n*n times")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (median)")
    parser.add_argument("--no-snoop", action="store_true", help="skip snoop (slow: minutes)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tracefix-bench-") as tmp:
        root = os.path.join(tmp, "project")
        path_dir = os.path.join(tmp, "path")
        os.makedirs(root)
        os.makedirs(os.path.join(path_dir, "tracefix"))
        os.symlink(TRACER_DIR, os.path.join(path_dir, "tracefix", "tracer"))
        with open(os.path.join(root, "work.py"), "w") as f:
            f.write(WORKLOAD)
        with open(os.path.join(root, "child.py"), "w") as f:
            f.write(CHILD)

        # The command line heads the table, so a pasted table shows how it was made.
        print("$ python " + " ".join([os.path.relpath(__file__)] + sys.argv[1:]))
        header = (f"{'python':<8} {'workload':<10} {'mode':<11} {'seconds':>8} {'ratio':>7} "
                  f"{'trace bytes':>12} {'extra RSS MB':>12}")
        print(header)
        print("-" * len(header))
        for python in interpreters():
            version = version_of(python)
            modes = ["untraced", "settrace"]
            if version >= (3, 12):
                modes.append("monitoring")
            if not args.no_snoop and has_module(python, "snoop"):
                modes.append("snoop")
            for func, n in (("nested", args.n), ("appending", args.n * args.n)):
                baseline = None
                base_rss = 0
                for mode in modes:
                    if mode == "snoop" and func != "nested":
                        continue
                    repeat = 1 if mode == "snoop" else args.repeat
                    runs = [run_child(python, root, mode, n, func, path_dir) for _ in range(repeat)]
                    seconds = statistics.median(r["seconds"] for r in runs)
                    rss = max(r["maxrss_kb"] for r in runs)
                    if mode == "untraced":
                        baseline, base_rss = seconds, rss
                    ratio = seconds / baseline if baseline else float("nan")
                    size = runs[0].get("bytes", "")
                    extra = (rss - base_rss) / 1024 if mode != "untraced" else 0.0
                    budget = runs[0].get("budget")
                    note = f"  (budget: {budget})" if budget else ""
                    print(f"{'.'.join(map(str, version)):<8} {func:<10} {mode:<11} {seconds:>8.3f} "
                          f"{ratio:>6.1f}x {size!s:>12} {extra:>12.1f}{note}", flush=True)


if __name__ == "__main__":
    main()
