// Console sections for trust: hospital-system API keys, the issuer's signing keys (rotation),
// recent revocations and the audit log (newest first, a page at a time).
import * as api from "../../api.js";
import { field } from "../../ui.js";
import { has } from "../../i18n.js";
import { done, fail, h, message, percentText, regionName, t, table, when, yuanText } from "./common.js";

export async function apiKeysSection(area) {
  const box = message();
  const list = h("div", { id: "api-key-list" });
  const shown = h("div", { id: "api-key-new", "aria-live": "polite" });
  const form = h("form", { novalidate: true, id: "api-key-create" },
    h("h3", { text: t("adm.apiKeyCreate") }),
    field("key-institution", "adm.field.institution", { autocomplete: "off", placeholder: "H31011800001" }),
    field("key-label", "adm.label", { autocomplete: "off" }),
    h("button", { type: "submit", text: t("adm.create") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const institution = form.querySelector("#key-institution").value.trim();
      const answer = await api.post(`/api/v1/admin/institutions/${encodeURIComponent(institution)}/api-keys`,
        { label: form.querySelector("#key-label").value });
      shown.replaceChildren(h("p", { class: "message ok", text: t("adm.apiKeyOnce") }), h("p", { class: "big-code", text: answer.key }));
      await load();
    } catch (error) {
      fail(box, error);
    }
  });
  area.append(box, list, form, shown);
  await load();

  async function load() {
    const { keys } = await api.get("/api/v1/admin/api-keys");
    list.replaceChildren(table(["adm.prefix", "adm.field.institution", "adm.label", "adm.createdBy", "adm.status", ""],
      keys.map((key) => h("tr", { "data-key": key.id }, h("td", { text: key.prefix }), h("td", { text: key.institution }),
        h("td", { text: key.label }), h("td", { text: key.created_by }),
        h("td", { text: key.revoked ? t("adm.revoked") : t("adm.active") }),
        h("td", {}, key.revoked ? "" : h("button", { type: "button", text: t("adm.revoke"), onclick: () => revoke(key) }))))));
  }

  async function revoke(key) {
    try {
      await api.post(`/api/v1/admin/api-keys/${key.id}/revoke`);
      done(box, "adm.apiKeyRevoked", { prefix: key.prefix });
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}

export async function signingKeysSection(area, scope) {
  const box = message();
  const list = h("div", { id: "signing-key-list" });
  const rotate = h("button", { type: "button", id: "rotate", text: t("adm.rotate") });
  const confirm = h("button", { type: "button", id: "rotate-confirm", class: "danger", text: t("adm.rotateConfirm"), hidden: true });
  rotate.addEventListener("click", () => { confirm.hidden = false; confirm.focus(); });
  confirm.addEventListener("click", async () => {
    confirm.hidden = true;
    try {
      const answer = await api.post("/api/v1/admin/signing-keys/rotate", { confirm: "rotate" });
      done(box, "adm.rotated", { kid: answer.kid, when: when(answer.signs_from) });
      render(answer.keys);
    } catch (error) {
      fail(box, error);
    }
  });
  area.append(h("p", { class: "tag", text: t("adm.keysIntro") }), box, list,
    scope.zone ? h("div", { class: "actions" }, rotate, confirm) : h("p", { class: "tag", text: t("adm.zoneRotates") }));
  const { keys } = await api.get("/api/v1/admin/signing-keys");
  render(keys);

  function render(keys) {
    list.replaceChildren(table(["adm.kid", "adm.status", "adm.created", "adm.signsFrom", "adm.retiredAt", "adm.dropAfter"],
      keys.map((key) => h("tr", { "data-kid": key.kid }, h("td", {}, h("code", { text: key.kid })),
        h("td", { text: t("adm.keyState." + key.state) }), h("td", { text: when(key.created_at) }),
        h("td", { text: when(key.signs_from) }), h("td", { text: when(key.retired_at) }), h("td", { text: when(key.drop_after) })))));
  }
}

export async function revocationsSection(area) {
  const { revocations } = await api.get("/api/v1/admin/revocations");
  area.append(revocations.length
    ? table(["adm.version", "adm.credential", "adm.kind", "adm.region", "adm.reason", "adm.revokedAt"],
      revocations.map((item) => h("tr", {}, h("td", { text: String(item.version) }), h("td", {}, h("code", { text: item.jti })),
        h("td", { text: t("adm.kind." + item.kind) }), h("td", { text: regionName(item.region) }),
        h("td", { text: item.reason }), h("td", { text: when(item.revoked_at) }))))
    : h("p", { text: t("adm.none") }));
}

export async function auditLogSection(area) {
  const box = message();
  const body = h("tbody", {});
  const more = h("button", { type: "button", id: "audit-more", text: t("adm.more"), hidden: true });
  let before = null;
  more.addEventListener("click", () => page().catch((error) => fail(box, error)));
  area.append(box, h("table", { class: "split", id: "audit-log" },
    h("thead", {}, h("tr", {}, ["adm.at", "adm.actor", "adm.action", "adm.target", "adm.region", "adm.detail"].map((key) => h("th", { scope: "col", text: t(key) })))),
    body), more);
  await page();

  async function page() {
    const answer = await api.get(`/api/v1/admin/audit-log?limit=50${before ? `&before=${before}` : ""}`);
    body.append(...answer.entries.map((entry) => h("tr", { "data-audit": entry.id },
      h("td", { text: when(entry.at) }), h("td", { text: entry.actor }),
      h("td", { text: actionText(entry.action) }), h("td", { text: `${entry.target_type} ${entry.target_id}` }),
      h("td", { text: regionName(entry.region) }), h("td", {}, h("code", { text: detailText(entry.detail) })))));
    before = answer.next_before;
    more.hidden = !before;
  }
}

function actionText(action) {
  const key = "adm.action." + action;
  const words = t(key);
  return words === key ? action : `${words} (${action})`;
}

// Amounts in yuan and ratios in %, changes as "old → new", field names in words.
function detailText(detail) {
  const label = (name) => (has("adm.field." + name) ? t("adm.field." + name) : name);
  const one = (name, value) => (typeof value !== "number" ? JSON.stringify(value)
    : name === "signs_from" ? when(value)
      : name.endsWith("_fen") ? t("yuan", { yuan: yuanText(value) })
      : name.endsWith("_bp") ? `${percentText(value)}%` : String(value));
  const show = (name, value) => (Array.isArray(value) && value.length === 2
    ? `${one(name, value[0])} → ${one(name, value[1])}` : one(name, value));
  const parts = [];
  for (const [name, value] of Object.entries(detail)) {
    if (name === "changes" && value && typeof value === "object") {
      for (const [changed, pair] of Object.entries(value)) parts.push(`${label(changed)}: ${show(changed, pair)}`);
    } else {
      parts.push(`${label(name)}: ${show(name, value)}`);
    }
  }
  return parts.join("; ");
}
