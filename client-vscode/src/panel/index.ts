// The Explanation panel: a webview that streams the model's reasoning for a failing
// test, then shows the server's explanation with a picture of the trace and the
// candidate fixes, each with an Apply button.
import { randomBytes } from "crypto";
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";
import { buildExplanationHtml, buildReasoningHtml, buildShellHtml } from "./html";
import { shellLabels, viewLabels } from "./labels";
import { ApplyFixResult, Explanation, ReasoningParams } from "./types";

export const SHOW_PANEL_COMMAND = "tracefix.showTracePanel";
const EXPLANATION_COMMAND = "tracefix.explanation";
const APPLY_FIX_COMMAND = "tracefix.applyFix";

// Re-render the streamed markdown at most this often, so long answers stay cheap.
const RENDER_DELAY_MS = 100;
// The server sends no end-of-stream notification, so the panel requests the
// explanation once no reasoning piece has arrived for this long.
const EXPLANATION_DELAY_MS = 1500;

/** Messages that the webview script (media/panel.js) posts to the extension. */
type WebviewMessage = { type: "ready" } | { type: "refresh" } | { type: "apply"; index: number };

function isReasoningParams(value: unknown): value is ReasoningParams {
  const params = value as ReasoningParams;
  return (
    typeof params === "object" &&
    params !== null &&
    typeof params.nodeid === "string" &&
    typeof params.sample === "number" &&
    typeof params.text === "string"
  );
}

function isExplanation(value: unknown): value is Explanation {
  const explanation = value as Explanation;
  return (
    typeof explanation === "object" &&
    explanation !== null &&
    typeof explanation.nodeid === "string" &&
    Array.isArray(explanation.candidates)
  );
}

// Finds the test id in the command arguments: `[nodeid]`, `[uri, nodeid]` (the
// arguments of tracefix.explainFailure) or none.
function nodeidFromArguments(args: unknown[]): string | undefined {
  const strings = args.filter((arg): arg is string => typeof arg === "string");
  return strings.find((arg) => arg.includes("::")) ?? (args.length === 1 ? strings[0] : undefined);
}

