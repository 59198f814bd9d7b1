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
