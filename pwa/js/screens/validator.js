// The validator kiosk: decides offline from cached trust data, writes the ride before the green,
// uploads later. Full-screen green (fare, line) or red (the reason), with distinct sounds. At rest it
// shows its line, its bus, what waits to be uploaded and how fresh its data is, in large type; the
// keyboard-wedge scanner types into a focused but invisible field. No language or elder buttons.
import * as idb from "../idb.js";
import { currentLanguage, has, t } from "../i18n.js";
import { startCamera } from "../scanner.js";
import * as store from "../validator-store.js";
import { explain, field, h, icon, message, screen, show, yuan } from "../ui.js";
import { b64url, stripScannerWhitespace, verifyCode } from "../yima-code.js";

let timers = [];
let stopCamera = null;

let cleanups = [];

function listen(name, handler) {
  window.addEventListener(name, handler);
  cleanups.push(() => window.removeEventListener(name, handler));
}

export function stopValidator() {
  timers.forEach(clearInterval);
  timers = [];
  cleanups.forEach((cleanup) => cleanup());
  cleanups = [];
  stopCamera?.();
  stopCamera = null;
}

export async function validatorScreen() {
  stopValidator();
  document.documentElement.classList.add("kiosk");
  document.getElementById("nav").hidden = true;
  document.body.classList.remove("has-nav");
  const enrolled = await store.enrolment();
  return enrolled ? kiosk(enrolled) : enrolForm();
}

function enrolForm() {
  const box = message();
  const form = h("form", { novalidate: true },
    field("enrol_code", "val.enrolCode", { autocomplete: "off", autocapitalize: "characters" }),
    box, h("button", { type: "submit", class: "primary", text: t("val.enrolButton") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = form.enrol_code.value.toUpperCase().replace(/[^0-9A-Z]/g, "");
    if (!code) return show(box, t("error.required", { field: t("val.enrolCode") }));
    try {
      const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
      const message = new TextEncoder().encode("YIMA-ACTIVATE-1" + code);
      const signature = b64url(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)));
      const response = await fetch("/api/v1/validators/enrol", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ enrol_code: code, public_jwk: { kty: "OKP", crv: "Ed25519", x: b64url(raw) }, signature }) });
      const answer = await response.json();
      if (!response.ok) return show(box, explain({ code: answer.code, message: answer.detail }));
      await idb.put("keys", { id: "validator", privateKey: pair.privateKey, publicKey: pair.publicKey });
      await store.saveEnrolment({ id: answer.id, label: answer.label || "", token: answer.token, line: answer.line });
      await store.refreshTrust(answer.token);
      validatorScreen();
    } catch (error) {
      show(box, explain({ code: "network" }));
    }
  });
  screen("val.enrol", h("p", { text: t("val.enrolIntro") }), form);
  document.getElementById("main").className = "kiosk-enrol";
}

function beep(ok) {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = ok ? 1320 : 220;  // high and short for yes, low and long for no
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + (ok ? 0.12 : 0.5));
  } catch (error) { /* no audio here: the colours still say it */ }
}

const lineName = (line) => (line ? line[currentLanguage() === "en" ? "name_en" : "name_zh"] : "");

