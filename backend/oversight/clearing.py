"""The cross-region clearing report (清算): what each insured region's fund owes each treating
region, gross, less the refusals (拒付) that confirmed joint-audit flags make, and net. No Flask.

The rules (docs/joint-audit.md):
- a period covers the cross-region settlements *made* in it (China days); a refund nets its bill
  out (refunds are same-day, so always in the same period);
- a settlement with at least one confirmed flag is deducted once, by its fund share
  (``fund_fen``), in the period of the settlement, whenever the flag was decided; a refunded bill
  has nothing left to deduct;
- dismissed and open flags change nothing; flags on rides are not fund money and never appear here.
So for every row, and every total: gross − deductions = net."""
import csv
import io
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, select, text
from sqlalchemy.orm import aliased

from ..models import AuditFlag, Settlement
from ..models.base import CHINA
from .names import zh

_refund = aliased(Settlement)


def _deducted():
    """True for a settlement (not a refund) that a confirmed flag refuses and that was not refunded."""
    confirmed = exists().where(AuditFlag.settlement_id == Settlement.id,
                               AuditFlag.status == "confirmed")
    refunded = exists().where(_refund.reverses_id == Settlement.id)
    return and_(Settlement.kind == "settlement", confirmed, ~refunded)


def _without_jit(session):
    """PostgreSQL's JIT compiler (on by default) takes this query's cost estimate — a month of a
    large ledger, with two correlated subqueries per row — for a long analytic one and spends
    seconds inlining and optimising code for a scan that runs in well under one (measured at 10 M
    settlements: 5.6 s of JIT for the report; docs/benchmarks.md, "Cost as the zone grows").
    Off for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _totals(session, start, end, region_code, by_institution):
    deducted = _deducted()
    keys = [Settlement.insured_region, Settlement.treating_region]
    if by_institution:
        keys.append(Settlement.institution_code)
    query = (select(*keys,
                    func.sum(case((Settlement.kind == "settlement", 1), else_=-1)),
                    func.sum(Settlement.fund_fen),
                    func.sum(case((deducted, 1), else_=0)),
                    func.sum(case((deducted, Settlement.fund_fen), else_=0)))
             .filter(Settlement.insured_region != Settlement.treating_region,
                     Settlement.created_at >= start, Settlement.created_at < end)
             .group_by(*keys).order_by(*keys))
    if region_code is not None:
        query = query.filter((Settlement.insured_region == region_code)
                             | (Settlement.treating_region == region_code))
    for *key, count, gross, deducted_count, deductions in session.execute(query):
        gross, deductions = int(gross or 0), int(deductions or 0)
        yield key, {"settlements": int(count or 0), "gross_fen": gross,
                    "deducted": int(deducted_count or 0), "deductions_fen": deductions,
                    "net_fen": gross - deductions}


def _add(total, row):
    for name in ("settlements", "gross_fen", "deducted", "deductions_fen", "net_fen"):
        total[name] = total.get(name, 0) + row[name]
    return total


def clearing(session, *, start, end, region_code=None):
    """The report for cross-region settlements made in [start, end): ``rows`` by payer, payee and
    institution, ``pairs`` by payer and payee, and ``totals``; each with settlements (not
    refunded), gross_fen, deducted (bills refused), deductions_fen and net_fen."""
    rows, pairs = [], {}
    _without_jit(session)
    for (payer, payee, institution), figures in _totals(session, start, end, region_code, True):
        rows.append({"insured_region": payer, "treating_region": payee,
                     "institution": institution, **figures})
        _add(pairs.setdefault((payer, payee), {"insured_region": payer, "treating_region": payee}),
             figures)
    totals = {"settlements": 0, "gross_fen": 0, "deducted": 0, "deductions_fen": 0, "net_fen": 0}
    for pair in pairs.values():
        _add(totals, pair)
    return {"rows": rows, "pairs": list(pairs.values()), "totals": totals}


def _month_start(index):
    """The first moment (China time) of month number ``index`` (year × 12 + month − 1)."""
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=CHINA)


def trend(session, *, last_month, months, region_code=None):
    """Gross, deductions and net by fund pair for each of ``months`` months ending with
    ``last_month`` (a date in it): {"months": ["2026-01", …], "series": [{insured_region,
    treating_region, gross_fen: [...], deductions_fen: [...], net_fen: [...]}]}."""
    first = last_month.year * 12 + last_month.month - 1 - (months - 1)
    labels, series = [], {}
    _without_jit(session)
    for index in range(months):
        start, end = _month_start(first + index), _month_start(first + index + 1)
        labels.append(f"{start.year:04d}-{start.month:02d}")
        for (payer, payee), figures in _totals(session, start, end, region_code, False):
            line = series.setdefault((payer, payee), {
                "insured_region": payer, "treating_region": payee,
                **{name: [0] * months for name in ("gross_fen", "deductions_fen", "net_fen")}})
            for name in ("gross_fen", "deductions_fen", "net_fen"):
                line[name][index] = figures[name]
    return {"months": labels, "series": [series[key] for key in sorted(series)]}


def settlement_period(moment):
    """The clearing month a settlement (and so its deduction) counts in: its China month."""
    local = moment.astimezone(CHINA)
    return f"{local.year:04d}-{local.month:02d}"


def yuan(fen):
    """Integer fen as yuan with two decimals, exactly (no float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


CSV_HEADER = ["参保地（付款方）", "就医地（收款方）", "定点医疗机构", "机构编码", "结算笔数",
              "统筹基金应付（元）", "拒付笔数", "拒付金额（元）", "净额（元）"]


def to_csv(report, names, first: date, last: date):
    """The report as CSV for a spreadsheet: Chinese headers, names beside codes, amounts in yuan,
    a total line; UTF-8 with a byte-order mark so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in report["rows"]:
        writer.writerow([zh(names, "regions", row["insured_region"]),
                         zh(names, "regions", row["treating_region"]),
                         zh(names, "institutions", row["institution"]), row["institution"],
                         row["settlements"], yuan(row["gross_fen"]), row["deducted"],
                         yuan(row["deductions_fen"]), yuan(row["net_fen"])])
    totals = report["totals"]
    writer.writerow([f"合计（{first.isoformat()} 至 {last.isoformat()}）", "", "", "",
                     totals["settlements"], yuan(totals["gross_fen"]), totals["deducted"],
                     yuan(totals["deductions_fen"]), yuan(totals["net_fen"])])
    return "\ufeff" + out.getvalue()
