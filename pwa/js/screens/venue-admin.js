// For a region's admin (#/admin/venues): the venues of their region (museum, library, scenic spot),
// a new venue, a gate verifier enrolled for one (a one-time code and its QR, typed or scanned at the
// gate's #/venue page), disabling a gate after a confirmation, and the day's visits per venue and
// hour (a chart and a table). Venues are named, never shown as numbers alone.
import * as api from "../api.js";
import { field, confirmDialog } from "../ui.js";
import { draw, figure } from "./admin/charts.js";
import { cell, chinaToday, dayInput, done, fail, h, message, numCell, regionChoices, regionName, select, table, t } from "./admin/common.js";
import { currentLanguage } from "../i18n.js";

const KINDS = ["library", "museum", "scenic"];
const nameOf = (venue) => (currentLanguage() === "en" && venue.en ? venue.en : venue.zh);

export async function venuesSection(area, scope) {
  const box = message();
  const list = h("div", { id: "venue-list" });
  const enrolment = h("div", { id: "enrolment", "aria-live": "polite" });
  const form = h("form", { novalidate: true, id: "add-venue", class: "inline-form" },
    h("h3", { text: t("venue.adm.add") }),
    field("venue_name_zh", "venue.adm.nameZh", { autocomplete: "off", maxlength: 60 }),
    field("venue_name_en", "venue.adm.nameEn", { autocomplete: "off", maxlength: 80 }),
    select("venue_kind", "venue.adm.kind", KINDS.map((kind) => [kind, t("venue.kind." + kind)])),
    scope.region ? null : select("venue_region", "venue.adm.region", regionChoices()),
    h("button", { type: "submit", text: t("venue.adm.addButton") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const venue = await api.post("/api/v1/admin/venues", { name_zh: form.venue_name_zh.value,
        name_en: form.venue_name_en.value, kind: form.venue_kind.value, region: form.venue_region?.value || null });
      done(box, "venue.adm.added", { name: venue.name_zh });
      form.reset();
      await load();
    } catch (error) {
      fail(box, error);
    }
  });
  const visits = h("section", { id: "venue-visits" });
  area.append(box, h("h3", { text: t("venue.adm.list") }), list, enrolment, form, visits);
  await load();
  await visitsPanel(visits);

  async function load() {
    const { venues } = await api.get("/api/v1/admin/venues");
    list.replaceChildren(venues.length ? table(["venue.adm.venue", "venue.adm.gates", ""],
      venues.map((venue) => h("tr", { "data-venue": venue.id },
        h("td", {}, h("strong", { text: nameOf({ zh: venue.name_zh, en: venue.name_en }) }), h("br"),
          `${t("venue.kind." + venue.kind)} · ${regionName(venue.region)}`),
        h("td", {}, venue.verifiers.length ? h("div", {}, venue.verifiers.map((gate) => h("p", { "data-gate": gate.id, class: "gate" },
          `${gate.label || t("venue.number", { id: gate.id })} · `, h("span", { class: `tag pill ${gate.status === "active" ? "ok" : gate.status === "disabled" ? "bad" : ""}`, text: t("adm.validator." + gate.status) }),
          gate.status === "disabled" ? "" : h("button", { type: "button", class: "danger-outline small", text: t("adm.disable"), onclick: () => disable(gate, venue) }))))
          : t("venue.adm.noGates")),
        h("td", {}, h("button", { type: "button", class: "small", text: t("venue.adm.enrolGate"), onclick: () => enrolGate(venue) })))))
      : h("p", { class: "empty", text: t("venue.adm.none") }));
  }

  async function enrolGate(venue) {
    const label = h("input", { id: "gate_label", name: "gate_label", autocomplete: "off", maxlength: 60 });
    const gateForm = h("form", { novalidate: true, id: "enrol-gate", class: "inline-form" },
      h("h3", { text: t("venue.adm.enrolFor", { name: venue.name_zh }) }),
      h("div", { class: "field" }, h("label", { for: "gate_label", text: t("venue.adm.gateLabel") }), label),
      h("button", { type: "submit", text: t("admin.register") }));
    gateForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const answer = await api.post(`/api/v1/admin/venues/${venue.id}/verifiers`, { label: label.value });
        const picture = h("div", { class: "qr small", role: "img", "aria-label": t("venue.adm.enrolCode", { code: answer.enrol_code }) });
        picture.innerHTML = answer.qr_svg.replace(/^<\?xml[^>]*>/, "");
        enrolment.replaceChildren(h("p", { class: "big-code", id: "gate-code", text: t("venue.adm.enrolCode", { code: answer.enrol_code }) }),
          h("p", { text: t("venue.adm.enrolHelp") }), picture);
        await load();
      } catch (error) {
        fail(box, error);
      }
    });
    enrolment.replaceChildren(gateForm);
    label.focus();
  }

  async function disable(gate, venue) {
    const vars = { label: gate.label || t("venue.number", { id: gate.id }), name: venue.name_zh };
    if (!await confirmDialog({ titleKey: "venue.adm.disableTitle", bodyKey: "venue.adm.disableBody", confirmKey: "adm.disable", vars })) return;
    try {
      await api.post(`/api/v1/admin/venue-verifiers/${gate.id}/disable`);
      done(box, "venue.adm.disabled", vars);
      await load();
    } catch (error) {
      fail(box, error);
    }
  }
}

