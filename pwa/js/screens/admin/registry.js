// Console sections for the registry: regions and their medical policies, institutions (searched by
// name, filtered, paged; e-voucher acceptance, stopping it after a confirmation), bus lines and
// fares by name. Amounts are typed in yuan and sent as integer fen.
import * as api from "../../api.js";
import { currentLanguage } from "../../i18n.js";
import { confirmDialog } from "../../ui.js";
import { addInpatientPolicies } from "../inpatient/policy.js";
import {
  bpFromPercent, cell, done, fail, fenFromYuan, h, message, money, nameOf, pager, percentText, regionChoices, regionName, select, show, t,
  table, yuanText,
} from "./common.js";

const MONEY = ["deductible_fen", "annual_cap_fen"];
const RATIOS = ["ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp", "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp", "class_b_self_share_bp"];
const FLAGS = ["has_personal_account", "personal_account_pays_deductible", "personal_account_pays_class_c"];

function policyForm(region, policy) {
  const box = message();
  const id = (name) => `p-${region.code}-${policy.insurance_class}-${name}`;
  const input = (name, value, unitKey) => h("div", { class: "field" },
    h("label", { for: id(name), text: t("bo.withUnit", { label: t("adm.field." + name), unit: t(unitKey) }) }),
    h("input", { id: id(name), name, inputmode: "decimal", autocomplete: "off", value }));
  const form = h("form", { novalidate: true, class: "policy", "data-policy": `${region.code}/${policy.insurance_class}` },
    h("h4", { text: t("adm.class." + policy.insurance_class) }),
    h("div", { class: "grid" },
      MONEY.map((name) => input(name, yuanText(policy[name]), "adm.unit.yuan")),
      RATIOS.map((name) => input(name, percentText(policy[name]), "adm.unit.percent"))),
    FLAGS.map((name) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: id(name), name, checked: policy[name] }),
      h("label", { for: id(name), text: t("adm.field." + name) }))),
    h("button", { type: "submit", text: t("adm.save") }), box);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    const wrong = [];
    for (const name of MONEY) {
      body[name] = fenFromYuan(form.elements[name].value);
      if (body[name] === null) wrong.push(t("adm.field." + name) + t("adm.colon") + t("adm.bad.yuan"));
    }
    for (const name of RATIOS) {
      body[name] = bpFromPercent(form.elements[name].value);
      if (body[name] === null) wrong.push(t("adm.field." + name) + t("adm.colon") + t("adm.bad.percent"));
    }
    for (const name of FLAGS) body[name] = form.elements[name].checked;
    if (wrong.length) return show(box, wrong.join(" "));
    try {
      await api.patch(`/api/v1/admin/regions/${region.code}/policies/${policy.insurance_class}`, body);
      done(box, "adm.saved");
    } catch (error) {
      fail(box, error);
    }
  });
  return form;
}

export async function regionsSection(area) {
  const { regions } = await api.get("/api/v1/admin/regions");
  area.append(...regions.map((region) => h("section", { class: "region", "data-region": region.code },
    h("h3", { text: currentLanguage() === "en" ? `${region.name_en} · ${region.province_en}` : `${region.name_zh} · ${region.province_zh}` }),
    h("p", { class: "bo-note", text: t("adm.auditThreshold", { yuan: money(region.audit_bill_threshold_fen) }) }),
    region.policies.map((policy) => policyForm(region, policy)))));
  await addInpatientPolicies(area);  // 住院政策 beside each region's outpatient ones
}

