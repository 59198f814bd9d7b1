// The cashier's console at 1366×768: a header (cashier, institution, today in China), three tabs
// (结算 F2 · 今日 F4 · 对账 F8), and the settle panel: scanner and patient on the left, the bill
// (or the receipt) on the right with 确认结算 always in view.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h, screen } from "../../ui.js";
import { attachWedge, cameraErrorCode, startCamera } from "../../scanner.js";
import { createBill } from "./bill.js";
import { longDay, money, named, schemeWord, todayInChina } from "./format.js";
import { identifyForm } from "./identify.js";
import { clearPrintArea, paperPicker, printOut, receiptElement } from "./receipt.js";
import { reconcilePanel } from "./reconcile.js";
import { refundForm, refundedText } from "./refund.js";
import { todayPanel } from "./today.js";
import { inpatientPanel, stopInpatient } from "../inpatient/desk.js";
import { explain } from "./words.js";

let stopCamera = null;
let removeKeys = null;
let dayTimer = null;
let activeTab = "settle";

export function stopCounter() {
  stopCamera?.();
  stopCamera = null;
  removeKeys?.();
  removeKeys = null;
  clearInterval(dayTimer);
  clearPrintArea();
  stopInpatient();
}

export async function counterScreen() {
  const main = screen("counter.title", h("p", { class: "secondary", text: t("loading") }));
  main.querySelector("h2").className = "visually-hidden";
  main.classList.add("counter-main");
  let session;
  try {
    session = await api.get("/api/v1/counter/session");
  } catch (error) {
    main.replaceChildren(h("h2", { text: t("counter.title") }), h("p", { class: "message error", role: "alert", text: explain(error) }));
    return;
  }
  const institutionName = named(session.institution);
  const header = h("div", { class: "counter-head", id: "counter-head" },
    h("p", { class: "counter-who" },
      h("span", { class: "icon i-user", "aria-hidden": "true" }),
      h("span", { class: "label", text: t("ctr.cashierLabel") }), h("strong", { id: "cashier-name", text: session.cashier.name })),
    h("p", { class: "counter-where" },
      h("span", { class: "icon i-hospital", "aria-hidden": "true" }),
      h("strong", { id: "institution-name", text: institutionName }),
      h("span", { class: "secondary", text: ` · ${named(session.institution.region)}` })),
    h("p", { class: "counter-day" },
      h("span", { class: "icon i-clock", "aria-hidden": "true" }), h("span", { id: "counter-date", text: longDay(session.today) })));
  const tabs = [["settle", "ctr.tab.settle", "F2"], ["today", "ctr.tab.today", "F4"], ["reconcile", "ctr.tab.reconcile", "F8"], ["inpatient", "ctr.tab.inpatient", "F6"]];
  const tabList = h("div", { class: "counter-tabs segmented", role: "tablist", "aria-label": t("counter.title") },
    tabs.map(([name, key, shortcut]) => h("button", { type: "button", role: "tab", id: `tab-${name}`, "aria-controls": `panel-${name}`,
      onclick: () => select(name) }, h("span", { text: t(key) }), h("kbd", { text: shortcut }))));

  const settle = settlePanel();
  const today = todayPanel({ notify: () => settle.refundedElsewhere() });
  const reconcile = reconcilePanel({ institutionName });
  const inpatient = inpatientPanel();
  const panels = { settle: settle.element, today: today.element, reconcile: reconcile.element, inpatient: inpatient.element };
  main.replaceChildren(h("h2", { class: "visually-hidden", text: t("counter.title") }),
    h("div", { class: "counter-console" }, header, tabList, settle.element, today.element, reconcile.element, inpatient.element));

  function select(name) {
    activeTab = name;
    for (const [tab] of tabs) {
      const button = tabList.querySelector(`#tab-${tab}`);
      button.setAttribute("aria-selected", String(tab === name));
      button.tabIndex = tab === name ? 0 : -1;
      panels[tab].hidden = tab !== name;
    }
    if (name === "settle") settle.focus();
    if (name === "today") today.load().then(() => tabList.querySelector("#tab-today").focus());
    if (name === "reconcile") reconcile.load().then(() => tabList.querySelector("#tab-reconcile").focus());
    if (name === "inpatient") inpatient.load();
  }
  tabList.addEventListener("keydown", (event) => {
    const index = tabs.findIndex(([name]) => name === activeTab);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step) select(tabs[(index + step + tabs.length) % tabs.length][0]);
  });
  const onKey = (event) => {
    if (document.querySelector("dialog[open]")) return;
    const name = { F2: "settle", F4: "today", F8: "reconcile", F6: "inpatient" }[event.key];
    if (activeTab === "inpatient" && inpatient.key(event)) return;
    if (name) {
      event.preventDefault();
      select(name);
    } else if (event.key === "F9" && activeTab === "settle") {
      event.preventDefault();
      settle.settleNow();
    } else if (startsAScan(event)) {
      // A scanner typing while the focus is on a tab, a button or the page (today's list, say):
      // the code goes to the scanner field, whatever panel was open (住院: its own scanner).
      if (activeTab === "inpatient") return inpatient.focusScanner();
      if (activeTab !== "settle") select("settle");
      settle.focusScanner();
    }
  };
  document.addEventListener("keydown", onKey);
  removeKeys = () => document.removeEventListener("keydown", onKey);
  // A console left open past midnight says the new day (China time).
  dayTimer = setInterval(() => { header.querySelector("#counter-date").textContent = longDay(todayInChina()); }, 60_000);
  select(activeTab);
}

