// The fund auditor's screen (清算与联审), also the admin console's first tab: a period (a month or a
// range of days), then three views — clearing (gross, refusals, net by fund pair and institution,
// a chart and the CSV), flags (filtered, paged, a chart by rule) and the monthly trend — and a case:
// one flag opened with its bill, split and history, where an auditor notes, confirms (the bill's
// fund share is refused in clearing) or dismisses. Views live in the hash: #/audit/flags,
// #/audit/trend, #/audit/case/<id> (#/admin/overview/… in the console).
import * as api from "../api.js";
import { t } from "../i18n.js";
import { confirmDialog, h, message, show } from "../ui.js";
import { colour, draw, figure } from "./admin/charts.js";
import {
  cell, chinaToday, dayInput, explainProblem, money, moneyCell, nameOf, numCell, pager, regionName, select, table, when,
} from "./admin/common.js";

const STORE = "yima.audit.period";
const FILTERS = "yima.audit.flags";
const STATUSES = ["open", "confirmed", "dismissed"];
const RULES = ["bill_over_threshold", "two_places_30_min", "over_3_a_day", "revoked_same_day",
  "manual_identification", "copied_code", "ridden_after_revocation"];

// -- the period: a month, or a range of China days; kept for the browser tab ----------------------

function monthEnd(month) {
  const [year, m] = month.split("-").map(Number);
  return `${month}-${String(new Date(Date.UTC(year, m, 0)).getUTCDate()).padStart(2, "0")}`;
}

function loadPeriod() {
  const today = chinaToday();
  const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
  return saved || { mode: "month", month: today.slice(0, 7), from: `${today.slice(0, 8)}01`, to: today };
}

function bounds(period) {
  return period.mode === "month" ? { from: `${period.month}-01`, to: monthEnd(period.month) }
    : { from: period.from, to: period.to };
}

function periodText(period) {
  const { from, to } = bounds(period);
  return period.mode === "month" ? t("audit.periodMonth", { month: period.month }) : t("audit.periodRange", { from, to });
}

function periodBar(period, onChange) {
  const mode = (name) => h("button", { type: "button", "aria-pressed": String(period.mode === name), text: t(`audit.mode.${name}`),
    onclick: () => { period.mode = name; render(); } });
  // A month as two selects (a native month input names the month in the browser's language).
  const [year0] = chinaToday().split("-").map(Number);
  const year = h("select", { id: "period-year", "aria-label": t("audit.year") },
    Array.from({ length: 6 }, (_, i) => year0 - i).map((y) => h("option", { value: y, text: t("audit.yearN", { year: y }), selected: `${y}` === period.month.slice(0, 4) })));
  const monthOf = h("select", { id: "period-month", "aria-label": t("audit.month") },
    Array.from({ length: 12 }, (_, i) => i + 1).map((m) => h("option", { value: String(m).padStart(2, "0"),
      text: t("audit.monthN", { month: m, name: new Intl.DateTimeFormat("en", { month: "long", timeZone: "UTC" }).format(Date.UTC(2000, m - 1, 1)) }),
      selected: m === Number(period.month.slice(5, 7)) })));
  const month = h("span", { class: "month-pick" }, year, monthOf);
  const from = dayInput("period-from", period.from);
  const to = dayInput("period-to", period.to);
  from.setAttribute("aria-label", t("audit.from"));
  to.setAttribute("aria-label", t("audit.to"));
  const fields = h("div", { class: "period-fields" });
  const form = h("form", { class: "period-bar", id: "period", novalidate: true },
    h("span", { class: "period-label", text: t("audit.period") }),
    h("div", { class: "segmented small" }, mode("month"), mode("range")), fields,
    h("button", { type: "submit", class: "primary-inline", text: t("audit.show") }));
  function render() {
    form.querySelectorAll(".segmented button").forEach((b, i) => b.setAttribute("aria-pressed", String(["month", "range"][i] === period.mode)));
    fields.replaceChildren(...(period.mode === "month" ? [month]
      : [from, h("span", { class: "dash", text: t("audit.until") }), to]));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    period.month = `${year.value}-${monthOf.value}`;
    if (from.value) period.from = from.value;
    if (to.value) period.to = to.value;
    sessionStorage.setItem(STORE, JSON.stringify(period));
    onChange();
  });
  render();
  return form;
}

