// The discharge receipt (住院结算单) on screen and on paper (80 mm or A5, as at the counter): the
// stay's dates and days, the fees summed by category (a stay has hundreds of lines; the list is in
// the hospital's records), the split, what is left of the year; and the same-day reversal (撤销),
// which asks for a reason and then confirms with what goes back where.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { confirmDialog, h } from "../../ui.js";
import { chinaTime, money, named, schemeWord } from "../counter/format.js";
import { paperPicker, printOut } from "../counter/receipt.js";
import { clearField, markField } from "../counter/words.js";
import { categoryWord, dayText, explain } from "./common.js";

const reversalKeys = new Map();  // settlement id -> Idempotency-Key of its reversal

export function stayReceipt(receipt) {
  const meta = (key, value, id) => [h("dt", { text: t(key) }), h("dd", { id, text: value })];
  const row = (key, fen, extra = "", part = null) => h("tr", { class: extra },
    h("th", { scope: "row", text: t(key) }), h("td", { class: "num", "data-part": part, text: money(fen) }));
  const stay = receipt.stay;
  const refunded = receipt.refund;
  return h("article", { class: `receipt stay-receipt${refunded ? " refunded" : ""}`, "data-receipt": String(receipt.id) },
    h("header", { class: "receipt-head" },
      h("p", { class: "receipt-institution", text: named(receipt.institution) }),
      h("h3", { text: t("ip.receiptTitle") })),
    refunded ? h("p", { class: "stamp", role: "note", text: t("ip.stampReversed") }) : null,
    h("dl", { class: "receipt-meta" },
      ...meta("ctr.number", receipt.number, "ip-receipt-number"),
      ...meta("ip.field.admission_no", stay.admission_no),
      ...meta("ctr.patient", receipt.patient.masked_name),
      ...meta("ctr.insured", `${named(receipt.insured_region)} · ${schemeWord(receipt.insurance_class)}`),
      ...meta("ctr.rules", t(receipt.cross_region ? "ctr.rulesCrossShort" : "ctr.rulesLocalShort")),
      ...meta("ip.field.ward", stay.ward),
      ...meta("ip.diagnosis", `${stay.diagnosis.code} ${stay.diagnosis.text}`),
      ...meta("ip.admittedOn", dayText(stay.admitted_on, { year: true }), "ip-receipt-admitted"),
      ...meta("ip.dischargedOn", dayText(stay.discharged_on, { year: true }), "ip-receipt-discharged"),
      ...meta("ip.days", t("ip.daysN", { n: stay.days }), "ip-receipt-days"),
      ...meta("ip.admissionInYear", t("ip.nthAdmission", { n: stay.admission_in_year })),
      ...meta("ctr.time", chinaTime(receipt.created_at, { seconds: true }), "ip-receipt-time"),
      ...meta("ctr.cashier", receipt.cashier)),
    h("table", { class: "receipt-lines" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: t("ip.col.category") }),
        h("th", { scope: "col", class: "num", text: t("ip.classSplit") }),
        h("th", { scope: "col", class: "num", text: t("counter.amount") }))),
      h("tbody", {}, receipt.categories.map((line) => h("tr", {},
        h("td", { text: categoryWord(line.category) }),
        h("td", { class: "num", text: ["A", "B", "C"].filter((klass) => line[klass]).map((klass) => t(`ctr.class.${klass}`)).join("/") }),
        h("td", { class: "num", text: money(line.total_fen) }))))),
    h("p", { class: "receipt-count", text: t("ip.linesCount", { n: receipt.lines_count }) }),
    h("table", { class: "receipt-split" }, h("tbody", {},
      row("counter.total", receipt.total_fen, "total", "total_fen"),
      row("ctr.fundPaid", receipt.fund_fen, "", "fund_fen"),
      row("ctr.accountPaid", receipt.personal_account_fen, "", "personal_account_fen"),
      row("ctr.cashPaid", receipt.cash_fen, "cash", "cash_fen"),
      row(receipt.deductible_rule === "per_year" ? "ip.deductibleYear" : "ip.deductibleStay", receipt.deductible_fen, "minor"),
      receipt.class_b_self_fen ? row("ctr.classBSelf", receipt.class_b_self_fen, "minor") : null,
      receipt.class_c_fen ? row("ctr.classCSelf", receipt.class_c_fen, "minor") : null)),
    receipt.year ? h("dl", { class: "receipt-year" },
      receipt.deductible_rule === "per_year"
        ? meta("ctr.deductibleLeft", t("ctr.leftOf", { left: money(receipt.year.deductible_left_fen), of: money(receipt.year.deductible_fen) })) : [],
      ...meta("ctr.capLeft", t("ctr.leftOf", { left: money(receipt.year.cap_left_fen), of: money(receipt.year.cap_fen) }))) : null,
    refunded ? h("p", { class: "receipt-refund", id: "ip-receipt-reversal" }, t("ip.reversalLine", {
      number: refunded.number, time: chinaTime(refunded.created_at), reason: refunded.reason || "", cashier: refunded.cashier })) : null,
    h("p", { class: "receipt-foot", text: t("ctr.receiptFoot") }));
}

