// 核验参保凭证: the public page (no login) where an employer, a school or an office checks an
// insurance certificate — scanned with the camera, uploaded as the PDF or a photo, pasted, or
// opened from a shared link (#/check?c=…). The check runs here, in the browser, with nothing but
// the JWKS and the signed revocation list (certificate-format.js); only a PDF goes to the server,
// which finds the QR on its first page and answers its text. docs/certificate.md.
import { has, t } from "../i18n.js";
import { cameraErrorCode, readPicture, startCamera } from "../scanner.js";
import { backLink, card, chinaDate, chinaTime, h, icon, message, screen, show } from "../ui.js";
import { verifyDocument } from "../yima-code.js";
import { CERTIFICATE_PREFIX, decodeCertificate, verifyCertificate } from "./certificate-format.js";

let stopScan = null;

export function stopCertificateCheck() {
  if (stopScan) stopScan();
  stopScan = null;
}

const pair = (termKey, value) => h("div", { class: "pair" }, h("dt", { text: t(termKey) }), h("dd", { class: "text" }, value));
// A date range that breaks between the dates, never inside one.
const range = (from, to) => t("cert.rowPeriod", { from: "\u0000", to: "\u0001" }).split(/(\u0000|\u0001)/)
  .map((part) => (part === "\u0000" ? h("span", { class: "nowrap", text: from }) : part === "\u0001" ? h("span", { class: "nowrap", text: to }) : part));

// What a certificate certifies, as summary-list pairs. `c` has the API's names (the holder's list)
// or comes from fromClaims (a checked QR).
export function certificateFacts(c) {
  return [
    pair("cert.f.name", c.name),
    pair("cert.f.id", c.national_id_masked),
    pair("cert.f.region", t("cert.regionFull", { region: t(`region.${c.region}`), code: c.region })),
    pair("cert.f.scheme", t(`cert.scheme.${c.scheme}`)),
    pair("cert.f.status", t(`cert.status.${c.status}`)),
    pair("cert.f.since", c.insured_since),
    pair("cert.f.period", range(c.period_from, c.period_to)),
    pair("cert.f.issued", chinaTime(c.issued_at)),
    pair("cert.f.until", chinaTime(c.expires_at)),
    pair("cert.f.number", c.jti),
  ];
}

const fromClaims = (c) => ({
  name: c.name, national_id_masked: c.idm, region: c.reg, scheme: c.sch, status: c.sts, insured_since: c.since,
  period_from: c.pfrom, period_to: c.pto, issued_at: c.iat * 1000, expires_at: c.exp * 1000, jti: c.jti,
});

