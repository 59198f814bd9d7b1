// No phone: find the insured person, who is at the counter with their ID card, by national ID
// number. A reason is required (and a note for 其他); the cashier confirms the person is present.
// The answer is a scan like any other, marked 人工识别; the bill is flagged for the joint audit.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { clearField, errorSummary, explain, markField } from "./words.js";

const REASONS = ["phone_forgotten", "phone_flat", "no_smartphone", "phone_broken", "no_network", "other"];
const FIELD_ERRORS = {
  bad_national_id: "national_id", person_not_found: "national_id", reason_required: null,
  person_present_required: "person_present",
};

export function identifyForm({ onFound, onCancel }) {
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const box = h("p", { class: "message error", role: "alert" });
  const field = (id, labelKey, control, hintKey) => h("div", { class: "field" },
    h("label", { for: id, text: t(labelKey) }), hintKey ? h("p", { class: "field-hint", text: t(hintKey) }) : null, control);
  const nationalId = h("input", { id: "national-id", name: "national_id", autocomplete: "off", spellcheck: "false",
    maxlength: "18", inputmode: "text", class: "id-number" });
  const reason = h("select", { id: "manual-reason", name: "reason" },
    h("option", { value: "", text: t("ctr.chooseReason") }),
    REASONS.map((value) => h("option", { value, text: t(`ctr.reason.${value}`) })));
  const note = h("input", { id: "manual-note", name: "note", maxlength: "100", autocomplete: "off" });
  const present = h("input", { type: "checkbox", id: "person-present", name: "person_present" });
  const controls = { national_id: nationalId, reason, note, person_present: present };
  const form = h("form", { id: "identify", class: "card identify", novalidate: true },
    h("h3", { class: "card-title" }, h("span", { class: "icon i-id-card", "aria-hidden": "true" }), t("ctr.noPhoneTitle")),
    h("p", { class: "field-hint", text: t("ctr.noPhoneIntro") }),
    summary,
    h("div", { class: "identify-grid" },
      field("national-id", "ctr.nationalId", nationalId, "ctr.nationalIdHint"),
      field("manual-reason", "ctr.reasonLabel", reason, "ctr.reasonHint"),
      field("manual-note", "ctr.noteLabel", note),
      h("div", { class: "field present" }, h("div", { class: "check" }, present,
        h("label", { for: "person-present", text: t("ctr.personPresent") })))),
    box,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "identify-go", text: t("ctr.findPerson") }),
      h("button", { type: "button", class: "quiet", id: "identify-cancel", text: t("confirm.cancel"), onclick: () => onCancel() })));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    box.textContent = "";
    for (const control of Object.values(controls)) clearField(control);
    const problems = [];
    const id = nationalId.value.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id)) problems.push({ input: nationalId, text: t("ctr.idBad") });
    if (!reason.value) problems.push({ input: reason, text: t("ctr.reasonRequired") });
    else if (reason.value === "other" && !note.value.trim()) problems.push({ input: note, text: t("ctr.noteRequired") });
    if (!present.checked) problems.push({ input: present, text: t("ctr.presentRequired") });
    for (const { input, text } of problems) markField(input, text);
    errorSummary(summary, problems.length > 1 ? problems : []);
    if (problems.length) {
      problems[0].input.focus();
      return;
    }
    try {
      const answer = await api.post("/api/v1/counter/identify", {
        national_id: id, reason: reason.value, note: note.value.trim() || undefined, person_present: true });
      onFound(answer);
    } catch (error) {
      const name = error.problem?.field || FIELD_ERRORS[error.code];
      const input = controls[name];
      const text = error.code === "reason_required" ? t("ctr.reasonRequired") : explain(error);
      if (input) {
        markField(input, text);
        errorSummary(summary, []);
        input.focus();
      } else {
        box.textContent = text;
      }
    }
  });
  return form;
}
