"""Totals and the markdown report of an evaluation run, in the user's locale.

Totals count every selected task. A task whose test did not fail, or whose run ended
in an error, a timeout or a crash, counts as not fixed with c = 0, so a broken task
cannot raise a rate.
"""

from __future__ import annotations

import statistics
from typing import Any, Sequence

from ..i18n import translate
from .engines import BUILTIN
from .passk import mean_pass_at_k, pass_at_k
from .run import CRASHED, ERROR, NOT_FAILING, TIMEOUT, EvalOptions


def summarize(records: Sequence[dict], variant: str, ks: Sequence[int]) -> dict[str, Any]:
    """Return the totals of one variant over `records`: counts, pass@k and times."""
    results = [r["variants"][variant] for r in records if variant in r.get("variants", {})]
    counts = [(res["n"], res["c"]) for res in results]
    seconds = [res.get("seconds", 0.0) for res in results]
    return {
        "variant": variant,
        "tasks": len(results),
        "test_failed": sum(1 for res in results if res.get("test_failed")),
        "fixed": sum(1 for res in results if res.get("fixed")),
        "pass_at": {str(k): mean_pass_at_k(counts, k) for k in ks},
        "not_failing": _count(results, NOT_FAILING),
        "errors": _count(results, ERROR) + _count(results, CRASHED),
        "timeouts": _count(results, TIMEOUT),
        # Runs cut short by the budget: timeouts, and runs that left candidates unvalidated.
        "budget_spent": sum(1 for res in results if res.get("timed_out")),
        "candidates": sum(res.get("candidates", 0) for res in results),
        "verified": sum(res.get("verified", 0) for res in results),
        "seconds_total": round(sum(seconds), 1),
        "seconds_median": round(statistics.median(seconds), 1) if seconds else 0.0,
    }


def _count(results: Sequence[dict], status: str) -> int:
    return sum(1 for res in results if res.get("status") == status)


def render_report(records: Sequence[dict], options: EvalOptions, ks: Sequence[int], *,
                  command: str, ablation_requested: bool) -> str:
    """Return the markdown report: settings, a totals table and one table per variant."""
    locale = options.locale

    def t(key: str, **fields: object) -> str:
        return translate(key, locale, **fields)

    lines = [t("eval.report.title", benchmark=options.benchmark, tasks=len(records)), ""]
    lines += ["```", command, "```", ""]
    lines.append(_settings_line(options, t))
    lines.append("")

    usable_ks = [k for k in ks if k <= options.samples]
    lines += _totals_table(records, options, usable_ks, t)
    lines.append("")
    lines += _notes(options, ks, usable_ks, ablation_requested, t)

    for variant in options.variants:
        lines.append("")
        lines.append(t("eval.report.per_task", variant=_variant_label(variant, t)))
        lines.append("")
        lines += _task_table(records, variant, usable_ks if variant != BUILTIN else [], t)
    return "\n".join(lines) + "\n"


def _settings_line(options: EvalOptions, t) -> str:
    limits = options.limits
    if options.engine == BUILTIN:
        return t("eval.report.settings_builtin", budget=_number(limits.budget),
                 workers=limits.workers)
    model = options.model or "-"
    where = options.endpoint or t("eval.report.local_model")
    return t("eval.report.settings_model", model=model, where=where, samples=options.samples,
             temperature=_number(options.temperature), budget=_number(limits.budget),
             workers=limits.workers)


def _totals_table(records, options: EvalOptions, ks: Sequence[int], t) -> list[str]:
    header = [t("eval.column.variant"), t("eval.column.tasks"), t("eval.column.test_failed"),
              t("eval.column.fixed")]
    header += [f"pass@{k}" for k in ks]
    header += [t("eval.column.not_failing"), t("eval.column.errors"), t("eval.column.timeouts"),
               t("eval.column.budget_spent"), t("eval.column.median_seconds")]
    rows = [_row(header), _row(["---"] * len(header))]
    for variant in options.variants:
        total = summarize(records, variant, ks)
        cells = [_variant_label(variant, t), str(total["tasks"]), str(total["test_failed"]),
                 _fraction(total["fixed"], total["tasks"])]
        cells += [_percent(total["pass_at"][str(k)]) for k in ks]
        cells += [str(total["not_failing"]), str(total["errors"]), str(total["timeouts"]),
                  str(total["budget_spent"]), _number(total["seconds_median"])]
        rows.append(_row(cells))
    return rows


def _notes(options: EvalOptions, ks, usable_ks, ablation_requested: bool, t) -> list[str]:
    notes = [t("eval.report.note_fixed")]
    if options.engine == BUILTIN:
        notes.append(t("eval.report.note_builtin_passk"))
        if ablation_requested:
            notes.append(t("eval.report.note_ablation_builtin"))
    else:
        notes.append(t("eval.report.note_passk"))
    skipped = [str(k) for k in ks if k not in usable_ks]
    if skipped and options.engine != BUILTIN:
        notes.append(t("eval.report.note_k_skipped", ks=", ".join(skipped),
                       samples=options.samples))
    notes.append(t("eval.report.note_budget"))
    notes.append(t("eval.report.note_counting"))
    return [f"- {note}" for note in notes]


def _task_table(records, variant: str, ks: Sequence[int], t) -> list[str]:
    header = [t("eval.column.task"), t("eval.column.status"), t("eval.column.test_failed"),
              t("eval.column.candidates"), t("eval.column.tried"), t("eval.column.verified")]
    if ks:
        header += ["n", "c"] + [f"pass@{k}" for k in ks]
    header += [t("eval.column.seconds"), t("eval.column.fix")]
    rows = [_row(header), _row(["---"] * len(header))]
    for record in records:
        res = record.get("variants", {}).get(variant)
        if res is None:
            continue
        cells = [record["task"], t(status_key(res["status"])),
                 _yes_no(res.get("test_failed"), t), str(res.get("candidates", 0)),
                 str(res.get("tried", 0)), str(res.get("verified", 0))]
        if ks:
            cells += [str(res["n"]), str(res["c"])]
            cells += [f"{pass_at_k(res['n'], res['c'], k):.2f}" for k in ks]
        detail = res.get("fix") or res.get("error") or ""
        cells += [_number(res.get("seconds", 0.0)), _cell_text(detail)]
        rows.append(_row(cells))
    return rows


def status_key(status: str) -> str:
    """Return the message key of a run status such as "not-fixed"."""
    return "eval.status." + status.replace("-", "_")


def variant_key(variant: str) -> str:
    """Return the message key of a variant such as "no-trace"."""
    return "eval.variant." + variant.replace("-", "_")


def _variant_label(variant: str, t) -> str:
    return t(variant_key(variant))


def _yes_no(value: bool | None, t) -> str:
    if value is None:
        return "?"
    return t("eval.yes") if value else t("eval.no")


def _fraction(part: int, whole: int) -> str:
    if not whole:
        return "0"
    return f"{part} ({100.0 * part / whole:.1f}%)"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}%"


def _number(value: float) -> str:
    return f"{value:g}"


def _cell_text(text: str, limit: int = 120) -> str:
    """Fit free text into one table cell: one line, pipes escaped, bounded length."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    return flat.replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