class ExplanationPanelController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private explanationTimer: ReturnType<typeof setTimeout> | undefined;

  private nodeid: string | undefined;
  private model: string | undefined;
  private samples = new Map<number, string>();
  private explanation: Explanation | undefined;
  private applied = new Set<number>();
  private status: string | undefined;
  // Counts explanation requests so that a late response for an older request is dropped.
  private requestId = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly getClient: () => LanguageClient | undefined,
  ) {}

  dispose(): void {
    clearTimeout(this.renderTimer);
    clearTimeout(this.explanationTimer);
    this.panel?.dispose();
  }

  /** Runs the show-panel command: opens the panel and loads the given or current test. */
  async showCommand(args: unknown[]): Promise<void> {
    const nodeid = nodeidFromArguments(args);
    if (nodeid !== undefined && nodeid !== this.nodeid) {
      this.reset(nodeid);
    }
    this.show(false);
    if (this.nodeid !== undefined) {
      await this.fetchExplanation();
    }
  }

  private reset(nodeid: string | undefined): void {
    this.nodeid = nodeid;
    this.model = undefined;
    this.samples = new Map();
    this.explanation = undefined;
    this.applied = new Set();
    this.status = undefined;
    this.requestId += 1;
  }

  /** Appends one streamed piece of the model's answer and opens the panel. */
  onReasoning(params: unknown): void {
    if (!isReasoningParams(params)) {
      return;
    }
    if (params.nodeid !== this.nodeid) {
      this.reset(params.nodeid);
    }
    this.samples.set(params.sample, (this.samples.get(params.sample) ?? "") + params.text);
    if (typeof params.model === "string" && params.model) {
      this.model = params.model;
    }
    this.status = vscode.l10n.t("Receiving the model's reasoning for {0}…", params.nodeid);
    this.show(true);
    this.scheduleRender();

    clearTimeout(this.explanationTimer);
    this.explanationTimer = setTimeout(() => void this.fetchExplanation(), EXPLANATION_DELAY_MS);
  }

  private show(preserveFocus: boolean): void {
    if (this.panel) {
      if (!this.panel.visible) {
        this.panel.reveal(undefined, preserveFocus);
      }
      return;
    }
    const media = vscode.Uri.joinPath(this.context.extensionUri, "media");
    const panel = vscode.window.createWebviewPanel(
      "tracefix.explanation",
      vscode.l10n.t("tracefix: Explanation"),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { enableScripts: true, localResourceRoots: [media] },
    );
    const webview = panel.webview;
    webview.html = buildShellHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString("base64"),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "panel.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "panel.css")).toString(),
      language: vscode.env.language,
      labels: shellLabels(),
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
    });
    webview.onDidReceiveMessage((message: WebviewMessage) => void this.onMessage(message));
    this.panel = panel;
  }

  private async onMessage(message: WebviewMessage): Promise<void> {
    switch (message?.type) {
      case "ready":
        this.render();
        break;
      case "refresh":
        await this.fetchExplanation();
        break;
      case "apply":
        if (Number.isInteger(message.index)) {
          await this.applyFix(message.index);
        }
        break;
    }
  }

  private scheduleRender(): void {
    if (this.renderTimer === undefined) {
      this.renderTimer = setTimeout(() => {
        this.renderTimer = undefined;
        this.render();
      }, RENDER_DELAY_MS);
    }
  }

  /** Sends the whole current state to the webview as rendered HTML. */
  private render(): void {
    if (!this.panel) {
      return;
    }
    const labels = viewLabels();
    const status = this.status ?? (this.nodeid === undefined ? shellLabels().waiting : "");
    const reasoningHtml =
      this.nodeid === undefined ? "" : buildReasoningHtml(this.samples, this.model, labels);
    const explanationHtml = this.explanation ? buildExplanationHtml(this.explanation, this.applied, labels) : "";
    void this.panel.webview.postMessage({ type: "state", status, reasoningHtml, explanationHtml });
  }

  private runningClient(): LanguageClient | undefined {
    const client = this.getClient();
    if (client === undefined || !client.isRunning()) {
      this.status = vscode.l10n.t("The tracefix language server is not running. Run the command \"tracefix: Restart the language server\".");
      this.render();
      return undefined;
    }
    return client;
  }

  private async fetchExplanation(): Promise<void> {
    clearTimeout(this.explanationTimer);
    const nodeid = this.nodeid;
    const client = this.runningClient();
    if (nodeid === undefined || client === undefined) {
      return;
    }
    const requestId = ++this.requestId;
    this.status = vscode.l10n.t("Loading the explanation of {0}…", nodeid);
    this.render();
    try {
      const result: unknown = await client.sendRequest("workspace/executeCommand", {
        command: EXPLANATION_COMMAND,
        arguments: [nodeid],
      });
      if (requestId !== this.requestId) {
        return;
      }
      if (!isExplanation(result)) {
        this.status = vscode.l10n.t("The server returned no explanation for {0}. Run the test and explain it first.", nodeid);
      } else {
        this.explanation = { ...result, series: result.series ?? null };
        this.status = vscode.l10n.t("Explanation of {0}", nodeid);
      }
    } catch (error) {
      if (requestId !== this.requestId) {
        return;
      }
      this.status = vscode.l10n.t("Loading the explanation of {0} failed: {1}", nodeid, String(error));
    }
    this.render();
  }

  private async applyFix(index: number): Promise<void> {
    const nodeid = this.nodeid;
    const client = this.runningClient();
    if (nodeid === undefined || client === undefined) {
      return;
    }
    // The user sees the fix by what it changes, not by its index in the list.
    const fix = this.explanation?.candidates.find((candidate) => candidate.index === index)?.description
      ?? String(index + 1);
    try {
      const result = (await client.sendRequest("workspace/executeCommand", {
        command: APPLY_FIX_COMMAND,
        arguments: [nodeid, index],
      })) as ApplyFixResult | null;
      if (result?.applied) {
        this.applied.add(index);
        void vscode.window.showInformationMessage(vscode.l10n.t("tracefix: applied the fix {0} for {1}.", fix, nodeid));
      } else {
        const reason = result?.reason || vscode.l10n.t("the server gave no reason");
        void vscode.window.showWarningMessage(vscode.l10n.t("tracefix: the fix {0} was not applied: {1}", fix, reason));
      }
    } catch (error) {
      void vscode.window.showErrorMessage(vscode.l10n.t("tracefix: applying the fix {0} failed: {1}", fix, String(error)));
    }
    this.render();
  }
}

let activeController: ExplanationPanelController | undefined;

/**
 * Passes the params of one `tracefix/reasoning` notification to the panel, which opens
 * and renders it. The extension's own notification handler must call this, because a
 * LanguageClient keeps one handler per notification method and a second onNotification
 * call for the method would replace the first. Does nothing before activatePanel.
 */
export function forwardReasoning(params: unknown): void {
  activeController?.onReasoning(params);
}

/** Registers the command tracefix.showTracePanel and the panel that forwardReasoning feeds. */
export function activatePanel(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined): void {
  const controller = new ExplanationPanelController(context, getClient);
  activeController = controller;
  context.subscriptions.push(controller);
  context.subscriptions.push({
    dispose: () => {
      if (activeController === controller) {
        activeController = undefined;
      }
    },
  });
  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_PANEL_COMMAND, (...args: unknown[]) => controller.showCommand(args)),
  );
}
