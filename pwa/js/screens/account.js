// Balances, history, wallet top-up, phones (report a lost one), log out.
import * as api from "../api.js";
import * as holders from "../holders.js";
import { currentLanguage, t } from "../i18n.js";
import { explain, field, h, message, screen, show, yuan } from "../ui.js";

export async function accountScreen({ onLogout }) {
  const box = message();
  let me;
  let devices;
  try {
    [me, { devices }] = await Promise.all([api.get("/api/v1/me"), api.get("/api/v1/devices")]);
  } catch (error) {
    screen("account.title", box);
    return show(box, explain(error));
  }
  const region = me.person.home_region_name[currentLanguage() === "en" ? "en" : "zh"];
  const stored = await holders.list();
  const thisPhone = new Set(stored.map((holder) => holder.deviceId));
  const topup = h("form", { novalidate: true },
    field("amount", "account.amount", { inputmode: "decimal", autocomplete: "off" }),
    h("p", { class: "demo", text: t("account.demoPay") }),
    h("button", { type: "submit", text: t("account.topupButton") }));
  topup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = Math.round(Number(topup.amount.value.replace(/[,，\s]/g, "")) * 100);
    if (!Number.isFinite(amount) || amount <= 0) return show(box, t("err.bad_amount"));
    try {
      await api.post("/api/v1/wallet/topups", { amount_fen: amount }, { "Idempotency-Key": crypto.randomUUID() });
      show(box, t("account.topped", { yuan: yuan(amount) }), "ok");
      await accountScreen({ onLogout });
    } catch (error) {
      show(box, explain(error));
    }
  });
  const rows = (items, render) => items.length ? items.map(render) : [h("li", { text: t("account.empty") })];
  screen("account.title",
    h("p", { class: "who", text: `${me.person.name} · ${me.person.national_id_masked}` }),
    h("p", { text: t("account.region", { region, cls: t("class." + me.person.insurance_class) }) }),
    h("h3", { text: t("account.balances") }),
    h("dl", { class: "balances" },
      h("dt", { text: t("account.pa") }), h("dd", { text: t("yuan", { yuan: yuan(me.balances.personal_account_fen) }) }),
      h("dt", { text: t("account.wallet") }), h("dd", { text: t("yuan", { yuan: yuan(me.balances.transit_wallet_fen) }) }),
      h("dt", { class: "secondary", text: t("account.limit") }), h("dd", { class: "secondary", text: t("yuan", { yuan: yuan(me.balances.password_free_limit_fen) }) })),
    h("h3", { text: t("account.topup") }), topup, box,
    h("h3", { text: t("account.settlements") }), h("ul", { class: "list" }, rows(me.settlements, (s) => h("li", { text: s.summary }))),
    h("h3", { text: t("account.rides") }), h("ul", { class: "list" }, rows(me.rides, (r) => h("li", { text: r.summary }))),
    h("h3", { class: "secondary", text: t("account.walletLog") }),
    h("ul", { class: "list secondary" }, rows(me.wallet, (e) => h("li", { text: `${e.at.slice(0, 16).replace("T", " ")} · ${t("kind." + e.kind)} · ${t("yuan", { yuan: yuan(e.amount_fen) })}` }))),
    h("h3", { text: t("account.devices") }),
    h("ul", { class: "list" }, rows(devices, (d) => h("li", {},
      h("span", { text: `#${d.id} ${d.holder_role === "family" ? "(" + t("nav.family") + ")" : ""} ${thisPhone.has(d.id) ? "· " + t("account.thisPhone") : ""}` }),
      d.revoked ? h("span", { class: "tag", text: t("account.revoked") })
        : h("button", { type: "button", text: t("account.revoke"), onclick: () => revokeDevice(d) })))),
    h("button", { type: "button", class: "quiet", text: t("account.logout"), onclick: logout }));

  async function revokeDevice(device) {
    try {
      await api.post(`/api/v1/devices/${device.id}/revoke`);
      for (const holder of stored) if (holder.deviceId === device.id) await holders.forget(holder.id);
      await accountScreen({ onLogout });
    } catch (error) {
      show(box, explain(error));
    }
  }

  async function logout() {
    try { await api.post("/api/v1/auth/logout"); } catch (error) { /* already logged out */ }
    api.setCsrf("");
    onLogout();
  }
}
