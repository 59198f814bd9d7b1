"""A counter's day (今日): the settlements and refunds of one institution on one China day, their
totals, and the end-of-day reconciliation (对账). No Flask.

Totals are net: a refund is a row of negative amounts, so a bill refunded the same day adds up to
nothing, as in the clearing report. The reconciliation groups the whole institution's day by
insured region (the fund that pays) and by cashier (the cash drawer), and puts beside each
cross-region fund total what the clearing report (oversight.clearing) says this institution is
owed for that day: the two are read from the same rows, and they must agree."""
import csv
import io
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..models import Account, Person, Region, Settlement
from ..models.base import CHINA
from ..models.people import mask_name
from ..oversight import clearing
from ..service.errors import ValidationFailed
from . import identify
from .receipts import china_time, number, region_names, staff_name

ROW_LIMIT = 2000  # rows shown on screen; totals, reconciliation and the CSV always cover the day
PARTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen")
FIRST_DAY = date(2020, 1, 1)


def china_day(now):
    return datetime.fromtimestamp(now, CHINA).date()


def parse_day(text, now):
    """A day the counter may look at: YYYY-MM-DD, not after today (China time)."""
    if text in (None, ""):
        return china_day(now)
    try:
        day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= china_day(now):
        raise ValidationFailed("date is a day like 2026-11-29, not in the future.",
                               code="bad_date", extra={"field": "date"})
    return day


def bounds(day):
    start = datetime.combine(day, datetime.min.time(), CHINA)
    return start, start + timedelta(days=1)


def _zero():
    return {"settlements": 0, "refunds": 0, **{part: 0 for part in PARTS}}


def _add(totals, settlement):
    totals["settlements" if settlement.kind == "settlement" else "refunds"] += 1
    for part in PARTS:
        totals[part] += getattr(settlement, part)


def _day_rows(session, institution_code, day, cashier_id=None):
    start, end = bounds(day)
    refund = aliased(Settlement)
    query = (select(Settlement, Person.name, Account, refund.id)
             .join(Person, Person.id == Settlement.person_id)
             .join(Account, Account.id == Settlement.cashier_account_id)
             .outerjoin(refund, refund.reverses_id == Settlement.id)
             .filter(Settlement.institution_code == institution_code,
                     Settlement.created_at >= start, Settlement.created_at < end)
             .order_by(Settlement.created_at.desc(), Settlement.id.desc()))
    if cashier_id is not None:
        query = query.filter(Settlement.cashier_account_id == cashier_id)
    return session.execute(query).all()


def day_report(session, *, institution_code, day, now, cashier_id=None, limit=ROW_LIMIT):
    """The day's rows (newest first, at most ``limit``; None: all), their totals, and the
    reconciliation of the whole institution's day. ``cashier_id`` keeps only that cashier's rows
    and totals."""
    rows = _day_rows(session, institution_code, day, cashier_id)
    regions = {r.code: r for r in session.scalars(select(Region))}
    totals = _zero()
    listed = []
    for settlement, name, cashier, refund_id in rows:
        _add(totals, settlement)
        if limit is None or len(listed) < limit:
            listed.append(_row(settlement, name, cashier, refund_id, regions, day == china_day(now),
                               identify.is_manual(settlement)))
    return {"date": day.isoformat(), "today": day == china_day(now), "mine": cashier_id is not None,
            "rows": listed, "truncated": len(rows) > len(listed), "totals": totals,
            "reconciliation": reconciliation(session, institution_code=institution_code, day=day,
                                             regions=regions)}




def _row(settlement, name, cashier, refund_id, regions, today, manual):
    return {
        "id": settlement.id, "kind": settlement.kind, "number": number(settlement),
        "created_at": china_time(settlement.created_at),
        "cashier": staff_name(cashier), "cashier_id": cashier.id,
        "patient": mask_name(name),
        "insured_region": region_names(regions[settlement.insured_region]),
        "cross_region": settlement.insured_region != settlement.treating_region,
        "reverses": settlement.reverses_id, "refunded_by": refund_id, "reason": settlement.reason,
        "identified_by": "national_id" if manual else "e_voucher",
        "refundable": today and settlement.kind == "settlement" and refund_id is None,
        **{part: getattr(settlement, part) for part in PARTS},
    }


def reconciliation(session, *, institution_code, day, regions):
    """The institution's whole day by insured region and by cashier, and the clearing report's
    figures for the same day beside the cross-region fund totals."""
    by_region, by_cashier, whole = {}, {}, _zero()
    for settlement, _, cashier, _ in _day_rows(session, institution_code, day):
        region = by_region.setdefault(settlement.insured_region, {
            "insured_region": region_names(regions[settlement.insured_region]),
            "cross_region": settlement.insured_region != settlement.treating_region, **_zero()})
        person = by_cashier.setdefault(cashier.id, {"cashier": staff_name(cashier), **_zero()})
        for totals in (region, person, whole):
            _add(totals, settlement)
    start, end = bounds(day)
    cleared = {}
    for row in clearing.clearing(session, start=start, end=end)["rows"]:
        if row["institution"] == institution_code:
            entry = cleared.setdefault(row["insured_region"], {"settlements": 0, "fund_fen": 0})
            entry["settlements"] += row["settlements"]
            entry["fund_fen"] += row["gross_fen"]  # before any refusal by the joint audit
    agrees = True
    for code, region in by_region.items():
        if region["cross_region"]:
            entry = cleared.get(code, {"settlements": 0, "fund_fen": 0})
            region["clearing_fund_fen"] = entry["fund_fen"]
            region["clearing_count"] = entry["settlements"]
            region["agrees"] = entry["fund_fen"] == region["fund_fen"] and \
                entry["settlements"] == region["settlements"] - region["refunds"]
            agrees = agrees and region["agrees"]
    agrees = agrees and set(cleared) <= set(by_region)
    return {"by_region": sorted(by_region.values(), key=lambda r: r["insured_region"]["code"]),
            "by_cashier": sorted(by_cashier.values(), key=lambda r: r["cashier"]),
            "totals": whole, "agrees_with_clearing": agrees}


CSV_COLUMNS = [("number", "单号"), ("created_at", "时间（北京时间）"), ("kind", "类型"),
               ("patient", "患者"), ("insured_region", "参保地"), ("identified_by", "识别方式"),
               ("total_fen", "合计（元）"), ("fund_fen", "统筹基金（元）"),
               ("personal_account_fen", "个人账户（元）"), ("cash_fen", "现金（元）"),
               ("cashier", "收费员"), ("reason", "退费原因")]
KIND_ZH = {"settlement": "结算", "refund": "退费"}
IDENTIFIED_ZH = {"e_voucher": "医保电子凭证", "national_id": "身份证号（人工识别）"}


def yuan(fen):
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def day_csv(report):
    """The day's rows as CSV for a spreadsheet: Chinese headers, yuan with two decimals, China
    time, and a last line of totals. A UTF-8 BOM, so Excel opens the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in CSV_COLUMNS])
    for row in report["rows"]:
        writer.writerow([
            row["number"], row["created_at"][:19].replace("T", " "), KIND_ZH[row["kind"]],
            row["patient"], row["insured_region"]["zh"], IDENTIFIED_ZH[row["identified_by"]],
            *(yuan(row[part]) for part in PARTS), row["cashier"], row["reason"] or ""])
    totals = report["totals"]
    writer.writerow([f"合计：结算 {totals['settlements']} 笔，退费 {totals['refunds']} 笔", "", "", "",
                     "", "", *(yuan(totals[part]) for part in PARTS), "", ""])
    return "\ufeff" + out.getvalue()
