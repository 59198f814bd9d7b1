// The patient's own hospital stays (记录 › 住院): open ones first with the fees so far, settled
// ones with what the fund, the personal account and the patient paid (GET /me/stays).
import { currentLanguage, t } from "../../i18n.js";
import { chinaTime, h, money } from "../../ui.js";
import { dayText } from "./common.js";

const named = (names) => (names ? names[currentLanguage() === "en" ? "en" : "zh"] : "");

// The history screen's page shape ({items, next_before}) from the stays answer (one page).
export const staysPage = (answer) => ({
  items: [...answer.stays].sort((a, b) => (a.status === b.status ? 0 : a.status === "open" ? -1 : 1)), next_before: null,
});

export function stayRow(stay) {
  const open = stay.status === "open";
  const when = open ? t("ip.me.since", { day: dayText(stay.admitted_on), days: stay.days })
    : t("ip.me.range", { from: dayText(stay.admitted_on), to: dayText(stay.discharged_on), days: stay.days });
  const settlement = stay.settlement;
  const parts = settlement ? [["history.fund", settlement.fund_fen], ["history.account", settlement.personal_account_fen], ["history.cash", settlement.cash_fen]] : [];
  return h("li", { "data-stay": String(stay.id), class: open ? "stay-open" : "" },
    h("details", { class: "history", open: open || null },
      h("summary", {},
        h("span", { class: "row-main" }, h("span", { class: "row-title", text: named(stay.institution) }),
          h("span", { class: "row-sub", text: when })),
        h("span", { class: "row-side" }, h("span", { class: "row-amount", text: money(stay.total_fen) }),
          h("span", { class: `tag pill ${open ? "warn" : "ok"}`, text: t(open ? "ip.me.open" : "ip.me.settled") }))),
      h("div", { class: "history-lines" },
        h("table", { class: "data" },
          h("caption", { class: "visually-hidden", text: t("history.split") }),
          h("tbody", {},
            h("tr", {}, h("th", { scope: "row", text: t("ip.field.ward") }), h("td", { text: stay.ward })),
            h("tr", {}, h("th", { scope: "row", text: t("ip.diagnosis") }), h("td", { text: stay.diagnosis.text })),
            stay.cross_region ? h("tr", {}, h("th", { scope: "row", text: t("ctr.insured") }),
              h("td", { text: `${named(stay.insured_region)} · ${t("ip.me.cross")}` })) : null,
            parts.map(([key, fen]) => h("tr", {}, h("th", { scope: "row", text: t(key) }), h("td", { class: "num", text: money(fen) }))),
            h("tr", {}, h("th", { scope: "row", text: t(open ? "ip.me.feesSoFar" : "history.total") }),
              h("td", { class: "num", text: money(stay.total_fen) })))),
        open ? h("p", { class: "note-box", text: t("ip.me.openNote") })
          : settlement ? h("p", { class: "row-sub", text: chinaTime(settlement.created_at) }) : null)));
}
