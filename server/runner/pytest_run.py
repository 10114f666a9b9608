"""Run pytest on the project in a child process and return structured outcomes.

This is the only module that builds the pytest command line. The child runs in the
project root with the project's interpreter, the tracer importable through the
bootstrap folder, `-p no:cacheprovider` and PYTHONDONTWRITEBYTECODE so that it writes
nothing into the workspace, and `--tracefix-report` pointing into the cache.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .bootstrap import PLUGIN_MODULE, child_environment
from .interpreter import Interpreter, InterpreterError, find_interpreter
from .outcomes import FAILING_OUTCOMES, TestOutcome, build_outcomes, find_stuck_at, read_report
from .paths import new_run_dir
from .process import HEAD_BYTES, TAIL_BYTES, run_process

logger = logging.getLogger(__name__)

REPORT_NAME = "report.jsonl"
STACKS_NAME = REPORT_NAME + ".stacks"  # written by the report writer's faulthandler

# trace_options key -> pytest option of tracefix.tracer.pytest_plugin.
TRACE_OPTION_FLAGS = {
    "k": "--tracefix-k",
    "max_events": "--tracefix-max-events",
    "max_bytes": "--tracefix-max-bytes",
    "max_seconds": "--tracefix-max-seconds",
    "backend": "--tracefix-backend",
}


@dataclass
class RunResult:
    outcomes: dict[str, TestOutcome]  # nodeid -> outcome, in collection order
    collected: list[str]
    exit_code: int  # pytest's exit status; negative when killed by a signal
    timed_out: bool
    stuck_at: str | None  # "path:line" of the innermost project frame at the timeout
    output: str  # console output, bounded; see output_dropped
    output_dropped: int  # bytes of console output left out
    duration: float  # seconds
    command: list[str]
    traces: dict[str, str] = field(default_factory=dict)  # nodeid -> trace file path
    collect_errors: dict[str, str] = field(default_factory=dict)  # file nodeid -> error text
    run_dir: str = ""  # the cache folder holding this run's report and traces

    def failing(self) -> list[str]:
        """Return the node ids whose outcome is failed, error, crashed or timeout."""
        return [nodeid for nodeid, outcome in self.outcomes.items()
                if outcome.outcome in FAILING_OUTCOMES]


def _check_selectors(selectors: Iterable[str]) -> list[str]:
    checked = []
    for selector in selectors:
        if not isinstance(selector, str) or not selector or selector.startswith("-"):
            raise ValueError(
                f"invalid test selector {selector!r}: expected a pytest node id or a path, "
                "not an option"
            )
        checked.append(selector)
    return checked


def trace_option_args(trace_options: Mapping[str, Any] | None) -> list[str]:
    """Return the command-line options for the tracer's budgets and backend."""
    args: list[str] = []
    for name, value in (trace_options or {}).items():
        if name not in TRACE_OPTION_FLAGS:
            raise ValueError(
                f"unknown trace option {name!r}; known options: {', '.join(TRACE_OPTION_FLAGS)}"
            )
        if value is not None:
            args += [TRACE_OPTION_FLAGS[name], str(value)]
    return args


def _read_trace_index(trace_dir: str) -> dict[str, str]:
    index = os.path.join(trace_dir, "index.jsonl")
    traces: dict[str, str] = {}
    try:
        with open(index, encoding="utf-8") as source:
            for line in source:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from a killed process
                path = os.path.join(trace_dir, entry["file"])
                if os.path.isfile(path):
                    traces[entry["nodeid"]] = path
    except FileNotFoundError:
        pass
    return traces


# A run whose process died (os._exit, a crash, the watchdog) leaves the tests after the one
# that was running as not-run. They are run again in a new process, at most this many times.
MAX_CONTINUATIONS = 3


def run_pytest(
    root: str,
    selectors: Iterable[str],
    *,
    interpreter: Interpreter | None,
    timeout: float,
    coverage: bool = False,
    trace_dir: str | None = None,
    trace_only: Iterable[str] = (),
    trace_options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    collect_only: bool = False,
    stop_on_failure: bool = False,
) -> RunResult:
    """Run the selected tests of the project at `root` and return their outcomes.

    `selectors` are node ids or paths relative to `root`, and none runs pytest's default
    selection. `timeout` bounds each pytest process in seconds. `env` adds to or
    overrides the server's environment. `trace_dir` turns recording on, limited to
    `trace_only` when given. `stop_on_failure` passes `-x`.

    When the process dies while a test runs (the test called `os._exit`, crashed the
    interpreter or hung until the watchdog killed it), the tests it had not started yet
    are run in a new process, so one test cannot take the outcomes of the others with
    it; see MAX_CONTINUATIONS.
    """
    selectors = _check_selectors(selectors)
    if interpreter is None:
        interpreter = find_interpreter(os.path.abspath(root))
    options = dict(interpreter=interpreter, timeout=timeout, coverage=coverage,
                   trace_dir=trace_dir, trace_only=list(trace_only),
                   trace_options=trace_options, env=env)
    result = _run_once(root, selectors, collect_only=collect_only,
                       stop_on_failure=stop_on_failure, **options)
    if collect_only or stop_on_failure:
        return result
    for _ in range(MAX_CONTINUATIONS):
        died = any(o.outcome in ("crashed", "timeout") for o in result.outcomes.values())
        rest = [n for n, o in result.outcomes.items() if o.outcome == "not-run"]
        if not (died and rest):
            break
        logger.info("the pytest process in %s died; running the %d test(s) it did not start",
                    root, len(rest))
        result = _merge(result, _run_once(root, rest, **options))
    return result


