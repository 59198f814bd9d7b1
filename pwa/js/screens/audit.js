// For a fund's auditor (or an admin): who owes whom across the zone this month, as a table, a
// chart and a CSV; and the flags the joint-audit rules raised, each confirmed or dismissed with a note.
import * as api from "../api.js";
import { t } from "../i18n.js";
import { explain, h, message, screen, show, yuan } from "../ui.js";
import { adminPanels } from "./admin.js";

const REGION_NAMES = { "310118": "青浦 Qingpu", "320509": "吴江 Wujiang", "330421": "嘉善 Jiashan" };

function chart(rows) {
  const totals = new Map();
  for (const row of rows) {
    const key = `${REGION_NAMES[row.insured_region]} → ${REGION_NAMES[row.treating_region]}`;
    totals.set(key, (totals.get(key) || 0) + row.fund_fen);
  }
  const entries = [...totals.entries()];
  const max = Math.max(1, ...entries.map(([, fen]) => fen));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 600 ${entries.length * 36 + 10}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("audit.chart") + ": " + entries.map(([k, fen]) => `${k} ${yuan(fen)}`).join("; "));
  entries.forEach(([label, fen], i) => {
    const y = 8 + i * 36;
    const bar = document.createElementNS(svg.namespaceURI, "rect");
    Object.entries({ x: 230, y, height: 24, width: Math.max(2, (fen / max) * 280), fill: "#0b6e4f" })
      .forEach(([k, v]) => bar.setAttribute(k, v));
    const text = (x, content, anchor = "start") => {
      const node = document.createElementNS(svg.namespaceURI, "text");
      Object.entries({ x, y: y + 17, "font-size": 14, "text-anchor": anchor, fill: "#111" }).forEach(([k, v]) => node.setAttribute(k, v));
      node.textContent = content;
      return node;
    };
    svg.append(bar, text(222, label, "end"), text(238 + (fen / max) * 280, yuan(fen)));
  });
  return h("figure", { class: "chart" }, h("figcaption", { text: t("audit.chart") }), svg);
}

export async function auditScreen({ admin = false } = {}) {
  const box = message();
  const clearing = h("section", { id: "clearing" });
  const flags = h("ul", { class: "list", id: "flags" });
  const main = screen("audit.title", box, h("h3", { text: t("audit.clearing") }), clearing, h("h3", { text: t("audit.flags") }), flags);
  if (admin) adminPanels(main);
  try {
    const report = await api.get("/api/v1/clearing");
    clearing.replaceChildren(
      chart(report.rows),
      h("table", { class: "split" },
        h("thead", {}, h("tr", {}, ...["audit.payer", "audit.payee", "audit.institution", "audit.count", "audit.fund"]
          .map((key) => h("th", { scope: "col", text: t(key) })))),
        h("tbody", {}, report.rows.map((row) => h("tr", {},
          h("td", { text: REGION_NAMES[row.insured_region] }), h("td", { text: REGION_NAMES[row.treating_region] }),
          h("td", { text: row.institution }), h("td", { text: String(row.settlements) }),
          h("td", { text: t("yuan", { yuan: yuan(row.fund_fen) }) }))))),
      h("a", { href: `/api/v1/clearing?format=csv&from=${report.period.from}&to=${report.period.to}`, download: "", text: t("audit.csv") }));
    await loadFlags();
  } catch (error) {
    show(box, explain(error));
  }

  async function loadFlags() {
    const { flags: items } = await api.get("/api/v1/audit/flags");
    flags.replaceChildren(...(items.length ? items.map(flagItem) : [h("li", { text: t("audit.none") })]));
  }

  function flagItem(flag) {
    const head = h("span", { text: `${t("audit.rule." + flag.rule)} · ${(flag.settlement ? t("audit.settlement", { id: flag.settlement }) : t("audit.ride", { id: flag.ride }))} · ${REGION_NAMES[flag.insured_region]} → ${REGION_NAMES[flag.treating_region]}` });
    if (flag.status !== "open") {
      return h("li", {}, head, h("span", { class: "tag", text: t("audit.decided", { status: t("audit.status." + flag.status) }) + (flag.note ? ` — ${flag.note}` : "") }));
    }
    const note = h("input", { "aria-label": t("audit.note"), placeholder: t("audit.note"), class: "note" });
    const decide = (decision) => async () => {
      try {
        await api.post(`/api/v1/audit/flags/${flag.id}`, { decision, note: note.value });
        show(box, "");
        await loadFlags();
      } catch (error) {
        show(box, explain(error));
      }
    };
    return h("li", { "data-flag": flag.id }, head, note,
      h("button", { type: "button", text: t("audit.confirm"), onclick: decide("confirm") }),
      h("button", { type: "button", text: t("audit.dismiss"), onclick: decide("dismiss") }));
  }
}
