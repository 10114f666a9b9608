"""Keep one test's process-wide changes from reaching the next test, and name exits.

A test may call `os.chdir` (even into a folder it then deletes) or change `os.environ`
without undoing it. Under plain pytest every later test then runs in that changed state,
so whether a test fails would depend on which tests ran before it. In runs made by
tracefix, `TestIsolation` records the working directory and the environment before each
test, puts them back after its teardown and reports what leaked. The report names the
environment variables only, never their values, which can hold secrets.

`exit_request` separates a test that ended by raising `SystemExit` (a `sys.exit` call) from
an ordinary failure: pytest reports both as failed, tracefix reports the first as crashed.

Only the standard library and pytest are used because this module runs in the user's
test process.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pytest

# Bound on the variable names listed in one leak report.
MAX_NAMES = 20
# pytest sets this one itself during each test phase.
PYTEST_VARIABLE = "PYTEST_CURRENT_TEST"


def exit_request(excinfo: Any) -> str | None:
    """Return e.g. "sys.exit(3)" when `excinfo` is a SystemExit's, else None.

    The exit code is shown only when it is None, an int or a str, so no user `__repr__`
    runs here.
    """
    if excinfo is None or not isinstance(excinfo.value, SystemExit):
        return None
    code = excinfo.value.code
    if code is None or type(code) is int:
        code_text = repr(code)
    elif type(code) is str:
        code_text = repr(code if len(code) <= 80 else code[:80] + "…")
    else:
        code_text = f"<{type(code).__name__}>"
    return f"sys.exit({code_text})"


def _environment() -> dict[str, str]:
    environ = dict(os.environ)
    environ.pop(PYTEST_VARIABLE, None)
    return environ


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the working directory was deleted
        return None


class TestIsolation:
    """pytest plugin that restores the working directory and environment after each test.

    `on_leak(nodeid, leak)` receives {"cwd": str | None (None: deleted), "env_changed":
    [...], "env_added": [...], "env_removed": [...]}, with only the parts that leaked.
    """

    __test__ = False  # not a test class, despite the name

    def __init__(self, on_leak: Callable[[str, dict[str, Any]], None]) -> None:
        self.on_leak = on_leak

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any) -> Iterator[None]:
        cwd = _cwd()
        environ = _environment()
        yield
        leak: dict[str, Any] = {}
        now = _cwd()
        if cwd is not None and now != cwd:
            leak["cwd"] = now
            try:
                os.chdir(cwd)
            except OSError as exc:
                leak["cwd_not_restored"] = f"{type(exc).__name__}: {exc}"
        current = _environment()
        if current != environ:
            added = sorted(set(current) - set(environ))
            removed = sorted(set(environ) - set(current))
            changed = sorted(n for n in set(current) & set(environ) if current[n] != environ[n])
            for name, names in (("env_added", added), ("env_removed", removed),
                                ("env_changed", changed)):
                if names:
                    leak[name] = names[:MAX_NAMES]
            # Assigning through os.environ also calls putenv, so C code reads the restored
            # values too.
            for name in added:
                os.environ.pop(name, None)
            for name in removed + changed:
                os.environ[name] = environ[name]
        if leak:
            self.on_leak(item.nodeid, leak)
