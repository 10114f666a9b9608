// The model endpoint's API key, kept in the editor's SecretStorage and never in settings
// or logs. The server receives it through the `tracefix/setApiKey` notification.
import * as vscode from "vscode";

const SECRET_KEY = "tracefix.model.apiKey";
export const SET_API_KEY_NOTIFICATION = "tracefix/setApiKey";

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Returns the stored key, or null when none is stored. */
  async get(): Promise<string | null> {
    return (await this.secrets.get(SECRET_KEY)) ?? null;
  }

  /** Asks for the key in a password input box and stores it; Escape leaves it unchanged. */
  async prompt(): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: vscode.l10n.t("API key for the model endpoint"),
      prompt: vscode.l10n.t("Stored in the editor's secret storage and sent only to the tracefix language server."),
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() === "" ? vscode.l10n.t("Enter a key, or press Escape to cancel.") : undefined),
    });
    if (key === undefined) {
      return false;
    }
    await this.secrets.store(SECRET_KEY, key.trim());
    return true;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
  }

  /** Calls `listener` when the stored key changes, in this window or another one. */
  onDidChange(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) {
        listener();
      }
    });
  }
}
