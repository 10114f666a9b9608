// The extension's settings, declared once: the keys under `tracefix.` that package.json
// contributes, and their conversion into the server's options (docs/language-server.md,
// "Options"). This module does not import vscode, so the unit tests run it directly.

/** Every setting key under `tracefix.`, as package.json contributes it. */
export const SETTING_KEYS = [
  "runOnSave",
  "snapshot",
  "testTimeout",
  "interpreter",
  "trace.k",
  "trace.maxEvents",
  "trace.maxBytes",
  "trace.maxSeconds",
  "model.model",
  "model.device",
  "model.endpoint",
  "model.modelName",
  "model.samples",
  "model.temperature",
  "model.showUnverified",
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

/** Raw setting values by key, as read from the configuration (missing keys are unset). */
export type RawSettings = Partial<Record<SettingKey, unknown>>;

export interface TraceOptions {
  k?: number;
  maxEvents?: number;
  maxBytes?: number;
  maxSeconds?: number;
}

/** The server's `model` object; key names as in docs/model.md, in camelCase. */
export interface ModelOptions {
  model?: string;
  endpoint?: string;
  device?: string;
  samples?: number;
  temperature?: number;
  showUnverified?: boolean;
}

/** The server's initializationOptions and `workspace/didChangeConfiguration` settings. */
export interface ServerOptions {
  runOnSave?: boolean;
  snapshot?: boolean;
  testTimeout?: number;
  interpreter?: string;
  trace?: TraceOptions;
  model: ModelOptions | null;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function flag(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

/**
 * Builds the `model` object, or null when neither `model.model` nor `model.endpoint` is
 * set. With an endpoint the server calls an OpenAI-compatible API, so `model` carries
 * `model.modelName` (the API's model name); without one it carries `model.model` (a hub
 * id or local folder).
 */
export function toModelOptions(raw: RawSettings): ModelOptions | null {
  const endpoint = text(raw["model.endpoint"]);
  const localModel = text(raw["model.model"]);
  if (endpoint === undefined && localModel === undefined) {
    return null;
  }

  const options: ModelOptions = {};
  if (endpoint !== undefined) {
    options.endpoint = endpoint;
    const name = text(raw["model.modelName"]);
    if (name !== undefined) {
      options.model = name;
    }
  } else {
    options.model = localModel;
    const device = text(raw["model.device"]);
    if (device !== undefined) {
      options.device = device;
    }
  }

  const samples = number(raw["model.samples"]);
  if (samples !== undefined) {
    options.samples = samples;
  }
  const temperature = number(raw["model.temperature"]);
  if (temperature !== undefined) {
    options.temperature = temperature;
  }
  const showUnverified = flag(raw["model.showUnverified"]);
  if (showUnverified !== undefined) {
    options.showUnverified = showUnverified;
  }
  return options;
}

/**
 * Converts raw settings into the server's options. A value of the wrong type or an
 * empty string is left out, so the server applies its own default.
 */
export function toServerOptions(raw: RawSettings): ServerOptions {
  const options: ServerOptions = { model: toModelOptions(raw) };

  const runOnSave = flag(raw.runOnSave);
  if (runOnSave !== undefined) {
    options.runOnSave = runOnSave;
  }
  const snapshot = flag(raw.snapshot);
  if (snapshot !== undefined) {
    options.snapshot = snapshot;
  }
  const testTimeout = number(raw.testTimeout);
  if (testTimeout !== undefined) {
    options.testTimeout = testTimeout;
  }
  const interpreter = text(raw.interpreter);
  if (interpreter !== undefined) {
    options.interpreter = interpreter;
  }

  const trace: TraceOptions = {};
  for (const key of ["k", "maxEvents", "maxBytes", "maxSeconds"] as const) {
    const value = number(raw[`trace.${key}`]);
    if (value !== undefined) {
      trace[key] = value;
    }
  }
  if (Object.keys(trace).length > 0) {
    options.trace = trace;
  }
  return options;
}

/** Reads every setting key through `get` (for example a WorkspaceConfiguration's). */
export function readSettings(get: (key: SettingKey) => unknown): RawSettings {
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    raw[key] = get(key);
  }
  return raw;
}