// -- the screen ---------------------------------------------------------------------------------

export async function auditScreen({ admin = false, view = null } = {}) {
  const base = admin ? "#/admin/overview" : "#/audit";
  const hash = location.hash.replace(/^#\/?/, "");
  const sub = view ?? (hash.startsWith("audit/") ? hash.slice(6) : "");
  const [name, id] = sub.split("/");
  const main = document.getElementById("main");
  const box = message();
  const area = h("section", { id: "audit-view", "aria-live": "polite" });
  const period = loadPeriod();
  const tabs = h("nav", { class: "subtabs", "aria-label": t("audit.views") },
    [["", "audit.tab.clearing"], ["flags", "audit.tab.flags"], ["trend", "audit.tab.trend"]].map(([view, key]) => h("a", {
      href: view ? `${base}/${view}` : base, text: t(key),
      "aria-current": (name === view || (!["flags", "trend", "case"].includes(name) && !view)) ? "page" : null,
    })));
  const scope = h("p", { class: "bo-scope", id: "audit-scope" });
  const content = [scope];
  if (name !== "case") content.push(periodBar(period, () => show(box, "") || load()), tabs);
  main.replaceChildren(h("div", { class: "bo", id: "audit" }, h("h2", { text: t("audit.title") }), ...content, box, area));
  main.focus({ preventScroll: true });
  api.get("/api/v1/auth/me").then(({ account }) => {
    scope.textContent = t(account.region ? "audit.scope" : "audit.scopeZone",
      { login: account.login, role: t(`adm.role.${account.role}`), region: regionName(account.region) });
  }).catch(() => {});

  async function load() {
    try {
      if (name === "case" && /^\d+$/.test(id || "")) await caseView(area, Number(id), { admin, base, box });
      else if (name === "flags") await flagsView(area, period, { base, box });
      else if (name === "trend") await trendView(area, period);
      else await clearingView(area, period);
    } catch (error) {
      show(box, explainProblem(error));
    }
  }
  await load();
}

// -- clearing -------------------------------------------------------------------------------------

const pairName = (names, row) => `${regionName(row.insured_region, names)} → ${regionName(row.treating_region, names)}`;

function figures(totals) {
  const one = (key, fen, kind = "") => h("div", { class: `figure-card ${kind}` },
    h("p", { class: "figure-label", text: t(key) }), h("p", { class: "figure-value", text: fen === null ? "" : `${money(fen)}` }));
  return h("div", { class: "figures", id: "clearing-totals" },
    one("audit.gross", totals.gross_fen), one("audit.deductions", totals.deductions_fen, "minus"),
    one("audit.net", totals.net_fen, "net"),
    h("div", { class: "figure-card" }, h("p", { class: "figure-label", text: t("audit.count") }),
      h("p", { class: "figure-value", text: `${totals.settlements}` })));
}

async function clearingView(area, period) {
  const { from, to } = bounds(period);
  const report = await api.get(`/api/v1/clearing?from=${from}&to=${to}`);
  const { names, totals } = report;
  const chart = figure("clearing-chart", "audit.chartPairs", { period: periodText(period) });
  const pairRows = report.pairs.map((row) => h("tr", { "data-pair": `${row.insured_region}-${row.treating_region}` },
    cell(regionName(row.insured_region, names)), cell(regionName(row.treating_region, names)),
    numCell(row.settlements), moneyCell(row.gross_fen), numCell(row.deducted), moneyCell(row.deductions_fen), moneyCell(row.net_fen)));
  const totalRow = (span) => h("tr", { class: "total" }, h("th", { scope: "row", colspan: span, text: t("audit.total") }),
    numCell(totals.settlements), moneyCell(totals.gross_fen), numCell(totals.deducted), moneyCell(totals.deductions_fen), moneyCell(totals.net_fen));
  const pairs = table(["audit.payer", "audit.payee", "audit.count#", "audit.gross#", "audit.deducted#", "audit.deductions#", "audit.net#"],
    pairRows, { id: "clearing-pairs" });
  pairs.append(h("tfoot", {}, totalRow(2)));
  const institutions = table(["audit.payer", "audit.payee", "audit.institution", "audit.count#", "audit.gross#", "audit.deducted#", "audit.deductions#", "audit.net#"],
    report.rows.map((row) => h("tr", { "data-institution": row.institution },
      cell(regionName(row.insured_region, names)), cell(regionName(row.treating_region, names)),
      cell(nameOf(names, "institutions", row.institution)),
      numCell(row.settlements), moneyCell(row.gross_fen), numCell(row.deducted), moneyCell(row.deductions_fen), moneyCell(row.net_fen))),
    { id: "clearing-institutions" });
  institutions.append(h("tfoot", {}, totalRow(3)));
  const empty = !report.rows.length;
  area.replaceChildren(h("section", { id: "clearing" },
    h("div", { class: "section-head" }, h("h3", { text: t("audit.clearingOf", { period: periodText(period) }) }),
      h("a", { class: "button", id: "clearing-csv", href: `/api/v1/clearing?format=csv&from=${from}&to=${to}`, download: "", text: t("audit.csv") })),
    figures(totals),
    empty ? h("p", { class: "empty", text: t("audit.noClearing") }) : chart,
    h("h3", { text: t("audit.byPair") }), pairs,
    h("h3", { text: t("audit.byInstitution") }), institutions,
    h("p", { class: "bo-note", text: t("audit.basis") })));
  if (!empty) {
    await draw(chart, {
      type: "bar", horizontal: true, stacked: true, money: true, tableHead: t("audit.pair"),
      labels: report.pairs.map((row) => pairName(names, row)),
      datasets: [{ label: t("audit.net"), data: report.pairs.map((row) => row.net_fen), color: colour("--chart-net") },
        { label: t("audit.deductions"), data: report.pairs.map((row) => row.deductions_fen), color: colour("--chart-deduction") }],
      summary: report.pairs.map((row) => `${pairName(names, row)}: ${t("audit.net")} ${money(row.net_fen)}, ${t("audit.deductions")} ${money(row.deductions_fen)}`).join("; "),
    });
  }
}

// -- flags --------------------------------------------------------------------------------------

const ruleText = (rule) => t(`audit.rule.${rule}`);
const statusTag = (status) => h("span", { class: `tag pill status-${status}`, text: t(`audit.status.${status}`) });

function where(flag, names) {
  if (flag.institution) return nameOf(names, "institutions", flag.institution);
  if (flag.line) return nameOf(names, "lines", flag.line);
  return "—";
}

async function flagsView(area, period, { base, box }) {
  const saved = JSON.parse(sessionStorage.getItem(FILTERS) || '{"status":"open","rule":"","page":1}');
  const status = select("flag-status", "audit.filterStatus",
    [["", t("audit.all")], ...STATUSES.map((s) => [s, t(`audit.status.${s}`)])], saved.status);
  const rule = select("flag-rule", "audit.filterRule", [["", t("audit.all")], ...RULES.map((r) => [r, ruleText(r)])], saved.rule);
  const list = h("div", { id: "flag-list" });
  const chart = figure("flags-chart", "audit.chartRules", { period: periodText(period) });
  const filters = h("form", { class: "filter-bar", id: "flag-filters", novalidate: true }, status, rule,
    h("button", { type: "submit", text: t("audit.filter") }));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    saved.status = status.querySelector("select").value;
    saved.rule = rule.querySelector("select").value;
    saved.page = 1;
    load().catch((error) => show(box, explainProblem(error)));
  });
  area.replaceChildren(h("section", { id: "flags" }, h("h3", { text: t("audit.flagsOf", { period: periodText(period) }) }),
    filters, list, chart));
  await load();

  async function load() {
    sessionStorage.setItem(FILTERS, JSON.stringify(saved));
    const { from, to } = bounds(period);
    const query = new URLSearchParams({ from, to, page: saved.page, per_page: 15 });
    if (saved.status) query.set("status", saved.status);
    if (saved.rule) query.set("rule", saved.rule);
    const answer = await api.get(`/api/v1/audit/flags?${query}`);
    if (!answer.flags.length && answer.total && saved.page > 1) { saved.page = 1; return load(); }
    const names = answer.names;
    list.replaceChildren(answer.flags.length ? table(
      ["audit.at", "audit.rule", "audit.person", "audit.regions", "audit.where", "audit.amount#", "audit.fund#", "audit.statusCol", ""],
      answer.flags.map((flag) => h("tr", { "data-flag": flag.id },
        cell(when(flag.at)), cell(ruleText(flag.rule)), cell(flag.person),
        cell(`${regionName(flag.insured_region, names)} → ${regionName(flag.treating_region, names)}`),
        cell(where(flag, names)), moneyCell(flag.amount_fen), moneyCell(flag.fund_fen),
        h("td", {}, statusTag(flag.status)),
        h("td", {}, h("a", { class: "button small", href: `${base}/case/${flag.id}`, text: t("audit.open"),
          "aria-label": t("audit.openFlag", { id: flag.id }) })))), { id: "flag-table" })
      : h("p", { class: "empty", text: t("audit.none") }),
    pager({ page: answer.page, perPage: answer.per_page, total: answer.total, id: "flag-pager",
      onPage: (n) => { saved.page = n; load().catch((error) => show(box, explainProblem(error))); } }));
    const rules = answer.by_rule;
    if (rules.length) {
      await draw(chart, {
        type: "bar", horizontal: true, stacked: true, tableHead: t("audit.rule"),
        labels: rules.map((row) => ruleText(row.rule)),
        datasets: STATUSES.map((s) => ({ label: t(`audit.status.${s}`), data: rules.map((row) => row[s]),
          color: colour(`--chart-${s}`) })),
        summary: rules.map((row) => `${ruleText(row.rule)}: ${STATUSES.map((s) => `${t(`audit.status.${s}`)} ${row[s]}`).join(", ")}`).join("; "),
      });
    } else {
      chart.replaceChildren(h("figcaption", { text: t("audit.chartRules", { period: periodText(period) }) }), h("p", { class: "empty", text: t("audit.none") }));
    }
  }
}

