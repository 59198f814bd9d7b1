// Fast bill entry: keyboard only. After a scan the first amount has the focus; Enter goes to the
// next line (a new one at the end), Enter on an empty last line goes to 确认结算, F9 or Ctrl+Enter
// settles from anywhere. Category: digits 1–5; coverage class: 1/2/3 (甲/乙/丙). Totals follow
// every keystroke; the fund / personal account / cash split follows a moment later (a preview).
// A field in error is outlined and named, beside it and in a summary above.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { classWord, money, toFen } from "./format.js";
import { clearField, errorSummary, explain, markField } from "./words.js";

const CATEGORIES = ["registration", "drug", "examination", "treatment", "material"];
const CLASSES = ["A", "B", "C"];
const PREVIEW_DELAY = 250;
// A code a scanner typed into a bill field by mistake (the next patient, scanned early): long, and
// all in the code's base45 alphabet.
const looksLikeCode = (text) => text.length >= 60 && /^[0-9A-Z $%*+\-./:]+$/.test(text.trim());
let rowSeq = 0;

export function createBill({ onSettled, onRefused, onScan }) {
  const state = { scan: null, attempt: null, timer: null, previewSeq: 0, busy: false };
  const summary = h("div", { class: "error-summary", id: "bill-errors", role: "alert", tabindex: "-1", hidden: true });
  const box = h("p", { class: "message error", id: "bill-message", role: "alert" });
  const lines = h("tbody", { id: "bill-lines" });
  const useAccount = h("input", { type: "checkbox", id: "use-account", checked: true });
  const figure = (id, key, extra = "") => h("div", { class: `bill-figure ${extra}` },
    h("span", { class: "fig-label", text: t(key) }), h("span", { class: "fig-value num", id, text: "0.00" }));
  const settleButton = h("button", { type: "submit", id: "settle", class: "primary big settle-button" },
    h("span", { text: t("counter.settle") }), h("kbd", { text: "F9" }));
  const form = h("form", { id: "bill", class: "bill-panel", novalidate: true, hidden: true, "aria-labelledby": "bill-title" },
    h("div", { class: "bill-head" },
      h("h3", { id: "bill-title", text: t("counter.bill") }),
      h("p", { class: "keys", id: "bill-keys", text: t("ctr.keys") })),
    summary,
    h("div", { class: "bill-scroll" },
      h("table", { class: "bill" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col", class: "col-cat", text: t("counter.category") }),
          h("th", { scope: "col", class: "col-class", text: t("counter.class") }),
          h("th", { scope: "col", class: "col-amount num", text: t("counter.amount") }),
          h("th", { scope: "col", class: "col-desc", text: t("counter.description") }),
          h("th", { scope: "col", class: "col-remove" }, h("span", { class: "visually-hidden", text: t("counter.removeLine") })))),
        lines)),
    h("div", { class: "bill-tools" },
      h("button", { type: "button", id: "add-line", class: "quiet", onclick: () => addLine().focusFirst() },
        h("span", { class: "icon i-plus", "aria-hidden": "true" }), t("counter.addLine"))),
    h("div", { class: "bill-foot", id: "bill-foot" },
      h("div", { class: "bill-figures", "aria-live": "polite" },
        figure("total-bill", "counter.total", "total"),
        h("div", { class: "bill-figure classes" },
          h("span", { class: "fig-label", text: t("ctr.byClass") }),
          h("span", { class: "fig-value num", id: "total-classes", text: "—" })),
        figure("split-fund", "counter.fund"),
        figure("split-account", "counter.account"),
        figure("split-cash", "ctr.cashDue", "cash"),
        h("p", { class: "split-note", id: "split-note", text: "" })),
      h("div", { class: "check use-account" }, useAccount, h("label", { for: "use-account", text: t("counter.useAccount") })),
      box,
      settleButton));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    settle();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {  // F9: console.js, anywhere
      event.preventDefault();
      settle();
    }
  });
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  function addLine(category, klass, amount = "") {
    const previous = lines.lastElementChild;
    category = category || (previous ? nextCategory(previous.querySelector("[name=category]").value) : "registration");
    klass = klass || (previous ? previous.querySelector("input[type=radio]:checked").value : "A");
    const id = ++rowSeq;
    const select = h("select", { name: "category", id: `category-${id}`, "aria-label": t("counter.category") },
      CATEGORIES.map((name, index) => h("option", { value: name, selected: name === category,
        text: `${index + 1} ${t("cat." + name)}` })));
    const picker = h("div", { class: "class-picker", role: "radiogroup", "aria-label": t("counter.class"), id: `class-${id}` },
      CLASSES.map((value, index) => h("label", { class: "class-option", title: t(`ctr.classHelp.${value}`) },
        h("input", { type: "radio", name: `class-${id}`, value, checked: value === klass,
          "aria-label": t(`ctr.classHelp.${value}`), "data-key": String(index + 1) }),
        h("span", { text: classWord(value), "aria-hidden": "true" }))));
    const amountInput = h("input", { name: "amount", id: `amount-${id}`, inputmode: "decimal", autocomplete: "off",
      value: amount, class: "num", "aria-label": t("counter.amount") });
    const description = h("input", { name: "description", id: `description-${id}`, autocomplete: "off", maxlength: "80",
      "aria-label": t("counter.description") });
    const row = h("tr", { "data-row": String(id) },
      h("td", { class: "cell" }, select),
      h("td", { class: "cell" }, picker),
      h("td", { class: "cell num" }, amountInput),
      h("td", { class: "cell" }, description),
      h("td", { class: "cell" }, h("button", { type: "button", class: "quiet remove", tabindex: "-1",
        "aria-label": t("ctr.removeLineN"), title: t("counter.removeLine"),
        onclick: () => removeLine(row) }, h("span", { class: "icon i-trash-2", "aria-hidden": "true" }))));
    select.addEventListener("keydown", (event) => {
      const index = Number(event.key) - 1;
      if (index >= 0 && index < CATEGORIES.length && !event.ctrlKey && !event.altKey) {
        event.preventDefault();
        select.value = CATEGORIES[index];
        changed();
      } else if (event.key === "Enter" && !event.ctrlKey) {
        event.preventDefault();
        enter(row);
      }
    });
    picker.addEventListener("keydown", (event) => {
      const index = "1aA甲".includes(event.key) ? 0 : "2bB乙".includes(event.key) ? 1 : "3cC丙".includes(event.key) ? 2 : -1;
      if (index >= 0 && !event.ctrlKey && !event.altKey) {
        event.preventDefault();
        const radio = picker.querySelectorAll("input")[index];
        radio.checked = true;
        radio.focus();
        changed();
      } else if (event.key === "Enter" && !event.ctrlKey) {
        event.preventDefault();
        enter(row);
      }
    });
    for (const input of [amountInput, description]) {
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
          event.preventDefault();
          enter(row);
        }
      });
    }
    amountInput.addEventListener("blur", () => checkAmount(row, { quietWhenEmpty: true }));
    lines.append(row);
    changed();
    return { row, focusFirst: () => select.focus(), focusAmount: () => amountInput.focus() };
  }

  function nextCategory(category) {
    return category === "registration" ? "drug" : category;
  }

  function removeLine(row) {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    if (!lines.children.length) addLine("registration", "A");
    (next && next.isConnected ? next : lines.lastElementChild).querySelector("[name=amount]").focus();
    changed();
  }

  function rowNumber(row) {
    return [...lines.children].indexOf(row) + 1;
  }

  // Enter in a line: the next line's amount (a new line after the last); on an empty last line,
  // to 确认结算.
  function enter(row) {
    const focused = document.activeElement;
    if (focused && row.contains(focused) && looksLikeCode(focused.value || "")) {
      const code = focused.value.trim();
      focused.value = "";
      clearField(focused);
      onScan?.(code);
      return;
    }
    const amount = row.querySelector("[name=amount]");
    const isLast = row === lines.lastElementChild;
    if (!amount.value.trim()) {
      if (isLast && lines.children.length > 1) {
        row.remove();
        changed();
        settleButton.focus();
        return;
      }
      checkAmount(row);
      amount.focus();
      return;
    }
    if (!checkAmount(row)) {
      amount.focus();
      return;
    }
    if (isLast) addLine().focusFirst();
    else row.nextElementSibling.querySelector("[name=amount]").focus();
  }

  function checkAmount(row, { quietWhenEmpty = false } = {}) {
    const amount = row.querySelector("[name=amount]");
    const text = amount.value.trim();
    if (!text && quietWhenEmpty) return true;
    if (toFen(text) !== null) {
      clearField(amount);
      return true;
    }
    markField(amount, t(text ? "ctr.amountBadShort" : "ctr.amountRequired"));
    return false;
  }

  function readLines() {
    return [...lines.children].map((row) => ({
      row,
      category: row.querySelector("[name=category]").value,
      coverage_class: row.querySelector("input[type=radio]:checked").value,
      amount_fen: toFen(row.querySelector("[name=amount]").value),
      empty: !row.querySelector("[name=amount]").value.trim(),
      description: row.querySelector("[name=description]").value.trim(),
    }));
  }

  // Every line must have a good amount, except an empty last line (ignored) when others are filled.
  function validate() {
    const read = readLines();
    const problems = [];
    read.forEach((line, index) => {
      const ignorable = line.empty && index === read.length - 1 && read.length > 1;
      if (ignorable || checkAmount(line.row)) return;
      problems.push({ input: line.row.querySelector("[name=amount]"),
        text: t("ctr.lineField", { n: index + 1, field: t("counter.amount"),
          what: t(line.empty ? "ctr.amountRequired" : "ctr.amountBad") }) });
    });
    return problems;
  }

  function body() {
    const read = readLines().filter((line) => line.amount_fen !== null);
    return { scan_id: state.scan.scan_id, use_personal_account: useAccount.checked,
      lines: read.map(({ category, coverage_class, amount_fen, description }) => ({ category, coverage_class, amount_fen, description })) };
  }

  function changed() {
    const read = readLines();
    const byClass = { A: 0, B: 0, C: 0 };
    for (const line of read) if (line.amount_fen !== null) byClass[line.coverage_class] += line.amount_fen;
    const total = byClass.A + byClass.B + byClass.C;
    form.querySelector("#total-bill").textContent = money(total);
    form.querySelector("#total-classes").textContent =
      CLASSES.map((value) => `${classWord(value)} ${money(byClass[value])}`).join(" · ");
    for (const line of read) {
      const input = line.row.querySelector("[name=amount]");
      if (input.classList.contains("invalid") && (line.amount_fen !== null)) clearField(input);
    }
    if (!form.querySelector(".invalid")) errorSummary(summary, []);
    schedulePreview(read, total);
  }

  function showSplit(split) {
    const set = (id, fen) => { form.querySelector(id).textContent = split ? money(fen) : "—"; };
    set("#split-fund", split?.fund_fen);
    set("#split-account", split?.personal_account_fen);
    set("#split-cash", split?.cash_fen);
    form.querySelector("#split-note").textContent = split
      ? t("ctr.splitNote", { deductible: money(split.deductible_fen), b: money(split.class_b_self_fen), c: money(split.class_c_fen) })
      : "";
  }

  function schedulePreview(read, total) {
    clearTimeout(state.timer);
    const usable = read.filter((line) => line.amount_fen !== null);
    const seq = ++state.previewSeq;
    if (!state.scan || !usable.length || total <= 0) {
      showSplit(null);
      return;
    }
    form.querySelector("#bill-foot").classList.add("pending");
    state.timer = setTimeout(async () => {
      try {
        const answer = await api.post("/api/v1/settlements/preview", body());
        if (seq === state.previewSeq) showSplit(answer.split);
      } catch (error) {
        if (seq !== state.previewSeq) return;
        showSplit(null);
        if (error.code !== "bad_lines") report(error);
      } finally {
        if (seq === state.previewSeq) form.querySelector("#bill-foot").classList.remove("pending");
      }
    }, PREVIEW_DELAY);
  }

  function report(error) {
    if (error.code === "bad_lines" && error.problem?.line) {
      const row = lines.children[error.problem.line - 1];
      const field = { amount_fen: "[name=amount]", category: "[name=category]", coverage_class: "input[type=radio]" }[error.problem.field];
      const input = row?.querySelector(field || "[name=amount]");
      if (input) {
        const text = t("ctr.lineField", { n: error.problem.line, field: t(field === "[name=amount]" ? "counter.amount" : field === "[name=category]" ? "counter.category" : "counter.class"), what: t("ctr.lineRefused") });
        markField(input, t("ctr.lineRefused"));
        errorSummary(summary, [{ input, text }]);
        input.focus();
        return;
      }
    }
    box.textContent = explain(error);
    if (["scan_expired", "code_already_settled", "credential_revoked", "person_suspended", "evoucher_not_accepted"].includes(error.code)) {
      onRefused?.(error);
    }
  }

  async function settle() {
    if (state.busy || !state.scan) return;
    box.textContent = "";
    const problems = validate();
    errorSummary(summary, problems);
    if (problems.length) {
      summary.focus();
      return;
    }
    const request = body();
    const fingerprint = JSON.stringify(request);
    // One key per bill: a retry of the same bill (after a timeout) reuses it and cannot pay twice;
    // a changed bill is a new request with a new key.
    if (!state.attempt || state.attempt.fingerprint !== fingerprint) {
      state.attempt = { fingerprint, key: crypto.randomUUID() };
    }
    state.busy = true;
    settleButton.disabled = true;
    settleButton.firstChild.textContent = t("ctr.settling");
    try {
      const answer = await api.post("/api/v1/settlements", request, { "Idempotency-Key": state.attempt.key });
      state.attempt = null;
      onSettled(answer);
    } catch (error) {
      report(error);
    } finally {
      state.busy = false;
      settleButton.disabled = false;
      settleButton.firstChild.textContent = t("counter.settle");
    }
  }

  return {
    element: form,
    start(scan) {
      state.scan = scan;
      state.attempt = null;
      box.textContent = "";
      errorSummary(summary, []);
      lines.replaceChildren();
      useAccount.checked = scan.personal_account_fen > 0;
      form.hidden = false;
      addLine("registration", "A").focusAmount();
    },
    reset() {
      state.scan = null;
      state.attempt = null;
      clearTimeout(state.timer);
      state.previewSeq++;
      form.hidden = true;
      lines.replaceChildren();
      showSplit(null);
    },
    settle,
  };
}
