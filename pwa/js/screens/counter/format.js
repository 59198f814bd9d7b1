// Money, time and names as the counter shows them: yuan with two decimals (the API speaks fen),
// every time in China time whatever the PC's zone, regions and schemes in words.
import { currentLanguage, t } from "../../i18n.js";
import { yuan } from "../../ui.js";

export const CHINA = "Asia/Shanghai";

export const MAX_LINE_FEN = 100_000_000;  // the API's limit: ¥1,000,000 a line

// Typed yuan -> integer fen, or null: digits, at most two decimals, commas and spaces ignored.
export function toFen(text) {
  const clean = String(text).trim().replace(/[,，\s]/g, "").replace(/^¥/, "");
  if (!/^\d{1,7}(\.\d{0,2})?$/.test(clean)) return null;
  const [whole, part = ""] = clean.split(".");
  const fen = Number(whole) * 100 + Number(part.padEnd(2, "0"));
  return fen > 0 && fen <= MAX_LINE_FEN ? fen : null;
}

export const money = (fen) => yuan(fen ?? 0);  // 1234.5 yuan -> "1234.50" (right-aligned by CSS)
export const moneyText = (fen) => t("yuan", { yuan: money(fen) });  // "1234.50 元"

// "2026-11-29 07:52:00" in China time, from an ISO time with any offset.
export function chinaTime(iso, { seconds = false } = {}) {
  const text = new Intl.DateTimeFormat("sv-SE", {
    timeZone: CHINA, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: seconds ? "2-digit" : undefined, hourCycle: "h23",
  }).format(new Date(iso));
  return text;
}

export const chinaClock = (iso) => chinaTime(iso).slice(11, 16);  // "07:52"

// A China day (2026-11-29) in words: "2026年11月29日 星期日" / "Sunday 29 November 2026".
export function longDay(day) {
  const noon = new Date(`${day}T12:00:00+08:00`);
  if (currentLanguage() === "en") {
    return new Intl.DateTimeFormat("en-GB", { timeZone: CHINA, dateStyle: "full" }).format(noon);
  }
  const date = new Intl.DateTimeFormat("zh-CN", { timeZone: CHINA, year: "numeric", month: "long", day: "numeric" }).format(noon);
  const weekday = new Intl.DateTimeFormat("zh-CN", { timeZone: CHINA, weekday: "long" }).format(noon);
  return `${date} ${weekday}`;
}

export const todayInChina = () => chinaTime(new Date().toISOString()).slice(0, 10);

export const named = (names) => (names ? names[currentLanguage() === "en" ? "en" : "zh"] : "");
export const classWord = (coverageClass) => t(`ctr.class.${coverageClass}`);  // A -> 甲
export const schemeWord = (insuranceClass) => t(`class.${insuranceClass}`);
