// History: medical settlements (tap one for its bill), rides and ride-wallet entries, newest first,
// a page at a time. Offline it shows the last copy kept on the phone, with when it was kept.
import * as api from "../api.js";
import { currentLanguage, has, t } from "../i18n.js";
import * as idb from "../idb.js";
import { chinaTime, explain, h, icon, message, money, screen, show, tabs } from "../ui.js";
import { stayRow, staysPage } from "./inpatient/mine.js";

const KINDS = [
  { key: "settlements", labelKey: "history.tab.settlements", iconName: "hospital" },
  { key: "rides", labelKey: "history.tab.rides", iconName: "bus" },
  { key: "wallet", labelKey: "history.tab.wallet", iconName: "wallet" },
  { key: "stays", labelKey: "history.tab.stays", iconName: "hospital" },  // 住院 (one page: GET /me/stays)
];

const named = (names) => names[currentLanguage() === "en" ? "en" : "zh"];

export async function historyScreen(kind = "settlements") {
  if (!KINDS.some((one) => one.key === kind)) kind = "settlements";
  const box = message();
  const stale = h("p", { class: "note-box stale", role: "status", hidden: true });
  const list = h("ul", { class: "list", id: "history-list", "aria-labelledby": "history-heading" });
  const more = h("div", { class: "pager" });
  screen("history.title",
    tabs("history.title", KINDS, kind, (key) => { location.hash = `#/history/${key}`; }),
    h("h3", { id: "history-heading", class: "visually-hidden", text: t(`history.tab.${kind}`) }),
    stale, box, list, more);

  const snapshotName = `history:${kind}`;
  let page;
  try {
    page = kind === "stays" ? staysPage(await api.get("/api/v1/me/stays")) : await api.get(`/api/v1/me/${kind}`);
    await idb.put("snapshots", { name: snapshotName, page, at: Date.now() });
  } catch (error) {
    const kept = await idb.get("snapshots", snapshotName);
    if (!kept) return show(box, error.code === "network" ? t("history.offlineNone") : explain(error));
    page = kept.page;
    stale.hidden = false;
    stale.replaceChildren(icon("wifi-off"), " ", t("history.offlineCopy", { time: chinaTime(kept.at) }));
  }
  render(page, true);

  function render({ items, next_before: nextBefore }, first) {
    if (first && !items.length) list.replaceChildren(h("li", { class: "empty", text: t(`history.empty.${kind}`) }));
    else list.append(...items.map(ROWS[kind]));
    more.replaceChildren();
    if (nextBefore && stale.hidden) {
      more.append(h("button", { type: "button", onclick: async () => {
        try {
          render(await api.get(`/api/v1/me/${kind}?before=${nextBefore}`), false);
        } catch (error) {
          show(box, explain(error));
        }
      } }, t("history.more")));
    }
  }
}

function settlementRow(s) {
  const parts = [["history.fund", s.fund_fen], ["history.account", s.personal_account_fen], ["history.cash", s.cash_fen]];
  const where = [chinaTime(s.at), s.cross_region ? t("history.crossRegion") : null].filter(Boolean).join(" · ");
  return h("li", { "data-id": s.id },
    h("details", { class: "history" },
      h("summary", {},
        h("span", { class: "row-main" }, h("span", { class: "row-title", text: named(s.institution.name) }),
          h("span", { class: "row-sub", text: where })),
        h("span", { class: "row-side" }, h("span", { class: "row-amount", text: money(s.total_fen) }),
          s.refunded ? h("span", { class: "tag pill bad", text: t("history.refunded") }) : h("span", { class: "row-sub", text: t("history.details") }))),
      h("div", { class: "history-lines" },
        s.refunded ? h("p", { class: "note-box", text: t("history.refundedAt", { time: chinaTime(s.refunded_at) }) }) : null,
        h("table", { class: "data" },
          h("caption", { class: "visually-hidden", text: t("history.split") }),
          h("tbody", {}, parts.map(([key, fen]) => h("tr", {}, h("th", { scope: "row", text: t(key) }), h("td", { class: "num", text: money(fen) }))),
            h("tr", {}, h("th", { scope: "row", text: t("history.total") }), h("td", { class: "num", text: money(s.total_fen) })))),
        h("table", { class: "data" },
          h("caption", { class: "visually-hidden", text: t("history.bill") }),
          h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("history.item") }), h("th", { scope: "col", class: "num", text: t("history.amount") }))),
          h("tbody", {}, s.lines.map((line) => h("tr", {},
            h("td", { text: [t(`cat.${line.category}`), line.description, t(`coverage.${line.coverage_class}`)].filter(Boolean).join(" · ") }),
            h("td", { class: "num", text: money(line.amount_fen) }))))))));
}

function rideRow(ride) {
  const outcome = has(`ride.${ride.outcome}`) ? t(`ride.${ride.outcome}`) : t("ride.other");
  const bad = ride.outcome === "arrears" || ride.outcome === "revoked";
  return h("li", { "data-id": ride.id },
    h("span", { class: "row-main" }, h("span", { class: "row-title", text: named(ride.line.name) }),
      h("span", { class: "row-sub", text: chinaTime(ride.at) })),
    h("span", { class: "row-side" }, h("span", { class: "row-amount", text: ride.fare_fen ? money(ride.fare_fen) : t("ride.free") }),
      h("span", { class: `row-sub${bad ? " tag bad" : ""}`, text: outcome })));
}

function walletRow(entry) {
  const amount = (entry.amount_fen > 0 ? "+" : "") + money(entry.amount_fen);
  return h("li", { "data-id": entry.id },
    h("span", { class: "row-main" }, h("span", { class: "row-title", text: t(`kind.${entry.kind}`) }),
      h("span", { class: "row-sub", text: chinaTime(entry.at) })),
    h("span", { class: "row-side" }, h("span", { class: "row-amount", text: amount }),
      h("span", { class: "row-sub", text: t("history.balanceAfter", { amount: money(entry.balance_after_fen) }) })));
}

const ROWS = { settlements: settlementRow, rides: rideRow, wallet: walletRow, stays: stayRow };
