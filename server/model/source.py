"""A model as a candidate source: prompt, sample n answers, read each, map fixes to edits.

`ModelCandidateSource.propose` runs inside the engine's explain pipeline, after the
diagnosis and before validation, so model fixes are validated in the sandbox together
with the built-in engine's and ranked the same way. A backend failure (ModelError) is
kept in `report.error` rather than raised, so the built-in candidates still go on. The
pipeline's `propose_all` logs any other exception and skips the source. Each sample's reasoning is kept whether or not its fix was usable.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from dataclasses import dataclass, field

from ..engine.results import Candidate, FailureContext, ProgressCallback
from ..i18n import translate
from .backend import Cancel, DeltaCallback, GenerationRequest, ModelBackend, ModelError, never
from .config import ModelOptions

log = logging.getLogger(__name__)


@dataclass
class ModelAnswer:
    """One sample: what the model wrote, its reasoning, and what became of its fix."""

    sample: int
    text: str
    reasoning: str
    finish_reason: str
    reason: str = ""  # localized: why there is no usable fix; "" when a candidate was made
    files: list[str] = field(default_factory=list)  # files the fix edits
    candidate: Candidate | None = None


@dataclass
class ModelReport:
    """A record of the model part of one explanation, for the report, the CLI and the evaluation."""

    model: str
    answers: list[ModelAnswer] = field(default_factory=list)
    error: str = ""  # localized: the backend failed (load, connection); "" otherwise
    prompt_tokens: int = 0
    cuts: list[str] = field(default_factory=list)  # what was cut to fit the context window
    template: str = ""
    with_trace: bool = True


class ModelCandidateSource:
    """CandidateSource that requests fixes from a model backend (see the module docstring).

    `on_delta(sample, text)` receives the completions as they are generated, `progress` the
    loading and generation steps, and `cancel()` stops generation.
    """

    def __init__(self, backend: ModelBackend, options: ModelOptions = ModelOptions(), *,
                 on_delta: DeltaCallback | None = None,
                 progress: ProgressCallback | None = None,
                 cancel: "Cancel | threading.Event" = never) -> None:
        self.backend = backend
        self.options = options
        self.name = f"model:{backend.name}"
        self.on_delta = on_delta
        self.progress = progress
        self.cancel: Cancel = cancel.is_set if isinstance(cancel, threading.Event) else cancel
        self.report = ModelReport(model=backend.name, template=options.template,
                                  with_trace=options.with_trace)
        self._locale = "en"

    def propose(self, context: FailureContext) -> list[Candidate]:
        locale = self._locale = context.locale
        try:
            return self._propose(context)
        except ModelError as exc:
            self.report.error = exc.render(locale)
            log.warning("model %s returned no completions for %s: %s", self.backend.name,
                        context.test_id, exc)
            return []

    def _propose(self, context: FailureContext) -> list[Candidate]:
        from .answer import parse_answer
        from .fixmap import map_fix
        from .prompt import build_prompt

        locale, options = context.locale, self.options
        self._say("model.source.progress.load", None, model=self.backend.name)
        self.backend.load(self.progress, self.cancel)
        # A remote backend learns its model's name from the server only now.
        self.name, self.report.model = f"model:{self.backend.name}", self.backend.name
        budget = self.backend.context_window - options.max_new_tokens
        if budget <= 0:
            raise ModelError("model.source.no_room", window=self.backend.context_window,
                             answer=options.max_new_tokens)
        prompt = build_prompt(context, count_tokens=self.backend.count_tokens, budget=budget,
                              locale=locale, with_trace=options.with_trace,
                              template=options.template, few_shot=options.few_shot)
        self.report.prompt_tokens, self.report.cuts = prompt.tokens, list(prompt.cuts)
        self.report.template = prompt.template
        self._say("model.source.progress.generate", None, model=self.backend.name,
                  samples=options.samples, tokens=prompt.tokens)
        request = GenerationRequest(messages=prompt.messages, n=options.samples,
                                    temperature=options.temperature,
                                    max_new_tokens=options.max_new_tokens, seed=options.seed)
        completions = self.backend.generate(request, on_delta=self.on_delta, cancel=self.cancel)

        target = target_file(context)
        by_text: dict[tuple[str, str], Candidate] = {}
        for sample, completion in enumerate(completions):
            parsed = parse_answer(completion.text, cut_off=completion.finish_reason == "length")
            answer = ModelAnswer(sample, completion.text, parsed.reasoning, completion.finish_reason)
            self.report.answers.append(answer)
            if completion.finish_reason in ("error", "cancelled") and not parsed.blocks:
                answer.reason = completion.error or translate("model.source.cancelled", locale)
                continue
            fix = map_fix(parsed, sources=context.sources, target_file=target, root=context.root,
                          allow_test_edits=context.allow_test_edits, locale=locale,
                          test_file=os.path.join(context.root, context.test_id.split("::", 1)[0]))
            answer.files = sorted(fix.edits)
            if not fix.ok:
                answer.reason = fix.reason
                continue
            if len(fix.edits) > 1:
                # TODO: a Candidate contains one file, so multi-file fixes need Candidate.files.
                answer.reason = translate("model.source.many_files", locale, count=len(fix.edits))
                continue
            path, new_text = next(iter(fix.edits.items()))
            key = (path, new_text)
            if key in by_text:  # several samples agree: validate once, credit all
                candidate = by_text[key]
                candidate.samples = candidate.samples + (sample,)
            else:
                candidate = self._candidate(context, path, new_text, sample, fix.replaced)
                by_text[key] = candidate
            answer.candidate = candidate
        return list(by_text.values())

    def _candidate(self, context: FailureContext, path: str, new_text: str, sample: int,
                   replaced: list[str]) -> Candidate:
        old = context.sources.get(path, "")
        line, distance = first_changed_line(old, new_text), changed_characters(old, new_text)
        what = ", ".join(f"`{name}`" for name in replaced) or os.path.basename(path)
        description = translate("model.source.candidate", context.locale, model=self.backend.name,
                                sample=sample + 1, what=what)
        from ..engine.repair import unified_diff

        diff = unified_diff(old, new_text, os.path.relpath(path, context.root))
        return Candidate(source=self.name, file=path, new_text=new_text, description=description,
                         line=line, kind="model", distance=distance, samples=(sample,), diff=diff)

    def _say(self, key: str, percent: int | None, **fields: object) -> None:
        if self.progress is not None:
            self.progress(translate(key, self._locale, **fields), percent)

    def notes(self, locale: str) -> list[str]:
        """Remarks for the explanation: a backend error, and what the prompt left out."""
        notes = []
        if self.report.error:
            notes.append(translate("model.source.note.error", locale, model=self.backend.name,
                                   error=self.report.error))
        notes.extend(self.report.cuts)
        unusable = sum(1 for a in self.report.answers if a.candidate is None)
        if self.report.answers and unusable:
            notes.append(translate("model.source.note.unusable", locale, count=unusable,
                                   total=len(self.report.answers)))
        return notes


def answer_status(answer: ModelAnswer) -> tuple[str, dict[str, object]]:
    """Return what became of an answer's fix as (status, message fields).

    The status is "unusable" (no fix, with the cause in `reason`), "verified", "failed" (it did
    not pass the tests) or "untried" (the budget or a cancel stopped validation first).
    """
    candidate = answer.candidate
    if candidate is None:
        return "unusable", {"reason": answer.reason}
    counts = {"passed": candidate.passed, "total": candidate.total}
    if candidate.verified:
        return "verified", counts
    if candidate.total:
        return "failed", counts
    return "untried", {}


def target_file(context: FailureContext) -> str:
    """Return the file a fix most likely belongs in: the most suspicious line's file."""
    for item in context.suspicious:
        if item.file in context.sources:
            return item.file
    failing = context.diagnosis.failing_file
    return failing or next(iter(context.sources), "")


def first_changed_line(old: str, new: str) -> int:
    """Return the 1-based number of the first line of `old` that `new` changes."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, _i2, _j1, _j2 in matcher.get_opcodes():
        if tag != "equal":
            return i1 + 1
    return 1


def changed_characters(old: str, new: str) -> int:
    """Count characters inserted or deleted, diffing lines first so large rewrites stay cheap."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    total = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        chars = difflib.SequenceMatcher(None, before, after, autojunk=False)
        total += sum(max(b2 - b1, a2 - a1) for op, b1, b2, a1, a2 in chars.get_opcodes()
                     if op != "equal")
    return total
