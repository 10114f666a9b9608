// End-to-end test of the tracefix extension in a real VS Code (code-server) driven by
// headless Chromium. For each locale it opens a scratch copy of QuixBugs `gcd` (buggy)
// and checks what is on screen for a user: the diagnostic and the Problems entry, the status bar
// count, the inlay hint on the `def` line, the hover's table of calls, "Explain
// failure" and its report, the explanation panel (diff, test result, Apply, charts),
// then applies the verified fix (the quick fix in English, the panel's Apply button in
// Japanese), saves, and checks that pytest passes.
//
// Usage: node run.mjs [--locales en,ja]
// Needs setup.sh and package.sh first (run.sh does all three).
// Screenshots: client-vscode/e2e/screenshots/<locale>/NN-step.png.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOOLS = path.join(HERE, ".tools");
const REPO = path.resolve(HERE, "..", "..");
const NODE24 = path.join(TOOLS, "node24", "node_modules", "node", "bin", "node");
const CODE_SERVER = path.join(TOOLS, "node_modules", "code-server", "out", "node", "entry.js");
const VSIX = path.join(TOOLS, "tracefix.vsix");
const JA_PACK = path.join(TOOLS, "ja-locale.vsix");
const PYTHON = process.env.TRACEFIX_E2E_PYTHON || path.join(REPO, ".venv", "bin", "python");
const BENCHMARKS = process.env.TRACEFIX_BENCHMARKS || path.join(REPO, "..", "shared", "benchmarks");
const QUIXBUGS_GCD = path.join(BENCHMARKS, "quixbugs", "gcd");
const SCREENSHOTS = path.join(HERE, "screenshots");
const { chromium } = createRequire(path.join(TOOLS, "package.json"))("playwright-core");

const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CODE_SERVER_FLAGS = ["--auth", "none", "--disable-telemetry", "--disable-update-check",
  "--disable-workspace-trust", "--disable-getting-started-override"];

// Texts the user sees, per locale: the server's messages follow the editor's locale.
const TEXTS = {
  en: { explain: /Explain failure/, failing: /tracefix: 5 failing/, calls: /gcd was called \d+ times/, fix: /^Fix line 5: .*\(passes 6\/6 tests\)/, badge: /^6 of 6 tests passed$/, applyFrom: "quickfix", report: "# Why test_gcd.py::test_gcd[case2] fails" },
  ja: { explain: /失敗を説明/, failing: /tracefix: 5 件失敗/, calls: /gcd は \d+ 回呼び出されました/, fix: /6\/6 件が成功/, badge: /^6 件中 6 件のテストが成功$/, applyFrom: "panel", report: "# test_gcd.py::test_gcd[case2] が失敗する理由" },
};

const RAISING_LINE = "return gcd(a % b, b)";
const DEF_LINE = "def gcd(a, b):";

function log(message) {
  console.log(`[e2e] ${message}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function requireFile(file, hint) {
  if (!fs.existsSync(file)) throw new Error(`${file} not found; ${hint}`);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(description, probe, timeoutMs, intervalMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${description} (last: ${String(last)})`);
}

function makeProject(root) {
  const project = path.join(root, "gcd");
  fs.mkdirSync(path.join(project, ".vscode"), { recursive: true });
  fs.copyFileSync(path.join(QUIXBUGS_GCD, "buggy.py"), path.join(project, "gcd.py"));
  fs.copyFileSync(path.join(QUIXBUGS_GCD, "test_gcd.py"), path.join(project, "test_gcd.py"));
  fs.writeFileSync(path.join(project, ".vscode", "settings.json"),
    JSON.stringify({ "tracefix.interpreter": PYTHON }, null, 2));
  return project;
}

function writeUserSettings(userDataDir) {
  const user = path.join(userDataDir, "User");
  fs.mkdirSync(user, { recursive: true });
  fs.writeFileSync(path.join(user, "settings.json"), JSON.stringify({
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "editor.inlayHints.enabled": "on",
    "editor.hover.delay": 200,
    "files.autoSave": "off",
    "security.workspace.trust.enabled": false,
  }, null, 2));
}

