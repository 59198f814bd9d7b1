// Console sections for trust: hospital-system API keys (revoked after a confirmation), the issuer's
// signing keys (rotated after a confirmation), recent revocations, and the audit log — filtered by
// actor, action, object and China days, a page at a time, in words: who (王晓燕 · demo-cashier),
// what (退费), on what (结算单 #12 · 青浦区中心医院), amounts in yuan.
import * as api from "../../api.js";
import { currentLanguage, has } from "../../i18n.js";
import { confirmDialog, field } from "../../ui.js";
import { institutionOptions } from "./people.js";
import {
  cell, dayInput, done, fail, h, message, money, nameOf, percentText, regionName, select, t, table, when,
} from "./common.js";

export async function apiKeysSection(area) {
  const box = message();
  const list = h("div", { id: "api-key-list" });
  const shown = h("div", { id: "api-key-new", "aria-live": "polite" });
  const institution = h("select", { id: "key-institution" });
  const form = h("form", { novalidate: true, id: "api-key-create", class: "card form-grid" },
    h("h3", { class: "card-title", text: t("adm.apiKeyCreate") }),
    h("div", { class: "field" }, h("label", { for: "key-institution", text: t("adm.institution") }), institution),
    field("key-label", "adm.label", { autocomplete: "off" }),
    h("div", { class: "actions" }, h("button", { type: "submit", text: t("adm.create") })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api.post(`/api/v1/admin/institutions/${encodeURIComponent(institution.value)}/api-keys`,
        { label: form.querySelector("#key-label").value });
      shown.replaceChildren(h("p", { class: "message ok", text: t("adm.apiKeyOnce") }), h("p", { class: "big-code", text: answer.key }));
      await load();
    } catch (error) {
      fail(box, error);
    }
  });
  area.append(box, list, form, shown);
  await Promise.all([load(), institutionOptions(institution)]);

  async function load() {
    const { keys, names } = await api.get("/api/v1/admin/api-keys");
    list.replaceChildren(keys.length ? table(["adm.prefix", "adm.institution", "adm.label", "adm.createdBy", "adm.created", "adm.status", ""],
      keys.map((key) => h("tr", { "data-key": key.id }, h("td", {}, h("code", { text: key.prefix })),
        cell(nameOf(names, "institutions", key.institution)), cell(key.label || "—"), cell(key.created_by), cell(when(key.created_at)),
        h("td", {}, h("span", { class: `tag pill ${key.revoked ? "bad" : "ok"}`, text: key.revoked ? t("adm.revoked") : t("adm.active") })),
        h("td", {}, key.revoked ? "" : h("button", { type: "button", class: "danger-outline small", text: t("adm.revoke"),
          onclick: () => revoke(key, nameOf(names, "institutions", key.institution)) })))))
      : h("p", { class: "empty", text: t("adm.none") }));
  }

  async function revoke(key, name) {
    if (!await confirmDialog({ titleKey: "adm.apiKeyRevokeTitle", bodyKey: "adm.apiKeyRevokeBody", confirmKey: "adm.revoke",
      vars: { prefix: key.prefix, name } })) return;
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
  const rotate = h("button", { type: "button", id: "rotate", class: "danger", text: t("adm.rotate") });
  rotate.addEventListener("click", async () => {
    if (!await confirmDialog({ titleKey: "adm.rotateTitle", bodyKey: "adm.rotateBody", confirmKey: "adm.rotateConfirm" })) return;
    try {
      const answer = await api.post("/api/v1/admin/signing-keys/rotate", { confirm: "rotate" });
      done(box, "adm.rotated", { kid: answer.kid, when: when(answer.signs_from) });
      render(answer.keys);
    } catch (error) {
      fail(box, error);
    }
  });
  area.append(h("p", { class: "bo-note", text: t("adm.keysIntro") }), box, list,
    scope.zone ? h("div", { class: "actions" }, rotate) : h("p", { class: "tag", text: t("adm.zoneRotates") }));
  const { keys } = await api.get("/api/v1/admin/signing-keys");
  render(keys);

  function render(items) {
    list.replaceChildren(table(["adm.kid", "adm.status", "adm.created", "adm.signsFrom", "adm.retiredAt", "adm.dropAfter"],
      items.map((key) => h("tr", { "data-kid": key.kid }, h("td", {}, h("code", { text: key.kid })),
        cell(t("adm.keyState." + key.state)), cell(when(key.created_at)),
        cell(when(key.signs_from)), cell(when(key.retired_at)), cell(when(key.drop_after))))));
  }
}

