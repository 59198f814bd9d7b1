// Console sections for the registry: regions and their medical policies, institutions (e-voucher
// acceptance), bus lines and fares. Amounts are typed in yuan and sent as integer fen.
import * as api from "../../api.js";
import { bpFromPercent, done, fail, fenFromYuan, h, message, percentText, regionName, show, t, table, yuanText } from "./common.js";

const MONEY = ["deductible_fen", "annual_cap_fen"];
const RATIOS = ["ratio_l1_a_bp", "ratio_l2_a_bp", "ratio_l3_a_bp", "ratio_l1_b_bp", "ratio_l2_b_bp", "ratio_l3_b_bp", "class_b_self_share_bp"];
const FLAGS = ["has_personal_account", "personal_account_pays_deductible", "personal_account_pays_class_c"];

function policyForm(region, policy) {
  const box = message();
  const id = (name) => `p-${region.code}-${policy.insurance_class}-${name}`;
  const input = (name, value, unitKey) => h("div", { class: "field" },
    h("label", { for: id(name), text: `${t("adm.field." + name)}（${t(unitKey)}）` }),
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
    h("h3", { text: `${region.name_zh} ${region.name_en} · ${region.province_zh}` }),
    h("p", { class: "tag", text: t("adm.auditThreshold", { yuan: yuanText(region.audit_bill_threshold_fen) }) }),
    region.policies.map((policy) => policyForm(region, policy)))));
}

export async function institutionsSection(area) {
  const box = message();
  const { institutions } = await api.get("/api/v1/admin/institutions");
  const row = (item) => {
    const state = h("td", { text: item.accepts_evoucher ? t("adm.yes") : t("adm.no") });
    const button = h("button", { type: "button", text: t(item.accepts_evoucher ? "adm.evoucherOff" : "adm.evoucherOn") });
    button.addEventListener("click", async () => {
      try {
        const answer = await api.post(`/api/v1/admin/institutions/${item.code}/evoucher`, { accepts_evoucher: !item.accepts_evoucher });
        Object.assign(item, answer.institution);
        state.textContent = item.accepts_evoucher ? t("adm.yes") : t("adm.no");
        button.textContent = t(item.accepts_evoucher ? "adm.evoucherOff" : "adm.evoucherOn");
        done(box, "adm.saved");
      } catch (error) {
        fail(box, error);
      }
    });
    return h("tr", { "data-institution": item.code }, h("td", { text: item.code }), h("td", { text: item.name_zh }),
      h("td", { text: regionName(item.region) }), h("td", { text: String(item.level) }), state, h("td", {}, button));
  };
  area.append(box, table(["adm.code", "adm.name", "adm.region", "adm.level", "adm.evoucher", ""], institutions.map(row)));
}

export async function linesSection(area) {
  const box = message();
  const { lines } = await api.get("/api/v1/admin/lines");
  const row = (line) => {
    const fare = h("input", { id: `fare-${line.code}`, inputmode: "decimal", value: yuanText(line.fare_fen), "aria-label": t("adm.fareOf", { line: line.code }), disabled: !line.editable });
    const save = h("button", { type: "button", text: t("adm.save"), disabled: !line.editable });
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
    return h("tr", { "data-line": line.code }, h("td", { text: line.code }), h("td", { text: line.name_zh }),
      h("td", { text: line.regions.map(regionName).join(" · ") }),
      h("td", {}, fare), h("td", {}, line.editable ? save : h("span", { class: "tag", text: t("adm.zoneSetsFare") })));
  };
  area.append(box, table(["adm.line", "adm.name", "adm.regions", "adm.fareYuan", ""], lines.map(row)));
}
