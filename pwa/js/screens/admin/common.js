// Shared by the admin console's sections: tables, money in yuan ↔ integer fen, ratios in % ↔ basis
// points (both parsed from text, never through floats), and readable problem messages.
import { t } from "../../i18n.js";
import { explain, h, message, show } from "../../ui.js";

export const REGION_NAMES = { "310118": "青浦 Qingpu", "320509": "吴江 Wujiang", "330421": "嘉善 Jiashan" };
export const regionName = (code) => (code ? REGION_NAMES[code] || code : t("adm.zone"));

// "1800.5" -> 180050 fen; null when the text is not an amount of yuan with at most 2 decimals.
export function fenFromYuan(text) {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return match ? Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0")) : null;
}

export const yuanText = (fen) => `${Math.trunc(fen / 100)}.${String(Math.abs(fen) % 100).padStart(2, "0")}`;

// "85.5" -> 8550 basis points; null when it is not a percentage with at most 2 decimals.
export function bpFromPercent(text) {
  const match = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(text);
  return match ? Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0")) : null;
}

export const percentText = (bp) => `${Math.trunc(bp / 100)}${bp % 100 ? "." + String(bp % 100).padStart(2, "0").replace(/0$/, "") : ""}`;

export function when(iso) {
  if (!iso) return "—";
  const date = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  return date.toLocaleString(document.documentElement.lang || "zh-CN", { hour12: false });
}

export function table(headKeys, rows) {
  return h("table", { class: "split" },
    h("thead", {}, h("tr", {}, headKeys.map((key) => h("th", { scope: "col", text: key ? t(key) : "" })))),
    h("tbody", {}, rows));
}

// The problem document's field problems, each in words ("免赔额：须为整数"), after the title.
export function explainProblem(error) {
  const lines = (error.problems || []).map((problem) => {
    const label = problem.field ? t(`adm.field.${problem.field}`) + t("adm.colon") : "";
    const key = `adm.problem.${problem.code}`;
    const words = t(key);
    return label + (words === key ? problem.detail : words);
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