export async function revocationsSection(area) {
  const { revocations } = await api.get("/api/v1/admin/revocations");
  area.append(revocations.length
    ? table(["adm.version#", "adm.credential", "adm.kind", "adm.region", "adm.reason", "adm.revokedAt"],
      revocations.map((item) => h("tr", {}, h("td", { class: "num", text: String(item.version) }), h("td", {}, h("code", { text: item.jti })),
        cell(t("adm.kind." + item.kind)), cell(regionName(item.region)),
        cell(has(`adm.revokeReason.${item.reason}`) ? t(`adm.revokeReason.${item.reason}`) : item.reason), cell(when(item.revoked_at)))))
    : h("p", { class: "empty", text: t("adm.none") }));
}

// -- the audit log --------------------------------------------------------------------------------

export const ACTIONS = ["policy.update", "institution.evoucher", "line.fare", "staff.create", "staff.disable", "staff.enable",
  "keys.rotate", "validator.register", "validator.enrol", "validator.disable", "api_key.create", "api_key.revoke",
  "credential.revoke", "person.revoke_all", "person.suspend", "person.reinstate", "person.read", "person.identify",
  "settlement.create", "settlement.refund", "settlement.read", "settlement.receipt", "ride.read", "counter.day_export",
  "audit_flag.confirmed", "audit_flag.dismissed", "audit_flag.note", "device.activate", "device.revoke", "family.invite",
  "family.accept", "family.revoke", "family.invitation_ended", "wallet.topup", "settings.password_free", "account.signup",
  "account.password_change", "registry.import", "demo.seed", "venue.register", "venue_verifier.register",
  "venue_verifier.enrol", "venue_verifier.disable", "stay.admit", "stay.line_cancel", "stay.discharge", "stay.reverse",
  "inpatient_policy.update", "certificate.issue", "certificate.issue_at_counter", "certificate.revoke",
  ...["1101", "2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208", "2301", "2302", "2303", "2304", "2305",
    "2401", "2402", "2404", "3201", "5203"].map((infno) => `his.${infno}`)];
const TARGETS = ["settlement", "person", "account", "institution", "policy", "bus_line", "validator", "api_key", "key",
  "credential", "audit_flag", "ride", "device", "family_grant", "wallet_entry", "persons", "zone", "venue", "venue_verifier",
  "stay", "certificate", "his_message"];

export async function auditLogSection(area) {
  const box = message();
  const filters = h("form", { class: "filter-bar wrap", id: "audit-filters", role: "search", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "f-actor", text: t("adm.actor") }),
      h("input", { id: "f-actor", type: "search", autocomplete: "off", placeholder: t("adm.actorHint") })),
    select("f-action", "adm.action", [["", t("adm.allActions")], ...ACTIONS.map((a) => [a, actionText(a)])]),
    select("f-target-type", "adm.targetType", [["", t("adm.allTargets")], ...TARGETS.map((type) => [type, t(`adm.target.${type}`)])]),
    h("div", { class: "field" }, h("label", { for: "f-target-id", text: t("adm.targetId") }),
      h("input", { id: "f-target-id", autocomplete: "off", placeholder: t("adm.targetIdHint") })),
    h("div", { class: "field" }, h("label", { for: "f-from", text: t("audit.from") }), dayInput("f-from")),
    h("div", { class: "field" }, h("label", { for: "f-to", text: t("audit.to") }), dayInput("f-to")),
    h("div", { class: "actions" }, h("button", { type: "submit", text: t("adm.find") }),
      h("button", { type: "reset", class: "quiet", text: t("adm.clear") })));
  const body = h("tbody", {});
  const pages = h("nav", { class: "pager-bar", "aria-label": t("bo.paging") });
  const cursors = [null]; // cursors[n]: the `before` of page n + 1 (keyset paging, newest first)
  let index = 0;
  let next = null;
  const go = (n) => { index = n; load().catch((error) => fail(box, error)); };
  filters.addEventListener("submit", (event) => { event.preventDefault(); cursors.length = 1; go(0); });
  filters.addEventListener("reset", () => setTimeout(() => { cursors.length = 1; go(0); }));
  area.append(filters, box, h("table", { class: "data", id: "audit-log" },
    h("thead", {}, h("tr", {}, ["adm.at", "adm.actor", "adm.action", "adm.target", "adm.region", "adm.detail"].map((key) => h("th", { scope: "col", text: t(key) })))),
    body), pages);
  await load();

  async function load() {
    const query = new URLSearchParams({ limit: 30 });
    const value = (id) => filters.querySelector(id).value.trim();
    for (const [name, id] of [["actor", "#f-actor"], ["action", "#f-action"], ["target_type", "#f-target-type"],
      ["target_id", "#f-target-id"], ["from", "#f-from"], ["to", "#f-to"]]) if (value(id)) query.set(name, value(id));
    if (cursors[index]) query.set("before", cursors[index]);
    const answer = await api.get(`/api/v1/admin/audit-log?${query}`);
    next = answer.next_before;
    cursors[index + 1] = next;
    body.replaceChildren(...(answer.entries.length ? answer.entries.map((entry) => h("tr", { "data-audit": entry.id },
      cell(when(entry.at, { seconds: true }), { class: "nowrap" }), cell(actorText(entry.actor_info, entry.actor, answer.names)),
      h("td", { title: entry.action, text: actionText(entry.action) }), cell(targetText(entry)),
      cell(entry.region ? regionName(entry.region, answer.names) : "—", { class: "nowrap" }),
      h("td", { class: "detail", text: detailText(entry.detail, answer.names) })))
      : [h("tr", {}, h("td", { colspan: 6, class: "empty", text: t("adm.noneFound") }))]));
    pages.replaceChildren(
      h("button", { type: "button", class: "quiet", id: "audit-newer", text: t("bo.prev"), disabled: index === 0, onclick: () => go(index - 1) }),
      h("span", { class: "pager-text", text: t("adm.pageN", { page: index + 1 }) }),
      h("button", { type: "button", class: "quiet", id: "audit-more", text: t("bo.next"), disabled: !next, onclick: () => go(index + 1) }));
  }
}

