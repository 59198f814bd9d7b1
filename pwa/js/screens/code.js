// The code screen: activate this phone once, then show a fresh QR every 30 s, offline too.
import qrcode from "/static/vendor/qrcode-generator-2.0.4/qrcode.mjs";
import * as api from "../api.js";
import * as holders from "../holders.js";
import { t } from "../i18n.js";
import { explain, h, message, screen, show } from "../ui.js";
import { STEP_SECONDS, makeCode, stepAt } from "../yima-code.js";
import { loadDeviceKey } from "../device-key.js";

const RENEW_WITHIN_DAYS = 2;
let timer = null;
let wakeLock = null;

export async function codeScreen({ online }) {
  stop();
  const stored = await holders.list();
  if (!stored.length) return activation({ online });
  return showCodes(stored, { online });
}

async function activation({ online }) {
  const box = message();
  const intro = h("p", { text: t("activate.intro") });
  const button = h("button", { type: "button", class: "primary big", text: t("activate.button") });
  const main = screen("activate.title", intro, box, button);
  let others = [];
  if (online) {
    try {
      others = (await api.get("/api/v1/devices")).devices.filter((d) => !d.revoked && d.holder_role === "self");
    } catch (error) {
      show(box, explain(error));
    }
  }
  if (others.length) {
    main.insertBefore(h("p", { class: "warning", role: "alert", text: t("activate.warn") }), box);
    button.textContent = t("activate.confirm");
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await holders.activate();
      await codeScreen({ online });
    } catch (error) {
      button.disabled = false;
      show(box, explain(error));
    }
  });
}

async function showCodes(stored, { online }) {
  const state = { holder: stored[0], kind: "med", step: null };
  const key = await loadDeviceKey();
  const picture = h("div", { class: "qr", role: "img" });
  const hint = h("p", { class: "hint" });
  const countdown = h("p", { class: "countdown", "aria-live": "off" });
  const notice = h("p", { class: "notice", role: "status" });
  const box = message();
  const tabs = h("div", { class: "kinds", role: "tablist" },
    ["med", "ss"].map((kind) => h("button", { type: "button", role: "tab", "data-kind": kind,
      "aria-selected": String(kind === state.kind), text: t(`tab.${kind}`),
      onclick: () => { state.kind = kind; state.step = null; draw(); } })));
  const people = stored.length > 1 ? h("div", { class: "holders", role: "group", "aria-label": t("holder.me") },
    stored.map((holder) => h("button", { type: "button", "data-holder": holder.id,
      "aria-pressed": String(holder === state.holder),
      text: holder.id === "self" ? t("holder.me") : t("holder.family", { name: holder.label }),
      onclick: () => { state.holder = holder; state.step = null; draw(); } }))) : null;
  screen("nav.code", people, tabs, picture, hint, countdown, notice, box);
  document.querySelector("#main h2").className = "visually-hidden";

  async function draw() {
    const now = await holders.serverNow();
    const step = stepAt(now);
    countdown.textContent = t("code.refresh", { s: STEP_SECONDS - (now % STEP_SECONDS) });
    if (step === state.step) return;
    state.step = step;
    for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.kind === state.kind));
    for (const button of people?.children || []) button.setAttribute("aria-pressed", String(button.dataset.holder === state.holder.id));
    const text = await makeCode(state.holder.credentials[state.kind], key.privateKey, step);
    const qr = qrcode(10, "M");
    qr.addData(text, "Alphanumeric");
    qr.make();
    picture.innerHTML = qr.createSvgTag({ cellSize: 6, margin: 4, scalable: true });
    picture.dataset.code = text;
    picture.setAttribute("aria-label", t("code.alt", { kind: t(`tab.${state.kind}`) }));
    hint.textContent = t(`code.hint.${state.kind}`);
    expiry(now);
  }

  function expiry(now) {
    const days = Math.floor((state.holder.expiresAt - now) / 86400);
    notice.replaceChildren();
    if (days >= RENEW_WITHIN_DAYS) return;
    notice.append(t(days < 0 ? "code.expired" : "code.expires", { d: Math.max(days, 0) }));
    if (online) {
      notice.append(" ", h("button", { type: "button", text: t("code.renew"), onclick: async () => {
        try {
          state.holder = await holders.refresh(state.holder);
          state.step = null;
          draw();
        } catch (error) {
          show(box, explain(error));
        }
      } }));
    }
  }

  await draw();
  timer = setInterval(draw, 1000);
  keepAwake();
}

async function keepAwake() {
  try {
    wakeLock = await navigator.wakeLock?.request("screen");
  } catch (error) {
    wakeLock = null; // not allowed here (battery saver, no user gesture): the code still works
  }
}

export function stop() {
  clearInterval(timer);
  timer = null;
  wakeLock?.release().catch(() => {});
  wakeLock = null;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && timer) keepAwake();
});