def _merge(first: RunResult, then: RunResult) -> RunResult:
    """Combine a run with its continuation: the continuation's outcomes fill the gaps."""
    outcomes = dict(first.outcomes)
    for nodeid, outcome in then.outcomes.items():
        if nodeid in outcomes and outcomes[nodeid].outcome == "not-run":
            outcomes[nodeid] = outcome
    room = max(0, HEAD_BYTES + TAIL_BYTES - len(first.output))
    return RunResult(
        outcomes=outcomes,
        collected=first.collected,
        exit_code=first.exit_code,
        timed_out=first.timed_out or then.timed_out,
        stuck_at=first.stuck_at or then.stuck_at,
        output=first.output + then.output[:room],
        output_dropped=first.output_dropped + then.output_dropped
        + max(0, len(then.output) - room),
        duration=first.duration + then.duration,
        command=first.command,
        traces={**first.traces, **then.traces},
        collect_errors={**first.collect_errors, **then.collect_errors},
        run_dir=first.run_dir,
    )


def _run_once(
    root: str,
    selectors: Iterable[str],
    *,
    interpreter: Interpreter | None,
    timeout: float,
    coverage: bool = False,
    trace_dir: str | None = None,
    trace_only: Iterable[str] = (),
    trace_options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    collect_only: bool = False,
    stop_on_failure: bool = False,
) -> RunResult:
    """Run one pytest process; see run_pytest."""
    root = os.path.abspath(root)
    assert interpreter is not None
    run_dir = new_run_dir(root)
    report_path = os.path.join(run_dir, REPORT_NAME)

    command = [
        interpreter.path, "-m", "pytest",
        "-p", PLUGIN_MODULE,
        "-p", "no:cacheprovider",
        "--rootdir", root,
        "--color=no",
        "--tracefix-root", root,
        "--tracefix-report", report_path,
    ]
    if coverage:
        command.append("--tracefix-coverage")
    if collect_only:
        command += ["--collect-only", "-q"]
    if stop_on_failure:
        command.append("-x")
    if trace_dir is not None:
        trace_dir = os.path.abspath(trace_dir)
        command += ["--tracefix-trace-dir", trace_dir]
        for nodeid in trace_only:
            command += ["--tracefix-trace-only", nodeid]
        command += trace_option_args(trace_options)
    command += selectors

    merged_env = dict(os.environ)
    merged_env.update(env or {})
    try:
        process = run_process(
            command, cwd=root, env=child_environment(merged_env), timeout=timeout,
            stacks_path=os.path.join(run_dir, STACKS_NAME),
        )
    except OSError as exc:
        raise InterpreterError(
            f"failed to start the Python interpreter {interpreter.path} "
            f"({interpreter.source}): {exc}"
        ) from exc

    report = read_report(report_path)
    stuck_at = find_stuck_at(os.path.join(run_dir, STACKS_NAME), root) if process.timed_out else None
    outcomes = build_outcomes(
        report, exit_code=process.exit_code, timed_out=process.timed_out, timeout=timeout,
        stuck_at=stuck_at,
    )
    if not report.collected and not report.finished:
        logger.warning("pytest in %s wrote no report (exit %d); output tail: %s",
                       root, process.exit_code, process.output[-2000:])

    return RunResult(
        outcomes=outcomes,
        collected=report.collected,
        exit_code=process.exit_code,
        timed_out=process.timed_out,
        stuck_at=stuck_at,
        output=process.output,
        output_dropped=process.output_dropped,
        duration=process.duration,
        command=command,
        traces=_read_trace_index(trace_dir) if trace_dir is not None else {},
        collect_errors=report.collect_errors,
        run_dir=run_dir,
    )


def collect_test_ids(
    root: str, test_file: str, *, interpreter: Interpreter | None, timeout: float = 60.0,
) -> list[str]:
    """Return the node ids pytest collects from `test_file` (a path relative to `root`).

    Raises RuntimeError naming the file when collection fails, with pytest's error text.
    """
    result = run_pytest(root, [test_file], interpreter=interpreter, timeout=timeout,
                        collect_only=True)
    if result.collect_errors or result.timed_out:
        details = "; ".join(result.collect_errors.values()) or f"timed out after {timeout:g} s"
        raise RuntimeError(f"collecting tests from {test_file} failed: {details[-2000:]}")
    return result.collected
