// Client-side commands. The server's own commands (tracefix.runTests,
// tracefix.explainFailure, tracefix.rerunTraced) are registered by the language client
// from the server's executeCommandProvider, so these ids differ from them.
import * as vscode from "vscode";
import { DIAGNOSTIC_SOURCE } from "./status";

/** Returns the active editor when it shows a Python file on disk, else shows a message. */
export function activePythonEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== "python" || editor.document.uri.scheme !== "file") {
    void vscode.window.showInformationMessage(vscode.l10n.t("tracefix: open a Python test file first."));
    return undefined;
  }
  return editor;
}

/** Runs the server command `command` on the active Python file. */
export async function runOnActiveFile(command: "tracefix.runTests" | "tracefix.explainFailure"): Promise<void> {
  const editor = activePythonEditor();
  if (editor !== undefined) {
    await vscode.commands.executeCommand(command, editor.document.uri.toString());
  }
}

/** Returns the tracefix diagnostic under the cursor, else the file's first one. */
function failureDiagnostic(editor: vscode.TextEditor): vscode.Diagnostic | undefined {
  const diagnostics = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE);
  const cursor = editor.selection.active;
  return diagnostics.find((diagnostic) => diagnostic.range.contains(cursor)) ?? diagnostics[0];
}

/**
 * Requests the quick fixes at a failure diagnostic and applies the preferred one, which
 * the server marks on its best verified fix after an explanation.
 */
export async function applyBestFix(log: vscode.LogOutputChannel): Promise<void> {
  const editor = activePythonEditor();
  if (editor === undefined) {
    return;
  }
  const diagnostic = failureDiagnostic(editor);
  if (diagnostic === undefined) {
    void vscode.window.showInformationMessage(vscode.l10n.t("tracefix: this file has no failing test."));
    return;
  }

  // The last argument asks VS Code to resolve up to 10 actions, so their edits are filled in.
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    "vscode.executeCodeActionProvider",
    editor.document.uri,
    diagnostic.range,
    vscode.CodeActionKind.QuickFix.value,
    10,
  );
  const best = (actions ?? []).find((action) => action.isPreferred);
  if (best === undefined) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t("tracefix: no verified fix for this failure yet. Run \"Explain the failure in the active file\" first."),
    );
    return;
  }

  log.info(`apply fix: ${best.title}`);
  if (best.edit !== undefined && !(await vscode.workspace.applyEdit(best.edit))) {
    log.error(`apply fix: the editor rejected the edit of "${best.title}"`);
    return;
  }
  if (best.command !== undefined) {
    await vscode.commands.executeCommand(best.command.command, ...(best.command.arguments ?? []));
  }
}
