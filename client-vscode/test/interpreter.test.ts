import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseInterpreter } from "../src/interpreter";

test("interpreter prefers the Python extension", () => {
  const choice = chooseInterpreter({ pythonExtensionPath: "/venv/bin/python", setting: "/usr/bin/python3.12" });
  assert.deepEqual(choice, { command: "/venv/bin/python", source: "python-extension" });
});

test("interpreter falls back to the setting", () => {
  const choice = chooseInterpreter({ pythonExtensionPath: undefined, setting: " /usr/bin/python3.12 " });
  assert.deepEqual(choice, { command: "/usr/bin/python3.12", source: "setting" });
});

test("interpreter ignores a blank extension path", () => {
  const choice = chooseInterpreter({ pythonExtensionPath: "  ", setting: "/opt/py/bin/python" });
  assert.deepEqual(choice, { command: "/opt/py/bin/python", source: "setting" });
});

test("interpreter defaults to python3", () => {
  assert.deepEqual(chooseInterpreter({}), { command: "python3", source: "default" });
  assert.deepEqual(chooseInterpreter({ setting: "" }), { command: "python3", source: "default" });
});
