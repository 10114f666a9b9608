"""The candidate sources and validation settings each engine feeds the explain pipeline.

The built-in engine is the pipeline's default repair search, run once per task. The
model engine samples `samples` completions per task from a model backend, with or
without the inline trace in the prompt, and validates every sample's candidate so that
pass@k can count the verified samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..engine import CandidateSource, ExplainSettings, ValidationSettings

# Variants: one explain run per task each. "builtin" is the built-in engine's only run;
# "trace" and "no-trace" are the model engine with and without the trace in the prompt.
BUILTIN = "builtin"
WITH_TRACE = "trace"
WITHOUT_TRACE = "no-trace"

# Validate every model sample's candidate: pass@k counts verified samples, so stopping
# at the first verified fix would undercount c.
VALIDATE_ALL = 1_000_000

# sources_for(variant, cancel) -> candidate sources for one explain run, or None for the
# pipeline's default (the built-in repair search). Called once per task and variant, so
# a source's per-run state (a model source's per-sample report) belongs to one task.
# `cancel()` turns true when the task's budget is spent or the run is interrupted.
SourceFactory = Callable[[str, Callable[[], bool]], "list[CandidateSource] | None"]


@dataclass(frozen=True)
class EngineSettings:
    """Per-task limits shared by both engines."""

    budget: float = 120.0  # wall seconds for one explain run, validation included
    workers: int = 1  # candidate validations of one task at once
    test_timeout: float = 30.0  # bound of one validation pytest run, in seconds
    run_timeout: float = 60.0  # bound of the baseline and traced pytest runs


def explain_settings(engine: str, limits: EngineSettings) -> ExplainSettings:
    """Return the pipeline settings of one explain run of `engine`."""
    # The built-in engine's pass@1 depends only on whether the top-ranked candidate is
    # verified, and ranking puts verified candidates first, so one verified fix is enough.
    stop_after = 1 if engine == BUILTIN else VALIDATE_ALL
    validation = ValidationSettings(workers=limits.workers, budget_seconds=limits.budget,
                                    test_timeout=limits.test_timeout,
                                    stop_after_verified=stop_after)
    return ExplainSettings(run_timeout=limits.run_timeout, validation=validation)


def builtin_sources(variant: str, cancel: Callable[[], bool]) -> None:
    """Return None, which makes the pipeline use its built-in repair search."""
    return None


def model_options(model: str, endpoint: str, *, samples: int, temperature: float,
                  api_key_env: str = "TRACEFIX_API_KEY", extra: dict | None = None):
    """Return the ModelOptions for `--model` (a local transformers model) or `--endpoint`.

    With an endpoint, `model` names the served model (empty: the first the server lists).
    `extra` contains further [tool.tracefix.model] keys (max_new_tokens, seed, device, ...).
    Only the model's candidates are validated (`include_builtin=False`), so every
    verified candidate is credited to the samples that proposed it. Raises ConfigError
    (a ModelError) for an invalid value, such as an endpoint that is not an http(s) URL.
    """
    from ..model.config import ModelOptions, apply, check

    cli_values: dict[str, object] = {"model": model, "samples": samples, "temperature": temperature,
                                "include_builtin": False, "api_key_env": api_key_env,
                                **(extra or {})}
    if endpoint:
        cli_values.update(kind="openai", endpoint=endpoint)
    else:
        cli_values["kind"] = "transformers"
    options = apply(ModelOptions(), cli_values, "command line")
    check(options)
    return options


def make_model_backend(options, *, locale: str = "en"):
    """Construct the backend of `options`; the API key comes from `api_key_env`.

    The key is never taken from the command line, so it does not show in process lists
    or shell history.
    """
    from ..model.config import make_backend

    return make_backend(options.backend, locale=locale)


def model_sources(backend, options) -> SourceFactory:
    """Return a factory of one fresh model candidate source per task and variant."""
    from dataclasses import replace

    from ..model.source import ModelCandidateSource

    def sources_for(variant: str, cancel: Callable[[], bool]) -> list[CandidateSource]:
        variant_options = replace(options, with_trace=variant != WITHOUT_TRACE)
        return [ModelCandidateSource(backend, variant_options, cancel=cancel)]

    return sources_for
