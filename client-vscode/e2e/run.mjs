// End-to-end test of the tracefix extension in a real VS Code (code-server) driven by
// headless Chromium. For each locale it opens a scratch copy of QuixBugs `gcd` (buggy),
// checks the diagnostic, inlay hints and hover history, runs "Explain failure", applies
// the first verified quick fix, saves, and checks that pytest passes.
//
// Usage: node run.mjs [--locales en,ja]
// Needs setup.sh and package.sh first (run.sh does all three).
// Screenshots: client-vscode/e2e/screenshots/<locale>/NN-step.png.
import { execFileSync, spawn, spawnSync } from "node:child_process";
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
  en: { explain: /Explain failure/, fix: /^Fix line 5: .*\(passes 6\/6 tests\)/, report: "# Why test_gcd.py::test_gcd[case2] fails" },
  ja: { explain: /失敗を説明/, fix: /6\/6 件が成功/, report: "# test_gcd.py::test_gcd[case2] が失敗する理由" },
};

const RAISING_LINE = "return gcd(a % b, b)";

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

async function openFile(page, name) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 15000 });
  await input.fill(name);
  await page.locator(".quick-input-widget .monaco-list-row").first().waitFor({ timeout: 15000 });
  await page.keyboard.press("Enter");
  await page.locator(`.tab.active[data-resource-name="${name}"], .tab.active:has-text("${name}")`).first()
    .waitFor({ timeout: 15000 });
}

async function goToLine(page, line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(String(line));
  await page.keyboard.press("Enter");
}

// Move the mouse over the first rendered occurrence of `text` and return the hover's text.
async function hoverText(page, text, expected, timeoutMs = 20000) {
  const target = page.locator(".monaco-editor .view-lines .view-line span", { hasText: text }).last();
  const box = await target.boundingBox();
  check(box, `the text ${JSON.stringify(text)} is on screen`);
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

  execFileSync(NODE24, [CODE_SERVER, "--extensions-dir", path.join(root, "extensions"),
    "--user-data-dir", userDataDir, "--config", path.join(root, "config.yaml"), "--install-extension", VSIX], { env, stdio: "inherit" });

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
    await screenshot(page, locale, "03-problems");
    await page.locator(".monaco-editor .view-lines").first().click();

    // 2. Inlay hints: the values each traced line changed, at the end of that line.
    const source = fs.readFileSync(path.join(project, "gcd.py"), "utf8").split("\n");
    const lines = await waitFor("an inlay hint after the raising line", async () => {
      const rendered = await editorLines(page);
      const raising = rendered.find((line) => line.trimStart().startsWith(RAISING_LINE));
      return raising && raising.trim().length > RAISING_LINE.length ? rendered : undefined;
    }, 30000);
    const hints = lines.slice(0, 5).map((line, i) => line.slice(source[i].length).trim());
    log(`${locale}: inlay hints on lines 1-5: ${JSON.stringify(hints)}`);
    await screenshot(page, locale, "04-inlay-hints");

    // 3. Hover history on a traced line: a markdown table of recorded executions.
    await page.mouse.move(0, 0);
    await page.keyboard.press("Escape");
    const history = await hoverText(page, "if b == 0", /\S/);
    const table = await page.locator(".monaco-hover:not(.hidden) table").count();
    log(`${locale}: hover history (${table} table(s)): ${history.slice(0, 200)}`);
    check(table > 0, "the hover on `if b == 0:` shows a history table");
    await screenshot(page, locale, "05-hover-history");

    // 4. "Explain failure" from the code actions on the raising line; the report opens.
    await page.mouse.move(0, 0);
    await page.keyboard.press("Escape");
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, 5);
    let rows = await codeActions(page);
    await screenshot(page, locale, "06-code-actions");
    await rows.filter({ hasText: texts.explain }).first().click();
    await waitFor("the explanation report in an editor", async () => {
      const text = normalize((await editorLines(page)).join("\n"));
      return text.includes(texts.report.slice(2)) ? text : undefined;
    }, 240000, 1000);
    await screenshot(page, locale, "07-report");

    // 5. The verified quick fix: Ctrl+. on the raising line, first "Fix …" item, save.
    await openFile(page, "gcd.py");
    await page.locator(".monaco-editor .view-lines").first().click();
    await goToLine(page, 5);
    rows = await codeActions(page);
    const fix = rows.filter({ hasText: texts.fix }).first();
    await fix.waitFor({ timeout: 20000 });
    log(`${locale}: applying ${normalize(await fix.textContent())}`);
    await screenshot(page, locale, "08-quick-fix");
    await fix.click();
    await page.keyboard.press("Control+S");
    await waitFor("the fixed file on disk", async () =>
      fs.readFileSync(path.join(project, "gcd.py"), "utf8").includes("return gcd(b, a % b)"), 20000);
    await waitFor("the diagnostic to disappear after the save", async () =>
      (await page.locator(".monaco-editor .squiggly-error").count()) === 0, 120000, 1000);
    await screenshot(page, locale, "09-fixed");

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
