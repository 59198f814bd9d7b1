// 入院登记: scan the e-voucher (keyboard-wedge scanner, the camera, or no phone: national ID at
// the desk, as at the counter), then the admission: admission number, ward, admitting diagnosis
// (ICD-10 code and text) and the day (today, or up to 7 days back). No filing, whatever the
// patient's home region: the green card says whose rules will apply.
import * as api from "../../api.js";
import { t } from "../../i18n.js";
import { h } from "../../ui.js";
import { attachWedge, cameraErrorCode, startCamera } from "../../scanner.js";
import { money, named, schemeWord, todayInChina } from "../counter/format.js";
import { identifyForm } from "../counter/identify.js";
import { clearField, errorSummary, markField } from "../counter/words.js";
import { addDays, explain } from "./common.js";

const ADMISSION_NO = /^[A-Za-z0-9_-]{1,30}$/;
const ICD10 = /^[A-Z]\d{2}(\.[A-Z0-9]{1,4})?$/;

export function admitPanel({ onAdmitted }) {
  const state = { scan: null, stopCamera: null, key: null };
  const wedge = h("input", { id: "ip-wedge", autocomplete: "off", spellcheck: "false", class: "wedge" });
  const video = h("video", { id: "ip-camera", muted: true, playsinline: true, hidden: true, "aria-hidden": "true" });
  const cameraButton = h("button", { type: "button", id: "ip-camera-toggle", class: "quiet" },
    h("span", { class: "icon i-scan-line", "aria-hidden": "true" }), h("span", { text: t("counter.camera") }));
  const noPhone = h("button", { type: "button", id: "ip-no-phone", class: "quiet" },
    h("span", { class: "icon i-id-card", "aria-hidden": "true" }), t("ctr.noPhone"));
  const cameraBox = h("p", { class: "message error", role: "alert" });
  const holder = h("section", { id: "ip-holder", class: "holder idle", "aria-live": "assertive" });
  const identifySlot = h("div", { id: "ip-identify-slot" });

  const today = todayInChina();
  const input = (name, attributes = {}) => h("input", { id: `ip-${name}`, name, autocomplete: "off", spellcheck: "false", ...attributes });
  const controls = {
    admission_no: input("admission_no", { maxlength: "30", class: "id-number" }),
    ward: input("ward", { maxlength: "40" }),
    diagnosis_code: input("diagnosis_code", { maxlength: "8", class: "id-number" }),
    diagnosis_text: input("diagnosis_text", { maxlength: "100" }),
    admitted_on: input("admitted_on", { type: "date", value: today, min: addDays(today, -7), max: today }),
  };
  const field = (name, hintKey) => h("div", { class: "field" },
    h("label", { for: `ip-${name}`, text: t(`ip.field.${name}`) }),
    hintKey ? h("p", { class: "field-hint", text: t(hintKey) }) : null, controls[name]);
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const box = h("p", { class: "message error", id: "ip-admit-message", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary big", id: "ip-admit" }, h("span", { text: t("ip.admitGo") }), h("kbd", { text: "Enter" }));
  const form = h("form", { id: "ip-admit-form", class: "card ip-admit-form", novalidate: true, hidden: true },
    h("h3", { class: "card-title", text: t("ip.admitTitle") }),
    summary,
    h("div", { class: "ip-admit-grid" },
      field("admission_no", "ip.hint.admission_no"), field("ward"),
      field("diagnosis_code", "ip.hint.diagnosis_code"), field("diagnosis_text"),
      field("admitted_on", "ip.hint.admitted_on")),
    box,
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", class: "quiet", id: "ip-admit-cancel", text: t("confirm.cancel"), onclick: () => reset() })));
  const idle = h("div", { class: "bill-idle", id: "ip-admit-idle" },
    h("span", { class: "icon i-scan-line", "aria-hidden": "true" }),
    h("p", { class: "big-hint", text: t("ip.admitWaiting") }),
    h("p", { class: "secondary", text: t("ip.admitIdleHelp") }));
  const element = h("div", { class: "settle-grid ip-admit", id: "ip-admit-view" },
    h("div", { class: "scan-col" },
      h("div", { class: "field" }, h("label", { for: "ip-wedge", text: t("counter.wedge") }), wedge),
      h("div", { class: "actions scan-actions" }, cameraButton, noPhone),
      cameraBox, video, holder),
    h("div", { class: "bill-col" }, identifySlot, idle, form));

  attachWedge(wedge, (code) => scanned(code));
  cameraButton.addEventListener("click", toggleCamera);
  noPhone.addEventListener("click", openIdentify);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    admit();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      reset();
    }
  });
  controls.diagnosis_code.addEventListener("input", () => {
    const upper = controls.diagnosis_code.value.toUpperCase();
    if (upper !== controls.diagnosis_code.value) controls.diagnosis_code.value = upper;
  });
  waiting();

  function waiting() {
    holder.className = "holder idle";
    holder.replaceChildren(h("p", { class: "secondary", text: t("ctr.holderIdle") }));
  }

  function stopCamera() {
    state.stopCamera?.();
    state.stopCamera = null;
    video.hidden = true;
    cameraButton.lastChild.textContent = t("counter.camera");
  }

  async function toggleCamera() {
    cameraBox.textContent = "";
    if (state.stopCamera) {
      stopCamera();
      wedge.focus();
      return;
    }
    try {
      state.stopCamera = await startCamera(video, (code) => scanned(code), (why) => {
        stopCamera();
        cameraBox.textContent = t(`ctr.camera.${why}`);
      });
      video.hidden = false;
      cameraButton.lastChild.textContent = t("counter.cameraOff");
    } catch (error) {
      cameraBox.textContent = t(`ctr.camera.${cameraErrorCode(error)}`);
    }
    wedge.focus();
  }

  function openIdentify() {
    identifySlot.replaceChildren(identifyForm({
      onFound: (answer) => {
        identifySlot.replaceChildren();
        show(answer);
      },
      onCancel: () => {
        identifySlot.replaceChildren();
        idle.hidden = Boolean(state.scan);
        form.hidden = !state.scan;
        wedge.focus();
      },
    }));
    idle.hidden = true;
    form.hidden = true;
    identifySlot.querySelector("#national-id").focus();
  }

  async function scanned(code) {
    identifySlot.replaceChildren();
    try {
      show(await api.post("/api/v1/verify", { code, context: "hospital" }));
    } catch (error) {
      state.scan = null;
      form.hidden = true;
      idle.hidden = false;
      holder.className = "holder refused-card";
      holder.replaceChildren(
        h("p", { class: "big" }, h("span", { class: "icon i-circle-x", "aria-hidden": "true" }), t("counter.refused")),
        h("p", { role: "alert", id: "ip-refusal", text: explain(error) }),
        h("p", { class: "next", text: t("ctr.refusedNext") }));
      wedge.focus();
    }
  }

  // A patient whose home rules apply: the green card, then the admission form, the number first.
  function show(answer) {
    state.scan = answer;
    state.key = null;
    const region = named(answer.home_region_name);
    holder.className = "holder ok-card";
    holder.replaceChildren(...[
      h("p", { class: "who", id: "ip-holder-name" }, h("span", { class: "icon i-circle-check", "aria-hidden": "true" }), answer.masked_name),
      answer.manual ? h("p", { class: "tag pill warn", text: t("ctr.manualCard", { id: answer.national_id_masked }) }) : null,
      h("dl", { class: "holder-facts" },
        h("dt", { text: t("ctr.insured") }), h("dd", { text: `${region} · ${schemeWord(answer.insurance_class)}` }),
        h("dt", { text: t("ctr.rules") }), h("dd", { text: t(answer.cross_region ? "ip.rulesCross" : "ctr.rulesLocal", { region }) }),
        h("dt", { text: t("ctr.balance") }), h("dd", { text: t("yuan", { yuan: money(answer.personal_account_fen) }) })),
      h("p", { class: "ip-no-filing", text: t("ip.noFiling") })].filter(Boolean));
    idle.hidden = true;
    form.hidden = false;
    box.textContent = "";
    controls.admission_no.focus();
  }

  function readForm() {
    const values = Object.fromEntries(Object.entries(controls).map(([name, control]) => [name, control.value.trim()]));
    values.diagnosis_code = values.diagnosis_code.toUpperCase();
    const problems = [];
    const wrong = (name, key) => problems.push({ input: controls[name], text: t(key) });
    if (!ADMISSION_NO.test(values.admission_no)) wrong("admission_no", values.admission_no ? "ip.bad.admission_no" : "ip.need.admission_no");
    if (!values.ward) wrong("ward", "ip.need.ward");
    if (!ICD10.test(values.diagnosis_code)) wrong("diagnosis_code", values.diagnosis_code ? "ip.bad.diagnosis_code" : "ip.need.diagnosis_code");
    if (!values.diagnosis_text) wrong("diagnosis_text", "ip.need.diagnosis_text");
    const day = values.admitted_on;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || day > todayInChina() || day < addDays(todayInChina(), -7)) wrong("admitted_on", "ip.bad.admitted_on");
    return { values, problems };
  }

  async function admit() {
    if (!state.scan || submit.disabled) return;
    box.textContent = "";
    for (const control of Object.values(controls)) clearField(control);
    const { values, problems } = readForm();
    for (const { input, text } of problems) markField(input, text);
    errorSummary(summary, problems.length > 1 ? problems : []);
    if (problems.length) {
      problems[0].input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const answer = await api.post("/api/v1/inpatient/stays", { scan_id: state.scan.scan_id, ...values });
      const stay = answer.stay;
      reset();
      onAdmitted(stay, answer.replayed);
    } catch (error) {
      const name = error.problem?.field || { admission_no_taken: "admission_no" }[error.code];
      if (controls[name]) {
        markField(controls[name], explain(error));
        controls[name].focus();
      } else {
        box.textContent = explain(error);
        if (error.code === "scan_expired") wedge.focus();
      }
    } finally {
      submit.disabled = false;
    }
  }

  function reset() {
    state.scan = null;
    identifySlot.replaceChildren();
    for (const control of Object.values(controls)) {
      clearField(control);
      if (control.name !== "admitted_on") control.value = "";
    }
    const today = todayInChina();  // a console left open past midnight: the new day's limits
    Object.assign(controls.admitted_on, { value: today, max: today, min: addDays(today, -7) });
    errorSummary(summary, []);
    box.textContent = "";
    form.hidden = true;
    idle.hidden = false;
    waiting();
    wedge.focus();
  }

  return { element, focus: () => (state.scan ? controls.admission_no.focus() : wedge.focus()), stop: stopCamera, reset };
}
