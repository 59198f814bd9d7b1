// Console sections for people and devices: staff accounts (create with a password, disable) and
// bus validators (status, disable; enrolment and ridership from ../admin.js).
import * as api from "../../api.js";
import { field } from "../../ui.js";
import { adminPanels } from "../admin.js";
import { done, fail, h, message, regionName, t, table, when } from "./common.js";

export async function staffSection(area, scope) {
  const box = message();
  const list = h("div", { id: "staff-list" });
  const regionChoices = scope.zone
    ? [["", t("adm.zone")], ["310118", regionName("310118")], ["320509", regionName("320509")], ["330421", regionName("330421")]]
    : [[scope.region, regionName(scope.region)]];
  const form = h("form", { novalidate: true, id: "staff-create" },
    h("h3", { text: t("adm.staffCreate") }),
    field("staff-login", "adm.field.login", { autocomplete: "off" }),
    field("staff-password", "adm.field.password", { type: "password", autocomplete: "new-password" }),
    h("div", { class: "field" }, h("label", { for: "staff-role", text: t("adm.field.role") }),
      h("select", { id: "staff-role" }, ["cashier", "auditor", "admin"].map((role) => h("option", { value: role, text: t("adm.role." + role) })))),
    h("div", { class: "field" }, h("label", { for: "staff-region", text: t("adm.field.region") }),
      h("select", { id: "staff-region" }, regionChoices.map(([value, text]) => h("option", { value, text })))),
    field("staff-institution", "adm.field.institution", { autocomplete: "off", placeholder: "H31011800001" }),
    h("button", { type: "submit", text: t("adm.create") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const role = form.querySelector("#staff-role").value;
    const body = { login: form.querySelector("#staff-login").value.trim(), password: form.querySelector("#staff-password").value, role };
    if (role === "cashier") body.institution = form.querySelector("#staff-institution").value.trim();
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
  await load();

  async function load() {
    const { staff } = await api.get("/api/v1/admin/staff");
    list.replaceChildren(table(["adm.field.login", "adm.field.role", "adm.region", "adm.field.institution", "adm.status", ""],
      staff.map((account) => {
        const action = account.active && account.login !== scope.login
          ? h("button", { type: "button", text: t("adm.disable"), onclick: () => disable(account) }) : "";
        return h("tr", { "data-staff": account.login }, h("td", { text: account.login }),
          h("td", { text: t("adm.role." + account.role) + (account.service ? ` (${t("adm.service")})` : "") }),
          h("td", { text: regionName(account.region) }), h("td", { text: account.institution || "—" }),
          h("td", { text: account.active ? t("adm.active") : t("adm.disabled") }), h("td", {}, action));
      })));
  }

  async function disable(account) {
    try {
      await api.post(`/api/v1/admin/staff/${account.id}/disable`);
      done(box, "adm.staffDisabled", { login: account.login });
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}

export async function validatorsSection(area) {
  const box = message();
  const list = h("div", { id: "validator-list" });
  area.append(box, list);
  await load();
  await adminPanels(area, { onRegistered: load });

  async function load() {
    const { validators } = await api.get("/api/v1/admin/validators");
    list.replaceChildren(table(["adm.id", "adm.line", "adm.label", "adm.status", "adm.created", ""],
      validators.map((item) => h("tr", { "data-validator": item.id }, h("td", { text: String(item.id) }),
        h("td", { text: item.line }), h("td", { text: item.label }),
        h("td", { text: t("adm.validator." + item.status) }), h("td", { text: when(item.created_at) }),
        h("td", {}, item.status === "disabled" ? "" : h("button", { type: "button", text: t("adm.disable"), onclick: () => disable(item) }))))));
  }

  async function disable(item) {
    try {
      await api.post(`/api/v1/admin/validators/${item.id}/disable`);
      done(box, "adm.validatorDisabled", { id: item.id });
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}
