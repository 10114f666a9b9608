"""Explain a failure from its trace as short markdown, in English or Japanese.

Every value and source fragment shown comes from the user's program, so each goes into
its own code span (`markdown.code`). An unreliable trace (the test ended differently
under the tracer) is announced first and its recorded values are left out, because they
may not be what happened in a normal run.
"""

from __future__ import annotations

import os

from tracefix.tracer.inline import source_lines
from tracefix.tracer.trace_format import Trace

from ..i18n import note_text, outcome_word, translate
from .analysis import Findings, analyze
from .markdown import code, plain
from .provenance import Origin, collapse
from .results import Diagnosis

MAX_CHAIN_ITEMS = 8


def diagnose(trace: Trace, sources: dict[str, str], locale: str = "en") -> Diagnosis:
    """Describe what failed in `trace`, where the failing value came from, and key facts.

    `sources` maps absolute paths to the text of the files the trace executed. A file
    missing from it only loses its source fragments in the explanation.
    """
    findings = analyze(trace, sources)
    writer = _Writer(trace, sources, locale)
    # A parameter's origin is the `def` line, which is not where a fault would be fixed.
    provenance = list(dict.fromkeys(
        [(o.file, o.line) for o in findings.chain + findings.inputs if o.how != "argument"]
        + findings.writers))
    return Diagnosis(
        summary=writer.summary(findings),
        markdown=writer.markdown(findings),
        failing_file=findings.failing_file,
        failing_line=findings.failing_line,
        provenance=provenance,
        reliable=trace.reliable,
        control=findings.control,
    )