// -- trend ----------------------------------------------------------------------------------------

async function trendView(area, period) {
  const last = bounds(period).to.slice(0, 7);
  const answer = await api.get(`/api/v1/clearing/trend?to=${last}&months=12`);
  const names = answer.names;
  const netChart = figure("trend-chart", "audit.chartTrend", { to: last });
  const totalChart = figure("trend-totals", "audit.chartTrendTotals", { to: last });
  area.replaceChildren(h("section", { id: "trend" }, h("h3", { text: t("audit.trendOf", { to: last }) }),
    answer.series.length ? [netChart, totalChart] : h("p", { class: "empty", text: t("audit.noClearing") }),
    h("p", { class: "bo-note", text: t("audit.basis") })));
  if (!answer.series.length) return;
  const sum = (name) => answer.months.map((_, i) => answer.series.reduce((total, s) => total + s[name][i], 0));
  await draw(netChart, {
    type: "line", money: true, tableHead: t("audit.month"), labels: answer.months,
    datasets: answer.series.map((s) => ({ label: pairName(names, s), data: s.net_fen })),
    summary: answer.series.map((s) => `${pairName(names, s)}: ${answer.months.map((m, i) => `${m} ${money(s.net_fen[i])}`).join(", ")}`).join("; "),
  });
  await draw(totalChart, {
    type: "bar", money: true, tableHead: t("audit.month"), labels: answer.months,
    datasets: [{ label: t("audit.net"), data: sum("net_fen"), color: colour("--chart-net") },
      { label: t("audit.deductions"), data: sum("deductions_fen"), color: colour("--chart-deduction") }],
    stacked: true,
    summary: answer.months.map((m, i) => `${m}: ${t("audit.net")} ${money(sum("net_fen")[i])}, ${t("audit.deductions")} ${money(sum("deductions_fen")[i])}`).join("; "),
  });
}

