// Charts with Chart.js (vendored, the global `Chart`). A tab calls draw(canvas, config): the first call
// creates the chart, later calls update its data in place. Colours are a palette readable on white and
// for the common colour-vision deficiencies; every canvas carries a text summary (aria-label).

import { money, count, percent } from "./format.js";

export const PALETTE = ["#1d4ed8", "#0d9488", "#d97706", "#be185d", "#7c3aed", "#15803d", "#b91c1c", "#475569",
  "#0891b2", "#a16207"];
export const GREY = "#94a3b8";

let configured = false;

function setup() {
  if (configured || !window.Chart) return;
  const { defaults } = window.Chart;
  defaults.animation = false; // numbers first: no waiting for a chart to finish moving
  defaults.responsive = true;
  defaults.maintainAspectRatio = false;
  defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  defaults.font.size = 12;
  defaults.color = "#334155";
  defaults.borderColor = "#e2e8f0";
  defaults.plugins.legend.labels.boxWidth = 12;
  defaults.plugins.tooltip.backgroundColor = "#0f172a";
  configured = true;
}

export const axis = {
  money: { ticks: { callback: (v) => money(Number(v)) } },
  count: { ticks: { callback: (v) => count(Number(v)), precision: 0 } },
  percent: { ticks: { callback: (v) => percent(Number(v)) } },
};

export const tooltip = {
  money: { callbacks: { label: (c) => `${c.dataset.label ? c.dataset.label + ": " : ""}${money(c.parsed[c.chart.options.indexAxis === "y" ? "x" : "y"] ?? c.parsed)}` } },
  percent: { callbacks: { label: (c) => `${c.dataset.label ? c.dataset.label + ": " : ""}${percent(c.parsed.y)}` } },
};

/** Create or update the chart of a canvas. */
export function draw(canvas, config, summary = "") {
  setup();
  if (!window.Chart || !canvas) return null;
  if (summary) canvas.setAttribute("aria-label", summary);
  canvas.setAttribute("role", "img");
  const existing = window.Chart.getChart(canvas);
  if (existing && existing.config.type === config.type) {
    existing.data.labels = config.data.labels;
    existing.data.datasets = config.data.datasets;
    if (config.options) existing.options = config.options;
    existing.update("none");
    return existing;
  }
  existing?.destroy();
  return new window.Chart(canvas, config);
}

export function destroyAll(root) {
  if (!window.Chart) return;
  for (const canvas of root.querySelectorAll("canvas")) window.Chart.getChart(canvas)?.destroy();
}

/** A long axis label in lines of about `width` characters (cut at spaces and slashes), so it fits a narrow
 * chart instead of running off its edge. */
export function wrapLabel(text, width = 14) {
  const words = String(text).split(/(?<=[ /])/);
  const lines = [""];
  for (const word of words) {
    if (lines.at(-1) && (lines.at(-1) + word).trim().length > width) lines.push("");
    lines[lines.length - 1] += word;
  }
  return lines.map((line) => line.trim());
}

/** Partial periods (this month, this quarter) are drawn as partial, never as a cliff: their label says
 * "to date", the line into them is dashed, a bar is lighter. */
export const TO_DATE = " (to date)";

export function partialLabels(labels, partial) {
  return labels.map((label, i) => (partial && i === labels.length - 1 ? label + TO_DATE : label));
}

export function dashedLast(count, partial) {
  return partial ? { borderDash: (c) => (c.p1DataIndex === count - 1 ? [6, 4] : undefined) } : undefined;
}

/** A short description of a series for screen readers: "Jan 2026 $409.8K, Feb 2026 $454.6K, …". */
export function describe(title, labels, values, fmt = money, limit = 12) {
  const parts = labels.slice(0, limit).map((label, i) => `${label} ${fmt(values[i])}`);
  return `${title}: ${parts.join(", ")}${labels.length > limit ? ", …" : ""}.`;
}