class _Writer:
    def __init__(self, trace: Trace, sources: dict[str, str], locale: str) -> None:
        self.trace = trace
        self.sources = sources
        self.locale = locale
        self.show_values = trace.reliable

    def t(self, key: str, **fields: object) -> str:
        return translate(key, self.locale, **fields)

    def relative(self, path: str | None) -> str:
        if path is None:
            return "?"
        try:
            return os.path.relpath(path, self.trace.root)
        except ValueError:  # another drive on Windows
            return path

    def location(self, path: str | None, line: int | None) -> str:
        return code(f"{self.relative(path)}:{line}")

    def source_line(self, path: str, line: int) -> str:
        lines = source_lines(self.sources.get(path, ""))
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    # -- summary: one plain-text line for diagnostics lists and terminals --

    def summary(self, f: Findings) -> str:
        test = plain(self.trace.test_id)
        if not self.show_values:
            return self.t("engine.summary.unreliable", test=test)
        if f.kind == "none":
            return self.t("engine.summary.none", test=test,
                          outcome=outcome_word(self.trace.outcome, self.locale))
        if f.kind == "assertion" and f.actual and f.expected:
            origin = f.chain[-1] if f.chain else None
            return self.t("engine.summary.assertion", test=test,
                          expected=plain(f.expected[1], 60), actual=plain(f.actual[1], 60),
                          origin=f"{self.relative(origin.file)}:{origin.line}" if origin else "?")
        if f.kind == "assertion":
            return self.t("engine.summary.assertion_message", test=test,
                          message=plain(f.message.splitlines()[0] if f.message else f.exc_type, 120))
        return self.t("engine.summary.exception", test=test, exc_type=plain(f.exc_type),
                      location=f"{self.relative(f.failing_file)}:{f.failing_line}",
                      message=plain(f.message.splitlines()[0] if f.message else "", 120))

    # -- markdown: the full explanation --

    def markdown(self, f: Findings) -> str:
        parts: list[str] = []
        if not self.show_values:
            parts.append(self.t("engine.diag.unreliable"))
        if self.trace.budget is not None:
            budget = self.trace.budget
            where = self.location(self.trace.files[budget.file].path, budget.line) \
                if budget.file is not None else "?"
            parts.append(self.t("engine.diag.budget", location=where,
                                detail=note_text(budget.detail, self.locale)))
        parts.append(self.headline(f))
        if self.show_values:
            parts.extend(self.values(f))
        chain = self.chain(f)
        if chain:
            parts.append(self.t("engine.diag.provenance_title") + "\n\n" + chain)
        if self.show_values:
            facts = self.facts(f)
            if facts:
                parts.append(self.t("engine.diag.facts_title") + "\n\n" + "\n".join(facts))
        return "\n\n".join(parts) + "\n"

    def headline(self, f: Findings) -> str:
        exc_type = code(f.exc_type) if f.exc_type else ""
        if f.kind == "none":
            return self.t("engine.diag.headline_none", test=code(self.trace.test_id),
                          outcome=outcome_word(self.trace.outcome, self.locale))
        key = "engine.diag.headline_assertion" if f.kind == "assertion" else "engine.diag.headline_exception"
        return self.t(key, exc_type=exc_type, test=code(self.trace.test_id),
                      function=code(f.failing_function or "?"),
                      location=self.location(f.failing_file, f.failing_line))

    def values(self, f: Findings) -> list[str]:
        lines: list[str] = []
        if f.actual and f.expected:
            key = "engine.diag.expected_actual" if f.op in ("==", None) else "engine.diag.comparison_false"
            if key == "engine.diag.expected_actual" and f.expected[0].strip() == f.expected[1].strip():
                key = "engine.diag.expected_literal"  # `assert x == [1, 2]` shows the value once
            lines.append(self.t(key, expression=code(f.expression or ""),
                                actual_expr=code(f.actual[0]), actual=code(f.actual[1]),
                                expected_expr=code(f.expected[0]), expected=code(f.expected[1])))
        elif f.operands:
            (left_expr, left), (right_expr, right) = f.operands
            lines.append(self.t("engine.diag.operands", expression=code(f.expression or ""),
                                left_expr=code(left_expr), left=code(left),
                                right_expr=code(right_expr), right=code(right)))
        elif f.message:
            lines.append(self.t("engine.diag.message", message=code(f.message, 300)))
        if f.values_at_raise:
            shown = ", ".join(f"{code(name)} = {code(value)}" for name, value in f.values_at_raise)
            lines.append(self.t("engine.diag.values_at_raise", values=shown))
        return lines

    def chain(self, f: Findings) -> str:
        items = collapse(f.chain)
        lines = [self.origin(origin, count, number)
                 for number, (origin, count) in enumerate(items[:MAX_CHAIN_ITEMS], start=1)]
        if len(items) > MAX_CHAIN_ITEMS:
            lines.append(self.t("engine.diag.chain_more", count=len(items) - MAX_CHAIN_ITEMS))
        if f.inputs and self.show_values:
            shown = ", ".join(self.t("engine.diag.input", name=code(o.name), value=code(o.value or ""),
                                     location=self.location(o.file, o.line)) for o in f.inputs
                              if o.how == "input")
            shown = ", ".join(filter(None, [shown] + [
                self.t("engine.diag.input_argument", name=code(o.name), value=code(o.value or ""))
                for o in f.inputs if o.how == "argument"]))
            lines.append("   " + self.t("engine.diag.inputs", inputs=shown))
        return "\n".join(lines)

    def origin(self, origin: Origin, count: int, number: int) -> str:
        text = self.source_line(origin.file, origin.line)
        fields = dict(
            location=self.location(origin.file, origin.line),
            code=code(text) if text else "",
            name=code(origin.name),
            value=code(origin.value) if self.show_values and origin.value is not None else "",
            function=code(self._function_of(origin.frame)),
        )
        key = f"engine.diag.origin_{origin.how}"
        if not self.show_values:
            key = "engine.diag.origin_plain"
        line = f"{number}. " + self.t(key, **fields)
        if count > 1:
            line += self.t("engine.diag.origin_repeated", count=count)
        return line

    def _function_of(self, frame_id: int) -> str:
        for frame in self.trace.frames:
            if frame.id == frame_id:
                return frame.qualname
        return "?"

    def facts(self, f: Findings) -> list[str]:
        facts: list[str] = []
        if f.entry is not None:
            arguments = ", ".join(f"{name}={value}" for name, value in f.entry.args.items())
            facts.append("- " + self.t("engine.diag.fact_entry",
                                       call=code(f"{f.entry.qualname}({arguments})", 200)))
            if f.entry.returned is not None:
                facts.append("- " + self.t("engine.diag.fact_returned",
                                           function=code(f.entry.qualname),
                                           value=code(f.entry.returned)))
        for name, count in sorted(f.calls.items()):
            facts.append("- " + self.t("engine.diag.fact_calls", function=code(name), count=count))
        for summary in f.loops:
            path = self.trace.files[summary.file].path
            text = self.source_line(path, summary.line)
            facts.append("- " + self.t("engine.diag.fact_loop",
                                       location=self.location(path, summary.line),
                                       code=code(text) if text else "", hits=summary.hits))
        for branch in f.branches:
            key = "engine.diag.fact_branch_true" if branch.taken else "engine.diag.fact_branch_false"
            facts.append("- " + self.t(key, location=self.location(branch.file, branch.line),
                                       condition=code(branch.condition)))
        return facts
