// One open stay at the desk: who and why (admission number, ward, diagnosis, days), the fee lines
// by day, a one-row entry form (keyboard: category digits 1–9/0, class 1/2/3, Enter adds the line
// and keeps day, category and class for the next), each line numbered within the stay so a line
// sent again after a lost answer is stored once; cancelling a line asks first. On the right, the
// totals and the pre-settlement split (refreshed after each change, F7), and 出院结算 (F9) which
// asks first with the figures, under one Idempotency-Key per stay and body.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { confirmDialog, h } from "../../ui.js";
import { classWord, money, named, schemeWord, todayInChina } from "../counter/format.js";
import { clearField, errorSummary, markField } from "../counter/words.js";
import { CATEGORIES, CLASSES, categoryWord, dayText, explain, priceFen, quantity } from "./common.js";

const PREVIEW_DELAY = 300;

export function stayView({ onBack, onSettled }) {
  const state = { stay: null, lines: [], pending: null, attempt: null, previewSeq: 0, timer: null, busy: false };
  const facts = h("div", { class: "ip-stay-head", id: "ip-stay-head" });
  const message = h("p", { class: "message", id: "ip-stay-message", role: "status" });
  const summary = h("div", { class: "error-summary", id: "ip-line-errors", role: "alert", tabindex: "-1", hidden: true });

  // the entry row
  const today = todayInChina();
  const date = h("input", { type: "date", id: "ip-line-date", name: "date", value: today, max: today, "aria-label": t("ip.col.date") });
  const category = h("select", { id: "ip-line-category", name: "category", "aria-label": t("ip.col.category") },
    CATEGORIES.map((name, index) => h("option", { value: name, text: `${(index + 1) % 10} ${categoryWord(name)}` })));
  const picker = h("div", { class: "class-picker", role: "radiogroup", "aria-label": t("counter.class"), id: "ip-line-class" },
    CLASSES.map((value, index) => h("label", { class: "class-option", title: t(`ctr.classHelp.${value}`) },
      h("input", { type: "radio", name: "ip-class", value, checked: index === 0, "aria-label": t(`ctr.classHelp.${value}`) }),
      h("span", { text: classWord(value), "aria-hidden": "true" }))));
  const item = h("input", { id: "ip-line-item", name: "item", maxlength: "80", autocomplete: "off", "aria-label": t("ip.col.item"), placeholder: t("ip.col.item") });
  const qty = h("input", { id: "ip-line-qty", name: "quantity", inputmode: "numeric", autocomplete: "off", value: "1", class: "num", "aria-label": t("ip.col.quantity") });
  const price = h("input", { id: "ip-line-price", name: "unit_price", inputmode: "decimal", autocomplete: "off", class: "num", "aria-label": t("ip.col.price"), placeholder: t("ip.col.price") });
  const amount = h("output", { id: "ip-line-amount", class: "num", text: "—" });
  const addButton = h("button", { type: "submit", id: "ip-add-line", class: "primary", title: "Enter", text: t("ip.addLine") });
  const cell = (control, extra = "") => h("td", { class: `cell ${extra}`.trim() }, control);
  const entry = h("form", { id: "ip-entry", class: "ip-entry", novalidate: true },
    h("table", { class: "bill ip-entry-table" },
      h("thead", {}, h("tr", {},
        ...[["date", "col-date"], ["category", "col-cat"], ["class", "col-class"], ["item", "col-item"], ["quantity", "col-qty num"], ["price", "col-price num"], ["amount", "col-amount num"]]
          .map(([name, cls]) => h("th", { scope: "col", class: cls, text: t(`ip.col.${name}`) })),
        h("th", { scope: "col", class: "col-add" }, h("span", { class: "visually-hidden", text: t("ip.addLine") })))),
      h("tbody", {}, h("tr", {}, cell(date), cell(category), cell(picker), cell(item), cell(qty, "num"), cell(price, "num"),
        h("td", { class: "cell num amount-cell" }, amount), cell(addButton)))),
    h("p", { class: "keys", text: t("ip.keys") }));

  const linesBody = h("tbody", { id: "ip-lines" });
  const linesTable = h("div", { class: "ip-lines-scroll", id: "ip-lines-scroll" },
    h("table", { class: "data ip-lines" },
      h("thead", {}, h("tr", {},
        ...[["no", ""], ["category", ""], ["class", "col-class"], ["item", ""], ["quantity", "num"], ["price", "num"], ["amount", "num"]]
          .map(([name, cls]) => h("th", { scope: "col", class: cls || null, text: t(`ip.col.${name}`) })),
        h("th", { scope: "col", text: t("ip.col.actions") }))),
      linesBody));

  // the totals and the split
  const figure = (id, key, extra = "") => h("div", { class: `ip-figure ${extra}` },
    h("span", { class: "fig-label", text: t(key) }), h("span", { class: "fig-value num", id, text: "—" }));
  const dischargeDate = h("input", { type: "date", id: "ip-discharged-on", value: today, max: today });
  const useAccount = h("input", { type: "checkbox", id: "ip-use-account", checked: true });
  const previewButton = h("button", { type: "button", id: "ip-preview", class: "quiet" }, h("span", { text: t("ip.preview") }), h("kbd", { text: "F7" }));
  const settleButton = h("button", { type: "button", id: "ip-discharge", class: "primary big settle-button" },
    h("span", { text: t("ip.discharge") }), h("kbd", { text: "F9" }));
  const splitBox = h("p", { class: "message error", id: "ip-split-message", role: "alert" });
  const side = h("aside", { class: "ip-totals", id: "ip-totals", "aria-labelledby": "ip-totals-title" },
    h("h3", { id: "ip-totals-title", text: t("ip.totalsTitle") }),
    figure("ip-total", "ip.total", "total"),
    h("p", { class: "ip-classes num", id: "ip-by-class", text: "" }),
    h("div", { class: "ip-split", "aria-live": "polite" },
      figure("ip-fund", "counter.fund"), figure("ip-account", "counter.account"), figure("ip-cash", "ctr.cashDue", "cash")),
    h("p", { class: "ip-split-note", id: "ip-split-note", text: "" }),
    splitBox,
    h("div", { class: "field inline" }, h("label", { for: "ip-discharged-on", text: t("ip.dischargedOn") }), dischargeDate),
    h("div", { class: "check" }, useAccount, h("label", { for: "ip-use-account", text: t("counter.useAccount") })),
    h("div", { class: "actions ip-settle-actions" }, previewButton, settleButton));

  const back = h("button", { type: "button", class: "quiet", id: "ip-back", onclick: () => onBack() },
    h("span", { class: "icon i-chevron-left", "aria-hidden": "true" }), t("ip.backToList"), h("kbd", { text: "Esc" }));
  const element = h("div", { class: "ip-stay", id: "ip-stay-view", hidden: true },
    h("div", { class: "ip-stay-top" }, back, facts),
    h("div", { class: "ip-stay-grid" },
      h("section", { class: "ip-fees", "aria-labelledby": "ip-fees-title" },
        h("div", { class: "ip-fees-head" }, h("h3", { id: "ip-fees-title", text: t("ip.feesTitle") }), message), summary, entry, linesTable),
      side));

  entry.addEventListener("submit", (event) => {
    event.preventDefault();
    addLine();
  });
  for (const control of [date, item, qty, price]) {
    control.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.ctrlKey) {
        event.preventDefault();
        addLine();
      }
    });
  }
  category.addEventListener("keydown", (event) => {
    const digit = "1234567890".indexOf(event.key);
    if (digit >= 0 && !event.ctrlKey && !event.altKey) {
      event.preventDefault();
      category.value = CATEGORIES[digit];
    } else if (event.key === "Enter") {
      event.preventDefault();
      addLine();
    }
  });
  picker.addEventListener("keydown", (event) => {
    const index = "1aA甲".includes(event.key) ? 0 : "2bB乙".includes(event.key) ? 1 : "3cC丙".includes(event.key) ? 2 : -1;
    if (index >= 0 && !event.ctrlKey && !event.altKey) {
      event.preventDefault();
      const radio = picker.querySelectorAll("input")[index];
      radio.checked = true;
      radio.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      addLine();
    }
  });
  for (const control of [qty, price]) control.addEventListener("input", showAmount);
  previewButton.addEventListener("click", () => preview({ now: true }));
  settleButton.addEventListener("click", () => discharge());
  dischargeDate.addEventListener("change", () => preview());
  useAccount.addEventListener("change", () => preview());
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]") && !event.target.closest("form.refund-form")) {
      event.preventDefault();
      onBack();
    }
  });

  function showAmount() {
    const fen = priceFen(price.value);
    const units = quantity(qty.value);
    amount.textContent = fen !== null && units !== null ? money(fen * units) : "—";
  }

  async function open(stayId, note = "") {
    const answer = await api.get(`/api/v1/inpatient/stays/${stayId}`);
    state.pending = null;
    state.attempt = null;
    load(answer.stay, answer.lines);
    message.className = note ? "message ok" : "message";
    message.textContent = note;
    element.hidden = false;
    dischargeDate.value = todayInChina();
    dischargeDate.min = answer.stay.admitted_on;
    dischargeDate.max = todayInChina();
    date.min = answer.stay.admitted_on;
    date.max = todayInChina();
    if (date.value < date.min || date.value > date.max) date.value = date.max;
    item.focus();
  }

  function load(stay, lines) {
    state.stay = stay;
    if (lines) state.lines = lines;
    renderFacts();
    renderLines();
    preview();
  }

  function renderFacts() {
    const stay = state.stay;
    const region = named(stay.insured_region);
    facts.replaceChildren(
      h("p", { class: "who", id: "ip-stay-patient" }, stay.patient.masked_name,
        h("span", { class: "secondary", text: ` · ${region} · ${schemeWord(stay.patient.insurance_class)}` }),
        stay.cross_region ? h("span", { class: "tag pill", text: t("ip.crossTag") }) : null,
        stay.identified_by === "national_id" ? h("span", { class: "tag pill warn", text: t("ctr.manualTag") }) : null),
      h("dl", { class: "ip-facts" },
        h("dt", { text: t("ip.field.admission_no") }), h("dd", { id: "ip-stay-no", text: stay.admission_no }),
        h("dt", { text: t("ip.field.ward") }), h("dd", { text: stay.ward }),
        h("dt", { text: t("ip.diagnosis") }), h("dd", { text: `${stay.diagnosis.code} ${stay.diagnosis.text}` }),
        h("dt", { text: t("ip.admittedOn") }), h("dd", { id: "ip-stay-admitted", text: dayText(stay.admitted_on, { year: true }) }),
        h("dt", { text: t("ip.days") }), h("dd", { id: "ip-stay-days", text: t("ip.daysN", { n: stay.days }) })));
  }

  function renderLines() {
    const lines = [...state.lines].sort((a, b) => (a.date === b.date ? a.line_no - b.line_no : a.date < b.date ? -1 : 1));
    const live = state.lines.filter((line) => !line.cancelled);
    const byClass = { A: 0, B: 0, C: 0 };
    for (const line of live) byClass[line.coverage_class] += line.amount_fen;
    side.querySelector("#ip-total").textContent = money(state.stay.total_fen);
    side.querySelector("#ip-by-class").textContent = CLASSES.map((value) => `${classWord(value)} ${money(byClass[value])}`).join(" · ");
    if (!lines.length) {
      linesBody.replaceChildren(h("tr", {}, h("td", { colspan: "8", class: "empty", text: t("ip.noLines") })));
      return;
    }
    const rows = [];
    let day = null;
    for (const line of lines) {
      if (line.date !== day) {
        day = line.date;
        const ofDay = live.filter((one) => one.date === day);
        rows.push(h("tr", { class: "ip-day", "data-day": day }, h("th", { colspan: "8", scope: "rowgroup" },
          h("span", { text: dayText(day) }),
          h("span", { class: "secondary", text: t("ip.dayTotal", { n: ofDay.length, total: money(ofDay.reduce((sum, one) => sum + one.amount_fen, 0)) }) }))));
      }
      rows.push(lineRow(line));
    }
    linesBody.replaceChildren(...rows);
  }

  function lineRow(line) {
    const tr = h("tr", { "data-line": String(line.line_no), class: line.cancelled ? "cancelled" : "" },
      h("td", { class: "nowrap", text: String(line.line_no) }),
      h("td", { text: categoryWord(line.category) }),
      h("td", { class: "col-class", text: classWord(line.coverage_class) }),
      h("td", {}, line.item, line.cancelled
        ? h("span", { class: "tag pill bad", title: line.cancel_reason || "", text: t("ip.cancelledTag") }) : null),
      h("td", { class: "num", text: String(line.quantity) }),
      h("td", { class: "num", text: money(line.unit_price_fen) }),
      h("td", { class: "num", text: money(line.amount_fen) }),
      h("td", {}, line.cancelled || state.stay.status !== "open" ? null
        : h("button", { type: "button", class: "danger-outline small", "data-cancel": String(line.line_no), text: t("ip.cancelLine"),
          onclick: () => openCancel(line, tr) })));
    return tr;
  }

  function readEntry() {
    const problems = [];
    const units = quantity(qty.value);
    const fen = priceFen(price.value);
    const day = date.value;
    if (!item.value.trim()) problems.push({ input: item, text: t("ip.need.item") });
    if (units === null) problems.push({ input: qty, text: t("ip.bad.quantity") });
    if (fen === null) problems.push({ input: price, text: t(price.value.trim() ? "ctr.amountBadShort" : "ip.need.price") });
    else if (units !== null && fen * units > 100_000_000) problems.push({ input: price, text: t("ip.bad.lineTooBig") });
    if (!day || day < state.stay.admitted_on || day > todayInChina()) problems.push({ input: date, text: t("ip.bad.lineDate") });
    return { problems, line: { category: category.value, coverage_class: picker.querySelector("input:checked").value,
      item: item.value.trim(), quantity: units, unit_price_fen: fen, date: day } };
  }

  const nextNumber = () => Math.max(0, ...state.lines.map((line) => line.line_no)) + 1;

  // The line keeps its number until the server has it: a retry after a lost answer (Enter again)
  // sends the same number and the stay stores it once.
  async function addLine() {
    // Enter while the last line is on its way: this one goes right after it (never dropped).
    while (state.busy) await state.sending;
    if (!state.stay) return;
    for (const control of [item, qty, price, date]) clearField(control);
    const { problems, line } = readEntry();
    for (const { input, text } of problems) markField(input, text);
    errorSummary(summary, problems.length > 1 ? problems : []);
    if (problems.length) {
      problems[0].input.focus();
      return;
    }
    const fingerprint = JSON.stringify(line);
    if (!state.pending || state.pending.fingerprint !== fingerprint) state.pending = { fingerprint, line_no: nextNumber() };
    state.busy = true;
    let finished;
    state.sending = new Promise((resolve) => { finished = resolve; });
    const sent = { item: item.value, qty: qty.value, price: price.value, focused: document.activeElement };
    try {
      const answer = await api.post(`/api/v1/inpatient/stays/${state.stay.id}/lines`, { lines: [{ line_no: state.pending.line_no, ...line }] });
      merge(answer.lines);
      state.pending = null;
      load(answer.stay);
      message.className = "message ok";
      message.textContent = t(answer.added ? "ip.lineAdded" : "ip.lineKnown", { n: answer.lines[0]?.line_no ?? "" });
      // Clear what still holds this line (not the next line, typed meanwhile); the focus goes back
      // to the item only if the desk has not moved on to the next line.
      if (item.value === sent.item) item.value = "";
      if (price.value === sent.price) price.value = "";
      if (qty.value === sent.qty) qty.value = "1";
      showAmount();
      if (document.activeElement === sent.focused || document.activeElement === document.body) item.focus();
      scrollToLine(answer.lines[0]?.line_no);
    } catch (error) {
      if (error.code === "line_number_conflict") {
        // another system (the HIS) took the number meanwhile: reload, and the next Enter numbers anew
        state.pending = null;
        await refresh();
      }
      if (error.code === "bad_lines" && error.problem?.field) {
        const input = { item: item, quantity: qty, unit_price_fen: price, date, category, coverage_class: picker }[error.problem.field];
        if (input) markField(input, explain(error));
      }
      message.className = "message error";
      message.textContent = error.code === "network" ? t("ip.lineNotSent") : explain(error);
      item.focus();
    } finally {
      state.busy = false;
      finished();
    }
  }

  function merge(lines) {
    for (const line of lines || []) {
      const index = state.lines.findIndex((one) => one.line_no === line.line_no);
      if (index >= 0) state.lines[index] = line;
      else state.lines.push(line);
    }
  }

  function scrollToLine(lineNo) {
    linesBody.querySelector(`tr[data-line="${lineNo}"]`)?.scrollIntoView({ block: "nearest" });
  }

  async function refresh() {
    const answer = await api.get(`/api/v1/inpatient/stays/${state.stay.id}`);
    load(answer.stay, answer.lines);
  }

  // Cancel: a reason beside the line, then a confirmation that names the line and its amount.
  function openCancel(line, tr) {
    linesBody.querySelector("tr.refund-row")?.remove();
    const reason = h("input", { id: `ip-cancel-reason-${line.line_no}`, name: "reason", maxlength: "200", autocomplete: "off" });
    const box = h("p", { class: "message error", role: "alert" });
    const form = h("form", { class: "refund-form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: reason.id, text: t("ip.cancelReasonFor", { n: line.line_no, item: line.item }) }), reason),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "danger", id: "ip-cancel-go", text: t("ip.cancelGo") }),
        h("button", { type: "button", class: "quiet", text: t("confirm.cancel"), onclick: () => close() })),
      box);
    const formRow = h("tr", { class: "refund-row" }, h("td", { colspan: "8" }, form));
    const close = () => {
      formRow.remove();
      tr.querySelector("[data-cancel]")?.focus();
    };
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        markField(reason, t("ip.need.reason"));
        reason.focus();
        return;
      }
      clearField(reason);
      const sure = await confirmDialog({ titleKey: "ip.cancelTitle", bodyKey: "ip.cancelBody", confirmKey: "ip.cancelGo",
        vars: { n: line.line_no, item: line.item, amount: money(line.amount_fen), day: dayText(line.date) } });
      if (!sure) {
        reason.focus();
        return;
      }
      try {
        const answer = await api.post(`/api/v1/inpatient/stays/${state.stay.id}/lines/${line.line_no}/cancel`, { reason: reason.value.trim() });
        merge([answer.line]);
        load(answer.stay);
        message.className = "message ok";
        message.textContent = t("ip.lineCancelled", { n: line.line_no, amount: money(line.amount_fen) });
        item.focus();
      } catch (error) {
        box.textContent = explain(error);
        if (error.code === "line_already_cancelled") await refresh();
      }
    });
    tr.after(formRow);
    reason.focus();
  }

  function showSplit(answer) {
    const set = (id, fen) => { side.querySelector(id).textContent = answer ? money(fen) : "—"; };
    const split = answer?.split;
    set("#ip-fund", split?.fund_fen);
    set("#ip-account", split?.personal_account_fen);
    set("#ip-cash", split?.cash_fen);
    side.querySelector("#ip-split-note").textContent = answer ? [
      t(answer.admission_in_year > 1 ? "ip.noteLater" : "ip.noteFirst", { n: answer.admission_in_year, deductible: money(answer.deductible_fen_for_stay) }),
      t("ctr.splitNote", { deductible: money(split.deductible_fen), b: money(split.class_b_self_fen), c: money(split.class_c_fen) }),
      t("ip.noteCap", { cap: money(answer.year.cap_left_fen) }),
    ].join(" ") : "";
  }

  function body() {
    return { discharged_on: dischargeDate.value || undefined, use_personal_account: useAccount.checked };
  }

  // The split as it would be now (debounced); `now`: at once, the figures take the eye.
  function preview({ now = false } = {}) {
    clearTimeout(state.timer);
    const seq = ++state.previewSeq;
    splitBox.textContent = "";
    if (!state.stay || state.stay.status !== "open" || !state.stay.total_fen) {
      showSplit(null);
      return Promise.resolve(null);
    }
    side.classList.add("pending");
    return new Promise((resolve) => {
      state.timer = setTimeout(async () => {
        try {
          const answer = await api.post(`/api/v1/inpatient/stays/${state.stay.id}/preview`, body());
          if (seq === state.previewSeq) showSplit(answer);
          resolve(answer);
        } catch (error) {
          if (seq === state.previewSeq) {
            showSplit(null);
            splitBox.textContent = explain(error);
          }
          resolve(null);
        } finally {
          if (seq === state.previewSeq) side.classList.remove("pending");
        }
      }, now ? 0 : PREVIEW_DELAY);
    });
  }

  async function discharge() {
    if (state.busy || !state.stay) return;
    const answer = await preview({ now: true });
    if (!answer) {
      splitBox.textContent ||= t("ip.err.no_fee_lines");
      return;
    }
    const split = answer.split;
    const sure = await confirmDialog({ titleKey: "ip.dischargeTitle", bodyKey: split.cash_fen ? "ip.dischargeBody" : "ip.dischargeBodyNoCash",
      confirmKey: "ip.dischargeGo", danger: false,
      vars: { no: state.stay.admission_no, patient: state.stay.patient.masked_name, day: dayText(dischargeDate.value, { year: true }),
        total: money(split.total_fen), fund: money(split.fund_fen), account: money(split.personal_account_fen), cash: money(split.cash_fen) } });
    if (!sure) {
      settleButton.focus();
      return;
    }
    const request = body();
    const fingerprint = JSON.stringify([state.stay.id, request]);
    if (!state.attempt || state.attempt.fingerprint !== fingerprint) state.attempt = { fingerprint, key: crypto.randomUUID() };
    state.busy = true;
    settleButton.disabled = true;
    try {
      const settled = await api.post(`/api/v1/inpatient/stays/${state.stay.id}/discharge`, request, { "Idempotency-Key": state.attempt.key });
      state.attempt = null;
      element.hidden = true;
      onSettled(settled);
    } catch (error) {
      splitBox.textContent = explain(error);
      if (error.code === "account_changed") preview({ now: true });
      if (error.code === "stay_already_settled") refresh();
    } finally {
      state.busy = false;
      settleButton.disabled = false;
    }
  }

  return {
    element,
    open,
    hide: () => { element.hidden = true; state.stay = null; clearTimeout(state.timer); },
    get visible() { return !element.hidden; },
    focus: () => item.focus(),
    key(event) {
      if (event.key === "F9") { event.preventDefault(); discharge(); return true; }
      if (event.key === "F7") { event.preventDefault(); preview({ now: true }); return true; }
      return false;
    },
  };
}