export function actionText(action) {
  return has(`adm.action.${action}`) ? t(`adm.action.${action}`) : t("adm.actionOther", { action });
}

function actorText(info, raw, names) {
  switch (info?.kind) {
    case "staff": {
      const who = info.name ? t("bo.nameLogin", { name: info.name, login: info.login }) : info.login;
      const where = info.institution ? nameOf(names, "institutions", info.institution) : regionName(info.region, names);
      return `${who} · ${t(`adm.role.${info.role}`)} · ${where}`;
    }
    case "patient": return t("adm.actorPatient", { name: info.name, region: regionName(info.region, names) });
    case "validator": return t("adm.actorValidator", { id: info.id, name: info.name || "", line: nameOf(names, "lines", info.line) });
    case "venue": return t("adm.actorVenue", { id: info.id, name: info.name || "", venue: currentLanguage() === "en" ? info.venue.en : info.venue.zh });
    case "cli": return t("adm.actorCli", { command: has(`adm.cli.${info.name}`) ? t(`adm.cli.${info.name}`) : info.name });
    default: return raw;
  }
}

function targetText(entry) {
  const type = has(`adm.target.${entry.target_type}`) ? t(`adm.target.${entry.target_type}`) : entry.target_type;
  if (["zone", "persons"].includes(entry.target_type)) return type;
  const named = entry.target_name ? (currentLanguage() === "en" ? entry.target_name.en : entry.target_name.zh) : null;
  if (named) return `${type} ${named}`;
  return `${type} ${/^\d+$/.test(entry.target_id) ? "#" : ""}${entry.target_id}`;
}

// Amounts in yuan and ratios in %, changes as "old → new", codes as names, field names in words.
function detailText(detail, names) {
  const label = (name) => (has(`adm.detail.${name}`) ? t(`adm.detail.${name}`) : has(`adm.field.${name}`) ? t(`adm.field.${name}`) : name);
  const one = (name, value) => {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? t("adm.yes") : t("adm.no");
    if (name === "institution") return nameOf(names, "institutions", value);
    if (name === "line") return nameOf(names, "lines", value);
    if (name === "region") return regionName(value, names);
    if (name === "role") return has(`adm.role.${value}`) ? t(`adm.role.${value}`) : value;
    if (name === "rule") return t(`audit.rule.${value}`);
    if (name === "via") return has(`adm.via.${value}`) ? t(`adm.via.${value}`) : value;
    if (name === "reason" && has(`adm.revokeReason.${value}`)) return t(`adm.revokeReason.${value}`);
    if (Array.isArray(value)) return value.length ? value.map((v) => one(name === "replaced" ? "device_id" : "", v)).join(t("adm.listSep")) : t("adm.nothing");
    if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${label(k)} ${one(k, v)}`).join(t("adm.listSep"));
    if (typeof value !== "number") return String(value);
    if (name === "signs_from") return when(value);
    if (name.endsWith("_fen")) return t("yuan", { yuan: money(value) });
    if (name.endsWith("_bp")) return `${percentText(value)}%`;
    if (name.endsWith("_id") || name === "flag") return `#${value}`;
    if (name === "overlap") return t("adm.hours", { hours: Math.round(value / 360) / 10 });
    return String(value);
  };
  const show = (name, value) => (Array.isArray(value) && value.length === 2 && !Array.isArray(value[0]) && typeof value[0] !== "object"
    && name !== "dropped" && name !== "replaced" ? `${one(name, value[0])} → ${one(name, value[1])}` : one(name, value));
  const parts = [];
  for (const [name, value] of Object.entries(detail || {})) {
    if (name === "changes" && value && typeof value === "object") {
      for (const [changed, pair] of Object.entries(value)) parts.push(`${label(changed)}${t("adm.colon")}${show(changed, pair)}`);
    } else {
      parts.push(`${label(name)}${t("adm.colon")}${show(name, value)}`);
    }
  }
  return parts.join(t("adm.sep")) || "—";
}
