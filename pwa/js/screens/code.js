// The code screen: activate this phone once, then show a fresh QR every 30 s, offline too. The card
// says what the code is and whose; online it checks the phone's state when it opens and at each
// new code, and a code the server would refuse (revoked, expired, suspended) is never drawn.
import qrcode from "/static/vendor/qrcode-generator-2.0.4/qrcode.mjs";
import * as api from "../api.js";
import * as holders from "../holders.js";
import { has, t } from "../i18n.js";
import { chinaDate, confirmDialog, explain, h, icon, message, screen, show } from "../ui.js";
import { STEP_SECONDS, makeCode, stepAt } from "../yima-code.js";
import { loadDeviceKey } from "../device-key.js";

const RENEW_WITHIN_DAYS = 2;
const HOTLINE = "12393"; // the national medical-insurance service line
const KINDS = { med: { iconName: "hospital" }, ss: { iconName: "bus" } };
let timer = null;
let wakeLock = null;

export async function codeScreen({ loggedIn }) {
  stop();
  const stored = await holders.list();
  if (!stored.length) return activation();
  return showCodes(stored, { loggedIn });
}

async function activation() {
  const box = message();
  const intro = h("p", { text: t("activate.intro") });
  // Enabled once we know whether another phone is active (then it warns first: that phone stops).
  const button = h("button", { type: "button", class: "primary big", disabled: true }, icon("smartphone"), t("activate.button"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await holders.activate();
      await codeScreen({ loggedIn: true });
    } catch (error) {
      button.disabled = false;
      show(box, explain(error));
    }
  });
  const main = screen("activate.title", intro, box, button,
    h("p", { class: "code-links" }, h("a", { href: "#/where" }, icon("map-pin"), t("where.link"))));
  if (!navigator.onLine) {
    show(box, t("activate.offline"));
    button.disabled = true;
    return;
  }
  try {
    const { devices } = await api.get("/api/v1/devices");
    if (devices.some((d) => !d.revoked && d.holder_role === "self") && document.contains(button)) {
      main.insertBefore(h("p", { class: "warning", role: "alert", text: t("activate.warn") }), box);
      button.replaceChildren(icon("smartphone"), t("activate.confirm"));
    }
  } catch (error) {
    show(box, explain(error));
  }
  button.disabled = false;
}

// What a stopped phone's card says: what happened, when, and why.
function stoppedText(holder, now) {
  const stopped = holder.stopped;
  if (stopped?.state === "suspended") return t("state.suspended");
  if (stopped?.state === "revoked") {
    const why = has(`state.reason.${stopped.reason}`) ? t(`state.reason.${stopped.reason}`) : "";
    if (!stopped.at) return why ? t("state.revokedWhy", { why }) : t("state.revokedUnknown");
    return t(why ? "state.revokedAt" : "state.revokedAtNoWhy", { date: chinaDate(stopped.at), why });
  }
  if (holder.expiresAt <= now) return t("state.expiredAt", { date: chinaDate(holder.expiresAt * 1000) });
  return "";
}