// A printable key pressed outside any field (a scanner starting to type a code).
function startsAScan(event) {
  return !event.defaultPrevented && event.key.length === 1 && event.key !== " " && !event.ctrlKey && !event.altKey
    && !event.metaKey && !event.target.closest?.("input, textarea, select, [contenteditable]");
}

function settlePanel() {
  const state = { scan: null, receipt: null };
  const wedge = h("input", { id: "wedge", autocomplete: "off", spellcheck: "false", autofocus: true, class: "wedge" });
  const video = h("video", { id: "camera", muted: true, playsinline: true, hidden: true, "aria-hidden": "true" });
  const cameraButton = h("button", { type: "button", id: "camera-toggle", class: "quiet" },
    h("span", { class: "icon i-scan-line", "aria-hidden": "true" }), h("span", { text: t("counter.camera") }));
  const noPhone = h("button", { type: "button", id: "no-phone", class: "quiet" },
    h("span", { class: "icon i-id-card", "aria-hidden": "true" }), t("ctr.noPhone"));
  const cameraBox = h("p", { class: "message error", id: "camera-message", role: "alert" });
  const holder = h("section", { id: "holder", class: "holder idle", "aria-live": "assertive" });
  const identifySlot = h("div", { id: "identify-slot" });
  const done = h("p", { class: "message ok", id: "settled-message", role: "status" });
  const receiptBox = h("section", { id: "receipt", class: "receipt-panel", hidden: true, "aria-label": t("counter.receipt") });
  const idle = h("div", { class: "bill-idle", id: "bill-idle" },
    h("span", { class: "icon i-scan-line", "aria-hidden": "true" }),
    h("p", { class: "big-hint", text: t("counter.waiting") }),
    h("p", { class: "secondary", text: t("ctr.idleHelp") }));
  const bill = createBill({
    onScan: (code) => scanned(code),
    onSettled: (answer) => settled(answer),
    onRefused: (error) => {
      if (error.code === "scan_expired" || error.code === "code_already_settled") wedge.focus();
    },
  });
  const element = h("section", { id: "panel-settle", class: "counter-panel settle-grid", role: "tabpanel", "aria-labelledby": "tab-settle" },
    h("div", { class: "scan-col" },
      h("div", { class: "field" }, h("label", { for: "wedge", text: t("counter.wedge") }), wedge),
      h("div", { class: "actions scan-actions" }, cameraButton, noPhone),
      cameraBox, video, holder),
    h("div", { class: "bill-col" }, done, identifySlot, idle, bill.element, receiptBox));
  waiting();

  attachWedge(wedge, (code) => scanned(code));
  cameraButton.addEventListener("click", toggleCamera);
  noPhone.addEventListener("click", () => openIdentify());

  function waiting() {
    holder.className = "holder idle";
    holder.replaceChildren(h("p", { class: "secondary", text: t("ctr.holderIdle") }));
  }

  async function toggleCamera() {
    cameraBox.textContent = "";
    if (stopCamera) {
      stopCamera();
      stopCamera = null;
      video.hidden = true;
      cameraButton.lastChild.textContent = t("counter.camera");
      wedge.focus();
      return;
    }
    try {
      stopCamera = await startCamera(video, (code) => scanned(code), (why) => {
        stopCamera?.();
        stopCamera = null;
        video.hidden = true;
        cameraButton.lastChild.textContent = t("counter.camera");
        cameraBox.textContent = t(`ctr.camera.${why}`);
      });
      video.hidden = false;
      cameraButton.lastChild.textContent = t("counter.cameraOff");
    } catch (error) {
      cameraBox.textContent = t(`ctr.camera.${cameraErrorCode(error)}`);
    }
    wedge.focus();
  }

  // The lookup takes the bill column for a moment; 取消 (or Esc) gives back what was there.
  function openIdentify() {
    closeIdentify();
    const shown = [idle, bill.element, receiptBox].filter((element) => !element.hidden);
    for (const element of shown) element.hidden = true;
    identifySlot.restore = () => { for (const element of shown) element.hidden = false; };
    if (holder.classList.contains("refused-card")) waiting();  // the last refusal is not this patient's
    identifySlot.append(identifyForm({
      onFound: (answer) => {
        closeIdentify();
        show(answer);
      },
      onCancel: () => {
        identifySlot.restore?.();
        closeIdentify();
        wedge.focus();
      },
    }));
    identifySlot.querySelector("#national-id").focus();
  }

  function closeIdentify() {
    identifySlot.replaceChildren();
    identifySlot.restore = null;
  }

  async function scanned(code) {
    closeIdentify();
    try {
      show(await api.post("/api/v1/verify", { code, context: "hospital" }));
    } catch (error) {
      state.scan = null;
      bill.reset();
      receiptBox.hidden = true;
      idle.hidden = false;
      done.textContent = "";
      holder.className = "holder refused-card";
      holder.replaceChildren(
        h("p", { class: "big" }, h("span", { class: "icon i-circle-x", "aria-hidden": "true" }), t("counter.refused")),
        h("p", { role: "alert", id: "refusal", text: explain(error) }),
        h("p", { class: "next", text: t("ctr.refusedNext") }));
      wedge.focus();
    }
  }

  // A patient whose rules apply: the green card, then the bill with the focus in the first amount.
  function show(answer) {
    state.scan = answer;
    state.receipt = null;
    receiptBox.hidden = true;
    idle.hidden = true;
    done.textContent = "";
    clearPrintArea();
    holderCard(answer);
    bill.start(answer);
  }

  // `after`: null (as scanned), "settled" or "refunded": which balance the card shows.
  function holderCard(answer, after = null) {
    const region = named(answer.home_region_name);
    holder.className = "holder ok-card";
    holder.replaceChildren(...[
      h("p", { class: "who", id: "holder-name" }, h("span", { class: "icon i-circle-check", "aria-hidden": "true" }), answer.masked_name),
      answer.manual ? h("p", { class: "tag pill warn", id: "manual-tag", text: t("ctr.manualCard", { id: answer.national_id_masked }) }) : null,
      h("dl", { class: "holder-facts" },
        h("dt", { text: t("ctr.insured") }), h("dd", { text: `${region} · ${schemeWord(answer.insurance_class)}` }),
        h("dt", { text: t("ctr.rules") }), h("dd", { text: t(answer.cross_region ? "ctr.rulesCross" : "ctr.rulesLocal", { region }) }),
        h("dt", { text: t({ settled: "ctr.balanceAfter", refunded: "ctr.balanceRefunded" }[after] || "ctr.balance") }),
        h("dd", { id: "holder-balance", text: t("yuan", { yuan: money(answer.personal_account_fen) }) })),
      answer.family_holder ? h("p", { class: "tag pill family", text: t("counter.family") }) : null].filter(Boolean));
  }

  function settled(answer) {
    state.scan = { ...state.scan, personal_account_fen: answer.personal_account_after_fen };
    holderCard(state.scan, "settled");
    bill.reset();
    showReceipt(answer.receipt);
    done.textContent = t(answer.receipt.cash_fen ? "ctr.settledText" : "ctr.settledNoCash",
      { cash: money(answer.receipt.cash_fen), number: answer.receipt.number });
    wedge.focus();  // the next patient's scan goes straight in
  }

  function showReceipt(receipt, message = "") {
    state.receipt = receipt;
    idle.hidden = true;
    receiptBox.hidden = false;
    const actions = h("div", { class: "actions receipt-actions" },
      h("button", { type: "button", class: "primary print", id: "print", onclick: () => printOut(receiptElement(receipt)) },
        h("span", { text: t("counter.print") }), h("kbd", { text: "Ctrl+P" })),
      paperPicker(() => printOut(receiptElement(receipt), { dryRun: true })),  // Ctrl+P: the new paper
      receipt.refund ? null : h("button", { type: "button", class: "danger-outline", id: "refund", text: t("counter.refund"),
        onclick: () => openRefund() }),
      h("button", { type: "button", class: "quiet", id: "next-patient", text: t("counter.next"), onclick: () => next() }));
    receiptBox.replaceChildren(actions, receiptElement(receipt), h("div", { id: "refund-slot" }));
    if (message) done.textContent = message;
    printOut(receiptElement(receipt), { dryRun: true });  // Ctrl+P prints this receipt
  }

  function openRefund() {
    const slot = receiptBox.querySelector("#refund-slot");
    const receipt = state.receipt;
    slot.replaceChildren(refundForm({ ...receipt, patient: receipt.patient.masked_name }, {
      onDone: async (answer) => {
        if (answer) {
          if (state.scan) holderCard({ ...state.scan, personal_account_fen: answer.personal_account_after_fen }, "refunded");
          showReceipt(answer.receipt, refundedText(answer));
        } else {
          const fresh = await api.get(`/api/v1/settlements/${receipt.id}/receipt`);
          showReceipt(fresh.receipt);
        }
        wedge.focus();
      },
      onCancel: () => {
        slot.replaceChildren();
        receiptBox.querySelector("#refund")?.focus();
      },
    }));
    slot.querySelector("[name=reason]").focus();
  }

  function next() {
    state.scan = null;
    state.receipt = null;
    bill.reset();
    receiptBox.hidden = true;
    idle.hidden = false;
    done.textContent = "";
    clearPrintArea();
    waiting();
    wedge.focus();
  }

  return {
    element,
    focus: () => (state.scan && !bill.element.hidden ? bill.element.querySelector("[name=amount]")?.focus() : wedge.focus()),
    settleNow: () => bill.settle(),
    focusScanner: () => wedge.focus(),
    async refundedElsewhere() {  // refunded from today's list: the receipt on screen follows
      if (!state.receipt) return;
      try {
        const fresh = await api.get(`/api/v1/settlements/${state.receipt.id}/receipt`);
        showReceipt(fresh.receipt);
      } catch (error) { /* the list already said what happened */ }
    },
  };
}
