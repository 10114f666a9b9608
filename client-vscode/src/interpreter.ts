// The choice of the Python interpreter that runs `tracefix serve`. This module does not
// import vscode, so the unit tests run it directly; python.ts supplies the inputs.

/** Where the chosen interpreter came from. */
export type InterpreterSource = "python-extension" | "setting" | "default";

export interface InterpreterInputs {
  /** The Python extension's active environment's executable; undefined when the
   * extension is missing, inactive or has no environment selected. */
  pythonExtensionPath?: string;
  /** The `tracefix.interpreter` setting. */
  setting?: string;
}

export interface InterpreterChoice {
  command: string;
  source: InterpreterSource;
}

export const DEFAULT_INTERPRETER = "python3";

/**
 * Chooses the interpreter: the Python extension's active environment, else the
 * `tracefix.interpreter` setting, else `python3` from PATH. Blank values count as unset.
 */
export function chooseInterpreter(inputs: InterpreterInputs): InterpreterChoice {
  const fromExtension = inputs.pythonExtensionPath?.trim();
  if (fromExtension) {
    return { command: fromExtension, source: "python-extension" };
  }
  const fromSetting = inputs.setting?.trim();
  if (fromSetting) {
    return { command: fromSetting, source: "setting" };
  }
  return { command: DEFAULT_INTERPRETER, source: "default" };
}

/** Arguments that make an interpreter exit 0 only when it can import the server. */
export const IMPORT_CHECK_ARGS = ["-c", "import tracefix.server.cli"];

/** Arguments that install tracefix with an interpreter's own pip. */
export const INSTALL_ARGS = ["-m", "pip", "install", "tracefix"];

/** Arguments that start the language server over stdio. */
export const SERVE_ARGS = ["-m", "tracefix.server.cli", "serve"];
