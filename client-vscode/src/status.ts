// The status bar item: how many tests tracefix reports as failing, and the model's state.
import * as vscode from "vscode";

/** The `source` of the server's diagnostics: one error per failing line. */
export const DIAGNOSTIC_SOURCE = "tracefix";

export type ModelState = "none" | "loading" | "ready";

/**
 * Counts the failing tests behind the tracefix error diagnostics in all known files.
 * One diagnostic covers every test failing on its line, and vscode-languageclient
 * keeps the server's `data` ({ nodeids }) on the diagnostic, so tests are counted by
 * node id; a diagnostic without that list counts as one test.
 */
export function countFailures(): number {
  const nodeids = new Set<string>();
  let anonymous = 0;
  for (const [, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const diagnostic of diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE || diagnostic.severity !== vscode.DiagnosticSeverity.Error) {
        continue;
      }
      const ids = failingTests(diagnostic);
      if (ids.length === 0) anonymous += 1;
      for (const id of ids) nodeids.add(id);
    }
  }
  return nodeids.size + anonymous;
}

/** Returns the node ids listed in a diagnostic's `data`, or none. */
export function failingTests(diagnostic: vscode.Diagnostic): string[] {
  const data = (diagnostic as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) return [];
  const ids = (data as { nodeids?: unknown }).nodeids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("tracefix.status", vscode.StatusBarAlignment.Left, 0);
  private readonly subscription: vscode.Disposable;
  private modelConfigured = false;
  private pendingExplanations = 0;
  private modelAnswered = false;

  constructor() {
    this.item.name = "tracefix";
    this.item.command = "tracefix.showLogs";
    this.subscription = vscode.languages.onDidChangeDiagnostics(() => this.render());
    this.render();
    this.item.show();
  }

  setModelConfigured(configured: boolean): void {
    this.modelConfigured = configured;
    this.modelAnswered = false;
    this.render();
  }

  /** Marks the model as answering: the server streamed a `tracefix/reasoning` piece. */
  markModelAnswered(): void {
    this.modelAnswered = true;
    this.render();
  }

  /** Shows "loading" while `explanation` (a tracefix.explainFailure request) runs. */
  async track<T>(explanation: Thenable<T>): Promise<T> {
    if (this.pendingExplanations === 0) {
      this.modelAnswered = false;
    }
    this.pendingExplanations += 1;
    this.render();
    try {
      return await explanation;
    } finally {
      this.pendingExplanations -= 1;
      this.render();
    }
  }

  /**
   * Returns the model state. The server reports no load progress, so this is an
   * estimate from the client's side: "loading" while a tracefix.explainFailure request
   * runs and no `tracefix/reasoning` piece has arrived in it yet (the first explanation
   * loads a local model), else "ready" when a model is configured.
   */
  modelState(): ModelState {
    if (!this.modelConfigured) {
      return "none";
    }
    return this.pendingExplanations > 0 && !this.modelAnswered ? "loading" : "ready";
  }

  private render(): void {
    const failures = countFailures();
    const tests = failures === 0
      ? vscode.l10n.t("$(pass) tracefix: no failing tests")
      : vscode.l10n.t("$(error) tracefix: {0} failing", failures);
    const state = this.modelState();
    const model = state === "none"
      ? vscode.l10n.t("model: none")
      : state === "loading"
        ? vscode.l10n.t("$(loading~spin) model: loading")
        : vscode.l10n.t("model: ready");
    this.item.text = `${tests}  ${model}`;
    this.item.tooltip = vscode.l10n.t("tracefix: click to show the logs");
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