// VS Code finds a display language through `languagepacks.json` in the user data
// folder. The running server writes it when a pack is installed from its UI, but
// `--install-extension` on the command line does not, so it is written here, in the
// format of VS Code's language pack cache (one entry per language id).
function writeLanguagePacks(root, userDataDir) {
  const extensions = path.join(root, "extensions");
  const folder = fs.readdirSync(extensions).find((name) => name.startsWith("tracefix-e2e.tracefix-e2e-ja-locale-"));
  check(folder, `the ja locale stand-in is installed in ${extensions}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(extensions, folder, "package.json"), "utf8"));
  const id = `${manifest.publisher}.${manifest.name}`;
  const localization = manifest.contributes.localizations[0];
  const translations = Object.fromEntries(localization.translations.map((entry) =>
    [entry.id, path.join(extensions, folder, entry.path)]));
  const hash = crypto.createHash("md5").update(id).update(manifest.version).digest("hex");
  fs.writeFileSync(path.join(userDataDir, "languagepacks.json"), JSON.stringify({
    [localization.languageId]: {
      hash, translations, label: localization.localizedLanguageName,
      extensions: [{ extensionIdentifier: { id }, version: manifest.version }],
    },
  }, null, 2));
}

function startCodeServer({ root, port, locale, project, env }) {
  const args = [NODE24, CODE_SERVER, "--bind-addr", `127.0.0.1:${port}`, ...CODE_SERVER_FLAGS,
    "--extensions-dir", path.join(root, "extensions"), "--user-data-dir", path.join(root, "user-data"),
    "--config", path.join(root, "config.yaml"), "--locale", locale, project];
  const logFile = fs.openSync(path.join(root, "code-server.log"), "a");
  // setsid makes code-server the leader of a new process group, so killing -pid stops
  // it with the extension host and the language server it starts.
  const child = spawn("setsid", args, { env, stdio: ["ignore", logFile, logFile] });
  return child;
}

function stopProcessGroup(child) {
  if (!child || child.pid === undefined) return;
  for (const signal of ["SIGTERM", "SIGKILL"]) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      return; // the group is gone
    }
    spawnSync("sleep", ["1"]);
  }
}

async function screenshot(page, locale, name) {
  const folder = path.join(SCREENSHOTS, locale);
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(REPO, file)}`);
}

function normalize(text) {
  return text.replace(/\u00a0/g, " ");
}

// The text of each rendered editor line, inlay hints included, in line order.
async function editorLines(page) {
  const rows = await page.$$eval(".monaco-editor .view-lines .view-line", (nodes) =>
    nodes.map((node) => ({ top: parseFloat(node.style.top) || 0, text: node.textContent })));
  return rows.sort((a, b) => a.top - b.top).map((row) => normalize(row.text));
}

// Open `name` by clicking it in the Explorer, as a user would; Ctrl+P does not reach
// the workbench while a webview (the explanation panel) has the keyboard focus.
async function openFile(page, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: new RegExp(`^${escaped}`) })
    .first().click();
  await page.locator(`.tab.active[data-resource-name="${name}"], .tab.active:has-text("${name}")`).first()
    .waitFor({ timeout: 15000 });
}

async function goToLine(page, line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`:${line}`);  // Ctrl+G opens the quick input in its ":" (go to line) mode
  await page.keyboard.press("Enter");
}

// Move the mouse over the token `token` of the rendered line starting with `line`, and
// return the text of the hover that matches `expected`.
async function hoverText(page, line, token, expected, timeoutMs = 20000) {
  const row = page.locator(".monaco-editor .view-lines .view-line", { hasText: line }).first();
  const target = row.locator("span span", { hasText: new RegExp(`^${token}$`) }).first();
  const box = await target.boundingBox();
  check(box, `the token ${JSON.stringify(token)} of ${JSON.stringify(line)} is on screen`);
  await page.mouse.move(0, 0);
  await page.mouse.move(box.x + Math.min(8, box.width / 2), box.y + box.height / 2);
  return waitFor(`a hover containing ${expected}`, async () => {
    const hovers = await page.$$eval(".monaco-hover:not(.hidden)", (nodes) => nodes.map((n) => n.textContent));
    return hovers.map(normalize).find((hover) => expected.test(hover));
  }, timeoutMs);
}

