"""Options of the language server, from `initializationOptions` and `didChangeConfiguration`.

Clients send either the flat object (`{"runOnSave": false}`) or the settings section
(`{"tracefix": {"runOnSave": false}}`); both are accepted. Every field has a default. An
invalid value is reported back (the server shows it to the user and logs it) and the
field keeps its default, so one typo never stops the server.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

SECTION = "tracefix"


@dataclass(frozen=True)
class OptionProblem:
    """An invalid option value: `expected` is one of bool, string, positive_int, positive_number."""

    key: str
    value: Any
    expected: str


@dataclass(frozen=True)
class TraceBudget:
    """Recording limits passed to the tracer; None leaves the tracer's own default."""

    k: int | None = None  # loop compression keeps the first k and the last k hits
    max_events: int | None = None
    max_bytes: int | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class ServerOptions:
    run_on_open: bool = True
    run_on_save: bool = True
    test_timeout: float = 60.0  # seconds for one pytest child process
    interpreter: str | None = None  # None: let the runner find one for the workspace
    trace: TraceBudget = TraceBudget()
    # After a run with a traced failure, read the state at the failure through debugpy
    # in a separate run (a few seconds, off the path that refreshes hints).
    snapshot: bool = True
    # The editor's `tracefix.model` object, as sent; checked by model.config when a model
    # is asked, so that its errors name the key and fall back to the built-in engine.
    model: Any = None


# camelCase key sent by the client → (field of ServerOptions or TraceBudget, type check)
_TOP_LEVEL = {
    "runOnOpen": ("run_on_open", bool),
    "runOnSave": ("run_on_save", bool),
    "testTimeout": ("test_timeout", float),
    "interpreter": ("interpreter", str),
    "snapshot": ("snapshot", bool),
}
_BUDGET = {
    "k": ("k", int),
    "maxEvents": ("max_events", int),
    "maxBytes": ("max_bytes", int),
    "maxSeconds": ("max_seconds", float),
}


def parse_options(
    raw: Any, base: ServerOptions | None = None
) -> tuple[ServerOptions, list[OptionProblem]]:
    """Return the options described by `raw` on top of `base`, and the invalid values.

    Trace budgets may come as a nested `trace` object or as top-level keys; unknown keys
    are ignored because clients often send their whole settings section.
    """
    options = base or ServerOptions()
    problems: list[OptionProblem] = []
    if raw is None:
        return options, problems
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    if not isinstance(raw, dict):
        return options, [OptionProblem(SECTION, raw, "object")]

    top: dict[str, Any] = {}
    for key, (name, kind) in _TOP_LEVEL.items():
        if key in raw:
            value, problem = _check(key, raw[key], kind, allow_empty=(name == "interpreter"))
            if problem:
                problems.append(problem)
            else:
                top[name] = value

    budget_raw = raw.get("trace") if isinstance(raw.get("trace"), dict) else raw
    budget: dict[str, Any] = {}
    for key, (name, kind) in _BUDGET.items():
        if key in budget_raw:
            value, problem = _check(f"trace.{key}" if budget_raw is not raw else key,
                                    budget_raw[key], kind)
            if problem:
                problems.append(problem)
            else:
                budget[name] = value

    if top.get("interpreter") == "":
        top["interpreter"] = None
    if "model" in raw:
        if raw["model"] is None or isinstance(raw["model"], dict):
            top["model"] = raw["model"]
        else:
            problems.append(OptionProblem("model", raw["model"], "object"))
    return replace(options, **top, trace=replace(options.trace, **budget)), problems


def _check(key: str, value: Any, kind: type, allow_empty: bool = False) -> tuple[Any, OptionProblem | None]:
    """Return (value converted to `kind`, None), or (None, the problem) when it does not fit."""
    if value is None and allow_empty:
        return "", None
    if kind is bool and isinstance(value, bool):
        return value, None
    if kind is str and isinstance(value, str):
        return value.strip(), None
    # bool is a subclass of int, so `true` must not pass as a number.
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int and is_number and value == int(value) and value > 0:
        return int(value), None
    if kind is float and is_number and value > 0:
        return float(value), None
    return None, OptionProblem(key, value, _EXPECTED[kind])


_EXPECTED = {bool: "bool", str: "string", int: "positive_int", float: "positive_number"}


def budget_as_trace_options(budget: TraceBudget) -> dict[str, Any]:
    """Return the budget as keyword options for the tracer, leaving out unset fields."""
    return {f.name: getattr(budget, f.name) for f in fields(budget) if getattr(budget, f.name) is not None}
