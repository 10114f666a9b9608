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


def render_report(nodeid: str, explanation, locale: str) -> str:
    """Return the report: diagnosis, suspicious lines, verified fixes, notes, the trace."""
    out = [f"# {translate('lsp.report.title', locale, test=nodeid)}", ""]
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
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(render_report(nodeid, explanation, locale))
    os.replace(temporary, path)
    return path
