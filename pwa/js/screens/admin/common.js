// Shared by the back office (the admin console and the auditor's screen): names for codes, money
// in yuan ↔ integer fen, ratios in % ↔ basis points (both parsed from text, never through floats),
// China time, tables with right-aligned numbers, paging, and readable problem messages.
import { currentLanguage, has, t } from "../../i18n.js";
import { explain, h, message, show } from "../../ui.js";

const REGIONS = ["310118", "320509", "330421"];

// The name people read for a code: from the answer's `names` ({regions, institutions, lines}:
// {code: {zh, en}}), in the current language; the code itself only when nothing names it.
export function nameOf(names, kind, code) {
  if (!code) return "—";
  const entry = names?.[kind]?.[code];
  if (entry) return currentLanguage() === "en" ? entry.en || entry.zh : entry.zh;
  if (kind === "regions" && REGIONS.includes(code)) return t(`adm.regionName.${code}`);
  return code;
}

export const regionName = (code, names) => (code ? nameOf(names, "regions", code) : t("adm.zone"));
export const regionChoices = () => REGIONS.map((code) => [code, regionName(code)]);

// "1800.5" -> 180050 fen; null when the text is not an amount of yuan with at most 2 decimals.
export function fenFromYuan(text) {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return match ? Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0")) : null;
}

// Integer fen as yuan with two decimals, for an input to edit (no grouping): 180050 -> "1800.50".
export function yuanText(fen) {
  const sign = fen < 0 ? "-" : "";
  const whole = Math.abs(fen);
  return `${sign}${Math.trunc(whole / 100)}.${String(whole % 100).padStart(2, "0")}`;
}

// Integer fen as yuan to read: grouped, two decimals: 123456789 -> "1,234,567.89".
export function money(fen) {
  if (fen === null || fen === undefined) return "—";
  const sign = fen < 0 ? "-" : "";
  const whole = Math.abs(fen);
  const yuan = String(Math.trunc(whole / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${yuan}.${String(whole % 100).padStart(2, "0")}`;
}

// "85.5" -> 8550 basis points; null when it is not a percentage with at most 2 decimals.
export function bpFromPercent(text) {
  const match = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return match ? Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0")) : null;
}

export const percentText = (bp) => `${Math.trunc(bp / 100)}${bp % 100 ? "." + String(bp % 100).padStart(2, "0").replace(/0$/, "") : ""}`;

const CHINA = "Asia/Shanghai";

function chinaParts(date) {
  const parts = {};
  for (const part of new Intl.DateTimeFormat("en-GB", {
    timeZone: CHINA, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(date)) parts[part.type] = part.value;
  return parts;
}

// A moment (ISO text with its offset, or unix seconds) as China time: "2026-11-29 07:52".
export function when(moment, { seconds = false } = {}) {
  if (moment === null || moment === undefined || moment === "") return "—";
  const date = typeof moment === "number" ? new Date(moment * 1000) : new Date(moment);
  if (Number.isNaN(date.getTime())) return "—";
  const p = chinaParts(date);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds ? ":" + p.second : ""}`;
}

// Today's date in China, "2026-11-29".
export function chinaToday() {
  const p = chinaParts(new Date());
  return `${p.year}-${p.month}-${p.day}`;
}

// A table: head cells from i18n keys (a key ending in "#" is a number column, right-aligned).
export function table(headKeys, rows, attributes = {}) {
  return h("table", { class: "data", ...attributes },
    h("thead", {}, h("tr", {}, headKeys.map((key) => {
      const numeric = key.endsWith("#");
      const name = numeric ? key.slice(0, -1) : key;
      return h("th", { scope: "col", class: numeric ? "num" : null, text: name ? t(name) : "" });
    }))),
    h("tbody", {}, rows));
}

export const cell = (text, attributes = {}) => h("td", { text: text ?? "—", ...attributes });
export const numCell = (text) => h("td", { class: "num", text: String(text ?? "—") });
export const moneyCell = (fen) => h("td", { class: "num", text: money(fen) });

// "上一页 · 第 2 / 5 页（共 103 条） · 下一页": onPage(n) loads page n.
export function pager({ page, perPage, total, onPage, id }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h("nav", { class: "pager-bar", "aria-label": t("bo.paging"), id },
    h("button", { type: "button", class: "quiet", text: t("bo.prev"), disabled: page <= 1, onclick: () => onPage(page - 1) }),
    h("span", { class: "pager-text", text: t("bo.pageOf", { page, pages, total }) }),
    h("button", { type: "button", class: "quiet", text: t("bo.next"), disabled: page >= pages, onclick: () => onPage(page + 1) }));
}

// A day typed as 2026-11-29 (a native date input writes the date in the browser's language and
// order; back-office people type days, and the server checks them).
export function dayInput(id, value = "") {
  return h("input", { id, name: id, value, class: "day-input", inputmode: "numeric", autocomplete: "off",
    placeholder: t("bo.dayHint"), pattern: "\\d{4}-\\d{2}-\\d{2}", maxlength: 10 });
}

// A labelled select: choices are [value, text] pairs.
export function select(id, labelKey, choices, value = "") {
  return h("div", { class: "field" }, h("label", { for: id, text: t(labelKey) }),
    h("select", { id, name: id }, choices.map(([v, text]) => h("option", { value: v, text, selected: v === value }))));
}

// The problem document's field problems, each in words ("免赔额：须为整数"), after the title.
export function explainProblem(error) {
  const lines = (error.problems || []).map((problem) => {
    const label = problem.field ? (has(`adm.field.${problem.field}`) ? t(`adm.field.${problem.field}`) : problem.field) + t("adm.colon") : "";
    const key = `adm.problem.${problem.code}`;
    return label + (has(key) ? t(key) : problem.detail);
  });
  return [explain(error), ...lines].join(" ");
}

export function fail(box, error) {
  show(box, explainProblem(error));
}

export function done(box, key, vars) {
  show(box, t(key, vars), "ok");
}

export { h, message, show, t };
