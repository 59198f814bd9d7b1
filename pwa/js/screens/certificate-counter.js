// For a region's admin at the service counter (#/admin/certificates): issue a 参保凭证 for the
// person whose ID card is in hand (an admin bound to a region finds only persons insured there),
// then print its PDF. The person sees it in their own list and may revoke it. docs/certificate.md.
import * as api from "../api.js";
import { field, fieldError } from "../ui.js";
import { done, fail, h, message, select, t } from "./admin/common.js";
import { certificateFacts } from "./certificate-check.js";

const PERIODS = [["", "cert.period.all"], ["12", "cert.period.12"], ["6", "cert.period.6"]];

export async function certificatesSection(area) {
  const box = message();
  const result = h("div", { id: "counter-certificate", "aria-live": "polite" });
  const form = h("form", { novalidate: true, id: "counter-cert", class: "inline-form" },
    field("cert_national_id", "cert.counter.id", { autocomplete: "off", maxlength: 18, inputmode: "text", spellcheck: "false" }),
    select("cert_counter_period", "cert.period", PERIODS.map(([value, key]) => [value, t(key)])),
    h("button", { type: "submit", class: "primary", text: t("cert.issue") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fieldError("cert_national_id");
    const id = form.cert_national_id.value.trim();
    if (id.length !== 18) {
      fieldError("cert_national_id", t("err.bad_national_id"));
      return;
    }
    const months = form.cert_counter_period.value;
    try {
      const { certificate } = await api.post("/api/v1/admin/certificates",
        { national_id: id, ...(months ? { period_months: Number(months) } : {}) });
      form.reset();
      done(box, "cert.counter.issued", { name: certificate.name });
      result.replaceChildren(h("section", { class: "ok-card" },
        h("dl", { class: "summary" }, certificateFacts(certificate)),
        h("p", {}, h("a", { class: "button primary", href: `/api/v1/admin/certificates/${certificate.jti}/pdf`,
          target: "_blank", rel: "noopener", text: t("cert.counter.print") }))));
    } catch (error) {
      result.replaceChildren();
      if (error.code === "bad_national_id") fieldError("cert_national_id", t("err.bad_national_id"));
      fail(box, error);
    }
  });
  area.append(h("h3", { text: t("cert.counter.new") }), h("p", { class: "secondary", text: t("cert.counter.intro") }),
    box, form, result);
}
