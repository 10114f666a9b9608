import * as vscode from "vscode";

/** Shows an error popup with a "Show logs" button that opens the output channel. */
export async function showError(message: string, log: vscode.LogOutputChannel): Promise<void> {
  const showLogs = vscode.l10n.t("Show logs");
  const choice = await vscode.window.showErrorMessage(message, showLogs);
  if (choice === showLogs) {
    log.show();
  }
}
