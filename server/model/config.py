"""Model configuration: `[tool.tracefix.model]` in pyproject.toml, editor settings, CLI flags.

Later sources override earlier ones, field by field: the project's pyproject.toml, then
the editor's settings, then command-line flags. Keys are snake_case in pyproject.toml and
camelCase in editor settings (both spellings are accepted everywhere). With no `model`
and no `endpoint` the kind is "none": the built-in engine explains alone.

A bad value raises ConfigError naming the key, the value and what is expected; the
caller shows it and falls back to the built-in engine rather than losing the request.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from .backend import BackendSettings, Message, ModelBackend, ModelError

log = logging.getLogger(__name__)

KINDS = ("none", "transformers", "openai")
DEVICES = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DTYPES = ("auto", "float32", "float16", "bfloat16")


class ConfigError(ModelError):
    """An invalid model setting; rendered like every ModelError."""


@dataclass(frozen=True)
class ModelOptions:
    """Everything about asking a model for fixes: the backend and the sampling."""

    backend: BackendSettings = field(default_factory=BackendSettings)
    samples: int = 4  # completions sampled per failure (n)
    temperature: float = 0.8
    max_new_tokens: int = 1024
    template: str = "next-v1"
    few_shot: int = 0  # worked examples put before the failure
    with_trace: bool = True  # False: the NExT ablation, code without the inline trace
    include_builtin: bool = True  # validate the built-in engine's candidates as well
    show_unverified: bool = False  # also list fixes that failed or were not validated
    seed: int | None = None

    @property
    def enabled(self) -> bool:
        return self.backend.kind != "none"


# key (snake_case) → (object the field belongs to, field name, converter)
def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise ConfigError("model.config.expected", setting=key, value=repr(value),
                          expected=Message("model.config.expected.whole"))
    return int(value)


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError("model.config.expected", setting=key, value=repr(value),
                          expected=Message("model.config.expected.number"))
    return float(value)


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("model.config.expected", setting=key, value=repr(value),
                          expected=Message("model.config.expected.bool"))
    return value


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError("model.config.expected", setting=key, value=repr(value), expected=Message("model.config.expected.string"))
    return value.strip()


def _choice(options: tuple[str, ...]):
    def check(key: str, value: Any) -> str:
        text = _string(key, value)
        if text not in options:
            raise ConfigError("model.config.expected", setting=key, value=repr(value),
                              expected=" | ".join(options))
        return text
    return check


def _device(key: str, value: Any) -> str:
    text = _string(key, value)
    if not DEVICES.match(text):
        raise ConfigError("model.config.expected", setting=key, value=repr(value),
                          expected="auto | cpu | mps | cuda | cuda:N")
    return text


def _seed(key: str, value: Any) -> int | None:
    return None if value is None else _positive_int(key, value)


_BACKEND_KEYS = {
    "kind": _choice(KINDS), "model": _string, "endpoint": _string, "api_key_env": _string,
    "device": _device, "dtype": _choice(DTYPES), "context_window": _positive_int,
    "timeout": _number, "retries": _positive_int, "trust_remote_code": _bool,
}
_OPTION_KEYS = {
    "samples": _positive_int, "temperature": _number, "max_new_tokens": _positive_int,
    "template": _string, "few_shot": _positive_int, "with_trace": _bool,
    "include_builtin": _bool, "show_unverified": _bool, "seed": _seed,
}


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def apply(options: ModelOptions, raw: Mapping[str, Any] | None, origin: str) -> ModelOptions:
    """Return `options` updated with the keys of `raw`; unknown keys are logged and skipped.

    `origin` names where `raw` came from (a file path, "editor settings", "command line")
    and is part of every error message.
    """
    if not raw:
        return options
    if not isinstance(raw, Mapping):
        raise ConfigError("model.config.not_table", origin=origin, value=repr(raw))
    backend: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(str(key))
        where = f"{origin}: {key}"
        if name in _BACKEND_KEYS:
            backend[name] = _BACKEND_KEYS[name](where, value)
        elif name in _OPTION_KEYS:
            top[name] = _OPTION_KEYS[name](where, value)
        else:
            log.warning("%s: unknown model setting %r ignored", origin, key)
    if "samples" in top and top["samples"] < 1:
        raise ConfigError("model.config.expected", setting=f"{origin}: samples", value=repr(top["samples"]),
                          expected=Message("model.config.expected.positive"))
    merged = replace(options.backend, **backend)
    if "kind" not in backend and merged.kind == "none":
        # A model or an endpoint alone selects the backend.
        if backend.get("endpoint"):
            merged = replace(merged, kind="openai")
        elif backend.get("model"):
            merged = replace(merged, kind="transformers")
    return replace(options, backend=merged, **top)


def read_pyproject(root: str) -> tuple[dict[str, Any], str]:
    """Return `[tool.tracefix.model]` of `root`/pyproject.toml (or {}) and the file's path."""
    path = os.path.join(root, "pyproject.toml")
    if not os.path.isfile(path):
        return {}, path
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("model.config.unreadable", path=path, error=str(exc)) from exc
    table = data.get("tool", {}).get("tracefix", {}).get("model", {})
    return table, path


def load_options(root: str, *, editor: Mapping[str, Any] | None = None,
                 cli: Mapping[str, Any] | None = None) -> ModelOptions:
    """Resolve the model options of the project at `root` (see the module docstring)."""
    table, path = read_pyproject(root)
    options = apply(ModelOptions(), table, path)
    options = apply(options, editor, "editor settings")
    options = apply(options, cli, "command line")
    check(options)
    return options


def check(options: ModelOptions) -> None:
    """Raise ConfigError when the backend kind lacks what it needs."""
    backend = options.backend
    if backend.kind == "transformers" and not backend.model:
        raise ConfigError("model.config.needs_model")
    if backend.kind == "openai":
        if not backend.endpoint:
            raise ConfigError("model.config.needs_endpoint")
        if not re.match(r"^https?://", backend.endpoint):
            raise ConfigError("model.config.bad_endpoint", value=backend.endpoint)


def make_backend(settings: BackendSettings, *, api_key: str | None = None,
                 locale: str = "en") -> ModelBackend:
    """Construct (not load) the backend `settings` describe."""
    if settings.kind == "transformers":
        from .hf_backend import TransformersBackend

        return TransformersBackend(settings, locale=locale)
    if settings.kind == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(settings, api_key=api_key, locale=locale)
    raise ConfigError("model.config.no_model")


def describe(options: ModelOptions) -> dict[str, Any]:
    """Return the options as plain data for logs and JSON output, without any secret."""
    backend = {f.name: getattr(options.backend, f.name) for f in fields(options.backend)
               if f.name != "extra"}
    top = {f.name: getattr(options, f.name) for f in fields(options) if f.name != "backend"}
    return {"backend": backend, **top}
