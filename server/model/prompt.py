"""Turn a failure into chat messages for a model, fitted to a token budget.

The user message contains the failure, the failing test's source, and the code the test
executed annotated with the NExT inline trace (Ni et al. 2024, arXiv 2404.14662), then
asks for step-by-step reasoning over the trace and the corrected functions in one
```python block. The wording comes from a versioned template (`templates/`).

To fit the budget, `build_prompt` tries smaller and smaller prompts and keeps the first
that fits. The order, with every step reported in `Prompt.cuts`:

1. fewer few-shot examples, the last one first;
2. fewer loop hits per line (`k`, from the recorded K down to 1) alternating with
   shorter values (`VALUE_WIDTHS`), starting with `k`;
3. whole functions left out, least related to the failure first (see `drop_order`);
   the test function, the failing line's function and the functions containing a
   provenance line or one of the top `SUSPICIOUS_KEPT` suspicious lines always stay;
4. lines cut from the middle of the executed code, replaced by a marker line.

When even the prompt with the whole executed code cut is over the budget, it raises
ModelError.
"""

from __future__ import annotations

import ast
import logging
import math
import os
import textwrap
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from tracefix.tracer.inline import (
    InlineFunction,
    display_path,
    inline_functions,
    render_inline,
    source_lines,
)

from ..engine.results import FailureContext
from ..i18n import translate
from .backend import ModelError
from .templates import Example, Template, TemplateError, load_template

logger = logging.getLogger(__name__)

CountTokens = Callable[[list[dict[str, str]]], int]

VALUE_WIDTHS = (60, 30, 12)  # characters; only widths below the recorded width are tried
# Lines ranked this high by fault localization keep their function in the prompt. The
# ranking covers every line the failing tests ran, so keeping all of them would keep
# every function. 5 is also how many lines the built-in repair search edits by default.
SUSPICIOUS_KEPT = 5
FAILURE_MESSAGE_CHARS = 600  # of the exception message in the failure section
SNAPSHOT_CHARS = 1200  # of the failure snapshot (frames and locals) in the failure section


@dataclass(frozen=True)
class Prompt:
    """Chat messages for one failure and what was cut to fit the budget."""

    messages: list[dict[str, str]]  # system, few-shot user/assistant pairs, user
    tokens: int  # count_tokens(messages)
    cuts: list[str]  # localized, one sentence per kind of cut, in the order applied
    k: int  # loop hits per line shown at each end (the recorded K when not shrunk)
    value_width: int  # characters per value (the recorded width when not shrunk)
    dropped: list[str] = field(default_factory=list)  # "name (file.py:line)" of left-out functions
    template: str = ""  # template name, which ends with its version, e.g. "next-v1"


@dataclass(frozen=True)
class _Plan:
    """One candidate size of the prompt."""

    few_shot: int
    k: int
    width: int | None  # None: values as recorded
    dropped: tuple[InlineFunction, ...] = ()
    cut_lines: int = 0


def build_prompt(context: FailureContext, *, count_tokens: CountTokens, budget: int,
                 locale: str = "en", with_trace: bool = True, template: str = "next-v1",
                 few_shot: int = 0) -> Prompt:
    """Build the prompt for `context` that fits `budget` tokens as counted by `count_tokens`.

    `budget` is the model's context window minus the tokens kept for generation.
    `with_trace=False` shows the same functions without the trace comments (the NExT
    ablation). `few_shot` worked examples from the template go before the request.
    Raises TemplateError for an unknown template or too many examples, and ModelError
    when no cut makes the prompt fit.
    """
    loaded = load_template(template)
    if not 0 <= few_shot <= len(loaded.examples):
        raise TemplateError("model.prompt.error.few_shot", name=template,
                            available=len(loaded.examples), requested=few_shot)
    if budget < 1:
        raise ValueError(f"budget={budget} is invalid; give a positive number of tokens")

    # A trace whose run ended differently from the untraced run may show values that never
    # happen without the tracer, so the model gets the code without it and a note with the reason.
    unreliable = with_trace and not context.trace.reliable
    composer = _Composer(context, loaded, locale, with_trace and not unreliable, few_shot,
                         unreliable=unreliable)
    last: tuple[_Plan, list[dict[str, str]], int] | None = None
    for plan in composer.plans():
        messages = composer.messages(plan)
        tokens = count_tokens(messages)
        if tokens <= budget:
            return composer.prompt(plan, messages, tokens)
        last = (plan, messages, tokens)

    assert last is not None  # plans() always yields the full prompt first
    return _cut_lines(composer, last[0], count_tokens, budget)


