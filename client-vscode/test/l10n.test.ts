// Checks that every contributed and runtime string has its Japanese translation.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

// The test bundle runs from node_modules/.cache/tracefix-tests, so paths start at the
// working directory, which `npm test` sets to client-vscode/.
const root = process.cwd();

function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, name), "utf8"));
}

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      return typeScriptFiles(path);
    }
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Returns the string literals passed as the first argument of `l10n.t(...)`. */
function l10nMessages(source: string): string[] {
  const messages: string[] = [];
  const call = /l10n\.t\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/gs;
  for (const match of source.matchAll(call)) {
    // Decode escapes as l10n.t receives the text. A double-quoted TypeScript literal
    // without \x or octal escapes is valid JSON; other quotes only need \' and \` undone.
    const [, quote, body] = match;
    messages.push(quote === '"' ? JSON.parse(`"${body}"`) : body.replace(/\\(['`])/g, "$1"));
  }
  return messages;
}

test("nls files have the same keys", () => {
  const english = Object.keys(readJson("package.nls.json")).sort();
  const japanese = Object.keys(readJson("package.nls.ja.json")).sort();
  assert.deepEqual(japanese, english);
});

test("package.json placeholders are in nls", () => {
  const nls = readJson("package.nls.json");
  const placeholders = readFileSync(join(root, "package.json"), "utf8").match(/"%[^%"]+%"/g) ?? [];
  assert.ok(placeholders.length > 0);
  for (const placeholder of placeholders) {
    const key = placeholder.slice(2, -2);
    assert.ok(key in nls, `package.json uses %${key}% but package.nls.json has no ${key}`);
  }
});

test("l10n.t strings have Japanese", () => {
  const bundle = readJson("l10n/bundle.l10n.ja.json");
  const files = typeScriptFiles(join(root, "src"));
  let count = 0;
  for (const file of files) {
    for (const message of l10nMessages(readFileSync(file, "utf8"))) {
      count += 1;
      assert.ok(message in bundle, `${file}: l10n.t(${JSON.stringify(message)}) has no entry in l10n/bundle.l10n.ja.json`);
    }
  }
  assert.ok(count > 0, "found no l10n.t calls in src/");
});

test("l10n bundle values are non-empty", () => {
  for (const [key, value] of Object.entries(readJson("l10n/bundle.l10n.ja.json"))) {
    assert.equal(typeof value, "string", key);
    assert.notEqual(value, "", key);
  }
});
