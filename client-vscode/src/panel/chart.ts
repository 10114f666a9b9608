// Builds the trace picture: one row per variable of the failing function, either an SVG
// line chart (every recorded value is a number) or a strip of value boxes. All colors
// come from CSS classes in media/panel.css, because the webview's CSP forbids inline
// style attributes.
import { escapeHtml } from "./markdown";
import { Series, SeriesVariable } from "./types";

/** Localized strings for the chart; the extension side fills them through vscode.l10n. */
export interface ChartLabels {
  /** Axis caption under the step numbers, e.g. "step". */
  stepAxis: string;
  /** Tooltip text for one value. */
  pointTitle(name: string, step: number, text: string): string;
  /** Caption of the highlighted step. */
  highlightTitle(step: number): string;
}

const WIDTH = 480;
const HEIGHT = 120;
const MARGIN = { left: 56, right: 12, top: 10, bottom: 28 };
const MAX_STEP_LABELS = 12;
const MAX_BOX_TEXT = 24;

/** Whether the variable is drawn as a line chart: it has values and all are numbers. */
export function isNumeric(variable: SeriesVariable): boolean {
  return variable.points.length > 0 && variable.points.every((point) => point.number !== null && Number.isFinite(point.number));
}

// Formats an axis value with at most 4 significant digits, so labels fit the margin.
function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e6) {
    return String(value);
  }
  return Number(value.toPrecision(4)).toString();
}

// Picks the step numbers to label on the x axis: all of them when few, else an evenly
// spaced subset that always includes the first, the last and the highlighted step.
export function pickStepLabels(steps: number[], highlight: number | null): number[] {
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  if (sorted.length <= MAX_STEP_LABELS) {
    return sorted;
  }
  const stride = Math.ceil(sorted.length / (MAX_STEP_LABELS - 1));
  const picked = new Set<number>();
  for (let index = 0; index < sorted.length; index += stride) {
    picked.add(sorted[index]);
  }
  picked.add(sorted[sorted.length - 1]);
  if (highlight !== null) {
    picked.add(highlight);
  }
  return [...picked].sort((a, b) => a - b);
}

/** Builds the SVG line chart of one numeric variable over the series' step range. */
export function buildLineChart(variable: SeriesVariable, series: Series, labels: ChartLabels): string {
  const points = [...variable.points].sort((a, b) => a.step - b.step);
  const allSteps = series.steps.length > 0 ? series.steps : points.map((point) => point.step);
  const minStep = Math.min(...allSteps, ...points.map((point) => point.step));
  const maxStep = Math.max(...allSteps, ...points.map((point) => point.step));
  const values = points.map((point) => point.number as number);
  let minValue = Math.min(...values);
  let maxValue = Math.max(...values);
  if (minValue === maxValue) {
    minValue -= 1;
    maxValue += 1;
  }

  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step: number): number =>
    MARGIN.left + (maxStep === minStep ? plotWidth / 2 : ((step - minStep) / (maxStep - minStep)) * plotWidth);
  const y = (value: number): number => MARGIN.top + (1 - (value - minValue) / (maxValue - minValue)) * plotHeight;
  const round = (value: number): string => value.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(variable.name)}">`,
  );

  const highlight = series.highlight_step;
  if (highlight !== null && highlight >= minStep && highlight <= maxStep) {
    parts.push(
      `<line class="highlight-line" x1="${round(x(highlight))}" x2="${round(x(highlight))}" ` +
        `y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}"><title>${escapeHtml(labels.highlightTitle(highlight))}</title></line>`,
    );
  }

  // Axes, value labels at the top and bottom, and step labels under the x axis.
  const bottom = HEIGHT - MARGIN.bottom;
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${bottom}" y2="${bottom}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}"/>`);
  parts.push(
    `<text class="axis-label" x="${MARGIN.left - 4}" y="${MARGIN.top + 4}" text-anchor="end">${escapeHtml(formatNumber(maxValue))}</text>`,
  );
  parts.push(
    `<text class="axis-label" x="${MARGIN.left - 4}" y="${bottom}" text-anchor="end">${escapeHtml(formatNumber(minValue))}</text>`,
  );
  for (const step of pickStepLabels(allSteps, highlight)) {
    const highlighted = step === highlight ? " highlight" : "";
    parts.push(
      `<text class="axis-label${highlighted}" x="${round(x(step))}" y="${bottom + 12}" text-anchor="middle">${step}</text>`,
    );
  }
  parts.push(
    `<text class="axis-caption" x="${WIDTH - MARGIN.right}" y="${HEIGHT - 2}" text-anchor="end">${escapeHtml(labels.stepAxis)}</text>`,
  );

  if (points.length > 1) {
    const path = points.map((point) => `${round(x(point.step))},${round(y(point.number as number))}`).join(" ");
    parts.push(`<polyline class="series-line" points="${path}"/>`);
  }
  for (const point of points) {
    const highlighted = point.step === highlight;
    parts.push(
      `<circle class="point${highlighted ? " highlight" : ""}" data-step="${point.step}" ` +
        `cx="${round(x(point.step))}" cy="${round(y(point.number as number))}" r="${highlighted ? 5 : 3}">` +
        `<title>${escapeHtml(labels.pointTitle(variable.name, point.step, point.text))}</title></circle>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

/** Builds the strip of value boxes of one variable whose values are not all numbers. */
export function buildValueStrip(variable: SeriesVariable, series: Series, labels: ChartLabels): string {
  const points = [...variable.points].sort((a, b) => a.step - b.step);
  const boxes = points.map((point) => {
    const highlighted = point.step === series.highlight_step ? " highlight" : "";
    const shown = point.text.length > MAX_BOX_TEXT ? `${point.text.slice(0, MAX_BOX_TEXT - 1)}…` : point.text;
    const title = labels.pointTitle(variable.name, point.step, point.text);
    return (
      `<div class="value-box${highlighted}" data-step="${point.step}" title="${escapeHtml(title)}">` +
      `<span class="value-text">${escapeHtml(shown)}</span><span class="value-step">${point.step}</span></div>`
    );
  });
  return `<div class="strip" role="list" aria-label="${escapeHtml(variable.name)}">${boxes.join("")}</div>`;
}

/** Builds the whole trace picture: one labelled row per variable. */
export function buildSeriesView(series: Series, labels: ChartLabels): string {
  const rows = series.variables.map((variable) => {
    const body = isNumeric(variable)
      ? buildLineChart(variable, series, labels)
      : buildValueStrip(variable, series, labels);
    return `<div class="variable"><div class="variable-name"><code>${escapeHtml(variable.name)}</code></div>${body}</div>`;
  });
  return rows.join("\n");
}
