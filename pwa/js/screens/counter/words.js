// Plain words for everything that can go wrong at the counter: each refusal by its stable code,
// never the server's English detail or a raw code on a Chinese screen; and fields in error named
// and outlined, with a summary that links to each (GOV.UK's pattern).
import { has, t } from "../../i18n.js";
import { h } from "../../ui.js";

export function explain(error) {
  if (!error) return "";
  if (error.code === "network") return t("error.network");
  if (error.status === 429 || error.code === "rate_limited") return t("ctr.err.rate_limited");
  if (has("ctr.err." + error.code)) return t("ctr.err." + error.code);
  if (has("err." + error.code) && error.code !== "bad_lines") return t("err." + error.code, { detail: "" });
  if (error.status === 401) return t("ctr.err.unauthenticated");
  if (error.status === 403) return t("ctr.err.forbidden");
  if (error.status >= 500 || error.status === 0) return t("ctr.err.server");
  return t("ctr.err.generic");
}

// Mark `input` as the field in error: outlined, described by a message beside it.
export function markField(input, text) {
  const holder = input.closest(".cell, .field") || input.parentElement;
  let note = holder.querySelector(".field-error");
  if (!note) {
    note = h("span", { class: "field-error", id: `${input.id || input.name}-error-${Math.random().toString(36).slice(2, 7)}` });
    holder.append(note);
  }
  note.textContent = text;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", note.id);
  input.classList.add("invalid");
  holder.classList.add("invalid");
}

export function clearField(input) {
  const holder = input.closest(".cell, .field") || input.parentElement;
  holder.querySelector(".field-error")?.remove();
  input.removeAttribute("aria-invalid");
  input.removeAttribute("aria-describedby");
  input.classList.remove("invalid");
  holder.classList.remove("invalid");
}

// The summary at the top: a title and one link per field in error (each focuses its field).
export function errorSummary(box, problems) {
  if (!problems.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.replaceChildren(
    h("h2", { text: t("ctr.errorsTitle") }),
    h("ul", {}, problems.map(({ input, text }) => h("li", {}, h("a", {
      href: "#", text, onclick: (event) => { event.preventDefault(); input.focus(); },
    })))));
}
