"""Turn what the user typed (a node id or a test file) into a collected pytest node id.

The test's whole file runs once untraced with coverage: that run is the baseline the
trace is checked against, and its per-test lines are the spectra for fault localization.
"""

from __future__ import annotations

import os

from ..i18n import outcome_word, translate
from ..runner import FAILING_OUTCOMES, Interpreter, RunResult, run_pytest


class ExplainError(Exception):
    """A failure to explain that the user can act on; the message is localized."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "not-found" | "not-collected" | "collection" | "passed" | ...


def split_test_id(root: str, test_id: str, locale: str) -> tuple[str, str | None]:
    """Return (test file relative to root, the part after '::' or None)."""
    text = test_id.strip()
    file_part, sep, rest = text.partition("::")
    path = file_part if os.path.isabs(file_part) else os.path.join(root, file_part)
    path = os.path.normpath(path)
    if not text or not os.path.isfile(path):
        raise ExplainError("not-found", translate("engine.error.file_not_found", locale,
                                                  test=test_id, path=path))
    relpath = os.path.relpath(path, root)
    if relpath.startswith(".."):
        raise ExplainError("not-found", translate("engine.error.outside_root", locale,
                                                  test=test_id, root=root))
    return relpath.replace(os.sep, "/"), (rest if sep else None)


def resolve_test(root: str, test_id: str, *, interpreter: Interpreter, timeout: float,
                 locale: str = "en", require_failure: bool = True) -> tuple[str, RunResult]:
    """Return the node id to explain and the baseline run of its file.

    For a file, the first failing test in collection order is chosen, preferring tests
    that failed or errored over tests whose process ended (crashed, timed out): those
    often leave no trace. For a node id of a parametrized test given without its
    parameters, the first failing instance is.
    """
    relpath, rest = split_test_id(root, test_id, locale)
    baseline = run_pytest(root, [relpath], interpreter=interpreter, timeout=timeout, coverage=True)
    if baseline.collect_errors:
        details = "; ".join(baseline.collect_errors.values()).strip().splitlines()
        raise ExplainError("collection", translate("engine.error.collection", locale, path=relpath,
                                                   detail=details[-1] if details else "?"))

    collected = list(baseline.outcomes)
    if rest is None:
        matches = collected
    else:
        requested = f"{relpath}::{rest}"
        matches = [n for n in collected if n == requested] or \
            [n for n in collected if n.startswith(requested + "[")]
        if not matches:
            sample = ", ".join(collected[:5]) or "-"
            raise ExplainError("not-collected", translate(
                "engine.error.not_collected", locale, test=test_id, path=relpath, sample=sample))

    failing = [n for n in matches if baseline.outcomes[n].outcome in FAILING_OUTCOMES]
    failing.sort(key=lambda n: baseline.outcomes[n].outcome in ("crashed", "timeout"))
    if failing:
        return failing[0], baseline
    if rest is None:
        raise ExplainError("passed", translate("cli.no_failing_tests", locale, path=relpath,
                                               count=len(collected)))
    if require_failure:
        outcome = baseline.outcomes[matches[0]].outcome
        raise ExplainError("passed", translate("engine.error.did_not_fail", locale,
                                               test=matches[0],
                                               outcome=outcome_word(outcome, locale)))
    return matches[0], baseline