async function codeActions(page) {
  await page.keyboard.press("Control+.");
  const rows = page.locator(".action-widget .monaco-list-row");
  await rows.first().waitFor({ timeout: 20000 });
  return rows;
}

function pytest(project, env) {
  return spawnSync(PYTHON, ["-m", "pytest", "-q", "-p", "no:cacheprovider"],
    { cwd: project, env, encoding: "utf8", timeout: 120000 });
}

async function runLocale(locale) {
  const texts = TEXTS[locale];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tracefix-e2e-${locale}-`));
  const project = makeProject(root);
  const userDataDir = path.join(root, "user-data");
  writeUserSettings(userDataDir);
  fs.writeFileSync(path.join(root, "config.yaml"), "auth: none\ncert: false\n");
  // The language server's cache (reports, traces, sandboxes) stays in the scratch folder.
  const env = { ...process.env, XDG_CACHE_HOME: path.join(root, "cache"), HF_HUB_OFFLINE: "1" };
  log(`${locale}: scratch project ${project}`);

  // In Japanese, the stand-in language pack is installed first. Without a pack for the
  // locale, VS Code falls back to English and reports `en` to extensions.
  const packages = locale === "ja" ? [JA_PACK, VSIX] : [VSIX];
  for (const vsix of packages) {
    execFileSync(NODE24, [CODE_SERVER, "--extensions-dir", path.join(root, "extensions"),
      "--user-data-dir", userDataDir, "--config", path.join(root, "config.yaml"), "--install-extension", vsix],
    { env, stdio: "inherit" });
  }
  if (locale === "ja") writeLanguagePacks(root, userDataDir);

  const port = await freePort();
  let server;
  let context;
  try {
    server = startCodeServer({ root, port, locale, project, env });
    const url = `http://127.0.0.1:${port}`;
    await waitFor("code-server to answer /healthz", async () => (await fetch(`${url}/healthz`)).ok, 60000);
    log(`${locale}: code-server on ${url} (log: ${path.join(root, "code-server.log")})`);

    context = await chromium.launchPersistentContext(path.join(root, "chromium"), {
      executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 }, locale,
    });
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`${url}/?folder=${encodeURIComponent(project)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await page.locator(".explorer-folders-view, .explorer-viewlet").first().waitFor({ timeout: 60000 });
    await screenshot(page, locale, "01-workbench");

    // 1. Opening gcd.py runs its tests: an error squiggle on the raising line.
    await openFile(page, "gcd.py");
    await page.locator(".monaco-editor .squiggly-error").first().waitFor({ timeout: 120000 });
    await screenshot(page, locale, "02-diagnostic");
    // The Problems panel lists the diagnostic with the failure message.
    await page.keyboard.press("Control+Shift+M");
    const problems = await waitFor("RecursionError in the Problems panel", async () => {
      const text = normalize(await page.locator(".markers-panel").first().textContent());
      return text.includes("RecursionError") ? text : undefined;
    }, 20000);
    log(`${locale}: Problems panel: ${problems.slice(0, 200)}`);
    // The status bar counts failing tests, not diagnostics: five cases of test_gcd fail
    // on the same line.
    const status = await waitFor("the status bar to count 5 failing tests", async () => {
      const text = normalize(await page.locator(".statusbar-item", { hasText: "tracefix:" }).first().textContent());
      return texts.failing.test(text) ? text : undefined;
    }, 20000);
    log(`${locale}: status bar: ${status.trim()}`);
    await screenshot(page, locale, "03-problems");
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();

    // 2. Inlay hints: gcd(13, 13) recurses as gcd(0, 13) until the recursion limit, so
    // the `def` line shows the arguments moving from 13 to 0 over every call.
    const lines = await waitFor("an inlay hint after the def line", async () => {
      const rendered = await editorLines(page);
      const def = rendered.find((line) => line.startsWith(DEF_LINE));
      return def && def.trim().length > DEF_LINE.length ? rendered : undefined;
    }, 30000);
    const source = fs.readFileSync(path.join(project, "gcd.py"), "utf8").split("\n");
    // Rendered lines are matched to source lines by their text, because Monaco may
    // keep a line it no longer shows in the DOM.
    const hints = source.slice(0, 5).map((text) => {
      const shown = lines.find((line) => line.startsWith(text) && text.trim());
      return shown === undefined ? "" : shown.slice(text.length).trim();
    });
    log(`${locale}: inlay hints on lines 1-5: ${JSON.stringify(hints)}`);
    check(/^a=13 → 0, b=13 \(×\d{3,}\)$/.test(hints[0]), `the def line's hint is "a=13 → 0, b=13 (×N)": ${hints[0]}`);
    check(hints.slice(1).every((hint) => hint === ""), `no other line of gcd changes a value: ${JSON.stringify(hints)}`);
    await screenshot(page, locale, "04-inlay-hints");

    // 3. Hover on the def line: the table of calls, with the arguments of each.
    await page.mouse.move(0, 0);
    await page.keyboard.press("Escape");
    const history = await hoverText(page, DEF_LINE, "gcd", texts.calls);
    const callRows = await page.$$eval(".monaco-hover:not(.hidden) table tr", (nodes) =>
      nodes.map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.trim())));
    log(`${locale}: hover calls table: ${JSON.stringify(callRows.slice(0, 4))}`);
    check(callRows.length >= 5, `the hover on the def line shows a table of calls: ${history.slice(0, 200)}`);
    check(JSON.stringify(callRows[1].slice(2, 4)) === '["13","13"]', `the first call is gcd(13, 13): ${JSON.stringify(callRows[1])}`);
    check(JSON.stringify(callRows[2].slice(2, 4)) === '["0","13"]', `the second call is gcd(0, 13): ${JSON.stringify(callRows[2])}`);
    await screenshot(page, locale, "05-hover-history");

    // 4. "Explain failure" from the code actions on the raising line; the report opens.
    await page.mouse.move(0, 0);
    await page.keyboard.press("Escape");
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
    await goToLine(page, 5);
    let rows = await codeActions(page);
    await screenshot(page, locale, "06-code-actions");
    await rows.filter({ hasText: texts.explain }).first().click();
    // The report is word-wrapped beside the panel, so its lines are compared without
    // the breaks and spaces that wrapping moves.
    const squeeze = (text) => normalize(text).replace(/\s+/g, "");
    await waitFor("the explanation report in an editor", async () => {
      const text = squeeze((await editorLines(page)).join(""));
      return text.includes(squeeze(texts.report.slice(2))) ? text : undefined;
    }, 240000, 1000);
    await screenshot(page, locale, "07-report");

    // 5. The explanation panel: the verified fix as a diff with its test result and an
    // Apply button, and the trace as pictures (a chart per numeric variable).
    const panel = await waitFor("the explanation panel with a candidate fix", async () => {
      for (const frame of page.frames()) {
        const found = await frame.evaluate(() => {
          const candidate = document.querySelector("article.candidate");
          if (!candidate) return undefined;
          return {
            diff: candidate.querySelector("pre.diff")?.textContent ?? "",
            badge: candidate.querySelector(".badge")?.textContent ?? "",
            apply: candidate.querySelectorAll("button[data-action=apply]").length,
            charts: document.querySelectorAll(".series svg.chart").length,
            variables: [...document.querySelectorAll(".series .variable-name")].map((n) => n.textContent.trim()),
          };
        }).catch(() => undefined);
        if (found) return { frame, ...found };
      }
      return undefined;
    }, 60000, 1000);
    log(`${locale}: panel: badge ${JSON.stringify(panel.badge)}, variables ${JSON.stringify(panel.variables)}, ${panel.charts} chart(s)`);
    check(panel.diff.includes("+        return gcd(b, a % b)"), `the panel's first candidate is the verified fix:\n${panel.diff}`);
    check(texts.badge.test(panel.badge), `the candidate's badge gives its test result: ${panel.badge}`);
    check(panel.apply === 1, "the candidate has an Apply button");
    check(panel.charts >= 1 && panel.variables.includes("a") && panel.variables.includes("b"),
      `the trace pictures show a and b: ${JSON.stringify(panel.variables)}`);
    await panel.frame.evaluate(() => document.querySelector(".series")?.scrollIntoView());
    await screenshot(page, locale, "08-panel");  // the pictures of the trace
    await panel.frame.evaluate(() => document.querySelector("article.candidate")?.scrollIntoView());
    await screenshot(page, locale, "08-panel-fix");  // the diff, its test result and Apply

    // 6. Apply the verified fix: through the quick fix (Ctrl+. on the raising line) in
    // English, through the panel's Apply button in Japanese; both use the same
    // versioned edit. Then save.
    if (texts.applyFrom === "panel") {
      await panel.frame.locator("article.candidate button[data-action=apply]").first().click();
      // gcd.py was closed when the report took its place, so the edit opens it in a
      // background tab, unsaved.
      await page.locator(".tab.dirty", { hasText: "gcd.py" }).first().waitFor({ timeout: 20000 });
      await openFile(page, "gcd.py");
      await waitFor("the fix in the editor", async () =>
        (await editorLines(page)).some((line) => line.includes("return gcd(b, a % b)")), 20000);
      await screenshot(page, locale, "09-applied-from-panel");
    } else {
      await openFile(page, "gcd.py");
      await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
      await goToLine(page, 5);
      rows = await codeActions(page);
      const fix = rows.filter({ hasText: texts.fix }).first();
      await fix.waitFor({ timeout: 20000 });
      log(`${locale}: applying ${normalize(await fix.textContent())}`);
      await screenshot(page, locale, "09-quick-fix");
      await fix.click();
    }
    await page.keyboard.press("Control+S");
    await waitFor("the fixed file on disk", async () =>
      fs.readFileSync(path.join(project, "gcd.py"), "utf8").includes("return gcd(b, a % b)"), 20000);
    await waitFor("the diagnostic to disappear after the save", async () =>
      (await page.locator(".monaco-editor .squiggly-error").count()) === 0, 120000, 1000);
    await screenshot(page, locale, "10-fixed");

    const run = pytest(project, env);
    check(run.status === 0, `pytest passes after the fix:\n${run.stdout}\n${run.stderr}`);
    log(`${locale}: pytest after the fix: ${run.stdout.trim().split("\n").pop()}`);
  } catch (error) {
    const page = context?.pages()[0];
    if (page) await screenshot(page, locale, "99-failure").catch(() => {});
    // The client's output channel, which contains the language server's stderr.
    const logs = spawnSync("find", [path.join(userDataDir, "logs"), "-name", "tracefix.log"], { encoding: "utf8" });
    for (const file of logs.stdout.split("\n").filter(Boolean)) {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      console.error(`[e2e] ${locale}: first lines of ${file}:\n${lines.slice(0, 12).join("\n")}`);
    }
    throw error;
  } finally {
    if (context) await context.close().catch(() => {});
    stopProcessGroup(server);
  }
}

async function main() {
  const index = process.argv.indexOf("--locales");
  const locales = index > 0 ? process.argv[index + 1].split(",") : ["en", "ja"];
  requireFile(NODE24, "run client-vscode/e2e/setup.sh first");
  requireFile(CODE_SERVER, "run client-vscode/e2e/setup.sh first");
  requireFile(VSIX, "run client-vscode/e2e/package.sh first");
  requireFile(JA_PACK, "run client-vscode/e2e/package.sh first");
  requireFile(PYTHON, "create the repository's .venv with tracefix installed, or set TRACEFIX_E2E_PYTHON");
  requireFile(path.join(QUIXBUGS_GCD, "buggy.py"), "stage the QuixBugs tasks or set TRACEFIX_BENCHMARKS");
  for (const locale of locales) {
    check(locale in TEXTS, `locale ${locale} is one of ${Object.keys(TEXTS).join(", ")}`);
    const started = Date.now();
    await runLocale(locale);
    log(`${locale}: passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

main().catch((error) => {
  console.error(`[e2e] FAILED: ${error.stack || error}`);
  process.exit(1);
});
