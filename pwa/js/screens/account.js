// 账户: who the patient is to the fund, balances, wallet top-up, the way to history, settings and
// "where it works", and logging out (it asks first). 设置与安全: small password-free payment, the
// password, the phones (report a lost one — it asks first), log out everywhere (it asks first).
import * as api from "../api.js";
import * as holders from "../holders.js";
import { currentLanguage, has, t } from "../i18n.js";
import * as idb from "../idb.js";
import { explainAuth } from "./auth.js";
import {
  backLink, card, chinaTime, clearFieldErrors, confirmDialog, explain, field, fieldError, h, icon, message,
  money, screen, show, yuan,
} from "../ui.js";

// Yuan typed by a person ("12", "12.5", "１２.５０", "12,00") → fen, or null when it is not an amount.
export function parseYuan(text) {
  const plain = String(text).replace(/[０-９．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/[,，\s元¥￥]/g, "");
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(plain)) return null;
  const [whole, cents = ""] = plain.split(".");
  return Number(whole) * 100 + Number(cents.padEnd(2, "0"));
}

async function loadMe() {
  try {
    const me = await api.get("/api/v1/me");
    await idb.put("snapshots", { name: "me", me, at: Date.now() });
    return { me, at: null };
  } catch (error) {
    const kept = error.code === "network" ? await idb.get("snapshots", "me") : null;
    if (!kept) throw error;
    return { me: kept.me, at: kept.at };
  }
}

export async function accountScreen({ onLogout }) {
  const box = message();
  let me;
  let keptAt;
  try {
    ({ me, at: keptAt } = await loadMe());
  } catch (error) {
    screen("account.title", box, menu());
    return show(box, error.code === "network" ? t("account.offlineNone") : explain(error));
  }
  const offline = keptAt !== null;
  const region = me.person.home_region_name[currentLanguage() === "en" ? "en" : "zh"];
  const pf = me.password_free || { enabled: me.balances.password_free_limit_fen > 0, limit_fen: me.balances.password_free_limit_fen };
  const topupBox = message();
  const topup = h("form", { novalidate: true, id: "topup" },
    field("amount", "account.amount", { inputmode: "decimal", autocomplete: "off", disabled: offline },
      { hintKey: "account.amountHint" }),
    h("p", { class: "demo", text: t("account.demoPay") }), topupBox,
    h("button", { type: "submit", class: "primary", disabled: offline }, icon("wallet"), t("account.topupButton")));
  topup.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(topup);
    const amount = parseYuan(topup.amount.value);
    if (amount === null || amount < 100 || amount > 100000) {
      fieldError("amount", t("err.bad_amount"));
      return show(topupBox, t("err.bad_amount"));
    }
    try {
      await api.post("/api/v1/wallet/topups", { amount_fen: amount }, { "Idempotency-Key": crypto.randomUUID() });
      await accountScreen({ onLogout });
      show(document.getElementById("account-done"), t("account.topped", { yuan: yuan(amount) }), "ok");
    } catch (error) {
      show(topupBox, explain(error));
    }
  });

  screen("account.title",
    offline ? h("p", { class: "note-box stale", role: "status" }, icon("wifi-off"), " ", t("account.offlineCopy", { time: chinaTime(keptAt) })) : null,
    h("p", { class: "message ok", id: "account-done", role: "status" }),
    card({ class: "profile-card" },
      h("div", { class: "profile" }, icon("id-card"),
        h("div", {}, h("p", { class: "who", text: me.person.name }),
          h("p", { class: "secondary", text: me.person.national_id_masked }),
          h("p", {}, h("span", { class: "nowrap", text: t("account.regionOnly", { region }) }), " · ",
            h("span", { class: "nowrap", text: t("class." + me.person.insurance_class) }))))),
    card({},
      h("h3", { class: "card-title" }, icon("wallet"), t("account.balances")),
      h("dl", { class: "balances" },
        pair("account.pa", money(me.balances.personal_account_fen)),
        pair("account.wallet", money(me.balances.transit_wallet_fen)),
        pair("account.limit", pf.enabled ? t("account.limitEach", { amount: money(pf.limit_fen) }) : t("account.limitOff"), "text"))),
    card({},
      h("h3", { class: "card-title" }, icon("plus"), t("account.topup")), topup),
    box, menu(),
    h("button", { type: "button", class: "quiet block", id: "logout-here", onclick: logout }, icon("log-out"), t("account.logout")));

  async function logout() {
    const sure = await confirmDialog({ titleKey: "logout.title", bodyKey: "logout.body", confirmKey: "account.logout" });
    if (!sure) return;
    try { await api.post("/api/v1/auth/logout"); } catch (error) { /* already logged out */ }
    onLogout();
  }
}

