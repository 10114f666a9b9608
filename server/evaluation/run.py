"""Run benchmark tasks through the explain pipeline, in parallel, and save one record per task.

Each task runs in its own scratch folder under the system temp folder, never in the
benchmark folder, and the runner's cache of that folder is removed afterwards. Tasks
run on `jobs` threads. The pipeline runs every piece of user code in child processes,
so the threads only wait on them. A task that raises is recorded as "crashed" and
the run goes on. A task that exceeds its budget is cancelled and recorded as "timeout".

Records are written to `OUT/tasks/<task>.json` as each task finishes, atomically, so an
interrupted run keeps what it finished and `resume` can skip it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..engine import ExplainError, explain_failure
from ..runner import Interpreter, cache_dir
from .engines import BUILTIN, EngineSettings, SourceFactory, explain_settings
from .tasks import Task

logger = logging.getLogger(__name__)

RECORD_VERSION = 1
# Statuses of one variant run. "crashed" means the harness or the pipeline raised an
# unexpected exception; such a record is not complete, so `resume` runs the task again.
FIXED, NOT_FIXED, NOT_FAILING, ERROR, TIMEOUT, CRASHED = (
    "fixed", "not-fixed", "not-failing", "error", "timeout", "crashed")
# The pipeline reports this percentage once it has found the failing test and starts
# tracing it (see explain_failure's progress calls).
_TRACE_STARTED_PERCENT = 15
_MAX_TEXT = 2000  # characters kept of an error message or a model's short reason


class Interrupted(Exception):
    """The whole run was stopped (Ctrl-C); the task's record is not written."""


@dataclass(frozen=True)
class EvalOptions:
    """What to run on each task; `config()` decides whether a saved record can be reused."""

    benchmark: str
    engine: str  # "builtin" or "model"
    variants: tuple[str, ...]  # ("builtin",), ("trace",) or ("trace", "no-trace")
    samples: int = 1  # n: model samples per task and variant (1 for the built-in engine)
    temperature: float = 0.0
    model: str = ""  # model path, hub id or served model name
    endpoint: str = ""
    limits: EngineSettings = field(default_factory=EngineSettings)
    locale: str = "en"

    def config(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, "benchmark": self.benchmark, "engine": self.engine,
                "variants": list(self.variants), "samples": self.samples,
                "temperature": self.temperature, "model": self.model,
                "endpoint": self.endpoint}


# on_done(record, done, total, skipped): called on the calling thread after each task.
DoneCallback = Callable[[dict, int, int, bool], None]


def record_path(out_dir: str | os.PathLike, task_name: str) -> Path:
    return Path(out_dir, "tasks", f"{task_name}.json")


