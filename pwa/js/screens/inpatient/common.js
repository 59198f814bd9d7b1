// Shared by the inpatient desk's screens (docs/inpatient.md): the fee categories, plain words for
// the inpatient problem codes (then the counter's), China days in words, and yuan typed into fen.
import { currentLanguage, has, t } from "../../i18n.js";
import { explain as counterExplain } from "../counter/words.js";

// The contract's categories, in the order the desk picks them with a digit (1–9, then 0).
export const CATEGORIES = ["bed", "consultation", "examination", "laboratory", "treatment", "surgery", "nursing", "drug", "material", "other"];
export const CLASSES = ["A", "B", "C"];
export const MAX_LINE_FEN = 100_000_000;  // ¥1,000,000 a line

export function explain(error) {
  if (error && has("ip.err." + error.code)) return t("ip.err." + error.code, { line: error.problem?.line_no ?? "" });
  return counterExplain(error);
}

// "2026-11-29" -> "11月29日" (zh) / "29 Nov" (en); with the year when asked.
export function dayText(day, { year = false } = {}) {
  if (!day) return "—";
  const [y, m, d] = day.split("-").map(Number);
  if (currentLanguage() === "en") {
    const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1];
    return `${d} ${month}${year ? " " + y : ""}`;
  }
  return `${year ? y + "年" : ""}${m}月${d}日`;
}

// A China day plus `delta` days, as "YYYY-MM-DD" (noon UTC: no zone or summer-time edge).
export function addDays(day, delta) {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + delta);
  return date.toISOString().slice(0, 10);
}

// A unit price typed in yuan -> integer fen (≥ 1), or null.
export function priceFen(text) {
  const clean = String(text).trim().replace(/[,，\s]/g, "").replace(/^¥/, "");
  if (!/^\d{1,7}(\.\d{0,2})?$/.test(clean)) return null;
  const [whole, part = ""] = clean.split(".");
  const fen = Number(whole) * 100 + Number(part.padEnd(2, "0"));
  return fen > 0 && fen <= MAX_LINE_FEN ? fen : null;
}

// A quantity: a whole number of units, 1–99999.
export function quantity(text) {
  const clean = String(text).trim();
  return /^\d{1,5}$/.test(clean) && Number(clean) >= 1 ? Number(clean) : null;
}

export const categoryWord = (category) => t(`ip.cat.${category}`);