// Visits per venue and hour on a day: a line chart by hour and a table by venue.
async function visitsPanel(area) {
  const box = message();
  const day = dayInput("visits-date", chinaToday());
  const result = h("div", { id: "visits" });
  const form = h("form", { class: "filter-bar", id: "visits-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "visits-date", text: t("admin.day") }), day),
    h("button", { type: "submit", text: t("audit.show") }));
  form.addEventListener("submit", (event) => { event.preventDefault(); load().catch((error) => fail(box, error)); });
  area.append(h("h3", { text: t("venue.adm.visitsTitle") }), form, box, result);
  await load().catch((error) => fail(box, error));

  async function load() {
    const answer = await api.get(`/api/v1/admin/venue-visits?date=${encodeURIComponent(day.value || chinaToday())}`);
    const byVenue = new Map();
    for (const row of answer.rows) {
      const hours = byVenue.get(row.venue) || new Array(24).fill(0);
      hours[row.hour] += row.visits;
      byVenue.set(row.venue, hours);
    }
    if (!byVenue.size) {
      result.replaceChildren(h("p", { class: "empty", text: t("venue.adm.noVisits", { day: answer.date }) }));
      return;
    }
    const name = (id) => (answer.venues[String(id)] ? nameOf(answer.venues[String(id)]) : `#${id}`);
    const used = [...byVenue.values()].flatMap((hours) => hours.map((n, hour) => (n ? hour : null))).filter((x) => x !== null);
    const first = Math.max(0, Math.min(...used) - 1);
    const last = Math.min(23, Math.max(...used) + 1);
    const hours = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const ids = [...byVenue.keys()].sort((a, b) => a - b);
    const chart = figure("visits-chart", "venue.adm.chart", { day: answer.date });
    result.replaceChildren(chart, table(["venue.adm.venue", "venue.adm.visits#", "admin.peakHour", "venue.adm.peakVisits#"], ids.map((id) => {
      const counts = byVenue.get(id);
      const peak = counts.indexOf(Math.max(...counts));
      return h("tr", { "data-venue": id }, cell(name(id)), numCell(counts.reduce((a, b) => a + b, 0)),
        cell(t("admin.hourRange", { from: String(peak).padStart(2, "0"), to: String(peak + 1).padStart(2, "0") })), numCell(counts[peak]));
    }), { id: "visits-table" }));
    await draw(chart, {
      type: "bar", tableHead: t("admin.hour"),
      labels: hours.map((hour) => `${String(hour).padStart(2, "0")}:00`),
      datasets: ids.map((id) => ({ label: name(id), data: hours.map((hour) => byVenue.get(id)[hour]) })),
      summary: ids.map((id) => `${name(id)}: ${byVenue.get(id).reduce((a, b) => a + b, 0)}`).join("; "),
    });
  }
}