def drop_order(context: FailureContext,
               functions: list[InlineFunction]) -> list[InlineFunction]:
    """Return the functions that may be left out, the least related to the failure first.

    Kept out of the list: the test function, the function of the failing line, and the
    functions containing a provenance line or one of the top SUSPICIOUS_KEPT suspicious
    lines. The rest are ordered by their best suspiciousness score, lowest first, then by
    size, largest first (it frees the most room), then by path and line.
    """
    diagnosis = context.diagnosis
    anchors: list[tuple[str, int]] = list(diagnosis.provenance)
    anchors += [(s.file, s.line) for s in context.suspicious[:SUSPICIOUS_KEPT]]
    if diagnosis.failing_file and diagnosis.failing_line:
        anchors.append((diagnosis.failing_file, diagnosis.failing_line))
    failure = context.trace.failure
    if failure is not None and failure.file and failure.line:
        anchors.append((failure.file, failure.line))

    def contains(function: InlineFunction, path: str, line: int) -> bool:
        return function.path == path and function.start <= line <= function.end

    def best_score(function: InlineFunction) -> float:
        return max((s.score for s in context.suspicious if contains(function, s.file, s.line)),
                   default=0.0)

    droppable = [
        f for f in functions
        if not f.is_test and not any(contains(f, path, line) for path, line in anchors)
    ]
    return sorted(droppable,
                  key=lambda f: (best_score(f), -(f.end - f.start), f.path, f.start))


def _cut_lines(composer: "_Composer", plan: _Plan, count_tokens: CountTokens,
               budget: int) -> Prompt:
    """Find the fewest lines to cut from the middle of the code so that the prompt fits."""
    total = len(composer.code(plan).splitlines())
    everything = replace(plan, cut_lines=total)
    messages = composer.messages(everything)
    tokens = count_tokens(messages)
    if tokens > budget:
        raise ModelError("model.prompt.error.budget", tokens=tokens, budget=budget)

    # Invariant: cutting `high` lines fits and cutting `low` lines does not.
    low, high, best = 0, total, (everything, messages, tokens)
    while high - low > 1:
        middle = (low + high) // 2
        candidate = replace(plan, cut_lines=middle)
        messages = composer.messages(candidate)
        tokens = count_tokens(messages)
        if tokens <= budget:
            high, best = middle, (candidate, messages, tokens)
        else:
            low = middle
    return composer.prompt(*best)


