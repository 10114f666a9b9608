"""Validate candidates in parallel sandboxes within a time budget, then rank them.

Each candidate costs one or two pytest child processes, so validation dominates the
explain pipeline. Workers take candidates in order, stop taking new ones when the budget
is spent, when the caller cancels, or when enough verified fixes are found. Candidates
never started stay unverified with `total == 0`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Sequence

from ..runner import Interpreter, validate_patch
from .results import Candidate

logger = logging.getLogger(__name__)

Cancel = Callable[[], bool]


@dataclass(frozen=True)
class ValidationSettings:
    workers: int = 2  # pytest children at once; each is CPU-bound
    budget_seconds: float = 120.0  # wall time for all validations of one failure
    test_timeout: float = 30.0  # bound of one pytest run, in seconds
    stop_after_verified: int = 3  # stop once this many candidates are verified


def as_cancel(cancel: "threading.Event | Cancel | None") -> Cancel:
    """Accept a threading.Event, a callable returning True to cancel, or None."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def validate_candidates(
    root: str,
    candidates: Sequence[Candidate],
    failing: Sequence[str],
    neighbours: Sequence[str],
    *,
    interpreter: Interpreter | None,
    settings: ValidationSettings = ValidationSettings(),
    cancel: "threading.Event | Cancel | None" = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> list[Candidate]:
    """Validate `candidates` in order and return them ranked (see `rank`).

    `progress(done, total, verified)` is called after each finished validation.
    """
    is_cancelled = as_cancel(cancel)
    deadline = time.monotonic() + settings.budget_seconds
    verified = 0
    done = 0
    pending: dict[Future, Candidate] = {}
    queue = list(candidates)

    def may_start() -> bool:
        return (queue and not is_cancelled() and time.monotonic() < deadline
                and verified < settings.stop_after_verified)

    with ThreadPoolExecutor(max_workers=max(1, settings.workers),
                            thread_name_prefix="tracefix-validate") as pool:
        while pending or may_start():
            while may_start() and len(pending) < max(1, settings.workers):
                candidate = queue.pop(0)
                timeout = max(1.0, min(settings.test_timeout, deadline - time.monotonic()))
                pending[pool.submit(_validate_one, root, candidate, failing, neighbours,
                                    interpreter, timeout)] = candidate
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                candidate = pending.pop(future)
                done += 1
                if _record(candidate, future):
                    verified += 1
                if progress:
                    progress(done, len(candidates), verified)

    if queue:
        logger.info("validation left %d candidates untried (cancelled=%s, verified=%d, "
                    "budget %.0f s)", len(queue), is_cancelled(), verified,
                    settings.budget_seconds)
    return rank(candidates)


def _validate_one(root: str, candidate: Candidate, failing: Sequence[str],
                  neighbours: Sequence[str], interpreter: Interpreter | None, timeout: float):
    relpath = os.path.relpath(candidate.file, root)
    return validate_patch(root, {relpath: candidate.new_text}, list(failing), list(neighbours),
                          interpreter=interpreter, timeout=timeout)


def _record(candidate: Candidate, future: Future) -> bool:
    try:
        result = future.result()
    except Exception as exc:  # one broken sandbox must not end the whole search
        logger.warning("validating %s (%s) failed: %s", candidate.file, candidate.description, exc)
        candidate.detail = f"validation failed: {exc}"
        return False
    candidate.verified = result.verified
    candidate.passed = result.passed
    candidate.total = result.total
    candidate.detail = result.detail
    return result.verified


def rank(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Order verified first, then more passing tests, smaller change, line rank, proposal order."""
    order = {id(c): i for i, c in enumerate(candidates)}
    return sorted(candidates, key=lambda c: (not c.verified, -c.passed, c.distance, c.rank,
                                             order[id(c)]))
