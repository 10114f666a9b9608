// Finds the Python interpreter for the server and makes sure it can import tracefix.
import { execFile } from "child_process";
import * as vscode from "vscode";
import {
  chooseInterpreter,
  IMPORT_CHECK_ARGS,
  INSTALL_ARGS,
  InterpreterChoice,
} from "./interpreter";
import { showError } from "./messages";

// The part of the Python extension's public API that this module uses
// (`@vscode/python-extension`, `PythonExtension.environments`).
interface PythonEnvironments {
  getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
  resolveEnvironment(
    environment: { id: string; path: string } | string,
  ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

const PYTHON_EXTENSION_ID = "ms-python.python";

async function pythonEnvironments(log: vscode.LogOutputChannel): Promise<PythonEnvironments | undefined> {
  const extension = vscode.extensions.getExtension<{ environments?: PythonEnvironments }>(PYTHON_EXTENSION_ID);
  if (extension === undefined) {
    log.info(`interpreter: the Python extension (${PYTHON_EXTENSION_ID}) is not installed`);
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    if (api?.environments === undefined) {
      log.warn("interpreter: the Python extension has no environments API; update it");
    }
    return api?.environments;
  } catch (error) {
    log.error(`interpreter: activating the Python extension failed: ${String(error)}`);
    return undefined;
  }
}

/** Returns the executable of the Python extension's active environment for `resource`. */
async function activeEnvironmentExecutable(
  log: vscode.LogOutputChannel,
  resource: vscode.Uri | undefined,
): Promise<string | undefined> {
  const environments = await pythonEnvironments(log);
  if (environments === undefined) {
    return undefined;
  }
  try {
    const environmentPath = environments.getActiveEnvironmentPath(resource);
    const resolved = await environments.resolveEnvironment(environmentPath);
    const executable = resolved?.executable.uri?.fsPath;
    if (executable === undefined) {
      log.warn(`interpreter: the Python extension's active environment ${environmentPath.path} did not resolve to an executable`);
    }
    return executable;
  } catch (error) {
    log.error(`interpreter: reading the Python extension's active environment failed: ${String(error)}`);
    return undefined;
  }
}

/** Calls `listener` when the Python extension's active environment changes. */
export async function onActiveEnvironmentChange(
  log: vscode.LogOutputChannel,
  listener: () => void,
): Promise<vscode.Disposable | undefined> {
  const extension = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (extension === undefined) {
    return undefined;
  }
  const environments = await pythonEnvironments(log);
  return environments?.onDidChangeActiveEnvironmentPath(listener);
}

/** Chooses the interpreter (see chooseInterpreter) and logs the choice and its source. */
export async function findInterpreter(log: vscode.LogOutputChannel): Promise<InterpreterChoice> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const choice = chooseInterpreter({
    pythonExtensionPath: await activeEnvironmentExecutable(log, resource),
    setting: vscode.workspace.getConfiguration("tracefix").get<string>("interpreter", ""),
  });
  switch (choice.source) {
    case "python-extension":
      log.info(`interpreter: ${choice.command} (the Python extension's active environment)`);
      break;
    case "setting":
      log.info(`interpreter: ${choice.command} (setting tracefix.interpreter)`);
      break;
    case "default":
      log.info(`interpreter: ${choice.command} (default; no Python extension environment and tracefix.interpreter is empty)`);
      break;
  }
  return choice;
}

interface ProcessResult {
  ok: boolean;
  output: string;
}

function runProcess(command: string, args: string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const output = [stdout, stderr, error && !stderr ? String(error) : ""].filter((part) => part).join("\n");
      resolve({ ok: error === null, output: output.trim() });
    });
  });
}

const IMPORT_CHECK_TIMEOUT_MS = 30_000;
// pip may download and build wheels, so this is generous.
const INSTALL_TIMEOUT_MS = 600_000;

/**
 * Checks that `python` can import tracefix. If it cannot, asks the user (modal) whether
 * to install tracefix with that interpreter's pip, and installs it on consent. Returns
 * true when tracefix is importable at the end.
 */
export async function ensureTracefix(python: string, log: vscode.LogOutputChannel): Promise<boolean> {
  const check = await runProcess(python, IMPORT_CHECK_ARGS, IMPORT_CHECK_TIMEOUT_MS);
  if (check.ok) {
    log.info(`interpreter: ${python} imports tracefix.server.cli`);
    return true;
  }
  log.warn(`interpreter: ${python} cannot import tracefix.server.cli: ${check.output}`);

  const install = vscode.l10n.t("Install");
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t("tracefix is not installed for {0}.", python),
    {
      modal: true,
      detail: vscode.l10n.t(
        "Install it now with `{0} -m pip install tracefix`? Or choose another interpreter in the Python extension or in the setting `tracefix.interpreter`.",
        python,
      ),
    },
    install,
  );
  if (answer !== install) {
    log.info("interpreter: the user declined installing tracefix");
    await showError(
      vscode.l10n.t("tracefix: the language server was not started because {0} cannot import tracefix.", python),
      log,
    );
    return false;
  }

  log.info(`interpreter: running ${python} ${INSTALL_ARGS.join(" ")}`);
  const installed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t("Installing tracefix with {0}…", python) },
    () => runProcess(python, INSTALL_ARGS, INSTALL_TIMEOUT_MS),
  );
  log.info(`interpreter: pip output:\n${installed.output}`);
  const recheck = installed.ok ? await runProcess(python, IMPORT_CHECK_ARGS, IMPORT_CHECK_TIMEOUT_MS) : installed;
  if (!recheck.ok) {
    log.error(`interpreter: installing tracefix with ${python} failed: ${recheck.output}`);
    await showError(vscode.l10n.t("tracefix: installing tracefix with {0} failed. See the logs for pip's output.", python), log);
    return false;
  }
  log.info(`interpreter: installed tracefix with ${python}`);
  void vscode.window.showInformationMessage(vscode.l10n.t("tracefix: installed tracefix with {0}.", python));
  return true;
}
