"""The inpatient desk's day: the admissions registered and the discharge settlements (and their
reversals) made at one institution on one China day, with their totals. No Flask."""
from sqlalchemy import func, select

from ..counter.today import bounds
from ..models import InpatientSettlement, Settlement, Stay
from ..models.base import china_iso
from . import stays

PARTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen")


def day_report(session, *, institution_code, day, now, limit=500):
    start, end = bounds(day)
    admitted = list(session.scalars(
        select(Stay).filter(Stay.institution_code == institution_code, Stay.admitted_on == day)
        .order_by(Stay.id.desc()).limit(limit)))
    moves = session.execute(
        select(Settlement, InpatientSettlement)
        .join(InpatientSettlement, InpatientSettlement.settlement_id
              == func.coalesce(Settlement.reverses_id, Settlement.id))
        .filter(Settlement.institution_code == institution_code,
                Settlement.created_at >= start, Settlement.created_at < end)
        .order_by(Settlement.id.desc()).limit(limit)).all()
    reversed_ids = {s.reverses_id for s, _ in moves if s.kind == "refund"}
    by_stay = {stay.id: stay for stay in session.scalars(
        select(Stay).filter(Stay.id.in_({link.stay_id for _, link in moves})))}
    described = {d["id"]: d for d in stays.describe_many(session, list(by_stay.values()), now)}
    totals = {"admissions": len(admitted), "discharges": 0, "reversals": 0,
              **{part: 0 for part in PARTS}}
    discharges = []
    for settlement, link in moves:
        for part in PARTS:
            totals[part] += getattr(settlement, part)
        if settlement.kind == "refund":
            totals["reversals"] += 1
            continue
        totals["discharges"] += 1
        discharges.append({"stay": described[link.stay_id], "settlement": {
            "id": settlement.id, "created_at": china_iso(settlement.created_at),
            "reversed": settlement.id in reversed_ids or _reversed(session, settlement.id),
            **{part: getattr(settlement, part) for part in PARTS}}})
    return {"date": day.isoformat(), "today": day == stays.china_today(now),
            "admissions": stays.describe_many(session, admitted, now),
            "discharges": discharges, "totals": totals}


def _reversed(session, settlement_id):
    return session.scalar(select(Settlement.id).filter_by(reverses_id=settlement_id)) is not None