def load_record(path: Path) -> dict | None:
    """Return the saved record at `path`, or None when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("cannot read the saved record %s, the task runs again: %s", path, exc)
        return None
    return record if isinstance(record, dict) else None


def is_complete(record: dict | None, options: EvalOptions) -> bool:
    """Return True when `record` finished every variant under the same settings."""
    if not record or not record.get("complete"):
        return False
    return record.get("config") == options.config()


def write_record(out_dir: str | os.PathLike, record: dict) -> Path:
    """Write `record` atomically: a reader sees the old file or the whole new one."""
    path = record_path(out_dir, record["task"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def evaluate(tasks: Sequence[Task], options: EvalOptions, out_dir: str | os.PathLike, *,
             sources_for: SourceFactory, interpreter: Interpreter | None = None,
             jobs: int = 1, resume: bool = False, on_done: DoneCallback | None = None,
             stop: threading.Event | None = None) -> list[dict]:
    """Run every task (`jobs` at once) and return their records in the order of `tasks`.

    With `resume`, a task whose saved record is complete under the same settings is
    skipped and its saved record returned. Raises Interrupted when `stop` is set or
    KeyboardInterrupt arrives; the records written so far stay on disk.
    """
    stop = stop or threading.Event()
    records: dict[str, dict] = {}
    pending: list[Task] = []
    done = 0
    for task in tasks:
        saved = load_record(record_path(out_dir, task.name)) if resume else None
        if is_complete(saved, options):
            records[task.name] = saved
            done += 1
            if on_done:
                on_done(saved, done, len(tasks), True)
        else:
            pending.append(task)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="tracefix-eval")
    futures: dict[Future, Task] = {}
    try:
        for task in pending:
            futures[pool.submit(run_task, task, options, sources_for, interpreter, stop)] = task
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                record = future.result()  # run_task records every exception but Interrupted
                write_record(out_dir, record)
                records[record["task"]] = record
                done += 1
                if on_done:
                    on_done(record, done, len(tasks), False)
    except (KeyboardInterrupt, Interrupted) as exc:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted() from exc
    pool.shutdown(wait=True)
    return [records[t.name] for t in tasks]


def run_task(task: Task, options: EvalOptions, sources_for: SourceFactory,
             interpreter: Interpreter | None, stop: threading.Event) -> dict:
    """Run every variant of `task` and return its record; only Interrupted escapes."""
    variants = {}
    for variant in options.variants:
        if stop.is_set():
            raise Interrupted()
        try:
            variants[variant] = run_variant(task, variant, options, sources_for, interpreter, stop)
        except Interrupted:
            raise
        except Exception as exc:  # one task's failure must not end the whole evaluation
            logger.exception("task %s (%s) crashed", task.name, variant)
            variants[variant] = _empty_result(CRASHED, options, variant,
                                              error=_bounded(f"{type(exc).__name__}: {exc}"))
    complete = all(v["status"] != CRASHED for v in variants.values())
    return {"task": task.name, "benchmark": task.benchmark, "config": options.config(),
            "complete": complete, "variants": variants}


def run_variant(task: Task, variant: str, options: EvalOptions, sources_for: SourceFactory,
                interpreter: Interpreter | None, stop: threading.Event) -> dict:
    """Explain `task`'s failing test once, in a fresh scratch folder, and score the result."""
    started = time.monotonic()
    deadline = started + options.limits.budget
    reached = [0]  # highest progress percentage the pipeline reported

    def cancel() -> bool:
        return stop.is_set() or time.monotonic() > deadline

    def progress(message: str, percent: int | None) -> None:
        if percent is not None:
            reached[0] = max(reached[0], percent)

    safe = "".join(ch if ch.isalnum() else "-" for ch in task.name)[:40]
    with tempfile.TemporaryDirectory(prefix=f"tracefix-eval-{safe}-") as root:
        task.write(root)
        sources = sources_for(variant, cancel)
        try:
            explanation = explain_failure(
                root, task.test_file, locale=options.locale, interpreter=interpreter,
                progress=progress, cancel=cancel, sources=sources,
                settings=explain_settings(options.engine, options.limits))
        except ExplainError as exc:
            if stop.is_set():
                raise Interrupted() from exc
            result = _error_result(exc, options, variant, reached[0])
        else:
            if stop.is_set():
                raise Interrupted()
            result = score(explanation, options, variant, sources)
            result["timed_out"] = _budget_cut(result, variant, time.monotonic() > deadline)
        finally:
            _remove_cache(root)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def score(explanation, options: EvalOptions, variant: str, sources) -> dict:
    """Turn one explanation into the variant's result: fixed, n, c and candidate counts."""
    candidates = explanation.candidates
    verified = [c for c in candidates if c.verified]
    fixed = bool(candidates) and candidates[0].verified
    tried = sum(1 for c in candidates if c.total or c.detail)
    result = _empty_result(FIXED if fixed else NOT_FIXED, options, variant)
    result.update(test_failed=True, test_id=explanation.test_id,
                  reliable=explanation.trace.reliable, fixed=fixed,
                  candidates=len(candidates), tried=tried, verified=len(verified),
                  untried=len(candidates) - tried)
    if fixed:
        result["fix"] = candidates[0].description
        result["fix_diff"] = candidates[0].diff
    if variant == BUILTIN:
        result["c"] = 1 if fixed else 0
        return result

    # A model sample counts as correct when a verified candidate came from it; samples
    # that proposed the same text share one candidate, which lists them all.
    correct = sorted({s for c in verified for s in c.samples})
    result["c"] = len(correct)
    result.update(_model_details(sources, set(correct)))
    return result


def _budget_cut(result: dict, variant: str, past_deadline: bool) -> bool:
    """Return True when the budget, not the stop rule, left candidates unvalidated."""
    if not past_deadline or not result["untried"]:
        return False
    # The built-in engine stops on purpose after its first verified fix.
    return not (variant == BUILTIN and result["fixed"])


def _model_details(sources, correct: set[int]) -> dict[str, Any]:
    """Describe each model sample (did it propose a candidate, was that verified) and errors."""
    rows: list[dict] = []
    errors: list[str] = []
    for source in sources or []:
        # A model source keeps a report of its last propose call; other sources have none.
        report = getattr(source, "report", None)
        if report is None:
            continue
        if report.error:
            errors.append(_bounded(report.error))
        for answer in report.answers:
            rows.append({"sample": answer.sample, "proposed": answer.candidate is not None,
                         "verified": answer.sample in correct,
                         "finish_reason": answer.finish_reason,
                         "reason": _bounded(answer.reason)})
    details: dict[str, Any] = {"samples": rows}
    if errors:
        details["model_error"] = " ".join(errors)
    return details


def _error_result(exc: ExplainError, options: EvalOptions, variant: str, reached: int) -> dict:
    if exc.kind == "passed":
        return _empty_result(NOT_FAILING, options, variant, test_failed=False,
                             error=_bounded(str(exc)))
    status = TIMEOUT if exc.kind == "cancelled" else ERROR
    # Past the baseline run the pipeline knows the test failed; before it, nothing is known.
    test_failed = True if reached >= _TRACE_STARTED_PERCENT else None
    return _empty_result(status, options, variant, test_failed=test_failed,
                         error=_bounded(str(exc)), error_kind=exc.kind)


def _empty_result(status: str, options: EvalOptions, variant: str, **extra: Any) -> dict:
    result = {"status": status, "test_failed": None, "fixed": False,
              "n": options.samples if variant != BUILTIN else 1, "c": 0,
              "candidates": 0, "tried": 0, "verified": 0, "untried": 0,
              "timed_out": status == TIMEOUT, "seconds": 0.0}
    result.update(extra)
    return result


def _remove_cache(root: str) -> None:
    """Delete the runner's cache of a scratch project, which nothing will read again."""
    try:
        shutil.rmtree(cache_dir(root), ignore_errors=True)
    except OSError as exc:
        logger.warning("cannot remove the cache of %s: %s", root, exc)


def _bounded(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"
