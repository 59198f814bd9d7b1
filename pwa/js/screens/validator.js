// The validator kiosk: decides offline from cached trust data, writes the ride before the green,
// uploads later. Full-screen green (fare, line) or red (the reason), with distinct sounds.
import * as idb from "../idb.js";
import { currentLanguage, has, t } from "../i18n.js";
import { startCamera } from "../scanner.js";
import * as store from "../validator-store.js";
import { explain, field, h, message, screen, show, yuan } from "../ui.js";
import { b64url, stripScannerWhitespace, verifyCode } from "../yima-code.js";

let timers = [];
let stopCamera = null;

export function stopValidator() {
  timers.forEach(clearInterval);
  timers = [];
  stopCamera?.();
  stopCamera = null;
}

export async function validatorScreen() {
  stopValidator();
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
      await store.saveEnrolment({ id: answer.id, token: answer.token, line: answer.line });
      await store.refreshTrust(answer.token);
      validatorScreen();
    } catch (error) {
      show(box, explain({ code: "network" }));
    }
  });
  screen("val.enrol", form);
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

async function kiosk(enrolled) {
  document.documentElement.classList.add("kiosk");
  const answer = h("div", { id: "answer", class: "answer idle", role: "status", "aria-live": "assertive" },
    h("p", { class: "big", text: t("val.ready") }));
  const freshness = h("p", { id: "freshness" });
  const pending = h("p", { id: "pending" });
  const wedge = h("input", { id: "wedge", autocomplete: "off", "aria-label": t("counter.wedge") });
  const video = h("video", { id: "camera", muted: true, playsinline: true, "aria-hidden": "true" });
  screen("val.title", answer, h("div", { class: "kiosk-foot" }, freshness, pending, wedge), video);
  document.querySelector("#main h2").className = "visually-hidden";
  wedge.focus();
  let busy = Promise.resolve();
  const decideOnce = (code) => { busy = busy.then(() => decide(code)); };
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

  function render(result, data) {
    const line = data?.line[currentLanguage() === "en" ? "name_en" : "name_zh"] || "";
    answer.className = `answer ${result.ok ? "green" : "red"}`;
    const reason = result.error === "denied" ? t("val.denied")
      : has("val.err." + result.error) ? t("val.err." + result.error) : explain({ code: result.error });
    answer.replaceChildren(h("p", { class: "big", text: result.ok ? "✓" : "✗" }),
      h("p", { class: "reason", text: result.ok ? t("val.ok", { yuan: yuan(data.line.fare_fen), line }) : reason }));
    beep(result.ok);
    setTimeout(() => {
      answer.className = "answer idle";
      answer.replaceChildren(h("p", { class: "big", text: t("val.ready") }));
    }, 2500);
  }

  async function updatePending() {
    const n = (await store.pendingRides()).length;
    pending.textContent = n ? t("val.pending", { n }) : "";
  }

  async function updateFreshness() {
    const data = await store.trust();
    if (!data) return;
    const age = Math.floor(Date.now() / 1000) + data.offset - data.fetchedAt;
    freshness.className = age > data.limits.max_age ? "red-text" : age > data.limits.warn_age ? "warn-text" : "";
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
  window.addEventListener("online", sync);
  updateFreshness();
  updatePending();
  sync();
}