// -- a case -------------------------------------------------------------------------------------

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).flatMap(([key, value]) => [h("dt", { text: t(key) }), h("dd", { text: value })]));
}

function billCard(settlement, names) {
  const person = settlement.person;
  const lines = table(["audit.category", "audit.item", "audit.class", "audit.amount#"],
    settlement.lines.map((line) => h("tr", {}, cell(t(`cat.${line.category}`)), cell(line.description || "—"),
      cell(t(`audit.coverage.${line.coverage_class}`)), moneyCell(line.amount_fen))), { id: "case-lines" });
  const split = settlement.split;
  return h("section", { class: "card", id: "case-bill" },
    h("h3", { class: "card-title", text: t("audit.bill", { id: settlement.id }) }),
    facts([["audit.at", when(settlement.at)],
      ["audit.institution", `${nameOf(names, "institutions", settlement.institution)} · ${t(`audit.level.${settlement.level}`)}`],
      ["audit.person", `${person.masked_name} · ${t("audit.insuredIn", { region: regionName(person.home_region, names) })} · ${t(`adm.class.${person.insurance_class}`)}`],
      ["audit.treatedIn", `${regionName(settlement.treating_region, names)} · ${t(settlement.cross_region ? "audit.cross" : "audit.local")}`]]),
    h("h4", { text: t("audit.lines") }), lines,
    h("h4", { text: t("audit.split") }),
    h("dl", { class: "money-list", id: "case-split" }, [
      ["audit.total", split.total_fen], ["audit.splitFund", split.fund_fen], ["audit.splitAccount", split.personal_account_fen],
      ["audit.splitCash", split.cash_fen], ["audit.splitDeductible", split.deductible_fen], ["audit.splitClassB", split.class_b_self_fen],
      ["audit.splitClassC", split.class_c_fen], ["audit.splitCoinsurance", split.coinsurance_fen],
    ].flatMap(([key, fen]) => [h("dt", { text: t(key) }), h("dd", { text: t("audit.yuan", { amount: money(fen) }) })])),
    settlement.refund ? h("p", { class: "warning", text: t("audit.refunded", { at: when(settlement.refund.at), reason: settlement.refund.reason || "—" }) }) : null);
}