async function showCodes(initial, { loggedIn }) {
  let stored = initial;
  const state = { holderId: initial[0].id, kind: "med", step: null, checkedStep: null, drawn: "" };
  const holder = () => stored.find((one) => one.id === state.holderId) || stored[0];
  const key = await loadDeviceKey();
  const box = message();
  const card = h("section", { class: "card code-card", "aria-labelledby": "code-kind" });
  const kinds = h("div", { class: "kinds segmented", role: "tablist", "aria-label": t("code.kinds") },
    ["med", "ss"].map((kind) => h("button", { type: "button", role: "tab", "data-kind": kind,
      "aria-selected": String(kind === state.kind), "aria-controls": "code-card",
      onclick: () => { state.kind = kind; state.step = null; draw(); } },
    icon(KINDS[kind].iconName), t(`tab.${kind}.short`))));
  card.id = "code-card";
  const people = stored.length > 1 ? h("div", { class: "holders segmented", role: "group", "aria-label": t("code.whose") },
    stored.map((one) => h("button", { type: "button", "data-holder": one.id, "aria-pressed": String(one.id === state.holderId),
      onclick: () => { state.holderId = one.id; state.step = null; draw(); } },
    one.id === "self" ? t("holder.me") : [icon("heart-handshake"), one.label || one.name]))) : null;
  const hint = loggedIn ? null : h("div", { class: "login-hint", role: "status" },
    h("span", { text: t("code.loggedOut") }), h("a", { class: "button quiet", href: "#/login" }, icon("log-in"), t("login.submit")));
  const main = screen("nav.code", hint, people, kinds, card, box,
    h("p", { class: "code-links" }, h("a", { href: "#/where" }, icon("map-pin"), t("where.link"))));
  main.className = "code-main";
  main.querySelector("h2").className = "visually-hidden";

  const parts = {
    kind: h("p", { class: "code-kind", id: "code-kind" }), owner: h("p", { class: "code-owner" }),
    stage: h("div", { class: "qr-stage" }), countdown: h("p", { class: "countdown", "aria-live": "off" }),
    hint: h("p", { class: "hint secondary" }), notice: h("p", { class: "notice", role: "status" }),
  };

  async function check() {
    // Online, ask the server what it thinks of this phone (a revoked phone's QR is never shown).
    if (!navigator.onLine) return;
    try {
      stored = await holders.checkStates({ loggedIn });
    } catch (error) {
      if (error.code !== "network" && error.status !== 401) show(box, explain(error));
    }
  }

  function head(current) {
    const family = current.id !== "self";
    card.className = `card code-card ${state.kind}${family ? " family" : ""}${state.drawn === "stopped" ? " code-stopped" : ""}`;
    parts.kind.replaceChildren(icon(KINDS[state.kind].iconName), t(`tab.${state.kind}`));
    const region = current.region && has(`region.${current.region}`) ? t(`region.${current.region}`) : "";
    const who = current.name || current.label || "";
    parts.owner.replaceChildren(...(family
      ? [h("span", { class: "family-badge", text: t("code.familyOf", { name: who }) }), region ? ` ${region}` : ""]
      : [[t("holder.me"), who, region].filter(Boolean).join(" · ")]));
  }

  function stoppedCard(current, text) {
    state.drawn = "stopped";
    const self = current.id === "self";
    const actions = h("div", { class: "actions stretch" });
    if (current.stopped?.state === "revoked" && self && loggedIn) {
      actions.append(h("button", { type: "button", class: "primary", onclick: reactivate }, icon("smartphone"), t("state.reactivate")));
    } else if (current.stopped?.state === "revoked" && !self) {
      actions.append(h("button", { type: "button", onclick: () => removeHere(current) }, icon("trash-2"), t("state.removeHere")));
    } else if (!current.stopped && loggedIn && navigator.onLine) {
      actions.append(h("button", { type: "button", class: "primary", onclick: () => renew(current) }, icon("refresh-cw"), t("code.renew")));
    } else if (!current.stopped && !navigator.onLine) {
      actions.append(h("p", { text: t("state.connectToRenew") }));
    }
    if (!loggedIn) actions.append(h("a", { class: "button", href: "#/login" }, icon("log-in"), t("state.loginForMore")));
    actions.append(h("a", { class: "button quiet", href: `tel:${HOTLINE}` }, icon("phone"), t("state.call", { phone: HOTLINE })));
    card.classList.add("code-stopped");
    card.replaceChildren(h("div", { class: "code-head" }, parts.kind, parts.owner),
      h("div", { role: "alert" },
        h("p", { class: "stop-title" }, icon("shield-off"), t(current.stopped?.state === "suspended" ? "state.suspendedTitle"
          : current.stopped ? "state.revokedTitle" : "state.expiredTitle")),
        h("p", { class: "stop-text", text })),
      actions);
  }

  async function draw() {
    if (state.busy) return; // a slow state check must not overlap the next tick
    state.busy = true;
    try {
      await drawNow();
    } finally {
      state.busy = false;
    }
  }

  async function drawNow() {
    const now = await holders.serverNow();
    const step = stepAt(now);
    if (step !== state.checkedStep && navigator.onLine) { // at open and at each new code
      state.checkedStep = step;
      await check();
    }
    const current = holder();
    for (const tab of kinds.children) tab.setAttribute("aria-selected", String(tab.dataset.kind === state.kind));
    for (const button of people?.children || []) button.setAttribute("aria-pressed", String(button.dataset.holder === current.id));
    const stoppedWhy = stoppedText(current, now);
    if (!stoppedWhy && state.drawn === "stopped") state.drawn = ""; // e.g. renewed: the QR comes back
    head(current);
    if (stoppedWhy) {
      if (state.drawn !== "stopped" || state.step !== step) stoppedCard(current, stoppedWhy);
      state.step = step;
      return;
    }
    parts.countdown.replaceChildren(icon("clock"), t("code.refresh", { s: STEP_SECONDS - (now % STEP_SECONDS) }));
    if (step === state.step && state.drawn === "qr") return;
    state.step = step;
    if (state.drawn !== "qr") {
      card.classList.remove("code-stopped");
      card.replaceChildren(h("div", { class: "code-head" }, parts.kind, parts.owner), parts.stage, parts.hint, parts.notice);
      state.drawn = "qr";
    }
    const text = await makeCode(current.credentials[state.kind], key.privateKey, step);
    const qr = qrcode(10, "M");
    qr.addData(text, "Alphanumeric");
    qr.make();
    const picture = h("div", { class: "qr", role: "img", "aria-label": t("code.alt", { kind: t(`tab.${state.kind}`) }) });
    picture.innerHTML = qr.createSvgTag({ cellSize: 6, margin: 24, scalable: true }); // margin 24 = the 4-module quiet zone
    picture.dataset.code = text;
    picture.dataset.codeKind = state.kind; // the tab flips first; the picture follows once signed
    picture.dataset.holder = current.id;
    parts.stage.replaceChildren(picture, parts.countdown);
    parts.hint.textContent = t(`code.hint.${state.kind}`);
    expiry(current, now);
  }

  function expiry(current, now) {
    const days = Math.floor((current.expiresAt - now) / 86400);
    parts.notice.replaceChildren();
    if (days >= RENEW_WITHIN_DAYS) return;
    parts.notice.append(t("code.expires", { d: Math.max(days, 0) }));
    if (navigator.onLine && loggedIn) {
      parts.notice.append(h("button", { type: "button", onclick: () => renew(current) }, icon("refresh-cw"), t("code.renew")));
    }
  }

  async function renew(current) {
    try {
      await holders.refresh(current);
      stored = await holders.list();
      state.step = null;
      state.drawn = "";
      draw();
    } catch (error) {
      show(box, explain(error));
    }
  }

  async function reactivate() {
    const sure = await confirmDialog({ titleKey: "state.reactivateTitle", bodyKey: "state.reactivateBody", confirmKey: "state.reactivate", danger: false });
    if (!sure) return;
    try {
      await holders.forget("self");
      await holders.activate();
      await codeScreen({ loggedIn });
    } catch (error) {
      show(box, explain(error));
    }
  }

  async function removeHere(current) {
    const sure = await confirmDialog({ titleKey: "state.removeTitle", bodyKey: "state.removeBody", confirmKey: "state.removeHere", vars: { name: current.label || current.name } });
    if (!sure) return;
    await holders.forget(current.id);
    codeScreen({ loggedIn });
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
