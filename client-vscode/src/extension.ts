// Minimal client: starts `tracefix serve` over stdio for Python files.
// NOTE: interpreter discovery through the Python extension, the explanation panel,
// the status bar and settings for models are not built yet; this client only
// forwards the standard LSP features that the server provides.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

function interpreter(): string {
  const configured = vscode.workspace.getConfiguration("tracefix").get<string>("interpreter", "");
  return configured.trim() || "python3";
}

async function start(): Promise<void> {
  const python = interpreter();
  output?.appendLine(`[client] starting: ${python} -m tracefix.server.cli serve`);
  const serverOptions: ServerOptions = {
    command: python,
    args: ["-m", "tracefix.server.cli", "serve"],
    transport: TransportKind.stdio,
  };
  const settings = vscode.workspace.getConfiguration("tracefix");
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannel: output,
    initializationOptions: {
      runOnSave: settings.get<boolean>("runOnSave", true),
      testTimeout: settings.get<number>("testTimeout", 60),
    },
  };
  client = new LanguageClient("tracefix", "tracefix", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    output?.appendLine(`[client] start failed: ${String(error)}`);
    const showLogs = vscode.l10n.t("Show logs");
    const choice = await vscode.window.showErrorMessage(
      vscode.l10n.t(
        "tracefix: the language server could not start with {0}. Install tracefix there (`{0} -m pip install tracefix`) or set `tracefix.interpreter`.",
        python,
      ),
      showLogs,
    );
    if (choice === showLogs) {
      output?.show();
    }
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("tracefix");
  context.subscriptions.push(output);
  context.subscriptions.push(
    vscode.commands.registerCommand("tracefix.restartServer", async () => {
      await client?.stop();
      await start();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
