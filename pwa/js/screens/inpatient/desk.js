// The inpatient desk (住院), a tab of the counter console for the cashier role (docs/inpatient.md):
// three views — 在院病人 (the open stays; Enter or a click opens one), 入院登记 (scan and admit) and
// 今日出入院 (today's admissions and discharge settlements) — plus a stay (fees, preview,
// discharge) and its receipt (print, same-day reversal). Keys: Alt+1/2/3 the views, F7 preview,
// F9 discharge, Esc back to the list.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { chinaClock, money, named } from "../counter/format.js";
import { printOut } from "../counter/receipt.js";
import { admitPanel } from "./admit.js";
import { dayText, explain } from "./common.js";
import { receiptView, stayReceipt } from "./paper.js";
import { stayView } from "./stay.js";

const VIEWS = [["stays", "ip.view.stays"], ["admit", "ip.view.admit"], ["day", "ip.view.day"]];
const PARTS = ["total_fen", "fund_fen", "personal_account_fen", "cash_fen"];
const PART_KEYS = { total_fen: "counter.total", fund_fen: "counter.fund", personal_account_fen: "counter.account", cash_fen: "counter.cash" };
let current = null;  // the panel on screen: its camera stops when the console closes

export const stopInpatient = () => current?.stop();

export function inpatientPanel() {
  const state = { view: "stays", status: "open" };
  const box = h("p", { class: "message", id: "ip-message", role: "status" });
  const nav = h("div", { class: "segmented ip-views", role: "tablist", "aria-label": t("ctr.tab.inpatient") },
    VIEWS.map(([name, key], index) => h("button", { type: "button", role: "tab", id: `ip-view-${name}`, "data-view": name,
      onclick: () => select(name) }, h("span", { text: t(key) }), h("kbd", { text: `Alt+${index + 1}` }))));

  // 在院病人
  const filter = h("input", { id: "ip-filter", type: "search", autocomplete: "off", placeholder: t("ip.filterHint"), "aria-label": t("ip.filter") });
  const status = h("select", { id: "ip-status", "aria-label": t("ip.statusLabel") },
    ["open", "settled", "all"].map((value) => h("option", { value, text: t(`ip.status.${value}`) })));
  const staysBody = h("tbody", { id: "ip-stays" });
  const staysView = h("div", { id: "ip-stays-view", class: "ip-list" },
    h("div", { class: "day-tools" },
      h("h3", { id: "ip-stays-title", text: t("ip.staysTitle") }), status, filter,
      h("button", { type: "button", class: "quiet", id: "ip-refresh", onclick: () => loadStays() },
        h("span", { class: "icon i-refresh-cw", "aria-hidden": "true" }), t("ctr.refresh"))),
    h("div", { class: "day-scroll" }, h("table", { class: "data day-table", "aria-labelledby": "ip-stays-title" },
      h("thead", {}, h("tr", {},
        ...["admission_no", "patient", "insured", "ward", "diagnosis", "admitted", "days"].map((name) => h("th", { scope: "col", text: t(`ip.list.${name}`) })),
        h("th", { scope: "col", class: "num", text: t("ip.total") }),
        h("th", { scope: "col", text: t("ctr.col.actions") }))),
      staysBody)));
  filter.addEventListener("input", () => renderStays());
  status.addEventListener("change", () => { state.status = status.value; loadStays(); });

  // 今日出入院
  const dayView = h("div", { id: "ip-day-view", class: "ip-list", hidden: true });

  const admit = admitPanel({ onAdmitted: (stay, replayed) => openStay(stay.id, t(replayed ? "ip.admittedAgain" : "ip.admitted", { no: stay.admission_no, patient: stay.patient.masked_name })) });
  admit.element.hidden = true;
  const stay = stayView({ onBack: () => select("stays"), onSettled: (answer) => settled(answer) });
  const receipt = receiptView({
    onBack: () => select("stays"),
    onReversed: (answer) => openStay(answer.stay.id, t("ip.reversed", { cash: money(-answer.refund.cash_fen), no: answer.stay.admission_no })),
  });
  const element = h("section", { id: "panel-inpatient", class: "counter-panel ip-panel", role: "tabpanel", "aria-labelledby": "tab-inpatient", hidden: true },
    nav, box, staysView, admit.element, dayView, stay.element, receipt.element);

  function select(name) {
    state.view = name;
    stay.hide();
    receipt.hide();
    admit.stop();
    box.textContent = "";
    for (const button of nav.children) button.setAttribute("aria-selected", String(button.dataset.view === name));
    staysView.hidden = name !== "stays";
    admit.element.hidden = name !== "admit";
    dayView.hidden = name !== "day";
    if (name === "stays") loadStays().then(() => (staysBody.querySelector("button") || filter).focus());
    if (name === "admit") admit.focus();
    if (name === "day") loadDay();
  }

  function hideViews() {
    staysView.hidden = true;
    admit.element.hidden = true;
    dayView.hidden = true;
    for (const button of nav.children) button.setAttribute("aria-selected", "false");
  }

  async function openStay(id, note = "") {
    hideViews();
    receipt.hide();
    box.textContent = "";
    try {
      await stay.open(id, note);
    } catch (error) {
      select("stays");
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function settled(answer) {
    hideViews();
    receipt.show(answer.receipt, answer.stay, t(answer.receipt.cash_fen ? "ip.settledText" : "ip.settledNoCash",
      { cash: money(answer.receipt.cash_fen), number: answer.receipt.number, no: answer.stay.admission_no }));
  }

  async function showReceipt(stayId) {
    try {
      const [{ receipt: paper }, { stay: fresh }] = await Promise.all([
        api.get(`/api/v1/inpatient/stays/${stayId}/receipt`), api.get(`/api/v1/inpatient/stays/${stayId}`)]);
      hideViews();
      receipt.show(paper, fresh);
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  async function loadStays() {
    try {
      const answer = await api.get(`/api/v1/inpatient/stays?status=${state.status}`);
      state.stays = answer.stays;
      renderStays();
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function renderStays() {
    const needle = filter.value.trim().toLowerCase();
    const shown = (state.stays || []).filter((one) => !needle
      || [one.admission_no, one.ward, one.diagnosis.code, one.diagnosis.text, one.patient.masked_name].some((text) => text.toLowerCase().includes(needle)));
    if (!shown.length) {
      staysBody.replaceChildren(h("tr", {}, h("td", { colspan: "9", class: "empty", text: t(needle ? "ip.noMatch" : `ip.none.${state.status}`) })));
      return;
    }
    staysBody.replaceChildren(...shown.map((one) => h("tr", { "data-stay": String(one.id) },
      h("td", { class: "nowrap", text: one.admission_no }),
      h("td", { class: "nowrap" }, one.patient.masked_name, one.identified_by === "national_id" ? h("span", { class: "tag pill warn", text: t("ctr.manualTag") }) : null),
      h("td", { text: named(one.insured_region) + (one.cross_region ? "" : t("ctr.localSuffix")) }),
      h("td", { text: one.ward }),
      h("td", { text: `${one.diagnosis.code} ${one.diagnosis.text}` }),
      h("td", { class: "nowrap", text: dayText(one.admitted_on) }),
      h("td", { class: "nowrap", text: one.status === "open" ? t("ip.daysN", { n: one.days }) : t("ip.dischargedShort", { day: dayText(one.discharged_on) }) }),
      h("td", { class: "num", text: money(one.total_fen) }),
      h("td", {}, one.status === "open"
        ? h("button", { type: "button", class: "primary small", "data-open": String(one.id), text: t("ip.openStay"), onclick: () => openStay(one.id) })
        : h("button", { type: "button", class: "quiet small", "data-receipt": String(one.id), text: t("ip.showReceipt"), onclick: () => showReceipt(one.id) })))));
  }

  async function loadDay() {
    try {
      const report = await api.get("/api/v1/inpatient/day");
      renderDay(report);
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  function renderDay(report) {
    const totals = report.totals;
    const cards = h("div", { class: "day-totals", id: "ip-day-totals" },
      h("div", { class: "day-count" }, h("span", { class: "fig-label", text: t("ctr.countLabel") }),
        h("span", { class: "fig-value", text: t("ip.dayCounts", totals) })),
      PARTS.map((part) => h("div", { class: `day-figure ${part}` },
        h("span", { class: "fig-label", text: t(PART_KEYS[part]) }),
        h("span", { class: "fig-value num", "data-total": part, text: money(totals[part]) }))));
    const empty = (key, span) => h("tr", {}, h("td", { colspan: String(span), class: "empty", text: t(key) }));
    const admissions = h("table", { class: "data day-table", id: "ip-day-admissions" },
      h("caption", { text: t("ip.dayAdmissions") }),
      h("thead", {}, h("tr", {}, ...["time", "admission_no", "patient", "insured", "ward", "diagnosis"].map((name) => h("th", { scope: "col", text: t(`ip.list.${name}`) })))),
      h("tbody", {}, report.admissions.length ? report.admissions.map((one) => h("tr", {},
        h("td", { class: "nowrap", text: chinaClock(one.created_at) }),
        h("td", { class: "nowrap", text: one.admission_no }),
        h("td", { class: "nowrap", text: one.patient.masked_name }),
        h("td", { text: named(one.insured_region) }),
        h("td", { text: one.ward }),
        h("td", { text: `${one.diagnosis.code} ${one.diagnosis.text}` }))) : empty("ip.noAdmissions", 6)));
    const discharges = h("table", { class: "data day-table", id: "ip-day-discharges" },
      h("caption", { text: t("ip.dayDischarges") }),
      h("thead", {}, h("tr", {},
        ...["time", "admission_no", "patient", "days"].map((name) => h("th", { scope: "col", text: t(`ip.list.${name}`) })),
        ...PARTS.map((part) => h("th", { scope: "col", class: "num", text: t(PART_KEYS[part]) })),
        h("th", { scope: "col", text: t("ctr.col.actions") }))),
      h("tbody", {}, report.discharges.length ? report.discharges.map(({ stay: one, settlement }) => h("tr", { class: settlement.reversed ? "is-refunded" : "" },
        h("td", { class: "nowrap", text: chinaClock(settlement.created_at) }),
        h("td", { class: "nowrap", text: one.admission_no }),
        h("td", { class: "nowrap" }, one.patient.masked_name, settlement.reversed ? h("span", { class: "tag pill bad", text: t("ip.reversedTag") }) : null),
        h("td", { class: "nowrap", text: t("ip.daysN", { n: one.days }) }),
        ...PARTS.map((part) => h("td", { class: "num", text: money(settlement[part]) })),
        h("td", {}, h("button", { type: "button", class: "quiet small", text: t("ctr.reprint"), onclick: () => reprint(one.id, settlement.id) })))) : empty("ip.noDischarges", 9)));
    dayView.replaceChildren(
      h("div", { class: "day-tools" }, h("h3", { text: t("ip.dayTitle", { day: dayText(report.date) }) }),
        h("button", { type: "button", class: "quiet", id: "ip-day-refresh", onclick: () => loadDay() },
          h("span", { class: "icon i-refresh-cw", "aria-hidden": "true" }), t("ctr.refresh"))),
      cards, h("div", { class: "day-scroll ip-day-scroll" }, admissions, discharges));
  }

  async function reprint(stayId, settlementId) {
    try {
      const answer = await api.get(`/api/v1/inpatient/stays/${stayId}/receipt?settlement_id=${settlementId}`);
      printOut(stayReceipt(answer.receipt));
    } catch (error) {
      box.className = "message error";
      box.textContent = explain(error);
    }
  }

  current = {
    element,
    load: () => (stay.visible || receipt.visible ? Promise.resolve() : Promise.resolve(select(state.view))),
    focusScanner() {
      if (state.view !== "admit" || stay.visible || receipt.visible) select("admit");
      admit.focus();
      document.getElementById("ip-wedge").focus();
    },
    stop: () => admit.stop(),
    // The console's keys while this tab is open: F7/F9 on a stay, Alt+1/2/3 the views.
    key(event) {
      if (stay.visible && stay.key(event)) return true;
      const index = event.altKey ? ["1", "2", "3"].indexOf(event.key) : -1;
      if (index >= 0) {
        event.preventDefault();
        select(VIEWS[index][0]);
        return true;
      }
      return false;
    },
  };
  return current;
}