async function getJson(path) {
  const response = await fetch(path, { credentials: "omit", cache: "no-cache" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// The issuer's public keys and the revoked ids, the list's signature checked with those keys.
async function trustData() {
  const jwks = await getJson("/.well-known/jwks.json");
  const listing = await getJson("/api/v1/revocations");
  const signed = await verifyDocument(listing.signed, jwks);
  if (signed.typ !== "revocations" || !Array.isArray(signed.jti)) throw new Error("not a revocation list");
  return { jwks, revoked: new Set(signed.jti) };
}

export async function certificateCheckScreen({ back }) {
  stopCertificateCheck();
  const verdict = h("div", { id: "cert-verdict", "aria-live": "polite" });
  const box = message();
  const video = h("video", { id: "camera", playsinline: true, muted: true, hidden: true });
  const scanButton = h("button", { type: "button", class: "primary block", id: "cert-scan", onclick: toggleScan },
    icon("scan-line"), t("cert.scan"));
  // The browser's own file button speaks the browser's language: a labelled button of ours instead.
  const file = h("input", { type: "file", id: "cert_file", class: "visually-hidden", accept: "application/pdf,image/*",
    "aria-describedby": "cert_file-hint" });
  file.addEventListener("change", () => { if (file.files[0]) upload(file.files[0]); file.value = ""; });
  const pasted = h("input", { id: "cert_text", autocomplete: "off", spellcheck: "false", autocapitalize: "off" });
  const pasteForm = h("form", { id: "cert-paste", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "cert_text", text: t("cert.paste") }),
      h("p", { class: "field-hint", text: t("cert.pasteHint") }), pasted),
    h("button", { type: "submit" }, icon("shield-check"), t("cert.checkButton")));
  pasteForm.addEventListener("submit", (event) => { event.preventDefault(); if (pasted.value) check(pasted.value); });

  screen("cert.checkTitle", backLink(back, "back"),
    h("p", { class: "secondary", text: t("cert.checkIntro") }),
    verdict, box,
    card({ "aria-labelledby": "cert-how" }, h("h3", { class: "card-title", id: "cert-how" }, icon("shield-check"), t("cert.how")),
      h("p", {}, scanButton), video,
      h("p", { class: "cert-upload" }, file, h("label", { for: "cert_file", class: "button block" }, icon("cloud-upload"), t("cert.upload")),
        h("span", { class: "field-hint", id: "cert_file-hint", text: t("cert.uploadHint") })),
      pasteForm),
    h("p", { class: "secondary", text: t("cert.privacy") }));

  const shared = new URLSearchParams(location.hash.split("?")[1] || "").get("c");
  if (shared) await check(shared);

  async function toggleScan() {
    if (stopScan) {
      stopCertificateCheck();
      video.hidden = true;
      scanButton.lastChild.textContent = t("cert.scan");
      return;
    }
    try {
      video.hidden = false;
      stopScan = await startCamera(video, (text) => {
        stopCertificateCheck();
        video.hidden = true;
        scanButton.lastChild.textContent = t("cert.scan");
        check(text);
      });
      scanButton.lastChild.textContent = t("cert.stopScan");
    } catch (error) {
      video.hidden = true;
      show(box, t(`cert.camera.${cameraErrorCode(error)}`));
    }
  }

  async function upload(blob) {
    show(box, t("cert.reading"), "ok");
    try {
      let text = null;
      if (blob.type === "application/pdf" || /\.pdf$/i.test(blob.name || "")) {
        const response = await fetch("/api/v1/certificates/read", { method: "POST", body: blob, credentials: "same-origin",
          headers: { "Content-Type": "application/pdf", "X-CSRF-Token": sessionStorage.getItem("yima.csrf") || "" } });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) return show(box, t(has(`cert.readErr.${answer.code}`) ? `cert.readErr.${answer.code}` : "cert.readErr.other"));
        text = answer.text;
      } else {
        text = (await readPicture(blob)).find((found) => found.startsWith(CERTIFICATE_PREFIX)) || null;
        if (!text) return show(box, t("cert.readErr.no_certificate_found"));
      }
      return check(text);
    } catch (error) {
      return show(box, t("cert.readErr.other"));
    }
  }

  async function check(text) {
    box.textContent = "";
    verdict.replaceChildren(h("p", { class: "secondary", text: t("cert.checking") }));
    let trust;
    try {
      trust = await trustData();
    } catch (error) {
      verdict.replaceChildren();
      return show(box, t("cert.noTrust"));
    }
    const result = await verifyCertificate(text, { jwks: trust.jwks, revokedJti: trust.revoked, now: Date.now() / 1000 });
    if (result.ok) {
      verdict.replaceChildren(h("section", { class: "ok-card cert-verdict valid", role: "status" },
        h("h3", { class: "card-title" }, icon("circle-check"), t("cert.valid")),
        h("p", { text: t("cert.validNote") }),
        h("dl", { class: "summary" }, certificateFacts(fromClaims(result.claims)))));
      return verdict.scrollIntoView({ block: "nearest" });
    }
    // Expired or revoked: the signature held, so what it certified is genuine and worth showing.
    const signed = ["certificate_expired", "certificate_revoked", "certificate_not_yet_valid"].includes(result.error);
    const claims = signed ? decodeCertificate(text).unverifiedClaims : null;
    const looksLikeCode = typeof text === "string" && text.trim().startsWith("YM1");
    verdict.replaceChildren(h("section", { class: "refused-card cert-verdict", role: "alert", "data-error": result.error },
      h("p", { class: "big" }, icon("circle-x"), " ", t(`cert.head.${result.error}`)),
      h("p", { text: looksLikeCode ? t("cert.why.a_code") : t(`cert.why.${result.error}`, { date: claims ? chinaDate(claims.exp * 1000) : "" }) }),
      claims ? h("dl", { class: "summary" }, certificateFacts(fromClaims(claims))) : null));
    return verdict.scrollIntoView({ block: "nearest" });
  }
}
