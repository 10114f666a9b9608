"""The runner: the only part of the server that runs user code, always in a child process.

See docs/internal-api.md for the contract the engine and the language server rely on.
"""

from .interpreter import Interpreter, InterpreterError, check_interpreter, find_interpreter
from .outcomes import FAILING_OUTCOMES, OUTCOMES, TestOutcome
from .paths import cache_dir
from .pytest_run import RunResult, collect_test_ids, run_pytest
from .sandbox import Sandbox
from .traced import TracedRun, trace_tests
from .validate import Validation, neighbour_tests, validate_patch

__all__ = [
    "FAILING_OUTCOMES",
    "Interpreter",
    "InterpreterError",
    "OUTCOMES",
    "RunResult",
    "Sandbox",
    "TestOutcome",
    "TracedRun",
    "Validation",
    "cache_dir",
    "check_interpreter",
    "collect_test_ids",
    "find_interpreter",
    "neighbour_tests",
    "run_pytest",
    "trace_tests",
    "validate_patch",
]
