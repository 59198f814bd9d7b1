// Charts for the back office, drawn by the vendored Chart.js (static/vendor/chart.js-4.6.1, served
// from this origin; loaded only when a back-office screen first draws one). Each chart is a figure
// with a caption, a canvas that says what it shows (aria-label), and its numbers as a table behind
// "数据" for whoever cannot see the picture. Colours come from the design tokens (backoffice.css).
import { t } from "../../i18n.js";
import { h, money } from "./common.js";

const CHART_JS = "/static/vendor/chart.js-4.6.1/chart.umd.min.js";
let loading = null;

function library() {
  // The UMD build sets globalThis.Chart when it runs as a module (its `this` is undefined there).
  loading ??= import(CHART_JS).then(() => globalThis.Chart);
  return loading;
}

function token(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

// A colour token by name (undefined when the stylesheet has none: the palette's turn).
export const colour = (name) => token(name, undefined);

export const palette = () => [1, 2, 3, 4, 5, 6, 7, 8].map((n) => token(`--chart-${n}`, "#0b6e4f"));

// A figure for a chart: caption, canvas, the data table behind a disclosure. Returns the figure; the
// chart is drawn into it (asynchronously) by draw().
export function figure(id, captionKey, vars = {}) {
  const canvas = h("canvas", { role: "img", "aria-label": t(captionKey, vars) });
  return h("figure", { class: "chart-figure", id },
    h("figcaption", { text: t(captionKey, vars) }),
    h("div", { class: "chart-box" }, canvas));
}

// Draw into a figure(): {type: "bar"|"line", labels, datasets: [{label, data, stack?}], money,
// horizontal, stacked, summary (the aria-label)}. Money data is integer fen, shown in yuan.
export async function draw(fig, { type, labels, datasets, money: isMoney = false, horizontal = false,
  stacked = false, summary, tableHead }) {
  const Chart = await library();
  const canvas = fig.querySelector("canvas");
  canvas.setAttribute("aria-label", summary);
  const colours = palette();
  const ink = token("--color-ink", "#111");
  const grid = token("--color-border", "#d0d5d3");
  const font = { family: token("--font-body", "sans-serif"), size: 13 };
  const value = (fen) => (isMoney ? money(fen) : String(fen));
  const axis = { ticks: { color: ink, font }, grid: { color: grid }, stacked };
  // Money travels in fen and reads in yuan; counts are whole. An all-zero chart still has a scale.
  const valueAxis = { ...axis, beginAtZero: true, suggestedMax: isMoney ? 10_000 : 5,
    ticks: { ...axis.ticks, precision: 0, callback: (v) => (isMoney ? money(v).replace(/\.00$/, "") : v) } };
  Chart.getChart(canvas)?.destroy();
  new Chart(canvas, {
    type,
    data: {
      labels,
      datasets: datasets.map((set, i) => ({
        ...set,
        backgroundColor: set.color || colours[i % colours.length],
        borderColor: set.color || colours[i % colours.length],
        borderWidth: type === "line" ? 2 : 0,
        pointRadius: type === "line" ? 3 : 0,
        tension: 0,
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { color: ink, font, boxWidth: 14 } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${value(item.raw)}` } },
      },
      scales: horizontal ? { x: valueAxis, y: axis } : { x: axis, y: valueAxis },
    },
  });
  fig.querySelector("details")?.remove();
  fig.append(h("details", { class: "chart-data" }, h("summary", { text: t("bo.chartData") }),
    h("table", { class: "data" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: tableHead || "" }),
        datasets.map((set) => h("th", { scope: "col", class: "num", text: set.label })))),
      h("tbody", {}, labels.map((label, row) => h("tr", {}, h("th", { scope: "row", text: label }),
        datasets.map((set) => h("td", { class: "num", text: value(set.data[row]) }))))))));
}
