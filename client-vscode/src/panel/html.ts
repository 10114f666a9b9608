// Pure HTML builders for the Explanation panel: the page shell with its
// Content-Security-Policy, the reasoning view and the explanation view. The extension
// side renders all markup and sends it to the webview, whose script only inserts it.
import { buildSeriesView, ChartLabels } from "./chart";
import { escapeHtml, renderMarkdown } from "./markdown";
import { Candidate, Explanation } from "./types";

/**
 * Returns the panel's Content-Security-Policy: nothing by default, scripts only with
 * the page's nonce, styles and fonts only from the extension (`cspSource`) or the nonce,
 * images only from the extension or data: URIs. No remote host is allowed.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join("; ");
}

/** Localized strings for the page shell. */
export interface ShellLabels {
  title: string;
  reasoningHeading: string;
  explanationHeading: string;
  waiting: string;
  refresh: string;
}

export interface ShellOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  language: string;
  labels: ShellLabels;
}

/** Builds the panel's page; its sections start empty and fill from posted messages. */
export function buildShellHtml(options: ShellOptions): string {
  const { labels } = options;
  const nonce = escapeHtml(options.nonce);
  return `<!DOCTYPE html>
<html lang="${escapeHtml(options.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(options.cspSource, options.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">
<title>${escapeHtml(labels.title)}</title>
</head>
<body>
<header class="toolbar">
<span id="status" class="status" role="status">${escapeHtml(labels.waiting)}</span>
<button type="button" class="secondary" data-action="refresh">${escapeHtml(labels.refresh)}</button>
</header>
<section id="explanation-section" aria-label="${escapeHtml(labels.explanationHeading)}">
<div id="explanation"></div>
</section>
<section id="reasoning-section">
<h2>${escapeHtml(labels.reasoningHeading)}</h2>
<div id="reasoning" class="markdown"></div>
</section>
<script nonce="${nonce}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>`;
}

/** Localized strings for the reasoning and explanation views. */
export interface ViewLabels {
  chart: ChartLabels;
  model(name: string): string;
  sample(index: number): string;
  noReasoning: string;
  summary: string;
  diagnosis: string;
  fixes: string;
  noFixes: string;
  trace(functionName: string, file: string): string;
  noTrace: string;
  fixTitle(index: number, description: string): string;
  source(source: string): string;
  passed(passed: number, total: number): string;
  notVerified: string;
  apply: string;
  applied: string;
}

/** Builds the reasoning view from the streamed text of each sample, keyed by sample number. */
export function buildReasoningHtml(samples: Map<number, string>, model: string | undefined, labels: ViewLabels): string {
  if (samples.size === 0) {
    return `<p class="muted">${escapeHtml(labels.noReasoning)}</p>`;
  }
  const parts: string[] = [];
  if (model) {
    parts.push(`<p class="muted">${escapeHtml(labels.model(model))}</p>`);
  }
  const ordered = [...samples.entries()].sort((a, b) => a[0] - b[0]);
  for (const [sample, text] of ordered) {
    if (ordered.length > 1) {
      parts.push(`<h3 class="sample-heading">${escapeHtml(labels.sample(sample))}</h3>`);
    }
    parts.push(`<div class="sample">${renderMarkdown(text)}</div>`);
  }
  return parts.join("\n");
}

/** Builds a unified diff as a table-free <pre> with one classed span per line. */
export function buildDiffHtml(diff: string): string {
  const lines = diff.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
  const rendered = lines.map((line) => {
    let kind = "context";
    if (line.startsWith("+++") || line.startsWith("---")) {
      kind = "file";
    } else if (line.startsWith("@@")) {
      kind = "hunk";
    } else if (line.startsWith("+")) {
      kind = "added";
    } else if (line.startsWith("-")) {
      kind = "removed";
    }
    return `<span class="diff-line ${kind}">${escapeHtml(line)}</span>`;
  });
  // Each line is a block, so a newline between them would add an empty line in <pre>.
  return `<pre class="diff">${rendered.join("")}</pre>`;
}

function buildCandidateHtml(candidate: Candidate, applied: boolean, labels: ViewLabels): string {
  const result = candidate.verified
    ? `<span class="badge ${candidate.passed === candidate.total ? "pass" : "fail"}">${escapeHtml(labels.passed(candidate.passed, candidate.total))}</span>`
    : `<span class="badge unknown">${escapeHtml(labels.notVerified)}</span>`;
  const button = applied
    ? `<button type="button" disabled>${escapeHtml(labels.applied)}</button>`
    : `<button type="button" data-action="apply" data-index="${candidate.index}">${escapeHtml(labels.apply)}</button>`;
  return `<article class="candidate">
<header><h4>${escapeHtml(labels.fixTitle(candidate.index, candidate.description))}</h4>${button}</header>
<p class="muted">${result} ${escapeHtml(labels.source(candidate.source))} · <code>${escapeHtml(candidate.file)}</code></p>
${buildDiffHtml(candidate.diff)}
</article>`;
}

/** Builds the explanation view: summary, diagnosis, trace picture and candidate fixes. */
export function buildExplanationHtml(explanation: Explanation, applied: ReadonlySet<number>, labels: ViewLabels): string {
  const parts: string[] = [];
  parts.push(`<h2>${escapeHtml(labels.summary)}</h2>`);
  parts.push(`<p class="summary"><code>${escapeHtml(explanation.nodeid)}</code></p>`);
  parts.push(`<div class="markdown">${renderMarkdown(explanation.summary)}</div>`);
  if (explanation.model) {
    parts.push(`<p class="muted">${escapeHtml(labels.model(explanation.model))}</p>`);
  }
  if (explanation.diagnosis_markdown.trim()) {
    parts.push(`<h2>${escapeHtml(labels.diagnosis)}</h2>`);
    parts.push(`<div class="markdown">${renderMarkdown(explanation.diagnosis_markdown)}</div>`);
  }

  const series = explanation.series;
  if (series && series.variables.length > 0) {
    parts.push(`<h2>${escapeHtml(labels.trace(series.function, series.file))}</h2>`);
    parts.push(`<div class="series">${buildSeriesView(series, labels.chart)}</div>`);
  } else {
    parts.push(`<p class="muted">${escapeHtml(labels.noTrace)}</p>`);
  }

  parts.push(`<h2>${escapeHtml(labels.fixes)}</h2>`);
  if (explanation.candidates.length === 0) {
    parts.push(`<p class="muted">${escapeHtml(labels.noFixes)}</p>`);
  }
  for (const candidate of explanation.candidates) {
    parts.push(buildCandidateHtml(candidate, applied.has(candidate.index), labels));
  }
  return parts.join("\n");
}