// The receipt with what to do next: print, reverse (today only), back to the list.
export function receiptView({ onReversed, onBack }) {
  const done = h("p", { class: "message ok", id: "ip-settled-message", role: "status" });
  const element = h("div", { class: "ip-receipt-view", id: "ip-receipt-view", hidden: true });
  let current = null;

  function show(receipt, stay, text = "") {
    current = { receipt, stay };
    const reversible = !receipt.refund && stay.status === "settled";
    const actions = h("div", { class: "actions receipt-actions" },
      h("button", { type: "button", class: "primary print", id: "ip-print", onclick: () => printOut(stayReceipt(receipt)) },
        h("span", { text: t("counter.print") }), h("kbd", { text: "Ctrl+P" })),
      paperPicker(() => printOut(stayReceipt(receipt), { dryRun: true })),
      reversible ? h("button", { type: "button", class: "danger-outline", id: "ip-reverse", text: t("ip.reverse"), onclick: () => openReversal() }) : null,
      h("button", { type: "button", class: "quiet", id: "ip-receipt-back", onclick: () => onBack() },
        h("span", { class: "icon i-chevron-left", "aria-hidden": "true" }), t("ip.backToList")));
    element.replaceChildren(done, h("div", { class: "receipt-panel" }, actions, stayReceipt(receipt), h("div", { id: "ip-reversal-slot" })));
    done.textContent = text;
    element.hidden = false;
    printOut(stayReceipt(receipt), { dryRun: true });  // Ctrl+P prints this receipt
    element.querySelector("#ip-print").focus();
  }

  function openReversal() {
    const slot = element.querySelector("#ip-reversal-slot");
    const { receipt, stay } = current;
    const reason = h("input", { id: "ip-reversal-reason", name: "reason", maxlength: "200", autocomplete: "off", placeholder: t("ip.reversalHint") });
    const box = h("p", { class: "message error", role: "alert" });
    const submit = h("button", { type: "submit", class: "danger", id: "ip-reversal-go", text: t("ip.reverseGo") });
    const form = h("form", { class: "refund-form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: reason.id, text: t("ip.reversalReasonFor", { number: receipt.number }) }), reason),
      h("div", { class: "actions" }, submit,
        h("button", { type: "button", class: "quiet", text: t("confirm.cancel"), onclick: () => close() })),
      box);
    const close = () => {
      slot.replaceChildren();
      element.querySelector("#ip-reverse")?.focus();
    };
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      box.textContent = "";
      if (!reason.value.trim()) {
        markField(reason, t("ip.need.reason"));
        reason.focus();
        return;
      }
      clearField(reason);
      const sure = await confirmDialog({ titleKey: "ip.reversalTitle", bodyKey: "ip.reversalBody", confirmKey: "ip.reverseGo",
        vars: { number: receipt.number, no: stay.admission_no, patient: receipt.patient.masked_name, fund: money(receipt.fund_fen),
          account: money(receipt.personal_account_fen), cash: money(receipt.cash_fen) } });
      if (!sure) {
        reason.focus();
        return;
      }
      if (!reversalKeys.has(receipt.id)) reversalKeys.set(receipt.id, crypto.randomUUID());
      submit.disabled = true;
      try {
        const answer = await api.post(`/api/v1/inpatient/stays/${stay.id}/reversal`, { reason: reason.value.trim() },
          { "Idempotency-Key": reversalKeys.get(receipt.id) });
        reversalKeys.delete(receipt.id);
        element.hidden = true;
        onReversed(answer);
      } catch (error) {
        if (error.code === "reason_required") markField(reason, t("ip.need.reason"));
        box.textContent = explain(error);
      } finally {
        submit.disabled = false;
      }
    });
    slot.replaceChildren(form);
    reason.focus();
  }

  return { element, show, hide: () => { element.hidden = true; }, get visible() { return !element.hidden; } };
}