class _Composer:
    """Builder of the messages for one failure, at the size any plan sets."""

    def __init__(self, context: FailureContext, template: Template, locale: str,
                 with_trace: bool, few_shot: int, unreliable: bool = False) -> None:
        self.context = context
        self.template = template
        self.locale = locale
        self.with_trace = with_trace
        self.unreliable = unreliable  # the trace was left out because it is unreliable
        self.few_shot = few_shot
        config = context.trace.config
        self.recorded_k = int(config.get("k", 3))
        self.recorded_width = int(config.get("value_width", 120))
        self.functions = inline_functions(context.trace, context.sources)
        self.failure = _failure_text(context, template, locale)
        self.test_source = _test_function_source(context.test_source, context.test_id)

    def plans(self) -> Iterator[_Plan]:
        """Yield plans from the full prompt to the smallest one without cut lines."""
        plan = _Plan(self.few_shot, self.recorded_k, None)
        yield plan
        while plan.few_shot > 0:
            plan = replace(plan, few_shot=plan.few_shot - 1)
            yield plan
        if self.with_trace:
            for k, width in _shrink_steps(self.recorded_k, self.recorded_width)[1:]:
                plan = replace(plan, k=k, width=width)
                yield plan
        for function in drop_order(self.context, self.functions):
            plan = replace(plan, dropped=plan.dropped + (function,))
            yield plan

    def code(self, plan: _Plan) -> str:
        """Render the executed code for `plan`, with the cut marker where lines were cut."""
        keys = None
        if plan.dropped:
            keys = {f.key for f in self.functions} - {f.key for f in plan.dropped}
        trace, sources = self.context.trace, self.context.sources
        if self.with_trace:
            text = render_inline(trace, sources, functions=keys,
                                 k=plan.k if plan.k < self.recorded_k else None,
                                 value_width=plan.width)
        else:
            text = render_inline(trace, sources, functions=keys, annotate=False)
        if not plan.cut_lines:
            return text

        lines = text.splitlines()
        kept = max(len(lines) - plan.cut_lines, 0)
        head, tail = math.ceil(kept / 2), kept // 2
        marker = self.template.text("cut_marker", self.locale, lines=len(lines) - kept)
        return "\n".join(lines[:head] + [marker] + lines[len(lines) - tail:]) + "\n"

    def cuts(self, plan: _Plan) -> list[str]:
        """Describe, in the user's locale, what `plan` leaves out, in the order applied."""
        notes = []
        if plan.few_shot < self.few_shot:
            notes.append(translate("model.prompt.cut.few_shot", self.locale,
                                   count=self.few_shot - plan.few_shot, total=self.few_shot))
        notes.extend(self._content_cuts(plan))
        return notes

    def _content_cuts(self, plan: _Plan) -> list[str]:
        """Describe the cuts of the failure's own content, which the prompt also shows the model."""
        notes = []
        if self.unreliable:
            notes.append(translate("model.prompt.cut.unreliable", self.locale))
        if self.with_trace and plan.k < self.recorded_k:
            notes.append(translate("model.prompt.cut.k", self.locale, k=plan.k,
                                   recorded=self.recorded_k))
        if self.with_trace and plan.width is not None:
            notes.append(translate("model.prompt.cut.value_width", self.locale,
                                   width=plan.width, recorded=self.recorded_width))
        if plan.dropped:
            notes.append(translate("model.prompt.cut.functions", self.locale,
                                   count=len(plan.dropped),
                                   names=", ".join(self._name(f) for f in plan.dropped)))
        if plan.cut_lines:
            notes.append(translate("model.prompt.cut.text", self.locale, lines=plan.cut_lines))
        return notes

    def messages(self, plan: _Plan) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.template.text("system", self.locale)}]
        for example in self.template.examples[:plan.few_shot]:
            messages.append({"role": "user", "content": self._example_request(example)})
            messages.append({"role": "assistant", "content": self._example_answer(example)})
        messages.append({"role": "user", "content": self._user_text(
            self.context.test_id, self.failure, self.test_source, self.code(plan),
            self._content_cuts(plan))})
        return messages

    def prompt(self, plan: _Plan, messages: list[dict[str, str]], tokens: int) -> Prompt:
        cuts = self.cuts(plan)
        if cuts:
            logger.info("prompt for %s cut to %d tokens: %s", self.context.test_id, tokens,
                        " ".join(cuts))
        return Prompt(messages=messages, tokens=tokens, cuts=cuts, k=plan.k,
                      value_width=plan.width or self.recorded_width,
                      dropped=[self._name(f) for f in plan.dropped], template=self.template.name)

    def _user_text(self, test_id: str, failure: str, test_source: str, code: str,
                   notes: list[str]) -> str:
        text = self.template.text
        locale = self.locale
        if self.with_trace:
            code_section = "\n".join([text("code_heading_trace", locale),
                                      text("trace_legend", locale), _fenced(code)])
        else:
            code_section = "\n".join([text("code_heading_plain", locale), _fenced(code)])
        sections = [
            text("opening", locale, test_id=test_id),
            f"{text('failure_heading', locale)}\n{failure}",
            f"{text('test_heading', locale)}\n{_fenced(test_source)}",
            code_section,
        ]
        if notes:
            bullets = "\n".join(f"- {note}" for note in notes)
            sections.append(f"{text('notes_heading', locale)}\n{bullets}")
        instruction = "instruction_trace" if self.with_trace else "instruction_plain"
        sections.append(text(instruction, locale))
        return "\n\n".join(sections)

    def _example_request(self, example: Example) -> str:
        failure = "\n".join([
            self.template.text("failure", self.locale, exc_type=example.exc_type,
                               message=example.message),
            self.template.text("failing_line", self.locale, location=example.location,
                               line_text=example.line_text),
        ])
        code = example.trace if self.with_trace else example.code
        return self._user_text(example.test_id, failure, example.test_source, code, [])

    def _example_answer(self, example: Example) -> str:
        rationale = example.rationales.get(self.locale) or example.rationales["en"]
        return f"{rationale}\n\n{_fenced(example.fix)}"

    def _name(self, function: InlineFunction) -> str:
        path = display_path(function.path, self.context.root)
        return f"{function.name} ({path}:{function.def_line or function.start})"


