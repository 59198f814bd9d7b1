// 哪里能用 / Where it works: the institutions that accept the medical e-voucher and the zone's bus
// lines with their fares. Public (no login), searched on the phone so that it works offline from the
// copy the service worker keeps.
import * as api from "../api.js";
import { currentLanguage, t } from "../i18n.js";
import { backLink, explain, field, h, icon, message, money, screen, show, tabs } from "../ui.js";

const named = (names) => names[currentLanguage() === "en" ? "en" : "zh"];
const LISTS = [
  { key: "institutions", labelKey: "where.hospitals", iconName: "hospital" },
  { key: "lines", labelKey: "where.lines", iconName: "bus" },
];
let chosen = "institutions";

export async function directoryScreen({ back }) {
  const box = message();
  const list = h("ul", { class: "list", id: "where-list", "aria-live": "polite" });
  const count = h("p", { class: "secondary", id: "where-count", role: "status" });
  const region = h("select", { id: "where_region" }, h("option", { value: "", text: t("where.allRegions") }),
    ["310118", "320509", "330421"].map((code) => h("option", { value: code, text: t(`region.${code}`) })));
  const search = h("form", { class: "search", role: "search", onsubmit: (event) => event.preventDefault() },
    field("where_q", "where.search", { type: "search", autocomplete: "off", enterkeyhint: "search" }, { hintKey: "where.searchHint" }),
    h("div", { class: "field" }, h("label", { for: "where_region", text: t("where.region") }), region));
  screen("where.title", backLink(back, "back"),
    h("p", { text: t("where.intro") }),
    tabs("where.title", LISTS, chosen, (key) => { chosen = key; load(); }),
    search, box, count, list);
  const input = search.querySelector("input");
  let data = { institutions: null, lines: null };
  input.addEventListener("input", render);
  region.addEventListener("change", render);

  async function load() {
    show(box, "", "ok");
    if (!data[chosen]) {
      try {
        data[chosen] = (await api.get(`/api/v1/directory/${chosen}`))[chosen];
      } catch (error) {
        list.replaceChildren();
        count.textContent = "";
        return show(box, error.code === "network" ? t("where.offlineNone") : explain(error));
      }
    }
    render();
  }

  function render() {
    const words = input.value.trim().toLowerCase();
    const inRegion = (item) => !region.value || (item.regions || [item.region]).some((r) => r.code === region.value);
    const items = (data[chosen] || []).filter(inRegion).filter((item) => !words
      || [item.name.zh, item.name.en, ...(item.regions || [item.region]).map((r) => named(r.name))]
        .some((text) => text.toLowerCase().includes(words)));
    count.textContent = t(`where.count.${chosen}`, { n: items.length });
    list.replaceChildren(...(items.length ? items.map(chosen === "lines" ? lineRow : institutionRow)
      : [h("li", { class: "empty", text: t("where.none") })]));
  }

  await load();
}

function institutionRow(item) {
  return h("li", {},
    h("span", { class: "row-main" }, h("span", { class: "row-title", text: named(item.name) }),
      h("span", { class: "row-sub", text: named(item.region.name) })),
    h("span", { class: "row-side" }, h("span", { class: "tag pill", text: t(`where.level.${item.level}`) })));
}

function lineRow(line) {
  return h("li", {},
    h("span", { class: "row-main" }, h("span", { class: "row-title" }, icon("bus"), " ", named(line.name)),
      h("span", { class: "row-sub", text: line.regions.map((r) => named(r.name)).join(" · ") })),
    h("span", { class: "row-side" }, h("span", { class: "row-amount", text: money(line.fare_fen) }),
      h("span", { class: "row-sub", text: t("where.perRide") })));
}
