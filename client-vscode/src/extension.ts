// The tracefix extension: starts `tracefix serve` over stdio for Python files and adds
// commands, settings, the endpoint's API key and a status bar item around it.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";
import { ApiKeyStore, SET_API_KEY_NOTIFICATION } from "./apiKey";
import { applyBestFix, runOnActiveFile } from "./commands";
import { SERVE_ARGS } from "./interpreter";
import { showError } from "./messages";
import { forwardReasoning } from "./panel";
import { ensureTracefix, findInterpreter, onActiveEnvironmentChange } from "./python";
import { readSettings, toServerOptions } from "./settings";
import { StatusBar } from "./status";

const REASONING_NOTIFICATION = "tracefix/reasoning";

let client: LanguageClient | undefined;
let log: vscode.LogOutputChannel;
let apiKeys: ApiKeyStore;
let statusBar: StatusBar;
let restarting: Promise<void> | undefined;

function serverOptionsFromSettings() {
  const configuration = vscode.workspace.getConfiguration("tracefix");
  return toServerOptions(readSettings((key) => configuration.get(key)));
}

async function sendApiKey(): Promise<void> {
  if (client === undefined || !client.isRunning()) {
    return;
  }
  const apiKey = await apiKeys.get();
  // Logs only whether a key is set, never the key.
  log.info(`api key: sending ${apiKey === null ? "no key" : "the stored key"} to the server`);
  await client.sendNotification(SET_API_KEY_NOTIFICATION, { apiKey });
}

async function start(): Promise<void> {
  const python = (await findInterpreter(log)).command;
  if (!(await ensureTracefix(python, log))) {
    return;
  }

  const initializationOptions = serverOptionsFromSettings();
  statusBar.setModelConfigured(initializationOptions.model !== null);
  log.info(`server: starting ${python} ${SERVE_ARGS.join(" ")}`);
  const serverOptions: ServerOptions = { command: python, args: SERVE_ARGS, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannel: log,
    initializationOptions,
    middleware: {
      executeCommand: (command, args, next) => {
        const result = next(command, args);
        if (command === "tracefix.debugFailure") {
          return Promise.resolve(result).then((value) => {
            void startDebugSession(value as DebugSession | null | undefined);
            return value;
          });
        }
        if (command !== "tracefix.explainFailure") {
          return result;
        }
        const tracked = statusBar.track(Promise.resolve(result));
        // Open the panel on the finished explanation, also when no model streamed into it.
        void tracked.then(
          (value) => {
            const done = value as { nodeid?: string; error?: string } | null | undefined;
            if (done?.nodeid && !done.error) {
              void vscode.commands.executeCommand("tracefix.showTracePanel", done.nodeid);
            }
          },
          () => undefined,
        );
        return tracked;
      },
    },
  };
  client = new LanguageClient("tracefix", "tracefix", serverOptions, clientOptions);
  client.onNotification(REASONING_NOTIFICATION, (params: unknown) => {
    statusBar.markModelAnswered();
    forwardReasoning(params);
  });
  try {
    await client.start();
    log.info("server: started");
    await sendApiKey();
  } catch (error) {
    log.error(`server: start failed with ${python}: ${String(error)}`);
    await showError(
      vscode.l10n.t(
        "tracefix: the language server could not start with {0}. Install tracefix there (`{0} -m pip install tracefix`) or set `tracefix.interpreter`.",
        python,
      ),
      log,
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    log.info("server: stopping");
    try {
      await running.stop();
    } catch (error) {
      log.warn(`server: stop failed: ${String(error)}`);
    }
  }
}

/** Restarts the server. A restart requested while one runs waits for that one. */
function restart(): Promise<void> {
  if (restarting === undefined) {
    restarting = (async () => {
      try {
        await stop();
        await start();
      } finally {
        restarting = undefined;
      }
    })();
  }
  return restarting;
}

// The explanation panel lives in src/panel/; when it exports activatePanel, call it.
// esbuild bundles the module when it exists and leaves a failing require otherwise.
function activatePanelIfPresent(context: vscode.ExtensionContext): void {
  let panel: { activatePanel?: (context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined) => void };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    panel = require("./panel/index");
  } catch {
    log.info("panel: not included in this build");
    return;
  }
  panel.activatePanel?.(context, () => client);
}

