"""Turn the report file (and a stack dump) into one outcome per test.

Only the report written by `tracefix.tracer.report.ReportWriter` is read, never the
console text, whose format depends on pytest's version, plugins and options.

Merging the phase results of one test follows pytest's own counting. A setup that failed
or skipped decides the outcome, and otherwise the call does. A failed teardown turns a
passing test into `error`. A test that started but has no teardown result was running
when the process died: it is `crashed`, or `timeout` when the watchdog killed it.
Collected tests that never started are `not-run`.
"""

from __future__ import annotations

import json
import logging
import re
import signal
from dataclasses import dataclass, field
from typing import Any

from tracefix.tracer.notes import Note, note, note_from_json
from tracefix.tracer.report import project_file_filter

logger = logging.getLogger(__name__)

OUTCOMES = (
    "passed", "failed", "error", "skipped", "xfailed", "xpassed", "crashed", "timeout",
    "not-run",
)
# Outcomes that mean the test found a problem.
FAILING_OUTCOMES = frozenset(("failed", "error", "crashed", "timeout"))


@dataclass
class TestOutcome:
    __test__ = False  # not a test class, despite the name

    nodeid: str
    outcome: str  # one of OUTCOMES
    duration: float = 0.0  # seconds, all phases together
    message: str = ""  # a tracer.notes.Note when tracefix wrote it, else pytest's text
    crash_path: str | None = None  # absolute path of the failing line
    crash_line: int | None = None
    longrepr: str = ""
    lines: list[tuple[str, int]] | None = None  # project lines executed, with coverage
    leak: dict[str, Any] | None = None  # what the test left changed; see leak_notes


@dataclass
class Report:
    """The parsed report file."""

    collected: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    collect_errors: dict[str, str] = field(default_factory=dict)  # nodeid -> longrepr
    leaks: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> leak event
    finished: bool = False
    exitstatus: int | None = None


def read_report(path: str) -> Report:
    """Parse the report at `path`, tolerating a missing file and a torn last line."""
    report = Report()
    try:
        with open(path, encoding="utf-8") as source:
            lines = source.read().splitlines()
    except FileNotFoundError:
        return report

    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            # A process killed mid-write leaves a partial last line; anything else is a bug.
            if number != len(lines):
                logger.warning("report %s line %d is not JSON; ignoring it", path, number)
            continue
        kind = event.get("event")
        if kind == "collected":
            report.collected = list(event["nodeids"])
        elif kind == "collect-error":
            report.collect_errors[event["nodeid"]] = event.get("longrepr", "")
        elif kind == "start":
            report.started.append(event["nodeid"])
        elif kind == "result":
            report.results.setdefault(event["nodeid"], []).append(event)
        elif kind == "leak":
            report.leaks[event["nodeid"]] = {
                k: v for k, v in event.items() if k not in ("event", "nodeid")}
        elif kind == "finish":
            report.finished = True
            report.exitstatus = event.get("exitstatus")
    return report


_FRAME_LINE = re.compile(r'^\s*File "(?P<path>.+)", line (?P<line>\d+)')


def find_stuck_at(stacks_path: str, root: str) -> str | None:
    """Return `path:line` of the innermost project frame in faulthandler's dump.

    The dump lists each thread's frames innermost first. The thread that handled
    SIGUSR1 is the main thread, where pytest runs the test, so its block
    ("Current thread ...") is searched first, then the other threads.
    """
    try:
        with open(stacks_path, encoding="utf-8", errors="replace") as source:
            text = source.read()
    except FileNotFoundError:
        return None
    is_project = project_file_filter(root)

    blocks: list[tuple[bool, list[tuple[str, int]]]] = []
    for line in text.splitlines():
        if "(most recent call first)" in line:
            blocks.append((line.startswith("Current thread"), []))
            continue
        match = _FRAME_LINE.match(line)
        if match and blocks:
            blocks[-1][1].append((match["path"], int(match["line"])))

    blocks.sort(key=lambda block: not block[0])  # the current thread first, order kept
    for _, frames in blocks:
        for path, line in frames:
            if is_project(path):
                return f"{path}:{line}"
    return None


def ended_message(exit_code: int, phase: str) -> Note:
    """Describe how the process ended while a test ran. `phase` is the call's outcome, or ""."""
    suffix = "_after_call" if phase else ""
    fields: dict[str, Any] = {"phase": phase} if phase else {}
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return note("trace.outcome.killed" + suffix, signal=name, **fields)
    return note("trace.outcome.exited" + suffix, code=exit_code, **fields)


