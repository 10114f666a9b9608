"""The markdown report of one explanation, written outside the workspace.

The report goes to `<runner cache dir>/reports/`, never into the project, because the
server must not add files to the user's workspace. Its name depends only on the test id,
so explaining the same test again replaces the report the editor may have open.
"""

from __future__ import annotations

import hashlib
import os

from tracefix.server.i18n import translate
from tracefix.server.runner import cache_dir

FENCE = "````"  # four backticks: user code and diffs may contain a ``` line


def report_path(root: str, nodeid: str) -> str:
    digest = hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:16]
    folder = os.path.join(cache_dir(root), "reports")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"explain-{digest}.md")


def _engine_line(models: list[str], locale: str) -> str:
    """Say plainly who explains: the built-in engine alone, or a model too."""
    if not models:
        return f"_{translate('lsp.report.engine.builtin', locale)}_"
    return f"_{translate('lsp.report.engine.model', locale, model=', '.join(models))}_"


def render_pending(nodeid: str, context, model: str, texts: dict[int, str], locale: str) -> str:
    """Render the report while the model still generates: diagnosis, then the reasoning so far."""
    out = [f"# {translate('lsp.report.title', locale, test=nodeid)}", "",
           _engine_line([model], locale), ""]
    out += [context.diagnosis.summary, "", context.diagnosis.markdown.rstrip(), ""]
    out += [f"## {translate('lsp.report.reasoning', locale, model=model)}", ""]
    if not texts:
        out += [f"_{translate('lsp.report.waiting', locale, model=model)}_", ""]
    for sample in sorted(texts):
        out += [f"### {translate('lsp.report.answer', locale, sample=sample + 1)}", "",
                texts[sample].rstrip(), ""]
    out += [f"_{translate('lsp.report.streaming', locale)}_", ""]
    return "\n".join(out)


def _model_sections(explanation, locale: str) -> list[str]:
    from tracefix.server.model.source import answer_status

    out: list[str] = []
    for report in explanation.reports:
        answers = getattr(report, "answers", None)
        if answers is None:
            continue
        out += [f"## {translate('lsp.report.reasoning', locale, model=report.model)}", ""]
        if report.error:
            out += [f"- {report.error}", ""]
        for answer in answers:
            key, fields = answer_status(answer)
            status = translate(f"lsp.report.answer.{key}", locale, **fields)
            out += [f"### {translate('lsp.report.answer', locale, sample=answer.sample + 1)}: "
                    f"{status}", "", answer.reasoning.rstrip() or "_(no reasoning)_", ""]
    return out


def render_report(nodeid: str, explanation, locale: str) -> str:
    """Return the report: diagnosis, suspicious lines, verified fixes, notes, the trace."""
    models = [r.model for r in explanation.reports if hasattr(r, "answers")]
    out = [f"# {translate('lsp.report.title', locale, test=nodeid)}", "",
           _engine_line(models, locale), ""]
    out += [explanation.diagnosis.summary, "", explanation.diagnosis.markdown.rstrip(), ""]

    if explanation.suspicious:
        out += [f"## {translate('lsp.report.suspicious', locale)}", ""]
        for suspicious in explanation.suspicious[:5]:
            out.append(f"- `{os.path.basename(suspicious.file)}:{suspicious.line}` "
                       f"({suspicious.score:.2f}): {suspicious.reason}")
        out.append("")

    out += [f"## {translate('lsp.report.fixes', locale)}", ""]
    verified = [c for c in explanation.candidates if c.verified]
    if not verified:
        out += [translate("lsp.report.no_fix", locale, count=len(explanation.candidates)), ""]
    for candidate in verified:
        out.append("- " + translate("lsp.fix.title", locale, description=candidate.description,
                                    passed=candidate.passed, total=candidate.total))
        if candidate.diff:
            out += ["", f"{FENCE}diff", candidate.diff.rstrip(), FENCE]
        out.append("")

    out += _model_sections(explanation, locale)

    if explanation.notes:
        out += [f"## {translate('lsp.report.notes', locale)}", ""]
        out += [f"- {note}" for note in explanation.notes] + [""]

    if explanation.inline:
        out += [f"## {translate('lsp.report.trace', locale)}", "", f"{FENCE}python",
                explanation.inline.rstrip(), FENCE, ""]
    return "\n".join(out)


def write_report(root: str, nodeid: str, explanation, locale: str) -> str:
    """Write the report atomically and return its path."""
    path = report_path(root, nodeid)
    write_text(path, render_report(nodeid, explanation, locale))
    return path


def write_text(path: str, text: str) -> None:
    """Replace `path` atomically, so an editor reloading it never reads half a report."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)
