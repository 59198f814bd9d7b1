// Console sections for people and devices: staff accounts (create with a password; disable and
// enable again, each after a confirmation that says what happens) and bus validators (status,
// disable after a confirmation; enrolment from ../admin.js). Names, not codes: 王晓燕, 青浦区中心医院,
// 示范区1路.
import * as api from "../../api.js";
import { confirmDialog, field } from "../../ui.js";
import { enrolPanel } from "../admin.js";
import { cell, done, fail, h, message, nameOf, regionChoices, regionName, t, table, when } from "./common.js";

export async function staffSection(area, scope) {
  const box = message();
  const list = h("div", { id: "staff-list" });
  const regionOptions = scope.zone ? [["", t("adm.zone")], ...regionChoices()] : [[scope.region, regionName(scope.region)]];
  const institution = h("select", { id: "staff-institution" });
  const form = h("form", { novalidate: true, id: "staff-create", class: "card form-grid" },
    h("h3", { class: "card-title", text: t("adm.staffCreate") }),
    field("staff-login", "adm.field.login", { autocomplete: "off" }),
    field("staff-password", "adm.field.password", { type: "password", autocomplete: "new-password" }),
    h("div", { class: "field" }, h("label", { for: "staff-role", text: t("adm.field.role") }),
      h("select", { id: "staff-role" }, ["cashier", "auditor", "admin"].map((role) => h("option", { value: role, text: t("adm.role." + role) })))),
    h("div", { class: "field" }, h("label", { for: "staff-region", text: t("adm.field.region") }),
      h("select", { id: "staff-region" }, regionOptions.map(([value, text]) => h("option", { value, text })))),
    h("div", { class: "field" }, h("label", { for: "staff-institution", text: t("adm.staffInstitution") }), institution),
    h("div", { class: "actions" }, h("button", { type: "submit", text: t("adm.create") })));
  const roleSelect = form.querySelector("#staff-role");
  const showFor = () => { // a cashier is bound to an institution; auditors and admins to a region
    institution.closest(".field").hidden = roleSelect.value !== "cashier";
    form.querySelector("#staff-region").closest(".field").hidden = roleSelect.value === "cashier";
  };
  roleSelect.addEventListener("change", showFor);
  showFor();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const role = roleSelect.value;
    const body = { login: form.querySelector("#staff-login").value.trim(), password: form.querySelector("#staff-password").value, role };
    if (role === "cashier") body.institution = institution.value;
    else body.region = form.querySelector("#staff-region").value || null;
    try {
      const { account } = await api.post("/api/v1/admin/staff", body);
      form.querySelector("#staff-password").value = "";
      done(box, "adm.staffCreated", { login: account.login });
      await load();
    } catch (error) {
      fail(box, error);
    }
  });
  area.append(box, list, form);
  await Promise.all([load(), institutionOptions(institution)]);

  async function load() {
    const { staff, names } = await api.get("/api/v1/admin/staff");
    list.replaceChildren(table(["adm.staffName", "adm.field.login", "adm.field.role", "adm.region", "adm.institution", "adm.status", ""],
      staff.map((account) => {
        const self = account.login === scope.login;
        const action = self ? h("span", { class: "tag", text: t("adm.you") })
          : h("button", { type: "button", class: account.active ? "danger-outline small" : "small",
            text: t(account.active ? "adm.disable" : "adm.enable"), onclick: () => toggle(account) });
        return h("tr", { "data-staff": account.login }, cell(account.name || "—"), cell(account.login),
          cell(t("adm.role." + account.role) + (account.service ? ` (${t("adm.service")})` : "")),
          cell(regionName(account.region, names)), cell(account.institution ? nameOf(names, "institutions", account.institution) : "—"),
          h("td", {}, h("span", { class: `tag pill ${account.active ? "ok" : "bad"}`, text: account.active ? t("adm.active") : t("adm.disabled") })),
          h("td", {}, action));
      })));
  }

  async function toggle(account) {
    const enable = !account.active;
    const who = account.name ? t("bo.nameLogin", { name: account.name, login: account.login }) : account.login;
    const ok = await confirmDialog(enable
      ? { titleKey: "adm.enableTitle", bodyKey: "adm.enableBody", confirmKey: "adm.enable", vars: { who }, danger: false }
      : { titleKey: "adm.disableTitle", bodyKey: "adm.disableBody", confirmKey: "adm.disable", vars: { who } });
    if (!ok) return;
    try {
      await api.post(`/api/v1/admin/staff/${account.id}/${enable ? "enable" : "disable"}`);
      done(box, enable ? "adm.staffEnabled" : "adm.staffDisabled", { login: who });
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}

// Every institution in scope as <option>s grouped by region (a select reads names; the code is sent).
export async function institutionOptions(select) {
  const items = [];
  for (let page = 1; page < 20; page += 1) {
    const answer = await api.get(`/api/v1/admin/institutions?per_page=200&page=${page}`);
    items.push(...answer.institutions);
    if (items.length >= answer.total || !answer.institutions.length) break;
  }
  const groups = new Map();
  for (const item of items) {
    if (!groups.has(item.region)) groups.set(item.region, []);
    groups.get(item.region).push(item);
  }
  select.replaceChildren(...[...groups].map(([region, list]) => h("optgroup", { label: regionName(region) },
    list.map((item) => h("option", { value: item.code, text: nameOf({ institutions: { [item.code]: { zh: item.name_zh, en: item.name_en } } }, "institutions", item.code) })))));
}

export async function validatorsSection(area) {
  const box = message();
  const list = h("div", { id: "validator-list" });
  area.append(box, list);
  await load();
  await enrolPanel(area, { onRegistered: load });

  async function load() {
    const { validators, names } = await api.get("/api/v1/admin/validators");
    list.replaceChildren(validators.length ? table(["adm.id", "adm.line", "adm.label", "adm.status", "adm.created", ""],
      validators.map((item) => h("tr", { "data-validator": item.id }, cell(`#${item.id}`),
        cell(nameOf(names, "lines", item.line)), cell(item.label || "—"),
        h("td", {}, h("span", { class: `tag pill ${item.status === "active" ? "ok" : item.status === "disabled" ? "bad" : ""}`, text: t("adm.validator." + item.status) })),
        cell(when(item.created_at)),
        h("td", {}, item.status === "disabled" ? "" : h("button", { type: "button", class: "danger-outline small", text: t("adm.disable"),
          onclick: () => disable(item, names) })))))
      : h("p", { class: "empty", text: t("adm.noValidators") }));
  }

  async function disable(item, names) {
    const vars = { id: item.id, label: item.label || "", line: nameOf(names, "lines", item.line) };
    if (!await confirmDialog({ titleKey: "adm.validatorDisableTitle", bodyKey: "adm.validatorDisableBody", confirmKey: "adm.disable", vars })) return;
    try {
      await api.post(`/api/v1/admin/validators/${item.id}/disable`);
      done(box, "adm.validatorDisabled", { id: item.id });
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}
