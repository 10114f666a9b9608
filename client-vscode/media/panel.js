// Webview script of the tracefix Explanation panel. The extension renders and escapes
// all markup, so this script only inserts it and forwards button clicks.
// @ts-check
(function () {
  // @ts-ignore acquireVsCodeApi is provided by the webview host.
  const vscode = acquireVsCodeApi();
  const status = document.getElementById("status");
  const reasoning = document.getElementById("reasoning");
  const explanation = document.getElementById("explanation");

  // Keep the reasoning scrolled to its end while it streams, unless the reader scrolled up.
  function isAtBottom() {
    const root = document.scrollingElement || document.documentElement;
    return root.scrollHeight - root.scrollTop - root.clientHeight < 40;
  }

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!message || message.type !== "state") {
      return;
    }
    const follow = isAtBottom();
    if (status) {
      status.textContent = message.status || "";
    }
    if (reasoning && reasoning.innerHTML !== message.reasoningHtml) {
      reasoning.innerHTML = message.reasoningHtml;
    }
    if (explanation && explanation.innerHTML !== message.explanationHtml) {
      explanation.innerHTML = message.explanationHtml;
    }
    if (follow) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("button[data-action]") : null;
    if (!(target instanceof HTMLButtonElement) || target.disabled) {
      return;
    }
    const action = target.dataset.action;
    if (action === "refresh") {
      vscode.postMessage({ type: "refresh" });
    } else if (action === "apply") {
      target.disabled = true;
      vscode.postMessage({ type: "apply", index: Number(target.dataset.index) });
    }
  });

  vscode.postMessage({ type: "ready" });
})();