async function kiosk(enrolled) {
  const answer = h("div", { id: "answer", class: "answer idle", role: "status", "aria-live": "assertive" });
  const vehicle = h("p", { id: "vehicle" }, icon("bus"), enrolled.label || t("val.number", { id: enrolled.id }));
  const freshness = h("span", { id: "freshness" });
  const freshLine = h("p", { id: "freshness-line" }, icon("refresh-cw"), freshness);
  const pending = h("span", { id: "pending" });
  const uploads = h("p", { id: "uploads" }, icon("cloud-upload"), pending, h("span", { id: "uploaded" }));
  const network = h("p", { id: "network", role: "status" });
  // The wedge scanner types here: focused, never seen, and focused again if anything takes the focus.
  const wedge = h("input", { id: "wedge", class: "wedge-hidden", autocomplete: "off", spellcheck: "false",
    "aria-label": t("val.wedge") });
  const video = h("video", { id: "camera", muted: true, playsinline: true, "aria-hidden": "true" });
  screen("val.title", answer, h("div", { class: "kiosk-foot" }, vehicle, uploads, freshLine, network, video), wedge);
  const main = document.getElementById("main");
  main.className = "kiosk-main";
  main.querySelector("h2").className = "visually-hidden";
  idle();
  wedge.focus();
  wedge.addEventListener("blur", () => setTimeout(() => { if (document.contains(wedge)) wedge.focus(); }, 50));
  let busy = Promise.resolve();
  // One decision that fails (a storage error, say) must never stop the kiosk: it answers red, asks
  // for the code again, and the next code is decided as usual.
  const decideOnce = (code) => {
    busy = busy.then(() => decide(code)).catch((error) => {
      console.error("validator: decision failed", error);
      render({ ok: false, error: "kiosk_error" }, null);
    });
  };
  wedge.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const code = stripScannerWhitespace(wedge.value);  // the spec's set, not trim()'s (§3.3)
    wedge.value = "";
    if (code) decideOnce(code);
  });
  try {
    stopCamera = await startCamera(video, decideOnce);
  } catch (error) {
    video.hidden = true;  // no camera: the wedge still works
  }

  // At rest: the line and its fare, and what to do, in large type.
  async function idle() {
    const data = await store.trust();
    const line = data?.line || enrolled.line;
    answer.className = "answer idle";
    answer.replaceChildren(h("p", { class: "line-name", text: lineName(line) }),
      line ? h("p", { class: "fare", text: t("val.fare", { yuan: yuan(line.fare_fen) }) }) : null,
      h("p", { class: "prompt" }, icon("scan-line"), t("val.ready")));
  }

  function updateNetwork() {
    network.className = navigator.onLine ? "" : "warn-text";
    network.replaceChildren(icon(navigator.onLine ? "circle-check" : "wifi-off"), t(navigator.onLine ? "val.online" : "val.offline"));
  }
  listen("online", updateNetwork);
  listen("offline", updateNetwork);
  updateNetwork();

  async function decide(code) {
    const data = await store.trust();
    const now = Math.floor(Date.now() / 1000) + (data?.offset || 0);
    const age = data ? now - data.fetchedAt : Infinity;
    let result;
    if (age > (data?.limits.max_age ?? 0)) {
      result = { ok: false, error: "trust_too_old" };
    } else {
      result = await verifyCode(code, { jwks: data.jwks, revokedJti: data.revoked, context: "bus", now, seen: store.seen });
      // The deny list names credentials (jti); sub is a per-credential pseudonym that means nothing here.
      if (result.ok && data.denied.includes(result.claims.jti)) result = { ok: false, error: "denied" };
    }
    if (result.ok) {  // the ride is stored before anyone sees green
      await store.queueRide({ id: `${result.claims.jti}:${result.step}`, code, ridden_at: now });
    }
    render(result, data);
    updatePending();
  }

  let back = null;
  function render(result, data) {
    const line = lineName(data?.line);
    answer.className = `answer ${result.ok ? "green" : "red"}`;
    const reason = result.error === "denied" ? t("val.denied")
      : has("val.err." + result.error) ? t("val.err." + result.error) : explain({ code: result.error });
    answer.replaceChildren(h("p", { class: "big", text: result.ok ? "✓" : "✗" }),
      h("p", { class: "reason", text: result.ok ? t("val.ok", { yuan: yuan(data.line.fare_fen), line }) : reason }));
    beep(result.ok);
    clearTimeout(back);
    back = setTimeout(idle, 2500);
  }

  async function updatePending() {
    const n = (await store.pendingRides()).length;
    pending.textContent = n ? t("val.pending", { n }) : "";
    uploads.querySelector("#uploaded").textContent = n ? "" : t("val.uploaded");
  }

  async function updateFreshness() {
    const data = await store.trust();
    if (!data) return;
    const age = Math.floor(Date.now() / 1000) + data.offset - data.fetchedAt;
    freshLine.className = age > data.limits.max_age ? "red-text" : age > data.limits.warn_age ? "warn-text" : "";
    freshness.textContent = age > data.limits.max_age ? t("val.tooOld")
      : age > data.limits.warn_age ? t("val.stale", { h: Math.floor(age / 3600) }) : t("val.fresh", { m: Math.floor(age / 60) });
  }

  let backoff = 5;
  let nextTry = 0;
  async function sync() {
    if (!navigator.onLine || Date.now() < nextTry) return;
    try {
      await store.refreshTrust(enrolled.token);
      while ((await store.upload(enrolled.token)) > 0) { /* next batch */ }
      backoff = 5;
    } catch (error) {
      backoff = Math.min(backoff * 2, 300);  // retry later, more slowly each time
      nextTry = Date.now() + backoff * 1000;
    }
    updateFreshness();
    updatePending();
  }

  timers.push(setInterval(sync, 5000), setInterval(updateFreshness, 30000));
  listen("online", sync);
  updateFreshness();
  updatePending();
  sync();
}
