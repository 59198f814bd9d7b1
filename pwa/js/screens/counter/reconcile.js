// End of day (对账): the institution's day by insured region (the fund that pays) beside what the
// clearing report says for the same day, and by cashier (each cash drawer); printable on A5.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { longDay, money, named, todayInChina } from "./format.js";
import { printOut } from "./receipt.js";
import { csvLink, totalsCards } from "./today.js";
import { clearField, explain, markField } from "./words.js";

const PARTS = ["total_fen", "fund_fen", "personal_account_fen", "cash_fen"];
const PART_KEYS = { total_fen: "counter.total", fund_fen: "counter.fund", personal_account_fen: "counter.account", cash_fen: "counter.cash" };

export function reconcilePanel({ institutionName }) {
  const date = h("input", { type: "date", id: "reconcile-date", max: todayInChina(), value: todayInChina() });
  const box = h("p", { class: "message", role: "status" });
  const result = h("div", { id: "reconcile-result" });
  const panel = h("section", { id: "panel-reconcile", class: "counter-panel", role: "tabpanel", "aria-labelledby": "tab-reconcile", hidden: true },
    h("div", { class: "day-tools" },
      h("h3", { id: "reconcile-title", text: t("ctr.reconcileTitle") }),
      h("div", { class: "field inline" }, h("label", { for: "reconcile-date", text: t("ctr.day") }), date),
      h("button", { type: "button", class: "quiet", id: "reconcile-print", onclick: () => printOut(result.cloneNode(true), { receipt: false }) },
        t("ctr.printDay")),
      h("span", { id: "reconcile-csv" })),
    box, result);
  date.addEventListener("change", () => load());

  async function load() {
    box.className = "message";
    box.textContent = "";
    clearField(date);
    const day = date.value || todayInChina();
    try {
      const report = await api.get(`/api/v1/counter/day?date=${encodeURIComponent(day)}`);
      panel.querySelector("#reconcile-csv").replaceChildren(csvLink(report.date, false));
      render(report);
    } catch (error) {
      if (error.code === "bad_date") markField(date, t("ctr.err.bad_date"));
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function moneyCells(item) {
    return PARTS.map((part) => h("td", { class: "num", text: money(item[part]) }));
  }

  function render(report) {
    const rec = report.reconciliation;
    const head = (...keys) => h("thead", {}, h("tr", {}, keys.map(([key, num]) => h("th", { scope: "col", class: num ? "num" : "", text: t(key) }))));
    const money4 = PARTS.map((part) => [PART_KEYS[part], true]);
    result.replaceChildren(
      h("p", { class: "reconcile-where", text: `${institutionName} · ${longDay(report.date)}` }),
      h("p", { id: "reconcile-verdict", class: `verdict ${rec.agrees_with_clearing ? "ok" : "bad"}` },
        h("span", { class: `icon ${rec.agrees_with_clearing ? "i-circle-check" : "i-circle-x"}`, "aria-hidden": "true" }),
        t(rec.agrees_with_clearing ? "ctr.agrees" : "ctr.disagrees")),
      totalsCards(rec.totals, "reconcile-totals"),
      h("h4", { text: t("ctr.byRegion") }),
      h("table", { class: "data", id: "reconcile-regions" },
        head(["ctr.col.insured", false], ["ctr.col.settlements", true], ["ctr.col.refunds", true], ...money4, ["ctr.col.clearing", true]),
        h("tbody", {}, rec.by_region.length ? rec.by_region.map((item) => h("tr", {},
          h("th", { scope: "row", text: named(item.insured_region) + (item.cross_region ? t("ctr.crossSuffix") : t("ctr.localSuffix")) }),
          h("td", { class: "num", text: String(item.settlements) }),
          h("td", { class: "num", text: String(item.refunds) }),
          ...moneyCells(item),
          h("td", { class: `num ${item.cross_region ? (item.agrees ? "ok-text" : "bad-text") : ""}`,
            text: item.cross_region ? `${money(item.clearing_fund_fen)} ${item.agrees ? "✓" : "✗"}` : t("ctr.notCleared") })))
          : [h("tr", {}, h("td", { colspan: "8", class: "empty", text: t("ctr.none") }))]),
        h("tfoot", {}, h("tr", {},
          h("th", { scope: "row", text: t("counter.total") }),
          h("td", { class: "num", text: String(rec.totals.settlements) }),
          h("td", { class: "num", text: String(rec.totals.refunds) }),
          ...moneyCells(rec.totals), h("td", {})))),
      h("h4", { text: t("ctr.byCashier") }),
      h("table", { class: "data", id: "reconcile-cashiers" },
        head(["ctr.col.cashier", false], ["ctr.col.settlements", true], ["ctr.col.refunds", true], ...money4),
        h("tbody", {}, rec.by_cashier.map((item) => h("tr", {},
          h("th", { scope: "row", text: item.cashier }),
          h("td", { class: "num", text: String(item.settlements) }),
          h("td", { class: "num", text: String(item.refunds) }),
          ...moneyCells(item))))),
      h("p", { class: "field-hint", text: t("ctr.reconcileHelp") }));
  }

  return { element: panel, load };
}
