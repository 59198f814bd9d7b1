// Small helpers to build screens without a framework: h() makes elements; the design system's
// components (icon, field with its error, list row, card, back link, tabs); messages are read out;
// money in yuan and times in China time.
import { currentLanguage, has, t } from "./i18n.js";

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "text") element.textContent = value;
    else if (name === "style") element.style.cssText = value; // CSSOM: allowed by the CSP, unlike a style attribute
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return element;
}

// A vendored Lucide icon (static/vendor/lucide-static-*/), drawn in the text colour; decorative.
export const icon = (name) => h("span", { class: `icon i-${name}`, "aria-hidden": "true" });

// A labelled input with its hint and its error beside it (GOV.UK: the error names the field).
export function field(id, labelKey, attributes = {}, { hintKey = null, vars = {} } = {}) {
  const described = [hintKey ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  return h("div", { class: "field", id: `${id}-field` },
    h("label", { for: id, text: t(labelKey, vars) }),
    hintKey ? h("p", { class: "field-hint", id: `${id}-hint`, text: t(hintKey, vars) }) : null,
    h("p", { class: "field-error", id: `${id}-error` }),
    h("input", { id, name: id, "aria-describedby": described, ...attributes }));
}

// Puts an error beside a field (or clears it with an empty text).
export function fieldError(id, text = "") {
  const wrapper = document.getElementById(`${id}-field`);
  const input = document.getElementById(id);
  if (!wrapper || !input) return;
  wrapper.classList.toggle("invalid", Boolean(text));
  wrapper.querySelector(".field-error").textContent = text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export function clearFieldErrors(form) {
  for (const wrapper of form.querySelectorAll(".field.invalid")) fieldError(wrapper.id.replace(/-field$/, ""));
}

// The readable text for an ApiError (translated by its stable code where we have words for it).
// A code we have no words for gets a plain sentence: never a raw code, never English on a Chinese
// screen (the server's English detail is shown only in English).
export function explain(error) {
  if (error.code === "network") return t("error.network");
  if (has("err." + error.code)) return t("err." + error.code, { detail: error.message });
  if (currentLanguage() === "en" && error.message && error.message !== error.code) {
    return t("error.generic", { detail: error.message });
  }
  return t("error.unknown");
}

export function message(kind = "error") {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status", "aria-live": "polite" });
}

export function show(box, text, kind = "error") {
  box.className = `message ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = text;
}

export const yuan = (fen) => (fen / 100).toFixed(2);
// An amount as people read it: "12.00 元" / "12.00 yuan", with a minus sign for money going out.
export const money = (fen) => t("yuan", { yuan: yuan(fen) });

// China time, whatever the phone's zone: "11月28日 14:05" / "28 Nov 14:05" (the year when not this year).
const CHINA = "Asia/Shanghai";
function parts(moment) {
  const date = moment instanceof Date ? moment : new Date(moment);
  const found = {};
  for (const part of new Intl.DateTimeFormat("en-GB", { timeZone: CHINA, year: "numeric", month: "numeric",
    day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date)) {
    found[part.type] = part.value;
  }
  return found;
}
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function chinaDate(moment) {
  const p = parts(moment);
  const year = p.year !== parts(new Date()).year;
  if (currentLanguage() === "en") return `${p.day} ${MONTHS[p.month - 1]}${year ? " " + p.year : ""}`;
  return `${year ? p.year + "年" : ""}${p.month}月${p.day}日`;
}

export function chinaTime(moment) {
  const p = parts(moment);
  return `${chinaDate(moment)} ${p.hour}:${p.minute}`;
}

// A screen: its title (h2) and content; the main region gets the focus for screen readers.
export function screen(titleKey, ...children) {
  const main = document.getElementById("main");
  main.className = "";
  const parts = children.filter((child) => child);
  const back = parts[0]?.classList?.contains("back") ? [parts.shift()] : []; // the way back comes first
  main.replaceChildren(...back, h("h2", { id: "screen-title", text: t(titleKey) }), ...parts);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  return main;
}

// The way back from a sub-screen.
export const backLink = (href, labelKey) => h("a", { class: "back", href }, icon("chevron-left"), t(labelKey));

export const card = (attributes, ...children) => h("section", { ...attributes, class: `card ${attributes.class || ""}`.trim() }, ...children);

// A list row: main text (title and a second line) on the left, a number or a state on the right.
export function row({ title, sub = null, side = null, sideSub = null, attributes = {} }) {
  return h("li", attributes,
    h("span", { class: "row-main" }, h("span", { class: "row-title" }, title), sub ? h("span", { class: "row-sub" }, sub) : null),
    side !== null ? h("span", { class: "row-side" }, h("span", { class: "row-amount" }, side),
      sideSub ? h("span", { class: "row-sub" }, sideSub) : null) : null);
}

// Tabs as a segmented control (role=tablist); onSelect(key) when one is chosen.
export function tabs(labelKey, choices, selected, onSelect) {
  const list = h("div", { class: "segmented", role: "tablist", "aria-label": t(labelKey) });
  for (const { key, labelKey: label, iconName } of choices) {
    list.append(h("button", { type: "button", role: "tab", "data-key": key, "aria-selected": String(key === selected),
      onclick: () => {
        for (const tab of list.children) tab.setAttribute("aria-selected", String(tab.dataset.key === key));
        onSelect(key);
      } }, iconName ? icon(iconName) : null, t(label)));
  }
  return list;
}

// Ask before what cannot be undone. Resolves true only when the person chose the action; the
// dialog says the consequence in plain words (bodyKey), and Esc or 取消 keeps everything as it was.
export function confirmDialog({ titleKey, bodyKey, confirmKey, vars = {}, danger = true }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-body" },
      h("h2", { id: "confirm-title", text: t(titleKey, vars) }),
      h("p", { id: "confirm-body", text: t(bodyKey, vars) }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "cancel", value: "cancel", text: t("confirm.cancel"),
          onclick: () => dialog.close("cancel") }),
        h("button", { type: "button", class: danger ? "danger" : "primary", value: "ok",
          text: t(confirmKey, vars), onclick: () => dialog.close("ok") })));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(dialog.returnValue === "ok"); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("button.cancel").focus();
  });
}
