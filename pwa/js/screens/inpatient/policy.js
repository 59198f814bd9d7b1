// The admin console's inpatient policy editor (住院政策), one form per region and scheme beside the
// outpatient one: the deductible per year or per admission by level (the later admissions' share),
// ratios, the class-B self-pay share, the cap (shared with outpatient care or not), the personal
// account, the audit thresholds. Typed in yuan / % / days, sent as fen / basis points; every
// refusal is named beside its field, in words, and listed at the top of the form.
import * as api from "../../api.js";
import { has, t } from "../../i18n.js";
import { bpFromPercent, done, fail, fenFromYuan, h, message, percentText, yuanText } from "../admin/common.js";

const MONEY = ["deductible_year_fen", "deductible_l1_fen", "deductible_l2_fen", "deductible_l3_fen", "annual_cap_fen", "audit_daily_cost_fen"];
const RATIOS = ["later_admission_deductible_bp", "ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp", "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp", "class_b_self_share_bp"];
const DAYS = ["audit_max_stay_days"];
// The order on screen: the deductible, the cap, the ratios, then the audit thresholds.
const ORDER = ["deductible_year_fen", "deductible_l1_fen", "deductible_l2_fen", "deductible_l3_fen", "later_admission_deductible_bp",
  "annual_cap_fen", "ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp", "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp",
  "class_b_self_share_bp", "audit_max_stay_days", "audit_daily_cost_fen"];
const FLAGS = ["cap_shared_with_outpatient", "has_personal_account", "personal_account_pays_deductible", "personal_account_pays_class_c"];
const PER_YEAR = ["deductible_year_fen"];
const PER_ADMISSION = ["deductible_l1_fen", "deductible_l2_fen", "deductible_l3_fen", "later_admission_deductible_bp"];

const label = (name) => t("adm.ip.field." + name);
const problemText = (code) => t(has("adm.ip.err." + code) ? "adm.ip.err." + code : "adm.ip.err.other");

function policyForm(policy) {
  const region = policy.region;
  const box = message();
  const id = (name) => `ip-${region}-${policy.insurance_class}-${name}`;
  const errors = h("div", { class: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const input = (name, value, unitKey) => h("div", { class: "field", "data-field": name },
    h("label", { for: id(name), text: t("bo.withUnit", { label: label(name), unit: t(unitKey) }) }),
    h("p", { class: "field-error", id: `${id(name)}-error` }),
    h("input", { id: id(name), name, inputmode: "decimal", autocomplete: "off", value, "aria-describedby": `${id(name)}-error` }));
  const mode = h("select", { id: id("deductible_mode"), name: "deductible_mode" },
    ["per_year", "per_admission"].map((value) => h("option", { value, selected: policy.deductible_mode === value, text: t("adm.ip.mode." + value) })));
  const form = h("form", { novalidate: true, class: "policy ip-policy", "data-inpatient-policy": `${region}/${policy.insurance_class}` },
    h("h4", { text: `${t("adm.ip.title")} · ${t("adm.class." + policy.insurance_class)}` }),
    errors,
    h("div", { class: "grid" },
      h("div", { class: "field", "data-field": "deductible_mode" }, h("label", { for: id("deductible_mode"), text: t("adm.ip.mode") }),
        h("p", { class: "field-error", id: `${id("deductible_mode")}-error` }), mode),
      ORDER.map((name) => (MONEY.includes(name) ? input(name, yuanText(policy[name] ?? 0), "adm.unit.yuan")
        : RATIOS.includes(name) ? input(name, percentText(policy[name] ?? 0), "adm.unit.percent")
          : input(name, String(policy[name] ?? ""), "adm.ip.unit.days")))),
    FLAGS.map((name) => h("div", { class: "check", "data-field": name },
      h("input", { type: "checkbox", id: id(name), name, checked: Boolean(policy[name]) }),
      h("label", { for: id(name), text: label(name) }))),
    h("button", { type: "submit", text: t("adm.save") }), box);

  const fieldBox = (name) => form.querySelector(`[data-field="${name}"]`);
  function showMode() {
    for (const name of PER_YEAR) fieldBox(name).hidden = mode.value !== "per_year";
    for (const name of PER_ADMISSION) fieldBox(name).hidden = mode.value !== "per_admission";
  }
  mode.addEventListener("change", showMode);
  showMode();

  function mark(problems) {
    for (const wrapper of form.querySelectorAll(".field.invalid")) {
      wrapper.classList.remove("invalid");
      wrapper.querySelector(".field-error").textContent = "";
      wrapper.querySelector("input, select")?.removeAttribute("aria-invalid");
    }
    errors.hidden = !problems.length;
    errors.replaceChildren();
    if (!problems.length) return;
    const items = [];
    for (const { field, text } of problems) {
      const wrapper = fieldBox(field);
      const control = form.elements[field];
      if (wrapper?.classList.contains("field")) {
        wrapper.hidden = false;
        wrapper.classList.add("invalid");
        wrapper.querySelector(".field-error").textContent = text;
        control?.setAttribute("aria-invalid", "true");
      }
      items.push(h("li", {}, h("a", { href: "#", text: `${field ? label(field) : ""}${field ? t("adm.colon") : ""}${text}`,
        onclick: (event) => { event.preventDefault(); control?.focus(); } })));
    }
    errors.append(h("h2", { text: t("adm.ip.fix") }), h("ul", {}, items));
    errors.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    box.textContent = "";
    const body = { deductible_mode: mode.value };
    const wrong = [];
    for (const name of MONEY) {
      body[name] = fenFromYuan(form.elements[name].value);
      if (body[name] === null) wrong.push({ field: name, text: t("adm.bad.yuan") });
    }
    for (const name of RATIOS) {
      body[name] = bpFromPercent(form.elements[name].value);
      if (body[name] === null || body[name] > 10000) wrong.push({ field: name, text: problemText("ratio_out_of_range") });
    }
    for (const name of DAYS) {
      const text = form.elements[name].value.trim();
      body[name] = /^\d{1,3}$/.test(text) ? Number(text) : null;
      if (body[name] === null || body[name] < 1 || body[name] > 365) wrong.push({ field: name, text: t("adm.ip.bad.days") });
    }
    for (const name of FLAGS) body[name] = form.elements[name].checked;
    mark(wrong);
    if (wrong.length) return;
    try {
      const answer = await api.patch(`/api/v1/admin/regions/${region}/inpatient-policies/${policy.insurance_class}`, body);
      Object.assign(policy, answer.policy || {});
      done(box, "adm.ip.saved");
    } catch (error) {
      const problems = error.problem?.problems;
      if (error.code === "invalid_policy" && Array.isArray(problems) && problems.length) {
        mark(problems.map((one) => ({ field: one.field in form.elements || fieldBox(one.field) ? one.field : null, text: problemText(one.code) })));
      } else {
        fail(box, error);
      }
    }
  });
  return form;
}

// Adds each region's inpatient policies to its section of the regions tab ([data-region=code]).
export async function addInpatientPolicies(area) {
  let policies;
  try {
    ({ policies } = await api.get("/api/v1/admin/inpatient-policies"));
  } catch (error) {
    const box = message();
    area.prepend(box);
    fail(box, error);
    return;
  }
  for (const policy of policies) {
    const section = area.querySelector(`[data-region="${policy.region}"]`);
    if (section) section.append(policyForm(policy));
  }
}


