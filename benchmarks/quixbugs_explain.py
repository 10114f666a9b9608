"""Run `tracefix explain` over the QuixBugs tasks and report localization and fix rates.

Usage:
    python benchmarks/quixbugs_explain.py [--tasks gcd,flatten] [--time-limit 120]
        [--out benchmarks/results] [--bench ../shared/benchmarks/quixbugs]

For each task, `buggy.py` is copied to `NAME.py` beside `test_NAME.py` in a scratch
folder and the explain pipeline runs on the test file. The reference files (`fix.diff`,
`fixed_min.py`) are read only afterwards, to score the result; the engine never sees them.

Reported per task:
- top3: a line the reference patch changes is among the three most suspicious lines.
  For a patch that only inserts lines, the lines right before and after the insertion
  count as the faulty lines.
- verified: the engine returned at least one verified fix.
- matches: the top verified fix matches the reference behaviour, meaning that its file
  parses to the same AST as `fixed_min.py` ("ast-equal"), or else that, on extra inputs
  made by perturbing the task's test inputs (see `_perturb`), it returns the same value
  as `fixed_min.py` wherever both return within one second ("same-outputs").
  Graph tasks have no input list to perturb, so for them "tests-only" is the best
  behavioural level: the task's own tests pass, and nothing else is checked.

The per-task time limit is enforced between pipeline steps (it bounds the validation
budget), so a task can overrun it by at most one pytest run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from tracefix.server.engine import ExplainError, ExplainSettings, ValidationSettings, explain_failure

DEFAULT_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             os.pardir, "shared", "benchmarks", "quixbugs")
EXTRA_INPUTS = 30

# Run inside a child process with the program folder first on sys.path: calls the entry
# point on each input (deep-copied), one second per call, and prints the results as JSON.
_PROBE = r"""
import copy, json, signal, sys, types
sys.path.insert(0, sys.argv[1])
module = __import__(sys.argv[2])
entry = getattr(module, sys.argv[2])
inputs = json.loads(sys.stdin.read())