def timeout_message(timeout: float, phase: str, stuck_at: str | None) -> Note:
    """Describe the watchdog stopping the run while a test ran, and where it was stuck."""
    if phase:
        message = note("trace.outcome.timed_out_after_call", seconds=f"{timeout:g}", phase=phase)
    else:
        message = note("trace.outcome.timed_out", seconds=f"{timeout:g}")
    if stuck_at:
        message = note("trace.outcome.stuck_at", message=message, where=stuck_at)
    return message


def _merge_lines(results: list[dict[str, Any]]) -> list[tuple[str, int]] | None:
    if all(result.get("lines") is None for result in results):
        return None
    merged = {(path, line) for result in results for path, line in result.get("lines") or ()}
    return sorted(merged)


def _from_results(nodeid: str, results: list[dict[str, Any]]) -> TestOutcome:
    by_phase = {result["when"]: result for result in results}
    setup, call, teardown = by_phase.get("setup"), by_phase.get("call"), by_phase.get("teardown")

    deciding = setup if setup is not None and setup["outcome"] != "passed" else call
    if teardown is not None and teardown["outcome"] == "error":
        if deciding is None or deciding["outcome"] not in ("failed", "error"):
            deciding = teardown
    if deciding is None:
        deciding = teardown or results[-1]

    crash = deciding.get("crash") or {}
    return TestOutcome(
        nodeid=nodeid,
        outcome=deciding["outcome"],
        duration=sum(float(result.get("duration") or 0.0) for result in results),
        message=note_from_json(deciding.get("message", "")),
        crash_path=crash.get("path"),
        crash_line=crash.get("line"),
        longrepr=deciding.get("longrepr", ""),
        lines=_merge_lines(results),
    )


def build_outcomes(
    report: Report,
    *,
    exit_code: int,
    timed_out: bool,
    timeout: float,
    stuck_at: str | None,
) -> dict[str, TestOutcome]:
    """Return one TestOutcome per collected or started test, in collection order."""
    outcomes: dict[str, TestOutcome] = {}
    for nodeid in report.started:
        outcomes[nodeid] = _from_results(nodeid, report.results.get(nodeid, []) or [
            {"when": "call", "outcome": "not-run"}])

    running = None
    if report.started and not report.finished:
        last = report.started[-1]
        phases = {result["when"] for result in report.results.get(last, [])}
        if "teardown" not in phases:
            running = last
    if running is not None:
        outcome = outcomes[running]
        phase = outcome.outcome if outcome.outcome != "not-run" else ""
        if timed_out:
            outcome.outcome = "timeout"
            outcome.message = timeout_message(timeout, phase, stuck_at)
            if stuck_at:
                path, _, line = stuck_at.rpartition(":")
                outcome.crash_path, outcome.crash_line = path, int(line)
        else:
            outcome.outcome = "crashed"
            outcome.message = ended_message(exit_code, phase)

    for nodeid, leak in report.leaks.items():
        if nodeid in outcomes:
            outcomes[nodeid].leak = leak

    ordered: dict[str, TestOutcome] = {}
    for nodeid in report.collected:
        ordered[nodeid] = outcomes.pop(nodeid, None) or TestOutcome(nodeid, "not-run")
    ordered.update(outcomes)  # started but not collected: should not happen, kept anyway
    return ordered


def leak_notes(leak: dict[str, Any]) -> list[Note]:
    """Describe what a test left changed and whether its process restored it, by names only."""
    notes = []
    if "cwd_not_restored" in leak:
        notes.append(note("trace.note.leak.cwd_not_restored", error=leak["cwd_not_restored"]))
    elif "cwd" in leak:
        notes.append(note("trace.note.leak.cwd_deleted") if leak["cwd"] is None
                     else note("trace.note.leak.cwd", cwd=leak["cwd"]))
    if any(leak.get(key) for key in ("env_added", "env_removed", "env_changed")):
        notes.append(note("trace.note.leak.env", **{
            field: ", ".join(leak.get(key) or ()) or "-"
            for field, key in (("added", "env_added"), ("removed", "env_removed"),
                               ("changed", "env_changed"))}))
    return notes