// One term and its value of a summary list; the value wraps under the term when both do not fit.
const pair = (termKey, value, kind = "num") => h("div", { class: "pair" }, h("dt", { text: t(termKey) }), h("dd", { class: kind, text: value }));

function menu() {
  const item = (href, iconName, labelKey) => h("li", {},
    h("a", { class: "row-link", href }, icon(iconName), h("span", { text: t(labelKey) }), icon("chevron-right")));
  return h("ul", { class: "menu card", "aria-label": t("account.more") },
    item("#/history", "receipt-text", "account.history"),
    item("#/certificates", "id-card", "account.certificates"),
    item("#/settings", "settings", "settings.title"),
    item("#/where", "map-pin", "where.title"));
}

export async function settingsScreen({ onLoggedOutEverywhere }) {
  const box = message();
  const phones = h("ul", { class: "list", id: "phones" });
  const pfBox = message();
  const pwBox = message();
  const pf = h("form", { novalidate: true, id: "password-free" });
  const password = h("form", { novalidate: true, id: "change-password" },
    field("current_password", "settings.currentPassword", { type: "password", autocomplete: "current-password" }),
    field("new_password", "settings.newPassword", { type: "password", autocomplete: "new-password" }, { hintKey: "settings.passwordHint" }),
    pwBox, h("button", { type: "submit" }, icon("lock"), t("settings.changePassword")));
  screen("settings.title", backLink("#/account", "nav.account"), box,
    card({ "aria-labelledby": "pf-title" }, h("h3", { class: "card-title", id: "pf-title" }, icon("wallet"), t("settings.passwordFree")),
      h("p", { class: "secondary", text: t("settings.passwordFreeIntro") }), pf, pfBox),
    card({ "aria-labelledby": "phones-title" }, h("h3", { class: "card-title", id: "phones-title" }, icon("smartphone"), t("account.devices")), phones),
    card({ "aria-labelledby": "pw-title" }, h("h3", { class: "card-title", id: "pw-title" }, icon("lock"), t("settings.changePassword")), password),
    card({ "aria-labelledby": "all-title" }, h("h3", { class: "card-title", id: "all-title" }, icon("log-out"), t("settings.logoutAll")),
      h("p", { text: t("settings.logoutAllIntro") }),
      h("button", { type: "button", class: "danger-outline block", id: "logout-all", onclick: logoutAll }, t("settings.logoutAll"))));
  if (!navigator.onLine) {
    show(box, t("settings.offline"));
    for (const control of document.querySelectorAll("#main form input, #main form button, #logout-all")) control.disabled = true;
    return;
  }

  async function loadPasswordFree() {
    const { password_free: setting } = await api.get("/api/v1/me/settings");
    const toggle = h("input", { type: "checkbox", role: "switch", id: "pf-on", checked: setting.enabled });
    const limit = field("pf_limit", "settings.limit", { inputmode: "decimal", autocomplete: "off",
      value: setting.enabled ? yuan(setting.limit_fen) : yuan(Math.min(2000, setting.max_fen)) },
    { hintKey: "settings.limitHint", vars: { min: yuan(setting.min_fen), max: yuan(setting.max_fen) } });
    limit.hidden = !setting.enabled;
    toggle.addEventListener("change", () => { limit.hidden = !toggle.checked; });
    pf.replaceChildren(h("div", { class: "switch" }, h("label", { for: "pf-on", text: t("settings.passwordFreeOn") }), toggle),
      limit, h("button", { type: "submit" }, t("settings.save")));
    pf.onsubmit = async (event) => {
      event.preventDefault();
      clearFieldErrors(pf);
      const body = { enabled: toggle.checked };
      if (toggle.checked) {
        body.limit_fen = parseYuan(pf.pf_limit.value);
        if (body.limit_fen === null || body.limit_fen < setting.min_fen || body.limit_fen > setting.max_fen) {
          const text = t("err.limit_out_of_range", { min: yuan(setting.min_fen), max: yuan(setting.max_fen) });
          fieldError("pf_limit", text);
          return show(pfBox, text);
        }
      }
      try {
        const { password_free: saved } = await api.put("/api/v1/me/settings/password-free", body);
        show(pfBox, saved.enabled ? t("settings.savedOn", { amount: money(saved.limit_fen) }) : t("settings.savedOff"), "ok");
      } catch (error) {
        show(pfBox, explain(error));
      }
    };
  }

  async function loadPhones() {
    const { devices } = await api.get("/api/v1/devices");
    const here = new Set((await holders.list()).map((holder) => holder.deviceId));
    const live = devices.filter((d) => !d.revoked).reverse();
    const gone = devices.filter((d) => d.revoked).reverse().slice(0, 3); // the latest few, for the record
    phones.replaceChildren(...(live.length || gone.length ? [...live, ...gone].map((d) => phoneRow(d, here.has(d.id)))
      : [h("li", { class: "empty", text: t("settings.noPhones") })]));
  }

  function phoneRow(device, thisPhone) {
    const title = [thisPhone ? t("account.thisPhone") : t("settings.phone", { id: device.id }),
      device.holder_role === "family" ? t("code.familyOf", { name: device.holder_masked_name || "" }) : null].filter(Boolean).join(" · ");
    const used = device.last_used_at ? t("settings.lastUsed", { time: chinaTime(device.last_used_at), what: t(`settings.use.${device.last_used_for}`) })
      : t("settings.neverUsed");
    const sub = device.revoked ? t("settings.revokedAt", { time: device.revoked_at ? chinaTime(device.revoked_at) : "" }) : used;
    return h("li", { "data-device": device.id },
      h("span", { class: "row-main" }, h("span", { class: "row-title", text: title }), h("span", { class: "row-sub", text: sub })),
      device.revoked ? h("span", { class: "tag pill", text: has(`settings.stopped.${device.revoke_reason}`) ? t(`settings.stopped.${device.revoke_reason}`) : t("settings.stopped") })
        : h("button", { type: "button", class: "danger-outline", onclick: () => reportLost(device, thisPhone) }, icon("shield-off"), t("account.revoke")));
  }

  async function reportLost(device, thisPhone) {
    const sure = await confirmDialog({ titleKey: "lost.title", bodyKey: thisPhone ? "lost.bodyHere" : "lost.body",
      confirmKey: "lost.confirm", vars: { id: device.id } });
    if (!sure) return;
    try {
      await api.post(`/api/v1/devices/${device.id}/revoke`);
      for (const holder of await holders.list()) if (holder.deviceId === device.id) await holders.forget(holder.id);
      show(box, t("lost.done"), "ok");
      await loadPhones();
    } catch (error) {
      show(box, explain(error));
    }
  }

  password.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(password);
    const current = password.current_password.value;
    const next = password.new_password.value;
    if (!current) { fieldError("current_password", t("error.required", { field: t("settings.currentPassword") })); return show(pwBox, t("error.required", { field: t("settings.currentPassword") })); }
    if (!next) { fieldError("new_password", t("error.required", { field: t("settings.newPassword") })); return show(pwBox, t("error.required", { field: t("settings.newPassword") })); }
    try {
      const answer = await api.post("/api/v1/auth/password", { current_password: current, new_password: next });
      api.setCsrf(answer.csrf_token); // a new session here; every other one ended
      password.reset();
      show(pwBox, t("settings.passwordChanged"), "ok");
    } catch (error) {
      const text = error.status === 404 || error.status === 405 ? t("settings.notYet") : explainAuth(error);
      if (error.code !== "account_locked" && error.code !== "rate_limited") {
        fieldError(error.code === "wrong_password" ? "current_password" : "new_password", text);
      }
      show(pwBox, text);
    }
  });

  async function logoutAll() {
    const sure = await confirmDialog({ titleKey: "settings.logoutAll", bodyKey: "settings.logoutAllBody", confirmKey: "settings.logoutAllConfirm" });
    if (!sure) return;
    try {
      await api.post("/api/v1/auth/logout-all");
      onLoggedOutEverywhere();
    } catch (error) {
      show(box, error.status === 404 || error.status === 405 ? t("settings.notYet") : explain(error));
    }
  }

  try {
    await Promise.all([loadPasswordFree(), loadPhones()]);
  } catch (error) {
    show(box, explain(error));
  }
}
