// Shapes of the server's `tracefix.explanation` and `tracefix.applyFix` results and of
// the `tracefix/reasoning` notification, as documented in docs/language-server.md.

export interface SeriesPoint {
  step: number;
  /** The value as the trace renders it (repr-like text). */
  text: string;
  /** The value as a number when it is one (int, float, bool), else null. */
  number: number | null;
}

export interface SeriesVariable {
  name: string;
  points: SeriesPoint[];
}

/** Values of the failing function's variables over the recorded execution steps. */
export interface Series {
  function: string;
  file: string;
  steps: number[];
  variables: SeriesVariable[];
  /** The step where the wrong value first appears, or null when none is known. */
  highlight_step: number | null;
}

export interface Candidate {
  index: number;
  description: string;
  source: string;
  verified: boolean;
  passed: number;
  total: number;
  diff: string;
  file: string;
}

export interface Explanation {
  nodeid: string;
  summary: string;
  diagnosis_markdown: string;
  model: string | null;
  candidates: Candidate[];
  series: Series | null;
}

export interface ApplyFixResult {
  applied: boolean;
  reason: string;
}

export interface ReasoningParams {
  nodeid: string;
  sample: number;
  text: string;
  model: string;
}
