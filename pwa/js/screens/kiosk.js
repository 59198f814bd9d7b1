// What the bus validator (validator.js) and the venue gate (venue.js) share: the kiosk mode, the
// enrolment form (a new Ed25519 key proved over the one-time code), and the kiosk itself — the
// answer panel, the hidden wedge field and the camera, one decision at a time, the pending count,
// the trust data's age, and the upload loop with its back-off. Each caller gives what differs: its
// words, what the panel shows at rest, the checks past the shared verifier, and where a pass is
// written before the green.
import { has, t } from "../i18n.js";
import { startCamera } from "../scanner.js";
import { backLink, explain, field, h, icon, message, screen, show } from "../ui.js";
import { b64url, stripScannerWhitespace, verifyCode } from "../yima-code.js";

let timers = [];
let cleanups = [];
let stopCamera = null;

function listen(name, handler) {
  window.addEventListener(name, handler);
  cleanups.push(() => window.removeEventListener(name, handler));
}

// Leaving the kiosk (another page): its timers, listeners and camera stop.
export function stopKiosk() {
  timers.forEach(clearInterval);
  timers = [];
  cleanups.forEach((cleanup) => cleanup());
  cleanups = [];
  stopCamera?.();
  stopCamera = null;
}

// A kiosk shows no navigation, language or elder buttons; the enrolment form or the kiosk itself.
export async function kioskScreen(store, enrolForm, kiosk) {
  stopKiosk();
  document.documentElement.classList.add("kiosk");
  document.getElementById("nav").hidden = true;
  document.body.classList.remove("has-nav");
  const enrolled = await store.enrolment();
  return enrolled ? kiosk(enrolled) : enrolForm();
}

// The enrolment form: `prefix` names the words (`val`, `venue`), `url` the enrol endpoint; `saved`
// keeps the key pair and the answer, then the screen opens again (now enrolled).
export function enrolForm({ prefix, url, saved, reopen }) {
  const box = message();
  const form = h("form", { novalidate: true },
    field("enrol_code", `${prefix}.enrolCode`, { autocomplete: "off", autocapitalize: "characters" }),
    box, h("button", { type: "submit", class: "primary", text: t(`${prefix}.enrolButton`) }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // The code as typed or as read from the admin's QR (YIMA-ENROL:…), spaces and dashes dropped.
    const code = form.enrol_code.value.toUpperCase().replace(/^YIMA-ENROL:/, "").replace(/[^0-9A-Z]/g, "");
    if (!code) return show(box, t("error.required", { field: t(`${prefix}.enrolCode`) }));
    try {
      const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
      const proof = new TextEncoder().encode("YIMA-ACTIVATE-1" + code);
      const signature = b64url(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, proof)));
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ enrol_code: code, public_jwk: { kty: "OKP", crv: "Ed25519", x: b64url(raw) }, signature }) });
      const answer = await response.json();
      if (!response.ok) return show(box, explain({ code: answer.code, message: answer.detail }));
      await saved(pair, answer);
      reopen();
    } catch (error) {
      show(box, explain({ code: "network" }));
    }
  });
  // Opened by mistake on a phone: the way back to the app (an enrolled kiosk has none).
  screen(`${prefix}.enrol`, backLink("#/code", `${prefix}.back`), h("p", { text: t(`${prefix}.enrolIntro`) }), form);
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

// A refusal in the kiosk's own words where it has them, then the validator's shared words (an
// expired or revoked code), never the server's English.
export function refusal(prefix, code) {
  if (has(`${prefix}.err.${code}`)) return t(`${prefix}.err.${code}`);
  if (has("val.err." + code)) return t("val.err." + code);
  return explain({ code });
}

// The kiosk. `config`:
//   store     — enrolment(), trust(), seen, refreshTrust(token), upload(token), pending()
//   enrolled  — what enrolment kept ({ id, label, token, … })
//   title     — the screen's (hidden) heading key; badge — the device line (bus or gate)
//   words     — keys for { offline, pending, uploaded, tooOld }
//   atRest(data)              — the nodes the panel shows between codes
//   check(result, code, data) — further checks after the shared verifier passed or refused
//   keep(result, code, now)   — writes the pass before the green
//   said(result, data)        — the nodes of a green or red answer
export async function runKiosk(config) {
  const { store, enrolled, words } = config;
  const answer = h("div", { id: "answer", class: "answer idle", role: "status", "aria-live": "assertive" });
  const freshness = h("span", { id: "freshness" });
  const freshLine = h("p", { id: "freshness-line" }, icon("refresh-cw"), freshness);
  const pending = h("span", { id: "pending" });
  const uploads = h("p", { id: "uploads" }, icon("cloud-upload"), pending, h("span", { id: "uploaded" }));
  const network = h("p", { id: "network", role: "status" });
  // The wedge scanner types here: focused, never seen, and focused again if anything takes the focus.
  const wedge = h("input", { id: "wedge", class: "wedge-hidden", autocomplete: "off", spellcheck: "false",
    "aria-label": t("val.wedge") });
  const video = h("video", { id: "camera", muted: true, playsinline: true, "aria-hidden": "true" });
  screen(config.title, answer, h("div", { class: "kiosk-foot" }, config.badge, uploads, freshLine, network, video), wedge);
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
      console.error("kiosk: decision failed", error);
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

  async function idle() {
    answer.className = "answer idle";
    answer.replaceChildren(...config.atRest(await store.trust()).filter(Boolean),
      h("p", { class: "prompt" }, icon("scan-line"), t(config.ready)));
  }

  function updateNetwork() {
    network.className = navigator.onLine ? "" : "warn-text";
    network.replaceChildren(icon(navigator.onLine ? "circle-check" : "wifi-off"), t(navigator.onLine ? "val.online" : words.offline));
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
      // The `ss` kind (the verifier's bus context); the seen-set is this kiosk's own.
      result = await verifyCode(code, { jwks: data.jwks, revokedJti: data.revoked, context: "bus", now, seen: store.seen });
      result = await config.check(result, code, data);
    }
    if (result.ok) await config.keep(result, code, now);  // stored before anyone sees green
    render(result, data);
    updatePending();
  }

  let back = null;
  let decisions = 0;
  function render(result, data) {
    answer.className = `answer ${result.ok ? "green" : "red"}`;
    // Kept after the answer returns to rest (2.5 s): the last decision and how many were made,
    // for whoever looks later (a test on a loaded machine, a support call).
    answer.dataset.last = result.ok ? "green" : "red";
    answer.dataset.decisions = String(++decisions);
    answer.replaceChildren(h("p", { class: "big", text: result.ok ? "✓" : "✗" }), ...config.said(result, data).filter(Boolean));
    beep(result.ok);
    clearTimeout(back);
    back = setTimeout(idle, 2500);
  }

  async function updatePending() {
    const n = (await store.pending()).length;
    pending.textContent = n ? t(words.pending, { n }) : "";
    uploads.querySelector("#uploaded").textContent = n ? "" : t(words.uploaded);
  }

  async function updateFreshness() {
    const data = await store.trust();
    if (!data) return;
    const age = Math.floor(Date.now() / 1000) + data.offset - data.fetchedAt;
    freshLine.className = age > data.limits.max_age ? "red-text" : age > data.limits.warn_age ? "warn-text" : "";
    freshness.textContent = age > data.limits.max_age ? t(words.tooOld)
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
