// Small helpers to build screens without a framework: h() makes elements, messages are read out.
import { has, t } from "./i18n.js";

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

export function field(id, labelKey, attributes = {}) {
  return h("div", { class: "field" },
    h("label", { for: id, text: t(labelKey) }),
    h("input", { id, name: id, ...attributes }));
}

// The readable text for an ApiError (translated by its stable code where we have words for it).
export function explain(error) {
  if (error.code === "network") return t("error.network");
  if (has("err." + error.code)) return t("err." + error.code, { detail: error.message });
  return t("error.generic", { detail: error.message });
}

export function message(kind = "error") {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status", "aria-live": "polite" });
}

export function show(box, text, kind = "error") {
  box.className = `message ${kind}`;
  box.textContent = text;
}

export const yuan = (fen) => (fen / 100).toFixed(2);

export function screen(titleKey, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(h("h2", { text: t(titleKey) }), ...children.filter((child) => child));
  main.focus({ preventScroll: true });
  return main;
}

// Ask before what cannot be undone. Resolves true only when the person chose the action; the
// dialog says the consequence in plain words (bodyKey), and Esc or 取消 keeps everything as it was.
export function confirmDialog({ titleKey, bodyKey, confirmKey, vars = {}, danger = true }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title", text: t(titleKey, vars) }),
      h("p", { text: t(bodyKey, vars) }),
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
