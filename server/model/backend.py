"""The one interface every model backend implements, and the values it exchanges.

A backend turns chat messages into `n` completions. It streams text as it is generated
(`on_delta(sample, text)`), stops soon after `cancel()` turns true, and loads its model
once, lazily, reporting progress. Errors reach the user, so they carry a message key and
fields, rendered in the user's locale by `ModelError.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

# progress(message, percent): percent is None when the amount of work is unknown.
ProgressCallback = Callable[[str, "int | None"], None]
# on_delta(sample_index, text): a piece of sample `sample_index` as it is generated.
DeltaCallback = Callable[[int, str], None]
Cancel = Callable[[], bool]


def never() -> bool:
    return False


@dataclass(frozen=True)
class GenerationRequest:
    """A generation request: chat messages (role/content dicts) and sampling settings."""

    messages: list[dict[str, str]]
    n: int = 1  # independent samples
    temperature: float = 0.8  # 0 means greedy decoding
    top_p: float = 0.95
    max_new_tokens: int = 1024
    seed: int | None = None  # makes local sampling repeatable; remote servers may ignore it


@dataclass
class Completion:
    """One sample's text and why it ended."""

    text: str
    # "stop" (the model ended it), "length" (max_new_tokens reached, likely truncated),
    # "cancelled", or "error" (see `error`).
    finish_reason: str = "stop"
    error: str = ""  # rendered message when finish_reason == "error"
    tokens: int = 0  # generated tokens, when the backend reports them


class Message:
    """A message key and fields, rendered only once the locale is known (nests in ModelError)."""

    def __init__(self, key: str, /, **fields: object) -> None:
        self.key = key
        self.fields = fields

    def render(self, locale: str | None) -> str:
        from ..i18n import translate

        fields = {k: v.render(locale) if isinstance(v, Message) else v
                  for k, v in self.fields.items()}
        return translate(self.key, locale, **fields)


class ModelError(Exception):
    """A backend failure the user must see: a message key of server/messages and its fields.

    `render(locale)` gives the localized text; a field may be a nested `Message`. `str(error)` is the English text, for logs;
    no field may hold a secret (API keys are never put into errors).
    """

    def __init__(self, key: str, /, **fields: object) -> None:
        self.key = key
        self.fields = fields
        super().__init__(self.render("en"))

    def render(self, locale: str | None) -> str:
        return Message(self.key, **self.fields).render(locale)


@runtime_checkable
class ModelBackend(Protocol):
    """A model that can be asked for n streamed, cancellable completions."""

    name: str  # shown to users as the source of fixes, e.g. "Qwen2.5-Coder-7B" or a URL's model

    @property
    def context_window(self) -> int:
        """Tokens the model accepts, prompt and answer together."""
        ...

    def load(self, progress: ProgressCallback | None = None, cancel: Cancel = never) -> None:
        """Make the backend ready (download-free load, or a reachability check); idempotent.

        Raises ModelError saying what was tried and how to fix it.
        """
        ...

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens the prompt made of `messages` takes, chat template included (estimates allowed)."""
        ...

    def generate(self, request: GenerationRequest, *, on_delta: DeltaCallback | None = None,
                 cancel: Cancel = never) -> list[Completion]:
        """Return `request.n` completions, streaming each through `on_delta`.

        Loads the model first if needed. Raises ModelError when no sample could be
        generated at all; a single failed sample is a Completion with finish_reason "error".
        """
        ...


@dataclass
class BackendSettings:
    """How to reach a model; built from `[tool.tracefix.model]` and editor settings (see config)."""

    kind: str = "none"  # "none" (built-in engine only), "transformers" or "openai"
    model: str = ""  # hub id or local folder (transformers); model name (openai)
    endpoint: str = ""  # base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1
    api_key_env: str = "TRACEFIX_API_KEY"  # environment variable that contains the key
    device: str = "auto"  # auto, cpu, cuda, cuda:1, mps
    dtype: str = "auto"  # auto, float32, float16, bfloat16
    context_window: int = 0  # 0: ask the model (transformers) or assume 8192 (openai)
    timeout: float = 60.0  # seconds without a byte from the endpoint before giving up
    retries: int = 2  # extra attempts after a connection error, 429 or 5xx
    trust_remote_code: bool = False  # let transformers run a model folder's own code
    extra: dict[str, object] = field(default_factory=dict)
