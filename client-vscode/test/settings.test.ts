import assert from "node:assert/strict";
import { test } from "node:test";
import { readSettings, SETTING_KEYS, toServerOptions } from "../src/settings";
import packageJson from "../package.json";

test("settings defaults give no model", () => {
  const options = toServerOptions({ runOnSave: true, testTimeout: 60, interpreter: "", "model.device": "auto" });
  assert.equal(options.runOnSave, true);
  assert.equal(options.testTimeout, 60);
  assert.equal(options.interpreter, undefined);
  assert.equal(options.trace, undefined);
  assert.equal(options.model, null);
});

test("settings snapshot flag passes through", () => {
  assert.equal(toServerOptions({ snapshot: false }).snapshot, false);
  assert.equal(toServerOptions({ snapshot: "no" }).snapshot, undefined);
});

test("settings trace budgets nest under trace", () => {
  const options = toServerOptions({ "trace.k": 5, "trace.maxEvents": 1000, "trace.maxBytes": null, "trace.maxSeconds": 2.5 });
  assert.deepEqual(options.trace, { k: 5, maxEvents: 1000, maxSeconds: 2.5 });
});

test("settings drop wrongly typed values", () => {
  const options = toServerOptions({ runOnSave: "yes", testTimeout: "60", "trace.k": Number.NaN, interpreter: 3 });
  assert.equal(options.runOnSave, undefined);
  assert.equal(options.testTimeout, undefined);
  assert.equal(options.trace, undefined);
  assert.equal(options.interpreter, undefined);
});

test("settings local model", () => {
  const options = toServerOptions({
    "model.model": " /models/qwen ",
    "model.device": "cuda:1",
    "model.modelName": "ignored-without-endpoint",
    "model.samples": 8,
    "model.temperature": 0,
    "model.showUnverified": true,
  });
  assert.deepEqual(options.model, {
    model: "/models/qwen",
    device: "cuda:1",
    samples: 8,
    temperature: 0,
    showUnverified: true,
  });
});

test("settings endpoint puts modelName in model", () => {
  const options = toServerOptions({
    "model.model": "/models/local-is-ignored",
    "model.endpoint": "http://127.0.0.1:8000/v1",
    "model.modelName": "qwen2.5-coder",
    "model.device": "cuda",
  });
  assert.deepEqual(options.model, { endpoint: "http://127.0.0.1:8000/v1", model: "qwen2.5-coder" });
});

test("settings endpoint without modelName", () => {
  const options = toServerOptions({ "model.endpoint": "http://127.0.0.1:8000/v1", "model.modelName": "" });
  assert.deepEqual(options.model, { endpoint: "http://127.0.0.1:8000/v1" });
});

test("readSettings reads every key", () => {
  const requested: string[] = [];
  const raw = readSettings((key) => {
    requested.push(key);
    return key === "runOnSave" ? false : undefined;
  });
  assert.deepEqual(requested, [...SETTING_KEYS]);
  assert.equal(toServerOptions(raw).runOnSave, false);
});

test("package.json contributes every setting", () => {
  const contributed = Object.keys(packageJson.contributes.configuration.properties)
    .map((key) => key.replace(/^tracefix\./, ""))
    .sort();
  assert.deepEqual(contributed, [...SETTING_KEYS].sort());
});
