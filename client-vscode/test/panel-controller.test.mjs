// Tests the Explanation panel's controller against a fake `vscode` module and a fake
// LanguageClient: streamed reasoning opens the panel, the explanation request and the
// Apply button send the documented workspace/executeCommand requests.
// Run: node --test test/panel-controller.test.mjs  (from client-vscode/)
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const fakeVscode = `
export const state = { panels: [], commands: new Map(), messages: [] };
const format = (text, args) => text.replace(/\\{(\\d+)\\}/g, (_, i) => String(args[Number(i)]));
export const l10n = { t: (text, ...args) => format(text, args) };
export const env = { language: "en" };
export const ViewColumn = { Beside: -2 };
export const Uri = { joinPath: (base, ...parts) => ({ path: [base.path, ...parts].join("/"), toString() { return this.path; } }) };
export const commands = { registerCommand: (id, handler) => { state.commands.set(id, handler); return { dispose() {} }; } };
export const window = {
  showInformationMessage: async (text) => { state.messages.push(["info", text]); },
  showWarningMessage: async (text) => { state.messages.push(["warning", text]); },
  showErrorMessage: async (text) => { state.messages.push(["error", text]); },
  createWebviewPanel: (viewType, title) => {
    const panel = {
      viewType, title, visible: true, posted: [], receive: undefined,
      webview: {
        html: "", cspSource: "vscode-webview://fake",
        asWebviewUri: (uri) => uri,
        postMessage: async (message) => { panel.posted.push(message); return true; },
        onDidReceiveMessage: (handler) => { panel.receive = handler; return { dispose() {} }; },
      },
      onDidDispose: () => ({ dispose() {} }),
      reveal() {}, dispose() {},
    };
    state.panels.push(panel);
    return panel;
  },
};
`;

const sourceDir = fileURLToPath(new URL("../src/panel/", import.meta.url));
const bundle = await esbuild.build({
  stdin: { contents: 'export * from "./index"; export { state } from "vscode";', resolveDir: sourceDir, loader: "ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  external: ["vscode-languageclient/node"],
  plugins: [
    {
      name: "fake-vscode",
      setup(build) {
        build.onResolve({ filter: /^vscode$/ }, () => ({ path: "vscode", namespace: "fake" }));
        build.onLoad({ filter: /.*/, namespace: "fake" }, () => ({ contents: fakeVscode, loader: "js" }));
      },
    },
  ],
});
const panel = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

const explanation = {
  nodeid: "tests/test_m.py::test_sum",
  summary: "`total` is off by one",
  diagnosis_markdown: "## Cause\nThe loop stops early.",
  model: "tiny",
  candidates: [
    { index: 0, description: "Use <=", source: "model", verified: true, passed: 3, total: 3, diff: "-a\n+b\n", file: "m.py" },
  ],
  series: {
    function: "total",
    file: "m.py",
    steps: [1, 2],
    variables: [{ name: "i", points: [{ step: 1, text: "0", number: 0 }, { step: 2, text: "1", number: 1 }] }],
    highlight_step: 2,
  },
};

const requests = [];
const fakeClient = {
  isRunning: () => true,
  sendRequest: async (method, params) => {
    requests.push([method, params]);
    if (params.command === "tracefix.explanation") {
      return explanation;
    }
    return { applied: true, reason: "" };
  },
};
const context = { subscriptions: [], extensionUri: { path: "/ext" } };
panel.activatePanel(context, () => fakeClient);
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("panel controller end to end", async () => {
  assert.ok(panel.state.commands.has("tracefix.showTracePanel"));

  panel.forwardReasoning({ nodeid: explanation.nodeid, sample: 0, text: "The loop <b>", model: "tiny" });
  panel.forwardReasoning({ nodeid: explanation.nodeid, sample: 0, text: " stops `early`", model: "tiny" });
  assert.equal(panel.state.panels.length, 1);
  const view = panel.state.panels[0];
  assert.ok(view.webview.html.includes("default-src &#39;none&#39;"), view.webview.html);

  await wait(200);
  const streamed = view.posted.at(-1);
  assert.equal(streamed.type, "state");
  assert.ok(streamed.reasoningHtml.includes("The loop &lt;b&gt; stops <code>early</code>"), streamed.reasoningHtml);

  await wait(1700);
  assert.deepEqual(requests[0], [
    "workspace/executeCommand",
    { command: "tracefix.explanation", arguments: [explanation.nodeid] },
  ]);
  const loaded = view.posted.at(-1);
  assert.ok(loaded.explanationHtml.includes('data-action="apply" data-index="0"'), loaded.explanationHtml);
  assert.ok(loaded.explanationHtml.includes("<circle"), loaded.explanationHtml);

  await view.receive({ type: "apply", index: 0 });
  assert.deepEqual(requests.at(-1), [
    "workspace/executeCommand",
    { command: "tracefix.applyFix", arguments: [explanation.nodeid, 0] },
  ]);
  assert.equal(panel.state.messages.at(-1)[0], "info");
  assert.ok(!view.posted.at(-1).explanationHtml.includes('data-action="apply"'));
});