export async function institutionsSection(area) {
  const box = message();
  const state = { q: "", region: "", level: "", evoucher: "", page: 1 };
  const search = h("input", { id: "inst-q", type: "search", autocomplete: "off", placeholder: t("adm.searchHint") });
  const filters = h("form", { class: "filter-bar", id: "institution-filters", role: "search", novalidate: true },
    h("div", { class: "field grow" }, h("label", { for: "inst-q", text: t("adm.search") }), search),
    select("inst-region", "adm.region", [["", t("adm.allRegions")], ...regionChoices()]),
    select("inst-level", "adm.level", [["", t("adm.allLevels")], ["3", t("audit.level.3")], ["2", t("audit.level.2")], ["1", t("audit.level.1")]]),
    select("inst-evoucher", "adm.evoucher", [["", t("adm.any")], ["yes", t("adm.accepting")], ["no", t("adm.notAccepting")]]),
    h("button", { type: "submit", text: t("adm.find") }));
  const list = h("div", { id: "institution-list" });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, { q: search.value.trim(), region: filters.querySelector("#inst-region").value,
      level: filters.querySelector("#inst-level").value, evoucher: filters.querySelector("#inst-evoucher").value, page: 1 });
    load().catch((error) => fail(box, error));
  });
  area.append(filters, box, list);
  await load();

  async function load() {
    const query = new URLSearchParams({ page: state.page, per_page: 20 });
    for (const name of ["q", "region", "level", "evoucher"]) if (state[name]) query.set(name, state[name]);
    const answer = await api.get(`/api/v1/admin/institutions?${query}`);
    list.replaceChildren(
      h("p", { class: "bo-note", id: "institution-count", text: t("adm.institutionsFound", { total: answer.total }) }),
      answer.institutions.length ? table(["adm.name", "adm.region", "adm.level", "adm.networked", "adm.evoucher", ""],
        answer.institutions.map(row)) : h("p", { class: "empty", text: t("adm.noneFound") }),
      pager({ page: answer.page, perPage: answer.per_page, total: answer.total, id: "institution-pager",
        onPage: (n) => { state.page = n; load().catch((error) => fail(box, error)); } }));
  }

  function row(item) {
    const names = { institutions: { [item.code]: { zh: item.name_zh, en: item.name_en } } };
    const state_ = h("td", {});
    const button = h("button", { type: "button", class: "small" });
    const paint = () => {
      state_.replaceChildren(h("span", { class: `tag pill ${item.accepts_evoucher ? "ok" : ""}`, text: item.accepts_evoucher ? t("adm.accepting") : t("adm.notAccepting") }));
      button.textContent = t(item.accepts_evoucher ? "adm.evoucherOff" : "adm.evoucherOn");
      button.className = item.accepts_evoucher ? "small danger-outline" : "small";
      button.disabled = !item.networked && !item.accepts_evoucher;
    };
    button.addEventListener("click", async () => {
      const name = nameOf(names, "institutions", item.code);
      if (item.accepts_evoucher && !await confirmDialog({ titleKey: "adm.evoucherOffTitle", bodyKey: "adm.evoucherOffBody",
        confirmKey: "adm.evoucherOff", vars: { name } })) return;
      try {
        const answer = await api.post(`/api/v1/admin/institutions/${item.code}/evoucher`, { accepts_evoucher: !item.accepts_evoucher });
        Object.assign(item, answer.institution);
        paint();
        done(box, item.accepts_evoucher ? "adm.evoucherOnDone" : "adm.evoucherOffDone", { name });
      } catch (error) {
        fail(box, error);
      }
    });
    paint();
    return h("tr", { "data-institution": item.code },
      h("td", {}, h("span", { class: "row-title", text: nameOf(names, "institutions", item.code) }),
        h("span", { class: "code secondary", text: item.code })),
      cell(regionName(item.region)), cell(t(`audit.level.${item.level}`)),
      cell(item.networked ? t("adm.yes") : t("adm.no")), state_, h("td", {}, button));
  }
}

export async function linesSection(area) {
  const box = message();
  const { lines } = await api.get("/api/v1/admin/lines");
  const row = (line) => {
    const name = currentLanguage() === "en" ? line.name_en : line.name_zh;
    const fare = h("input", { id: `fare-${line.code}`, inputmode: "decimal", class: "amount-input", value: yuanText(line.fare_fen),
      "aria-label": t("adm.fareOf", { line: name }), disabled: !line.editable });
    const save = h("button", { type: "button", class: "small", text: t("adm.save"), disabled: !line.editable });
    save.addEventListener("click", async () => {
      const fen = fenFromYuan(fare.value);
      if (fen === null) return show(box, t("adm.field.fare_fen") + t("adm.colon") + t("adm.bad.yuan"));
      try {
        const answer = await api.patch(`/api/v1/admin/lines/${line.code}`, { fare_fen: fen });
        fare.value = yuanText(answer.line.fare_fen);
        done(box, "adm.saved");
      } catch (error) {
        fail(box, error);
      }
    });
    return h("tr", { "data-line": line.code }, h("td", {}, h("span", { class: "row-title", text: name })),
      cell(line.regions.map((code) => regionName(code)).join(" · ")),
      h("td", { class: "num" }, fare), h("td", {}, line.editable ? save : h("span", { class: "tag", text: t("adm.zoneSetsFare") })));
  };
  area.append(box, table(["adm.line", "adm.regions", "adm.fareYuan#", ""], lines.map(row)));
}