def alarm(signum, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
results = []
for args in inputs:
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        value = entry(*copy.deepcopy(args))
        if isinstance(value, types.GeneratorType):
            value = list(value)
        results.append(["ok", repr(value)])
    except TimeoutError:
        results.append(["timeout", ""])
    except BaseException as exc:
        results.append(["raised", type(exc).__name__])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
print(json.dumps(results))
"""


def faulty_lines(diff_text: str) -> set[int]:
    """Return the buggy-file lines the reference patch removes, or brackets an insertion."""
    lines: set[int] = set()
    old = 0
    for row in diff_text.splitlines():
        hunk = re.match(r"@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@", row)
        if hunk:
            old = int(hunk.group(1))
            continue
        if row.startswith("---") or row.startswith("+++") or not old:
            continue
        if row.startswith("-"):
            lines.add(old)
            old += 1
        elif row.startswith("+"):
            if not any(n in lines for n in (old - 1, old)):
                lines.update({old - 1, old})
        else:
            old += 1
    return lines


def _perturb(value, rng):
    """Return a nearby value of the same shape: integers move by a little, lists keep order."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(0, value + rng.choice([-2, -1, 1, 2, value or 1]))
    if isinstance(value, float):
        return value * rng.choice([0.5, 1.5, 2.0])
    if isinstance(value, str):
        if not value:
            return value
        i = rng.randrange(len(value))
        return value[:i] + value[i + 1:] if rng.random() < 0.5 else value + value[i]
    if isinstance(value, list):
        items = [_perturb(v, rng) if rng.random() < 0.3 else v for v in value]
        if items and rng.random() < 0.5:
            items.pop(rng.randrange(len(items)))
        elif items:
            items.append(items[rng.randrange(len(items))])
        # Keep sortedness, a common precondition (binary search, merge).
        if value == sorted(value, key=repr) or _is_sorted(value):
            try:
                items.sort()
            except TypeError:
                pass
        return items
    return value


def _is_sorted(value) -> bool:
    try:
        return value == sorted(value)
    except TypeError:
        return False


def extra_inputs(test_file: str, count: int) -> list:
    import random

    source = open(test_file, encoding="utf-8").read()
    match = re.search(r"^CASES = (\[.*?^\])", source, re.S | re.M)
    if not match:
        return []
    cases = ast.literal_eval(match.group(1))
    rng = random.Random(20240414)
    inputs = [list(args) for args, _ in cases]
    for _ in range(count):
        args = list(rng.choice(cases)[0])
        if args:
            i = rng.randrange(len(args))
            args[i] = _perturb(args[i], rng)
        inputs.append(args)
    return inputs


def _probe(folder: str, name: str, inputs: list) -> list:
    result = subprocess.run([sys.executable, "-c", _PROBE, folder, name], input=json.dumps(inputs),
                            capture_output=True, text=True, timeout=5 + 1.5 * len(inputs))
    if result.returncode != 0:
        raise RuntimeError(f"probe of {name} in {folder} failed: {result.stderr[-500:]}")
    return json.loads(result.stdout)


def match_reference(task_dir: str, name: str, candidate_text: str, graph: bool) -> str:
    """Return "ast-equal", "same-outputs", "tests-only" or "different" (see module docstring)."""
    reference = open(os.path.join(task_dir, "fixed_min.py"), encoding="utf-8").read()
    if ast.dump(ast.parse(reference)) == ast.dump(ast.parse(candidate_text)):
        return "ast-equal"
    inputs = extra_inputs(os.path.join(task_dir, f"test_{name}.py"), EXTRA_INPUTS)
    if graph or not inputs:
        return "tests-only"
    with tempfile.TemporaryDirectory(prefix="tracefix-match-") as scratch:
        outputs = {}
        for label, text in (("reference", reference), ("candidate", candidate_text)):
            folder = os.path.join(scratch, label)
            os.makedirs(folder)
            with open(os.path.join(folder, f"{name}.py"), "w", encoding="utf-8") as f:
                f.write(text)
            outputs[label] = _probe(folder, name, inputs)
    compared = 0
    for ref, got in zip(outputs["reference"], outputs["candidate"]):
        # A call near the one-second limit may time out on a busy machine in either
        # run, so inputs with a timeout on either side are not compared.
        if ref[0] != "ok" or got[0] == "timeout":
            continue
        if ref != got:
            return "different"
        compared += 1
    return "same-outputs" if compared else "tests-only"


def run_task(bench: str, task: dict, time_limit: float, workers: int) -> dict:
    name = task["name"]
    task_dir = os.path.join(bench, name)
    started = time.monotonic()
    record = {"task": name, "top3": False, "verified": False, "matches": None,
              "faulty_lines": [], "top_lines": [], "fix": None, "seconds": 0.0, "error": None}
    with tempfile.TemporaryDirectory(prefix=f"tracefix-qb-{name}-") as root:
        shutil.copy(os.path.join(task_dir, "buggy.py"), os.path.join(root, f"{name}.py"))
        shutil.copy(os.path.join(task_dir, task["test_file"]), os.path.join(root, task["test_file"]))
        settings = ExplainSettings(
            run_timeout=min(60.0, time_limit / 3),
            validation=ValidationSettings(workers=workers, budget_seconds=max(5.0, time_limit - 20),
                                          test_timeout=20.0, stop_after_verified=3),
        )
        try:
            explanation = explain_failure(root, task["test_file"], settings=settings)
        except ExplainError as exc:
            record["error"] = str(exc)
            record["seconds"] = round(time.monotonic() - started, 1)
            return record

        program = os.path.join(root, f"{name}.py")
        faulty = faulty_lines(open(os.path.join(task_dir, "fix.diff"), encoding="utf-8").read())
        top = [s.line for s in explanation.suspicious[:3] if s.file == program]
        record.update(faulty_lines=sorted(faulty), top_lines=top, top3=bool(faulty & set(top)),
                      test_id=explanation.test_id, reliable=explanation.trace.reliable,
                      candidates=len(explanation.candidates),
                      tried=sum(1 for c in explanation.candidates if c.total or c.detail))
        verified = [c for c in explanation.candidates if c.verified]
        if verified:
            best = verified[0]
            record.update(verified=True, fix=best.description, fix_kind=best.kind,
                          matches=match_reference(task_dir, name, best.new_text, task["graph_based"]),
                          any_matches=any(match_reference(task_dir, name, c.new_text, task["graph_based"])
                                          in ("ast-equal", "same-outputs") for c in verified))
    record["seconds"] = round(time.monotonic() - started, 1)
    return record


def markdown_table(records: list[dict]) -> str:
    rows = ["| task | faulty | top 3 | in top 3 | verified | matches | fix | s |",
            "|---|---|---|---|---|---|---|---|"]
    for r in records:
        fix = (r.get("fix") or r.get("error") or "").replace("|", "\\|")
        rows.append(f"| {r['task']} | {r['faulty_lines']} | {r['top_lines']} | "
                    f"{'yes' if r['top3'] else 'no'} | {'yes' if r['verified'] else 'no'} | "
                    f"{r['matches'] or '-'} | {fix} | {r['seconds']} |")
    top3 = sum(r["top3"] for r in records)
    verified = sum(r["verified"] for r in records)
    matching = sum(r["matches"] in ("ast-equal", "same-outputs") for r in records)
    rows.append("")
    rows.append(f"{len(records)} tasks: faulty line in top 3 for {top3}, verified fix for "
                f"{verified}, matching the reference (ast-equal or same-outputs) for {matching}.")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default=DEFAULT_BENCH, help="QuixBugs folder (default %(default)s)")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="seconds per task, bounding validation (default 120)")
    parser.add_argument("--workers", type=int, default=2, help="parallel validations (default 2)")
    parser.add_argument("--out", default="benchmarks/results",
                        help="folder for quixbugs_explain.json and .md (default %(default)s)")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with open(os.path.join(args.bench, "manifest.json"), encoding="utf-8") as f:
        tasks = json.load(f)
    wanted = {t for t in args.tasks.split(",") if t}
    if wanted - {t["name"] for t in tasks}:
        parser.error(f"unknown tasks: {sorted(wanted - {t['name'] for t in tasks})}")
    tasks = [t for t in tasks if not wanted or t["name"] in wanted]

    records = []
    for task in tasks:
        record = run_task(args.bench, task, args.time_limit, args.workers)
        records.append(record)
        print(json.dumps(record), flush=True)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "quixbugs_explain.json"), "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1)
    table = markdown_table(records)
    with open(os.path.join(args.out, "quixbugs_explain.md"), "w", encoding="utf-8") as f:
        f.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
