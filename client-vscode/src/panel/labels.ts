// Localized strings for the webview. The webview has no access to vscode.l10n, so the
// extension side translates every string here and passes the text into the HTML.
import * as vscode from "vscode";
import { ShellLabels, ViewLabels } from "./html";

export function shellLabels(): ShellLabels {
  return {
    title: vscode.l10n.t("tracefix: Explanation"),
    reasoningHeading: vscode.l10n.t("Model reasoning"),
    explanationHeading: vscode.l10n.t("Explanation"),
    waiting: vscode.l10n.t("No explanation yet. Run an explanation on a failing test."),
    refresh: vscode.l10n.t("Refresh"),
  };
}

export function viewLabels(): ViewLabels {
  return {
    chart: {
      stepAxis: vscode.l10n.t("step"),
      pointTitle: (name, step, text) => vscode.l10n.t("{0} at step {1}: {2}", name, step, text),
      highlightTitle: (step) => vscode.l10n.t("Step {0}: the wrong value appears here", step),
    },
    model: (name) => vscode.l10n.t("Model: {0}", name),
    sample: (index) => vscode.l10n.t("Sample {0}", index),
    noReasoning: vscode.l10n.t("No model reasoning was received for this test."),
    summary: vscode.l10n.t("Summary"),
    diagnosis: vscode.l10n.t("Diagnosis"),
    fixes: vscode.l10n.t("Candidate fixes"),
    noFixes: vscode.l10n.t("No candidate fixes were found."),
    trace: (functionName, file) => vscode.l10n.t("Trace of {0} ({1})", functionName, file),
    noTrace: vscode.l10n.t("No variable values were recorded for the failing function."),
    fixTitle: (index, description) => vscode.l10n.t("Fix {0}: {1}", index, description),
    source: (source) => vscode.l10n.t("Source: {0}", source),
    passed: (passed, total) => vscode.l10n.t("{0} of {1} tests passed", passed, total),
    notVerified: vscode.l10n.t("Not verified"),
    apply: vscode.l10n.t("Apply"),
    applied: vscode.l10n.t("Applied"),
  };
}