function registerCommands(context: vscode.ExtensionContext): void {
  const commands: [string, () => unknown][] = [
    ["tracefix.runTestsInActiveFile", () => runOnActiveFile("tracefix.runTests")],
    ["tracefix.explainActiveFile", () => runOnActiveFile("tracefix.explainFailure")],
    ["tracefix.applyBestFix", () => applyBestFix(log)],
    ["tracefix.restartServer", () => restart()],
    ["tracefix.setApiKey", () => apiKeys.prompt()],
    ["tracefix.clearApiKey", () => apiKeys.clear()],
    ["tracefix.showLogs", () => log.show()],
  ];
  for (const [id, handler] of commands) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await handler();
        } catch (error) {
          log.error(`command ${id} failed: ${String(error)}`);
          await showError(vscode.l10n.t("tracefix: the command failed: {0}", String(error)), log);
        }
      }),
    );
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  log = vscode.window.createOutputChannel("tracefix", { log: true });
  apiKeys = new ApiKeyStore(context.secrets);
  statusBar = new StatusBar();
  context.subscriptions.push(log, statusBar);
  registerCommands(context);
  activatePanelIfPresent(context);

  context.subscriptions.push(
    apiKeys.onDidChange(() => void sendApiKey()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration("tracefix")) {
        return;
      }
      const settings = serverOptionsFromSettings();
      statusBar.setModelConfigured(settings.model !== null);
      if (event.affectsConfiguration("tracefix.interpreter")) {
        log.info("settings: tracefix.interpreter changed; restarting the server");
        void restart();
      } else if (client?.isRunning()) {
        log.info("settings: sending the changed settings to the server");
        void client.sendNotification("workspace/didChangeConfiguration", { settings: { tracefix: settings } });
      }
    }),
  );
  const environmentChange = await onActiveEnvironmentChange(log, () => {
    log.info("interpreter: the Python extension's active environment changed; restarting the server");
    void restart();
  });
  if (environmentChange !== undefined) {
    context.subscriptions.push(environmentChange);
  }

  // package.json declares untrustedWorkspaces as unsupported, so VS Code should not
  // activate the extension without trust; this covers editors that do anyway.
  if (!vscode.workspace.isTrusted) {
    log.warn("workspace: not trusted; the server will start once the workspace is trusted");
    void vscode.window.showWarningMessage(
      vscode.l10n.t("tracefix runs this workspace's tests, which executes its code. Trust the workspace to start it."),
    );
    context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()));
    return;
  }
  await restart();
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** The result of `tracefix.debugFailure`: the address debugpy waits on, and the attach configuration. */
interface DebugSession {
  nodeid: string;
  host: string;
  port: number;
  configuration: vscode.DebugConfiguration;
}

/**
 * Attaches VS Code's debugger to the test that the server started under debugpy. It
 * needs the Python Debugger extension (type "debugpy"); without it, the user gets the
 * address to attach another debugger to.
 */
async function startDebugSession(session: DebugSession | null | undefined): Promise<void> {
  if (!session?.configuration) return;
  const folder = vscode.workspace.workspaceFolders?.[0];
  log.info(`debug: attaching to ${session.nodeid} on ${session.host}:${session.port}`);
  let started = false;
  try {
    started = await vscode.debug.startDebugging(folder, session.configuration);
  } catch (error) {
    log.warn(`debug: startDebugging failed: ${String(error)}`);
  }
  if (!started) {
    const showLogs = vscode.l10n.t("Show logs");
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t("tracefix: could not start the debugger for {0}. Install the Python Debugger extension, or attach a debugpy client to {1}:{2}.",
        session.nodeid, session.host, String(session.port)),
      showLogs,
    );
    if (choice === showLogs) log.show();
  }
}
