// For an admin: enrol bus validators (a one-time code and its QR) and see today's ridership.
import * as api from "../api.js";
import { t } from "../i18n.js";
import { explain, field, h, message, show } from "../ui.js";

const LINES = ["ZONE1", "ZONE2", "ZONE3", "ZONE4", "ZONE5", "ZONE6"];

export async function adminPanels(main, { onRegistered = () => {} } = {}) {
  const box = message();
  const enrolment = h("div", { id: "enrolment", "aria-live": "polite" });
  const form = h("form", { novalidate: true, id: "register-validator" },
    h("div", { class: "field" }, h("label", { for: "line", text: t("admin.line") }),
      h("select", { id: "line", name: "line" }, LINES.map((code) => h("option", { value: code, text: code })))),
    field("label", "admin.label", { autocomplete: "off" }),
    h("button", { type: "submit", text: t("admin.register") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api.post("/api/v1/admin/validators", { line: form.line.value, label: form.label.value });
      const picture = h("div", { class: "qr small", role: "img", "aria-label": t("admin.enrolCode", { code: answer.enrol_code }) });
      picture.innerHTML = answer.qr_svg.replace(/^<\?xml[^>]*>/, "");
      enrolment.replaceChildren(h("p", { class: "big-code", text: t("admin.enrolCode", { code: answer.enrol_code }) }), picture);
      await onRegistered(answer);
    } catch (error) {
      show(box, explain(error));
    }
  });
  const ridership = h("section", { id: "ridership" });
  main.append(h("h3", { text: t("admin.validators") }), form, box, enrolment,
    h("h3", { text: t("admin.ridership") }), ridership);
  try {
    const { rows } = await api.get("/api/v1/admin/ridership");
    const max = Math.max(1, ...rows.map((row) => row.rides));
    ridership.replaceChildren(h("table", { class: "split" },
      h("thead", {}, h("tr", {}, ...["admin.line", "admin.hour", "admin.rides"].map((key) => h("th", { scope: "col", text: t(key) })), h("th", {}))),
      h("tbody", {}, rows.map((row) => h("tr", {}, h("td", { text: row.line }), h("td", { text: `${row.hour}:00` }),
        h("td", { text: String(row.rides) }),
        h("td", { "aria-hidden": "true" }, h("span", { class: "bar-fill", style: `width:${(row.rides / max) * 100}%` })))))));
  } catch (error) {
    show(box, explain(error));
  }
}
