// Unit tests for the Explanation panel's pure builders (markdown, chart, CSP).
// Run: node --test test/panel.test.mjs  (from client-vscode/, after npm install)
// The TypeScript sources are bundled in memory with esbuild, so no build step is needed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const sourceDir = fileURLToPath(new URL("../src/panel/", import.meta.url));
const bundle = await esbuild.build({
  stdin: {
    contents: 'export * from "./markdown"; export * from "./chart"; export * from "./html";',
    resolveDir: sourceDir,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
});
const panel = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

const chartLabels = {
  stepAxis: "step",
  pointTitle: (name, step, text) => `${name} at step ${step}: ${text}`,
  highlightTitle: (step) => `step ${step}`,
};

function series(variables, highlight = null) {
  const steps = [...new Set(variables.flatMap((variable) => variable.points.map((point) => point.step)))];
  return { function: "f", file: "m.py", steps, variables, highlight_step: highlight };
}

test("markdown escapes raw HTML", () => {
  const html = panel.renderMarkdown('<script>alert("x")</script> and <img src=x onerror=y>');
  assert.ok(!html.includes("<script"), html);
  assert.ok(!html.includes("<img"), html);
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), html);
});

test("markdown escapes HTML inside code", () => {
  const html = panel.renderMarkdown("`<b>` and\n```\n</pre><script>x</script>\n```");
  assert.ok(html.includes("<code>&lt;b&gt;</code>"), html);
  assert.ok(html.includes("&lt;/pre&gt;&lt;script&gt;"), html);
  assert.ok(!html.includes("<script"), html);
});

test("markdown renders code fences", () => {
  const html = panel.renderMarkdown("Before\n```python\nif x < 1:\n    return *y*\n```\nAfter");
  assert.ok(html.includes('<pre><code class="language-python">if x &lt; 1:\n    return *y*</code></pre>'), html);
  assert.ok(html.includes("<p>Before</p>"), html);
  assert.ok(html.includes("<p>After</p>"), html);
});

test("markdown renders an open fence as code", () => {
  const html = panel.renderMarkdown("```\nx = 1");
  assert.equal(html, "<pre><code>x = 1</code></pre>");
});

test("markdown renders headings, lists, emphasis", () => {
  const html = panel.renderMarkdown("## Cause\n- **bold** item\n- *em* with `a_b`\n\n1. first\n2. second\nsnake_case_name stays");
  assert.ok(html.includes("<h2>Cause</h2>"), html);
  assert.ok(html.includes("<ul>\n<li><strong>bold</strong> item</li>\n<li><em>em</em> with <code>a_b</code></li>\n</ul>"), html);
  assert.ok(html.includes("<ol>\n<li>first</li>\n<li>second</li>\n</ol>"), html);
  assert.ok(html.includes("<p>snake_case_name stays</p>"), html);
});

test("markdown renders emphasis around code and block quotes", () => {
  const html = panel.renderMarkdown("**`RecursionError`** raised\n\n> Recording stopped early: `gcd.py:5`.\n> Steps after it are missing.\n\n`*not em*`");
  assert.ok(html.includes("<p><strong><code>RecursionError</code></strong> raised</p>"), html);
  assert.ok(html.includes("<blockquote><p>Recording stopped early: <code>gcd.py:5</code>.<br>Steps after it are missing.</p></blockquote>"), html);
  assert.ok(html.includes("<p><code>*not em*</code></p>"), html);
  assert.ok(!html.includes("\u0000"), html);
});

test("chart draws one point per value", () => {
  const variable = {
    name: "total",
    points: [
      { step: 1, text: "0", number: 0 },
      { step: 3, text: "2", number: 2 },
      { step: 5, text: "7", number: 7 },
    ],
  };
  const svg = panel.buildSeriesView(series([variable], 3), chartLabels);
  assert.equal(svg.match(/<circle /g)?.length, 3, svg);
  assert.ok(svg.includes("<polyline"), svg);
  assert.ok(svg.includes("<title>total at step 5: 7</title>"), svg);
});

