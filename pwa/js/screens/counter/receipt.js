// The receipt (结算单) on screen and on paper: 80 mm receipt paper or A5 (@page, counter.css).
// Printing copies the receipt into #print-area, the only thing the print styles show.
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { chinaTime, classWord, money, named, schemeWord } from "./format.js";

const PAPERS = ["r80", "a5"];
const MM_PER_PX = 25.4 / 96;

export const paper = () => (PAPERS.includes(localStorage.getItem("yima.counter.paper")) ? localStorage.getItem("yima.counter.paper") : "r80");

export function paperPicker(onChange = () => {}) {
  const select = h("select", { id: "paper", "aria-label": t("ctr.paper") },
    PAPERS.map((name) => h("option", { value: name, selected: name === paper(), text: t(`ctr.paper.${name}`) })));
  select.addEventListener("change", () => {
    localStorage.setItem("yima.counter.paper", select.value);
    onChange(select.value);
  });
  return h("label", { class: "paper-picker" }, h("span", { text: t("ctr.paper") }), select);
}

export function receiptElement(receipt) {
  const meta = (key, value, id) => [h("dt", { text: t(key) }), h("dd", { id, text: value })];
  const row = (key, fen, extra = "", part = null) => h("tr", { class: extra },
    h("th", { scope: "row", text: t(key) }), h("td", { class: "num", "data-part": part, text: money(fen) }));
  const refunded = receipt.refund;
  const year = receipt.year;
  return h("article", { class: `receipt${refunded ? " refunded" : ""}`, "data-receipt": String(receipt.id), "aria-labelledby": `receipt-title-${receipt.id}` },
    h("header", { class: "receipt-head" },
      h("p", { class: "receipt-institution", id: `receipt-institution-${receipt.id}`, text: named(receipt.institution) }),
      h("h3", { id: `receipt-title-${receipt.id}`, text: t("ctr.receiptTitle") })),
    refunded ? h("p", { class: "stamp", role: "note", text: t("ctr.stampRefunded") }) : null,
    h("dl", { class: "receipt-meta" },
      ...meta("ctr.number", receipt.number, "receipt-number"),
      ...meta("ctr.time", chinaTime(receipt.created_at, { seconds: true }), "receipt-time"),
      ...meta("ctr.patient", receipt.patient.masked_name, "receipt-patient"),
      ...meta("ctr.insured", `${named(receipt.insured_region)} · ${schemeWord(receipt.insurance_class)}`, "receipt-insured"),
      ...meta("ctr.rules", t(receipt.cross_region ? "ctr.rulesCrossShort" : "ctr.rulesLocalShort")),
      ...meta("ctr.identifiedBy", t(`ctr.identified.${receipt.identified_by}`)),
      ...meta("ctr.cashier", receipt.cashier)),
    h("table", { class: "receipt-lines" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: t("counter.description") }),
        h("th", { scope: "col", class: "col-class", text: t("ctr.classShort") }),
        h("th", { scope: "col", class: "num", text: t("counter.amount") }))),
      h("tbody", {}, receipt.lines.map((line) => h("tr", {},
        h("td", { text: line.description ? `${t("cat." + line.category)} · ${line.description}` : t("cat." + line.category) }),
        h("td", { class: "col-class", text: classWord(line.coverage_class) }),
        h("td", { class: "num", text: money(line.amount_fen) }))))),
    h("table", { class: "receipt-split" }, h("tbody", {},
      row("counter.total", receipt.total_fen, "total", "total_fen"),
      row("ctr.fundPaid", receipt.fund_fen, "", "fund_fen"),
      row("ctr.accountPaid", receipt.personal_account_fen, "", "personal_account_fen"),
      row("ctr.cashPaid", receipt.cash_fen, "cash", "cash_fen"),
      row("ctr.deductibleUsed", receipt.deductible_fen, "minor"),
      receipt.class_b_self_fen ? row("ctr.classBSelf", receipt.class_b_self_fen, "minor") : null,
      receipt.class_c_fen ? row("ctr.classCSelf", receipt.class_c_fen, "minor") : null)),
    year ? h("dl", { class: "receipt-year" },
      ...meta("ctr.deductibleLeft", t("ctr.leftOf", { left: money(year.deductible_left_fen), of: money(year.deductible_fen) }), "receipt-deductible-left"),
      ...meta("ctr.capLeft", t("ctr.leftOf", { left: money(year.cap_left_fen), of: money(year.cap_fen) }), "receipt-cap-left")) : null,
    refunded ? h("p", { class: "receipt-refund", id: "receipt-refund" }, t("ctr.refundLine", {
      number: refunded.number, time: chinaTime(refunded.created_at), reason: refunded.reason || "", cashier: refunded.cashier })) : null,
    h("p", { class: "receipt-foot", text: t("ctr.receiptFoot") }));
}

// The page size for 80 mm paper follows the receipt's length (a roll has no fixed page).
function pageSheet(area) {
  const sheet = new CSSStyleSheet();
  area.classList.add("measuring");
  const height = Math.ceil(area.getBoundingClientRect().height * MM_PER_PX) + 10;
  area.classList.remove("measuring");
  sheet.replaceSync(`@page receipt80 { size: 80mm ${Math.max(height, 80)}mm; margin: 4mm 3mm; }`);
  return sheet;
}

export function printArea() {
  let area = document.getElementById("print-area");
  if (!area) {
    area = h("section", { id: "print-area", "aria-hidden": "true" });
    document.body.append(area);
  }
  return area;
}

// Put `content` (a receipt or a day's report) on paper: the chosen paper for receipts, A5
// landscape for a report.
export function printOut(content, { receipt = true, dryRun = false } = {}) {
  const area = printArea();
  const size = receipt ? paper() : "report";
  area.className = `paper-${size}`;
  area.replaceChildren(content);
  const extra = size === "r80" ? [pageSheet(area)] : [];
  const before = document.adoptedStyleSheets.filter((sheet) => !sheet.yimaPage);
  for (const sheet of extra) sheet.yimaPage = true;
  document.adoptedStyleSheets = [...before, ...extra];
  if (!dryRun) window.print();
}

export function clearPrintArea() {
  document.getElementById("print-area")?.remove();
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter((sheet) => !sheet.yimaPage);
}
