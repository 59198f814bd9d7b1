// For an admin: enrol a bus validator (a one-time code and its QR), and the day's ridership by line
// and hour (a chart and a table by line). Lines are named (示范区1路…), never shown as ZONE1.
import * as api from "../api.js";
import { t } from "../i18n.js";
import { field } from "../ui.js";
import { draw, figure } from "./admin/charts.js";
import { cell, chinaToday, dayInput, fail, h, message, nameOf, numCell, table } from "./admin/common.js";

export const lineNames = (lines) => ({
  lines: Object.fromEntries(lines.map((line) => [line.code, { zh: line.name_zh, en: line.name_en }])),
});

export async function enrolPanel(area, { onRegistered = () => {} } = {}) {
  const box = message();
  const enrolment = h("div", { id: "enrolment", "aria-live": "polite" });
  const { lines } = await api.get("/api/v1/admin/lines");
  const names = lineNames(lines);
  const form = h("form", { novalidate: true, id: "register-validator", class: "inline-form" },
    h("h3", { text: t("admin.validators") }),
    h("div", { class: "field" }, h("label", { for: "line", text: t("admin.line") }),
      h("select", { id: "line", name: "line" }, lines.map((line) => h("option", { value: line.code, text: nameOf(names, "lines", line.code) })))),
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
      fail(box, error);
    }
  });
  area.append(form, box, enrolment);
}

export async function ridershipSection(area) {
  const box = message();
  const day = dayInput("ridership-date", chinaToday());
  const result = h("div", { id: "ridership" });
  const form = h("form", { class: "filter-bar", id: "ridership-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "ridership-date", text: t("admin.day") }), day),
    h("button", { type: "submit", text: t("audit.show") }));
  form.addEventListener("submit", (event) => { event.preventDefault(); load().catch((error) => fail(box, error)); });
  area.append(form, box, result);
  const { lines } = await api.get("/api/v1/admin/lines");
  const names = lineNames(lines);
  await load();

  async function load() {
    const answer = await api.get(`/api/v1/admin/ridership?date=${encodeURIComponent(day.value || chinaToday())}`);
    const byLine = new Map();
    for (const row of answer.rows) {
      const hours = byLine.get(row.line) || new Array(24).fill(0);
      hours[row.hour] += row.rides;
      byLine.set(row.line, hours);
    }
    if (!byLine.size) {
      result.replaceChildren(h("p", { class: "empty", text: t("admin.noRides", { day: answer.date }) }));
      return;
    }
    const used = [...byLine.values()].flatMap((hours) => hours.map((n, hour) => (n ? hour : null))).filter((x) => x !== null);
    const first = Math.max(0, Math.min(...used) - 1);
    const last = Math.min(23, Math.max(...used) + 1);
    const hours = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const chart = figure("ridership-chart", "admin.ridershipChart", { day: answer.date });
    const codes = [...byLine.keys()].sort();
    result.replaceChildren(chart, h("h3", { text: t("admin.ridershipByLine") }),
      table(["admin.line", "admin.rides#", "admin.peakHour", "admin.peakRides#"], codes.map((code) => {
        const counts = byLine.get(code);
        const peak = counts.indexOf(Math.max(...counts));
        return h("tr", { "data-line": code }, cell(nameOf(names, "lines", code)), numCell(counts.reduce((a, b) => a + b, 0)),
          cell(t("admin.hourRange", { from: String(peak).padStart(2, "0"), to: String(peak + 1).padStart(2, "0") })), numCell(counts[peak]));
      }), { id: "ridership-table" }));
    await draw(chart, {
      type: "line", tableHead: t("admin.hour"),
      labels: hours.map((hour) => `${String(hour).padStart(2, "0")}:00`),
      datasets: codes.map((code) => ({ label: nameOf(names, "lines", code), data: hours.map((hour) => byLine.get(code)[hour]) })),
      summary: codes.map((code) => `${nameOf(names, "lines", code)}: ${byLine.get(code).reduce((a, b) => a + b, 0)}`).join("; "),
    });
  }
}
