"""Check a candidate patch by running tests on a patched sandbox copy of the project.

The failing tests run first, with `-x`, so a patch that does not fix them costs one
short run. Only then do the other tests of the same test files ("neighbours") run, to
catch a patch that fixes one test by breaking another. The workspace is never written.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable, Mapping

from .interpreter import Interpreter, find_interpreter
from .outcomes import TestOutcome
from .pytest_run import collect_test_ids, run_pytest
from .sandbox import Sandbox

logger = logging.getLogger(__name__)

# A failing test must now pass. A neighbour may also keep being skipped or xfailed,
# because that is how it behaved before the patch too.
FIXED_OUTCOMES = frozenset(("passed", "xpassed"))
NEIGHBOUR_OK_OUTCOMES = frozenset(("passed", "xpassed", "skipped", "xfailed"))


@dataclass
class Validation:
    verified: bool  # True only when every requested test ended acceptably
    passed: int  # tests that ended acceptably
    total: int  # failing plus neighbour tests requested
    outcomes: dict[str, TestOutcome]  # nodeid -> outcome, for the tests that were run
    detail: str  # one sentence on why the patch was or was not verified


def sandbox_environment(sandbox: str) -> dict[str, str]:
    """Put the copy's sources first on sys.path.

    A project installed in editable mode into its `.venv` would otherwise import its
    package from the workspace, and the patch would go untested. PYTHONPATH entries come
    before the editable install's path entries and its import hook.
    """
    entries = [sandbox]
    if os.path.isdir(os.path.join(sandbox, "src")):
        entries.append(os.path.join(sandbox, "src"))
    existing = os.environ.get("PYTHONPATH")
    if existing:
        entries.append(existing)
    return {"PYTHONPATH": os.pathsep.join(entries)}


def neighbour_tests(
    root: str, failing: Iterable[str], *, interpreter: Interpreter | None, timeout: float,
) -> list[str]:
    """Return the other tests of the files that contain the `failing` node ids."""
    failing = list(failing)
    files = list(dict.fromkeys(nodeid.split("::", 1)[0] for nodeid in failing))
    neighbours: list[str] = []
    for test_file in files:
        for nodeid in collect_test_ids(root, test_file, interpreter=interpreter, timeout=timeout):
            if nodeid not in failing and nodeid not in neighbours:
                neighbours.append(nodeid)
    return neighbours


def _first_problem(tests: list[str], outcomes: dict[str, TestOutcome], accepted) -> str:
    for nodeid in tests:
        outcome = outcomes.get(nodeid)
        if outcome is None:
            return f"{nodeid} did not run"
        if outcome.outcome not in accepted:
            message = f": {outcome.message.splitlines()[0]}" if outcome.message.strip() else ""
            return f"{nodeid} {outcome.outcome}{message}"
    return ""


def validate_patch(
    root: str,
    patch: Mapping[str, str],
    failing: Iterable[str],
    neighbours: Iterable[str] | None,
    *,
    interpreter: Interpreter | None,
    timeout: float,
) -> Validation:
    """Apply `patch` (relative path -> new file text) to a sandbox copy and run the tests.

    `failing` are the node ids the patch should fix. `neighbours` are other tests that
    must keep passing, or None to use the other tests of the failing tests' files.
    `timeout` bounds each pytest run, in seconds. Safe to call from several threads.
    """
    root = os.path.abspath(root)
    failing = list(dict.fromkeys(failing))
    if not failing:
        raise ValueError("validate_patch needs at least one failing test id to check the patch")
    if interpreter is None:
        interpreter = find_interpreter(root)

    with Sandbox(root) as sandbox:
        for relpath, text in patch.items():
            sandbox.write(relpath, text)
        env = sandbox_environment(sandbox.path)

        if neighbours is None:
            neighbours = neighbour_tests(sandbox.path, failing, interpreter=interpreter,
                                         timeout=timeout)
        neighbours = [nodeid for nodeid in dict.fromkeys(neighbours) if nodeid not in failing]
        total = len(failing) + len(neighbours)

        first = run_pytest(sandbox.path, failing, interpreter=interpreter, timeout=timeout,
                           env=env, stop_on_failure=True)
        outcomes = {nodeid: first.outcomes[nodeid] for nodeid in failing if nodeid in first.outcomes}
        passed = sum(outcomes[n].outcome in FIXED_OUTCOMES for n in outcomes)
        problem = _first_problem(failing, outcomes, FIXED_OUTCOMES)
        if problem:
            return Validation(False, passed, total, outcomes, f"still failing: {problem}")

        if neighbours:
            second = run_pytest(sandbox.path, neighbours, interpreter=interpreter,
                                timeout=timeout, env=env, stop_on_failure=True)
            for nodeid in neighbours:
                if nodeid in second.outcomes:
                    outcomes[nodeid] = second.outcomes[nodeid]
            passed += sum(outcomes[n].outcome in NEIGHBOUR_OK_OUTCOMES
                          for n in neighbours if n in outcomes)
            problem = _first_problem(neighbours, outcomes, NEIGHBOUR_OK_OUTCOMES)
            if problem:
                return Validation(False, passed, total, outcomes, f"broke another test: {problem}")

    logger.debug("patch of %s verified by %d tests", ", ".join(patch), total)
    return Validation(True, passed, total, outcomes,
                      f"all {total} tests passed ({len(failing)} previously failing)")
