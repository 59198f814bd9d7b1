// 参保凭证 (the holder's side): issue a signed insurance certificate, see the ones issued (by the
// app or at a counter) with their state, show one's QR, download its PDF, share it (the system
// share sheet with the PDF where the phone has one, else the check link is copied) and revoke it
// (it asks first). docs/certificate.md.
import qrcode from "/static/vendor/qrcode-generator-2.0.4/qrcode.mjs";
import * as api from "../api.js";
import { t } from "../i18n.js";
import { backLink, card, chinaDate, chinaTime, confirmDialog, explain, h, icon, message, screen, show } from "../ui.js";
import { certificateFacts } from "./certificate-check.js";

const PERIODS = [["", "cert.period.all"], ["12", "cert.period.12"], ["6", "cert.period.6"]];

// The public page that checks a certificate, with the certificate in the fragment (never sent
// to a server by the browser that opens the link).
export const checkLink = (text) => `${location.origin}/#/check?c=${encodeURIComponent(text)}`;

export async function certificatesScreen() {
  const box = message();
  const list = h("ul", { class: "list", id: "certificates" });
  const period = h("select", { id: "cert_period" }, PERIODS.map(([value, key]) => h("option", { value, text: t(key) })));
  const issueForm = h("form", { id: "cert-issue", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "cert_period", text: t("cert.period") }), period),
    h("button", { type: "submit", class: "primary block" }, icon("plus"), t("cert.issue")));
  issueForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = issueForm.querySelector("button");
    button.disabled = true;
    try {
      const body = period.value ? { period_months: Number(period.value) } : {};
      const { certificate } = await api.post("/api/v1/me/certificates", body);
      await load();
      show(box, t("cert.issued", { until: chinaDate(certificate.expires_at) }), "ok");
      document.getElementById(`cert-${certificate.jti}`)?.scrollIntoView({ block: "nearest" });
    } catch (error) {
      show(box, explain(error));
    } finally {
      button.disabled = false;
    }
  });
  screen("cert.title", backLink("#/account", "nav.account"),
    h("p", { class: "secondary", text: t("cert.intro") }),
    card({ "aria-labelledby": "cert-new" }, h("h3", { class: "card-title", id: "cert-new" }, icon("id-card"), t("cert.new")),
      issueForm),
    box,
    card({ "aria-labelledby": "cert-mine" }, h("h3", { class: "card-title", id: "cert-mine" }, icon("list"), t("cert.mine")), list),
    h("p", {}, h("a", { href: "#/check", class: "button block" }, icon("shield-check"), t("cert.checkLink"))));
  if (!navigator.onLine) {
    issueForm.querySelector("button").disabled = true;
    return show(box, t("cert.offline"));
  }
  await load();

  async function load() {
    let answer;
    try {
      answer = await api.get("/api/v1/me/certificates");
    } catch (error) {
      return show(box, explain(error));
    }
    list.replaceChildren(...(answer.certificates.length ? answer.certificates.map(item)
      : [h("li", { class: "empty", text: t("cert.none") })]));
    return undefined;
  }

  function item(c) {
    const state = h("span", { class: `tag pill ${c.state === "valid" ? "ok" : "bad"}`, text: t(`cert.state.${c.state}`) });
    const details = h("div", { class: "cert-more", hidden: true });
    const actions = h("div", { class: "actions" });
    const rowBox = message();
    if (c.state === "valid") {
      actions.append(
        h("button", { type: "button", "aria-expanded": "false", onclick: (event) => toggleQr(event.currentTarget) }, icon("qr-code"), t("cert.showQr")),
        h("a", { class: "button", href: `/api/v1/me/certificates/${c.jti}/pdf`, download: `参保凭证-${c.jti}.pdf` }, t("cert.download")),
        h("button", { type: "button", onclick: () => share(c, rowBox) }, t("cert.share")),
        h("button", { type: "button", class: "danger-outline", onclick: () => revoke(c) }, icon("trash-2"), t("cert.revoke")));
    }
    function toggleQr(button) {
      const open = details.hidden;
      details.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open && !details.childElementCount) {
        const qr = qrcode(0, "M");
        qr.addData(c.text, "Alphanumeric");
        qr.make();
        const picture = h("div", { class: "qr", role: "img", "aria-label": t("cert.qrAlt") });
        picture.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 16, scalable: true });
        picture.dataset.text = c.text;
        details.append(picture, h("dl", { class: "summary" }, certificateFacts(c)));
      }
    }
    return h("li", { id: `cert-${c.jti}`, class: "cert-row" },
      h("span", { class: "row-main" },
        h("span", { class: "row-title", text: t("cert.rowTitle", { date: chinaDate(c.issued_at) }) }),
        h("span", { class: "row-sub", text: t("cert.rowPeriod", { from: c.period_from, to: c.period_to }) }),
        h("span", { class: "row-sub", text: c.state === "revoked" ? t("cert.revokedAt", { time: chinaTime(c.revoked_at) })
          : t("cert.validUntil", { date: chinaTime(c.expires_at) }) }),
        c.issued_via === "counter" ? h("span", { class: "row-sub", text: t("cert.viaCounter") }) : null),
      h("span", { class: "row-side" }, state),
      actions.childElementCount ? actions : null, rowBox, details);
  }

  async function share(c, rowBox) {
    const link = checkLink(c.text);
    try {
      if (navigator.share) {
        const pdf = await fetch(`/api/v1/me/certificates/${c.jti}/pdf`, { credentials: "same-origin" }).then((r) => (r.ok ? r.blob() : null));
        const file = pdf ? new File([pdf], `参保凭证-${c.jti}.pdf`, { type: "application/pdf" }) : null;
        const data = { title: t("cert.title"), text: t("cert.shareText"), url: link };
        await navigator.share(file && navigator.canShare?.({ files: [file] }) ? { ...data, files: [file] } : data);
        return;
      }
      await navigator.clipboard.writeText(link);
      show(rowBox, t("cert.copied"), "ok");
    } catch (error) {
      if (error?.name === "AbortError") return; // the person closed the share sheet
      show(rowBox, t("cert.shareFailed"));
    }
  }

  async function revoke(c) {
    const sure = await confirmDialog({ titleKey: "cert.revokeTitle", bodyKey: "cert.revokeBody", confirmKey: "cert.revoke",
      vars: { date: chinaDate(c.issued_at) } });
    if (!sure) return;
    try {
      await api.post(`/api/v1/me/certificates/${c.jti}/revoke`);
      await load();
      show(box, t("cert.revokedDone"), "ok");
    } catch (error) {
      show(box, explain(error));
    }
  }
}
