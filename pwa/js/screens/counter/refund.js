// Refunding a bill the same day, from its receipt or from today's list: a reason (required, named
// when missing), then a confirmation that says what goes back where, then one refund (an
// Idempotency-Key per bill, so a retry after a timeout cannot refund twice).
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { confirmDialog, h } from "../../ui.js";
import { money } from "./format.js";
import { clearField, explain, markField } from "./words.js";

const keys = new Map();  // settlement id -> Idempotency-Key of its refund

// An inline form: reason + 确认退费 + 取消. `bill` has id, number, patient, total/fund/account/cash.
export function refundForm(bill, { onDone, onCancel }) {
  const reason = h("input", { id: `refund-reason-${bill.id}`, name: "reason", maxlength: "200", autocomplete: "off",
    placeholder: t("ctr.refundReasonHint") });
  const box = h("p", { class: "message error", role: "alert" });
  const submit = h("button", { type: "submit", class: "danger", id: `refund-confirm-${bill.id}`, text: t("ctr.refundGo") });
  const form = h("form", { class: "refund-form", novalidate: true, "data-refund": String(bill.id) },
    h("div", { class: "field" },
      h("label", { for: reason.id, text: t("ctr.refundReasonFor", { number: bill.number }) }), reason),
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", class: "quiet", text: t("confirm.cancel"), onclick: () => onCancel?.() })),
    box);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel?.();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    box.textContent = "";
    if (!reason.value.trim()) {
      markField(reason, t("ctr.refundReasonRequired"));
      reason.focus();
      return;
    }
    clearField(reason);
    const sure = await confirmDialog({
      titleKey: "ctr.refundTitle", bodyKey: "ctr.refundBody", confirmKey: "ctr.refundGo",
      vars: { number: bill.number, patient: bill.patient, total: money(bill.total_fen), fund: money(bill.fund_fen),
        account: money(bill.personal_account_fen), cash: money(bill.cash_fen) } });
    if (!sure) {
      reason.focus();
      return;
    }
    if (!keys.has(bill.id)) keys.set(bill.id, crypto.randomUUID());
    submit.disabled = true;
    try {
      const answer = await api.post(`/api/v1/settlements/${bill.id}/refund`, { reason: reason.value.trim() },
        { "Idempotency-Key": keys.get(bill.id) });
      keys.delete(bill.id);
      onDone(answer);
    } catch (error) {
      if (error.code === "reason_required") markField(reason, t("ctr.refundReasonRequired"));
      box.textContent = explain(error);
      if (error.code === "already_refunded") onDone(null);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// What the cashier is told after a refund: what goes back where (cash to hand back).
export function refundedText(answer) {
  const refund = answer.refund;
  return t(refund.cash_fen ? "ctr.refundedText" : "ctr.refundedNoCash", { number: answer.receipt.refund?.number ?? refund.id, cash: money(-refund.cash_fen),
    account: money(-refund.personal_account_fen), fund: money(-refund.fund_fen) });
}