def _shrink_steps(recorded_k: int, recorded_width: int) -> list[tuple[int, int | None]]:
    """Return (k, value width) pairs from the recorded ones down to k=1 and the last width.

    k and the width take turns, k first: (3, None), (2, None), (2, 60), (1, 60), (1, 30),
    (1, 12) for the default K=3 and width 120. A K above 6 is halved until it is 6 or less,
    then lowered by one.
    """
    ks = [recorded_k]
    while ks[-1] > 1:
        ks.append(ks[-1] // 2 if ks[-1] > 6 else ks[-1] - 1)
    widths: list[int | None] = [None] + [w for w in VALUE_WIDTHS if w < recorded_width]

    steps = [(ks[0], widths[0])]
    k_index = width_index = 0
    turn_k = True
    while k_index < len(ks) - 1 or width_index < len(widths) - 1:
        if (turn_k and k_index < len(ks) - 1) or width_index == len(widths) - 1:
            k_index += 1
        else:
            width_index += 1
        turn_k = not turn_k
        steps.append((ks[k_index], widths[width_index]))
    return steps


def _failure_text(context: FailureContext, template: Template, locale: str) -> str:
    """Return the failure section: exception type and message, then the failing line."""
    failure = context.trace.failure
    if failure is None:
        return template.text("no_failure", locale)
    message = failure.message.replace("\r", "\\r").replace("\n", "\\n")
    extra = len(message) - FAILURE_MESSAGE_CHARS
    if extra > 0:
        message = f"{message[:FAILURE_MESSAGE_CHARS]}…(+{extra} chars)"
    lines = [template.text("failure", locale, exc_type=failure.exc_type, message=message)]

    path = context.diagnosis.failing_file or failure.file
    number = context.diagnosis.failing_line or failure.line
    if path and number:
        source = source_lines(context.sources.get(path, ""))
        line_text = source[number - 1].strip() if 0 < number <= len(source) else ""
        location = f"{display_path(path, context.root)}:{number}"
        lines.append(template.text("failing_line", locale, location=location,
                                   line_text=line_text))
    if context.trace.snapshot:
        # The frames and locals where the test failed, read with debugpy (bounded).
        from tracefix.server.debug.render import snapshot_prompt_text

        state = snapshot_prompt_text(context.trace.snapshot, limit=SNAPSHOT_CHARS)
        if state:
            lines.append(state)
    return "\n".join(lines)


def _test_function_source(test_source: str, test_id: str) -> str:
    """Return the source of the test function that `test_id` names, decorators included.

    Falls back to the whole file when the function cannot be found (a syntax error, or
    a test defined in an unusual way).
    """
    names = [part.split("[", 1)[0] for part in test_id.split("::")[1:]]
    try:
        scope: list[ast.stmt] = ast.parse(test_source).body
    except (SyntaxError, ValueError):
        return test_source
    node: ast.AST | None = None
    for name in names:
        node = next((n for n in scope if isinstance(n, (ast.ClassDef, ast.FunctionDef,
                                                        ast.AsyncFunctionDef))
                     and n.name == name), None)
        if node is None:
            return test_source
        scope = getattr(node, "body", [])
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.end_lineno is None:
        return test_source
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = test_source.splitlines()[start - 1:node.end_lineno]
    return textwrap.dedent("\n".join(lines)) + "\n"


def _fenced(code: str) -> str:
    """Put `code` in a ```python block, with a longer fence when it contains one."""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}python\n{code.rstrip()}\n{fence}"


