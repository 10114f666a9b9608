"""The local backend: a Hugging Face transformers causal LM, loaded once in the background.

`from_pretrained` takes a hub id or a local folder. The device is chosen automatically
(cuda, then mps, then cpu) unless set; the dtype follows the device unless set. Prompts
go through the tokenizer's chat template. Each sample is generated on a worker thread
and streamed through `TextIteratorStreamer`; a stopping criterion that reads the cancel
flag ends generation within one token.

torch and transformers are imported only when this module is, and this module only when
a transformers model is configured, so the server installs and starts without them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future
from typing import Any

from .backend import (BackendSettings, Cancel, Completion, DeltaCallback, GenerationRequest,
                      Message, ModelError, ProgressCallback, never)

log = logging.getLogger(__name__)

FALLBACK_CONTEXT = 2048  # when neither the settings nor the model set a context length
# A tokenizer that sets no real limit reports a huge sentinel (about 1e30).
_SANE_LIMIT = 10_000_000


def _import_stack():
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelError("model.hf.missing_extra", error=str(exc)) from exc
    return torch, transformers


class TransformersBackend:
    """A ModelBackend over a transformers causal LM (see the module docstring)."""

    def __init__(self, settings: BackendSettings, *, locale: str = "en") -> None:
        if not settings.model:
            raise ModelError("model.config.needs_model")
        self.settings = settings
        self.locale = locale
        self.name = os.path.basename(os.path.normpath(settings.model)) or settings.model
        self._lock = threading.Lock()
        self._loading: Future | None = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._device = ""
        # One generation at a time: a single model on one device gains nothing from more.
        self._generate_lock = threading.Lock()

    # -- loading --------------------------------------------------------------------

    def start_loading(self, progress: ProgressCallback | None = None) -> Future:
        """Begin loading on a background thread (once) and return its future."""
        with self._lock:
            if self._loading is None:
                self._loading = Future()
                thread = threading.Thread(target=self._load_into, args=(self._loading, progress),
                                          name="tracefix-model-load", daemon=True)
                thread.start()
            return self._loading

    def load(self, progress: ProgressCallback | None = None, cancel: Cancel = never) -> None:
        future = self.start_loading(progress)
        # Waiting is cancellable; the load itself goes on so that a later request finds
        # the model ready.
        while True:
            try:
                future.result(timeout=0.2)
                return
            except TimeoutError:
                if cancel():
                    raise ModelError("model.cancelled")

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load_into(self, future: Future, progress: ProgressCallback | None) -> None:
        try:
            self._load(progress)
        except ModelError as exc:
            log.warning("loading model %s failed: %s", self.settings.model, exc)
            future.set_exception(exc)
            # A failed load may be retried by the next request (e.g. after a download).
            with self._lock:
                self._loading = None
        except Exception as exc:  # transformers' own errors (OSError for a missing model)
            # Expected failures get one line; the traceback only at debug level.
            log.warning("loading model %s failed: %s: %s", self.settings.model,
                        type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            log.debug("loading model %s failed", self.settings.model, exc_info=True)
            future.set_exception(self._load_error(exc))
            with self._lock:
                self._loading = None
        else:
            future.set_result(None)

    def _load(self, progress: ProgressCallback | None) -> None:
        torch, transformers = _import_stack()
        settings = self.settings
        report = progress or (lambda message, percent: None)
        device = resolve_device(settings.device, torch)
        dtype = resolve_dtype(settings.dtype, device, torch)
        started = time.monotonic()
        report(self._text("model.hf.progress.tokenizer", model=self.name), 10)
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            settings.model, trust_remote_code=settings.trust_remote_code)
        report(self._text("model.hf.progress.weights", model=self.name, device=device,
                          dtype=str(dtype).replace("torch.", "")), 30)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            settings.model, dtype=dtype, trust_remote_code=settings.trust_remote_code)
        model.to(device)
        model.eval()
        if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer, self._model, self._device = tokenizer, model, device
        log.info("loaded model %s on %s (%s) in %.1f s", settings.model, device, dtype,
                 time.monotonic() - started)
        report(self._text("model.hf.progress.ready", model=self.name), 100)

    def _load_error(self, exc: Exception) -> ModelError:
        """Say what was tried and how to fix it, for the usual reasons a load fails."""
        model = self.settings.model
        looks_local = os.path.isabs(model) or model.startswith((".", "~")) or os.path.exists(model)
        if looks_local and not os.path.isdir(os.path.expanduser(model)):
            hint = Message("model.hf.hint.no_folder", path=model)
        elif looks_local:
            hint = Message("model.hf.hint.bad_folder", path=model)
        elif os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True", "yes"):
            hint = Message("model.hf.hint.offline", model=model)
        else:
            hint = Message("model.hf.hint.hub", model=model)
        if looks_local and not os.path.isdir(os.path.expanduser(model)):
            # transformers then reports a malformed hub id, which only misleads.
            return ModelError("model.hf.no_folder", model=model, hint=hint)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ModelError("model.hf.load_failed", model=model, reason=reason[:300].rstrip("."),
                          hint=hint)

    def _text(self, key: str, **fields: object) -> str:
        from ..i18n import translate

        return translate(key, self.locale, **fields)

    # -- the ModelBackend interface -------------------------------------------------

    @property
    def context_window(self) -> int:
        if self.settings.context_window > 0:
            return self.settings.context_window
        self.load()
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = getattr(self._model.config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        limit = getattr(self._tokenizer, "model_max_length", 0)
        return limit if 0 < limit < _SANE_LIMIT else FALLBACK_CONTEXT

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        self.load()
        return len(self._prompt_ids(messages))

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            encoded = tokenizer.apply_chat_template(messages, tokenize=True,
                                                    add_generation_prompt=True, return_dict=True)
            return list(encoded["input_ids"])
        # A base model without a chat template: plain text with role headers.
        text = "".join(f"{m['role'].upper()}:\n{m['content']}\n\n" for m in messages) + "ASSISTANT:\n"
        return list(tokenizer(text, add_special_tokens=True)["input_ids"])

    def generate(self, request: GenerationRequest, *, on_delta: DeltaCallback | None = None,
                 cancel: Cancel = never) -> list[Completion]:
        self.load(cancel=cancel)
        ids = self._prompt_ids(request.messages)
        completions: list[Completion] = []
        with self._generate_lock:
            for sample in range(request.n):
                if cancel():
                    completions.append(Completion("", "cancelled"))
                    continue
                completions.append(self._sample(ids, request, sample, on_delta, cancel))
        if completions and all(c.finish_reason == "error" for c in completions):
            raise ModelError("model.hf.generate_failed", model=self.name,
                             reason=completions[0].error)
        return completions

    def _sample(self, ids: list[int], request: GenerationRequest, sample: int,
                on_delta: DeltaCallback | None, cancel: Cancel) -> Completion:
        torch, transformers = _import_stack()
        tokenizer, model = self._tokenizer, self._model
        input_ids = torch.tensor([ids], device=self._device)
        streamer = transformers.TextIteratorStreamer(tokenizer, skip_prompt=True,
                                                     skip_special_tokens=True)
        kwargs: dict[str, Any] = dict(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
            max_new_tokens=request.max_new_tokens, streamer=streamer,
            stopping_criteria=transformers.StoppingCriteriaList([_CancelCriterion(cancel)]),
            pad_token_id=tokenizer.pad_token_id,
        )
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p)
        else:
            kwargs.update(do_sample=False)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                if request.seed is not None:
                    torch.manual_seed(request.seed + sample)
                with torch.inference_mode():
                    output = model.generate(**kwargs)
                outcome["tokens"] = int(output.shape[1]) - len(ids)
            except Exception as exc:  # reported as this sample's error, not raised
                log.exception("generation of sample %d failed", sample)
                outcome["error"] = f"{type(exc).__name__}: {exc}"
                streamer.end()

        worker = threading.Thread(target=run, name=f"tracefix-generate-{sample}", daemon=True)
        worker.start()
        pieces: list[str] = []
        for piece in streamer:
            if piece:
                pieces.append(piece)
                if on_delta is not None:
                    on_delta(sample, piece)
        worker.join()
        text = "".join(pieces)
        if "error" in outcome:
            return Completion(text, "error", error=outcome["error"])
        tokens = outcome.get("tokens", 0)
        if cancel():
            return Completion(text, "cancelled", tokens=tokens)
        return Completion(text, "length" if tokens >= request.max_new_tokens else "stop",
                          tokens=tokens)


class _CancelCriterion:
    """Stops generate() at the next token once the request is cancelled."""

    def __init__(self, cancel: Cancel) -> None:
        self.cancel = cancel

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), bool(self.cancel()), dtype=torch.bool,
                          device=input_ids.device)


def resolve_device(setting: str, torch) -> str:
    """Return the device to load on: the setting, or the best one available for "auto"."""
    if setting and setting != "auto":
        if setting.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError("model.hf.no_device", device=setting)
        if setting == "mps" and not _has_mps(torch):
            raise ModelError("model.hf.no_device", device=setting)
        return setting
    if torch.cuda.is_available():
        return "cuda"
    if _has_mps(torch):
        return "mps"
    return "cpu"


def _has_mps(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_dtype(setting: str, device: str, torch):
    """Return the torch dtype: the setting, or one the device computes well for "auto"."""
    if setting and setting != "auto":
        return getattr(torch, setting)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32