function rideCard(ride, names) {
  return h("section", { class: "card", id: "case-ride" },
    h("h3", { class: "card-title", text: t("audit.rideTitle", { id: ride.id }) }),
    facts([["audit.at", when(ride.at)], ["audit.line", nameOf(names, "lines", ride.line)],
      ["audit.validator", `#${ride.validator.id} ${ride.validator.label || ""}`.trim()],
      ["audit.person", `${ride.person.masked_name} · ${t("audit.insuredIn", { region: regionName(ride.person.home_region, names) })}`],
      ["audit.fare", t("audit.yuan", { amount: money(ride.fare_fen) })], ["audit.outcome", t(`audit.ride.${ride.outcome}`)]]));
}

function effectText(effect, names) {
  if (effect.kind === "ride") return t("audit.effectRide");
  if (!effect.clears) return t("audit.effectLocal");
  if (!effect.deduction_fen) return t("audit.effectRefunded");
  const vars = { payer: regionName(effect.payer, names), payee: regionName(effect.payee, names),
    period: effect.period, amount: money(effect.deduction_fen) };
  if (effect.applied) return t("audit.effectApplied", vars);
  return t("audit.effectConfirm", vars);
}

function historyList(history, names) {
  if (!history.length) return h("p", { class: "empty", id: "case-history", text: t("audit.noHistory") });
  return h("ol", { class: "history-list", id: "case-history" }, history.map((item) => h("li", { class: `kind-${item.kind}` },
    h("p", { class: "history-head" }, h("strong", { text: t(`audit.kind.${item.kind}`) }),
      h("span", { class: "secondary", text: ` · ${item.author_name ? t("bo.nameLogin", { name: item.author_name, login: item.author }) : item.author}`
        + `${item.author_region ? ` · ${regionName(item.author_region, names)}` : ""} · ${when(item.at)}` })),
    h("p", { class: "history-text", text: item.text }))));
}

// Who decided, by name when the history knows it: 陈建国（demo-auditor）.
function decider(history, flag) {
  const entry = [...history].reverse().find((item) => item.kind !== "note" && item.author === flag.decided_by);
  return entry?.author_name ? t("bo.nameLogin", { name: entry.author_name, login: entry.author }) : flag.decided_by;
}

