// Today at the counter (今日): this institution's settlements and refunds of the day, newest first
// (filter: mine), totals by fund / personal account / cash, reprint, refund from the list (with a
// confirmation), and the CSV for a spreadsheet.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { chinaClock, money, named } from "./format.js";
import { printOut, receiptElement } from "./receipt.js";
import { refundForm, refundedText } from "./refund.js";
import { explain } from "./words.js";

const PARTS = ["total_fen", "fund_fen", "personal_account_fen", "cash_fen"];
const PART_KEYS = { total_fen: "counter.total", fund_fen: "counter.fund", personal_account_fen: "counter.account", cash_fen: "counter.cash" };

export function totalsCards(totals, id) {
  return h("div", { class: "day-totals", id },
    h("div", { class: "day-count" },
      h("span", { class: "fig-label", text: t("ctr.countLabel") }),
      h("span", { class: "fig-value", text: t("ctr.counts", { settlements: totals.settlements, refunds: totals.refunds }) })),
    PARTS.map((part) => h("div", { class: `day-figure ${part}` },
      h("span", { class: "fig-label", text: t(PART_KEYS[part]) }),
      h("span", { class: "fig-value num", "data-total": part, text: money(totals[part]) }))));
}

export function csvLink(date, mine) {
  const query = new URLSearchParams({ date, format: "csv", ...(mine ? { mine: "1" } : {}) });
  return h("a", { class: "button quiet", id: "day-csv", href: `/api/v1/counter/day?${query}`, download: "" },
    h("span", { class: "icon i-receipt-text", "aria-hidden": "true" }), t("ctr.csv"));
}

export function todayPanel({ notify }) {
  const state = { mine: localStorage.getItem("yima.counter.mine") === "1", report: null };
  const mine = h("input", { type: "checkbox", id: "only-mine", checked: state.mine });
  const box = h("p", { class: "message", role: "status" });
  const head = h("div", { class: "day-tools" },
    h("h3", { id: "today-title", text: t("ctr.todayTitle") }),
    h("div", { class: "check" }, mine, h("label", { for: "only-mine", text: t("ctr.onlyMine") })),
    h("button", { type: "button", class: "quiet", id: "day-refresh", onclick: () => load() },
      h("span", { class: "icon i-refresh-cw", "aria-hidden": "true" }), t("ctr.refresh")),
    h("span", { id: "csv-slot" }));
  const totals = h("div", { id: "today-totals-slot" });
  const body = h("tbody", { id: "today-rows" });
  const table = h("div", { class: "day-scroll" }, h("table", { class: "data day-table", id: "today-table", "aria-labelledby": "today-title" },
    h("thead", {}, h("tr", {},
      ...["ctr.col.time", "ctr.col.number", "ctr.col.patient", "ctr.col.insured", "ctr.col.kind"].map((key) => h("th", { scope: "col", text: t(key) })),
      ...PARTS.map((part) => h("th", { scope: "col", class: "num", text: t(PART_KEYS[part]) })),
      h("th", { scope: "col", text: t("ctr.col.cashier") }),
      h("th", { scope: "col", text: t("ctr.col.actions") }))),
    body));
  const panel = h("section", { id: "panel-today", class: "counter-panel", role: "tabpanel", "aria-labelledby": "tab-today", hidden: true },
    head, box, totals, table);
  mine.addEventListener("change", () => {
    state.mine = mine.checked;
    localStorage.setItem("yima.counter.mine", state.mine ? "1" : "0");
    load();
  });

  async function load(message) {
    try {
      const report = await api.get(`/api/v1/counter/day${state.mine ? "?mine=1" : ""}`);
      state.report = report;
      render(report);
      box.className = message ? "message ok" : "message";
      box.textContent = message || "";
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function render(report) {
    head.querySelector("#csv-slot").replaceChildren(csvLink(report.date, report.mine));
    totals.replaceChildren(totalsCards(report.totals, "today-totals"));
    if (!report.rows.length) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: "11", class: "empty", text: t(report.mine ? "ctr.noneMine" : "ctr.none") })));
      return;
    }
    body.replaceChildren(...report.rows.map(row));
  }

  function row(item) {
    const refunded = item.refunded_by !== null && item.refunded_by !== undefined;
    const kind = item.kind === "refund" ? t("ctr.kind.refund", { id: item.reverses })
      : refunded ? t("ctr.kind.refunded") : t("ctr.kind.settlement");
    const actions = h("td", {}, h("div", { class: "row-actions" },
      h("button", { type: "button", class: "quiet small", "data-reprint": String(item.id), text: t("ctr.reprint"),
        onclick: () => reprint(item) }),
      item.refundable ? h("button", { type: "button", class: "danger-outline small", "data-refund": String(item.id), text: t("ctr.refundShort"),
        onclick: (event) => openRefund(item, event.currentTarget.closest("tr")) }) : null));
    return h("tr", { "data-id": String(item.id), class: `row-${item.kind}${refunded ? " is-refunded" : ""}` },
      h("td", { class: "nowrap", text: chinaClock(item.created_at) }),
      h("td", { class: "nowrap", text: item.number }),
      h("td", {}, item.patient, item.identified_by === "national_id" && item.kind === "settlement"
        ? h("span", { class: "tag pill warn", text: t("ctr.manualTag") }) : null),
      h("td", { text: named(item.insured_region) + (item.cross_region ? "" : t("ctr.localSuffix")) }),
      h("td", { class: item.kind === "refund" || refunded ? "bad-text" : "", text: kind }),
      ...PARTS.map((part) => h("td", { class: "num", text: money(item[part]) })),
      h("td", { text: item.cashier }),
      actions);
  }

  async function reprint(item) {
    try {
      const answer = await api.get(`/api/v1/settlements/${item.id}/receipt`);
      printOut(receiptElement(answer.receipt));
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function openRefund(item, tr) {
    body.querySelector("tr.refund-row")?.remove();
    const formRow = h("tr", { class: "refund-row" }, h("td", { colspan: "11" }, refundForm(item, {
      onDone: (answer) => {
        formRow.remove();
        load(answer ? refundedText(answer) : "");
        notify?.(answer);
      },
      onCancel: () => {
        formRow.remove();
        tr.querySelector("[data-refund]")?.focus();
      },
    })));
    tr.after(formRow);
    formRow.querySelector("[name=reason]").focus();
  }

  return { element: panel, load };
}