test("chart marks the highlight step", () => {
  const variable = {
    name: "total",
    points: [
      { step: 1, text: "0", number: 0 },
      { step: 3, text: "2", number: 2 },
    ],
  };
  const svg = panel.buildSeriesView(series([variable], 3), chartLabels);
  const highlighted = svg.match(/<circle class="point highlight" data-step="(\d+)"/g) ?? [];
  assert.equal(highlighted.length, 1, svg);
  assert.ok(highlighted[0].includes('data-step="3"'), svg);
  assert.ok(svg.includes('class="highlight-line"'), svg);
  assert.ok(svg.includes('<text class="axis-label highlight"'), svg);
});

test("chart labels the step axis", () => {
  const variable = { name: "i", points: [2, 4, 6].map((step) => ({ step, text: String(step), number: step })) };
  const svg = panel.buildSeriesView(series([variable]), chartLabels);
  for (const step of [2, 4, 6]) {
    assert.match(svg, new RegExp(`text-anchor="middle">${step}</text>`));
  }
});

test("non-numeric values become a strip", () => {
  const variable = {
    name: "items",
    points: [
      { step: 1, text: "[]", number: null },
      { step: 2, text: "['<a>']", number: null },
    ],
  };
  const html = panel.buildSeriesView(series([variable], 2), chartLabels);
  assert.ok(!html.includes("<svg"), html);
  assert.equal(html.match(/class="value-box/g)?.length, 2, html);
  assert.ok(html.includes('class="value-box highlight" data-step="2"'), html);
  assert.ok(html.includes("[&#39;&lt;a&gt;&#39;]"), html);
});

test("step labels are thinned but keep highlight", () => {
  const steps = Array.from({ length: 100 }, (_, index) => index);
  const labels = panel.pickStepLabels(steps, 57);
  assert.ok(labels.length <= 14, String(labels));
  assert.ok(labels.includes(0));
  assert.ok(labels.includes(99));
  assert.ok(labels.includes(57));
});

test("CSP allows no remote content", () => {
  const csp = panel.contentSecurityPolicy("vscode-webview://abc", "N0NCE");
  assert.ok(csp.startsWith("default-src 'none'"), csp);
  assert.ok(csp.includes("script-src 'nonce-N0NCE'"), csp);
  assert.ok(csp.includes("style-src vscode-webview://abc 'nonce-N0NCE'"), csp);
  assert.ok(!csp.includes("unsafe-inline"), csp);
  assert.ok(!csp.includes("unsafe-eval"), csp);
  assert.ok(!/https?:/.test(csp), csp);
});

test("shell loads its script with the nonce", () => {
  const html = panel.buildShellHtml({
    cspSource: "vscode-webview://abc",
    nonce: "N0NCE",
    scriptUri: "vscode-webview://abc/media/panel.js",
    styleUri: "vscode-webview://abc/media/panel.css",
    language: "ja",
    labels: { title: "T", reasoningHeading: "R", explanationHeading: "E", waiting: "W", refresh: "F" },
  });
  assert.ok(html.includes('<script nonce="N0NCE" src="vscode-webview://abc/media/panel.js"></script>'), html);
  assert.equal(html.match(/<script/g)?.length, 1, html);
  assert.ok(html.includes('http-equiv="Content-Security-Policy"'), html);
});

test("diff lines get classes", () => {
  const html = panel.buildDiffHtml("--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = a<b\n+x = a<=b\n");
  assert.ok(html.includes('<span class="diff-line removed">-x = a&lt;b</span>'), html);
  assert.ok(html.includes('<span class="diff-line added">+x = a&lt;=b</span>'), html);
  assert.ok(html.includes('<span class="diff-line hunk">'), html);
  assert.ok(html.includes('<span class="diff-line file">--- a/m.py</span>'), html);
});