async function caseView(area, id, { admin, base, box }) {
  const data = await api.get(`/api/v1/audit/flags/${id}`);
  const { flag, names, effect } = data;
  const note = h("textarea", { id: "case-note", rows: 3, maxlength: 500, "aria-describedby": "case-note-hint" });
  const history = h("div", { id: "case-history-box" }, historyList(data.history, names));
  const decide = async (decision) => {
    const text = note.value.trim();
    if (!text) { show(box, t("err.note_required")); note.focus(); return; }
    const vars = { payer: regionName(effect.payer, names), payee: regionName(effect.payee, names),
      period: effect.period || "", amount: money(effect.deduction_fen), id: flag.id };
    const money_ = effect.clears && effect.deduction_fen && !effect.applied;
    const ok = await confirmDialog(decision === "confirm"
      ? { titleKey: "audit.confirmTitle", bodyKey: money_ ? "audit.confirmBody" : "audit.confirmBodyNoMoney", confirmKey: "audit.confirm", vars }
      : { titleKey: "audit.dismissTitle", bodyKey: "audit.dismissBody", confirmKey: "audit.dismiss", vars, danger: false });
    if (!ok) return;
    try {
      const answer = await api.post(`/api/v1/audit/flags/${flag.id}`, { decision, note: text });
      show(box, answer.status === "confirmed" && answer.deduction_fen
        ? t("audit.doneConfirmed", { ...vars, amount: money(answer.deduction_fen) })
        : t(answer.status === "confirmed" ? "audit.doneConfirmedNoMoney" : "audit.doneDismissed"), "ok");
      await caseView(area, id, { admin, base, box: null });
    } catch (error) {
      show(box, explainProblem(error));
    }
  };
  const addNote = async () => {
    if (!note.value.trim()) { show(box, t("err.note_required")); note.focus(); return; }
    try {
      const answer = await api.post(`/api/v1/audit/flags/${flag.id}/notes`, { note: note.value });
      note.value = "";
      history.replaceChildren(historyList(answer.history, names));
      show(box, t("audit.noted"), "ok");
    } catch (error) {
      show(box, explainProblem(error));
    }
  };
  const form = admin ? h("p", { class: "bo-note", text: t("audit.adminReadOnly") })
    : h("div", { class: "decide", id: "case-decide" },
      h("label", { for: "case-note", text: t("audit.note") }),
      h("p", { class: "field-hint", id: "case-note-hint", text: t(flag.status === "open" ? "audit.noteHint" : "audit.noteHintDecided") }),
      note,
      h("div", { class: "actions" },
        h("button", { type: "button", id: "case-add-note", class: "quiet", text: t("audit.addNote"), onclick: addNote }),
        flag.status === "open" ? h("button", { type: "button", id: "case-dismiss", text: t("audit.dismiss"), onclick: () => decide("dismiss") }) : null,
        flag.status === "open" ? h("button", { type: "button", id: "case-confirm", class: "danger", text: t("audit.confirm"), onclick: () => decide("confirm") }) : null));
  area.replaceChildren(h("section", { class: "case", id: "case", "data-flag": flag.id },
    h("a", { class: "back", href: `${base}/flags`, text: t("audit.backToFlags") }),
    h("div", { class: "case-head" },
      h("h3", { text: t("audit.caseTitle", { id: flag.id, rule: ruleText(flag.rule) }) }), statusTag(flag.status)),
    h("p", { class: "bo-note", text: t("audit.readLogged") }),
    h("div", { class: "case-grid" },
      h("div", {}, data.settlement ? billCard(data.settlement, names) : null, data.ride ? rideCard(data.ride, names) : null),
      h("div", {},
        h("section", { class: "card", id: "case-effect" }, h("h3", { class: "card-title", text: t("audit.effect") }),
          h("p", { class: `effect ${effect.applied ? "applied" : ""}`, text: effectText(effect, names) }),
          flag.status !== "open" ? h("p", { id: "case-decided", text: t("audit.decidedBy", { who: decider(data.history, flag), at: when(flag.decided_at), status: t(`audit.status.${flag.status}`) }) }) : null,
          data.others.length ? h("p", { class: "secondary", text: t("audit.others", {
            list: data.others.map((o) => t("audit.otherFlag", { id: o.id, rule: ruleText(o.rule), status: t(`audit.status.${o.status}`) })).join(t("adm.sep")) }) }) : null),
        h("section", { class: "card", id: "case-notes" }, h("h3", { class: "card-title", text: t("audit.history") }), history, form)))));
}
