"""The joint-audit rules (联审互查): flags raised when a bill is settled, a credential revoked or a
ride uploaded (what an auditor sees and decides of them: ``cases``). No Flask."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..models import AuditFlag, Region, Settlement
from ..models.base import CHINA

RULES = {
    "two_places_30_min": "same holder at two institutions within 30 minutes",
    "over_3_a_day": "more than 3 settlements for one holder in a day",
    "bill_over_threshold": "a bill over the insured region's threshold",
    "revoked_same_day": "paid with a credential revoked the same day",
    "copied_code": "one code reported by two validators (a copied screenshot)",
    "manual_identification": "settled with no code: the cashier found the person by national ID "
                             "number (the reason is in the detail)",
    "ridden_after_revocation": "a ride after its credential, phone or person was revoked or "
                               "suspended (a possible stolen phone): not charged to the owner",
}


def _flag(session, settlement, rule, detail=""):
    exists = session.scalars(select(AuditFlag).filter_by(settlement_id=settlement.id, rule=rule)).first()
    if exists is None:
        session.add(AuditFlag(settlement_id=settlement.id, rule=rule, detail=detail[:200],
                              insured_region=settlement.insured_region,
                              treating_region=settlement.treating_region,
                              created_at=settlement.created_at))


def check_settlement(session, settlement):
    """Run the rules that can be decided when a bill is settled (same transaction)."""
    created = settlement.created_at
    recent = session.scalars(select(Settlement).filter(
        Settlement.person_id == settlement.person_id, Settlement.kind == "settlement",
        Settlement.id != settlement.id,
        Settlement.created_at >= created - timedelta(minutes=30))).all()
    elsewhere = [s for s in recent if s.institution_code != settlement.institution_code]
    if elsewhere:
        _flag(session, settlement, "two_places_30_min",
              f"also at {elsewhere[0].institution_code}")
    day_start = datetime.combine(created.astimezone(CHINA).date(), datetime.min.time(), CHINA)
    today = session.scalar(select(func.count()).select_from(Settlement).filter(
        Settlement.person_id == settlement.person_id, Settlement.kind == "settlement",
        Settlement.created_at >= day_start))
    if today > 3:
        _flag(session, settlement, "over_3_a_day", f"{today} settlements today")
    threshold = session.get(Region, settlement.insured_region).audit_bill_threshold_fen
    if settlement.total_fen > threshold:
        _flag(session, settlement, "bill_over_threshold", f"{settlement.total_fen} > {threshold}")


def flag_manual_identification(session, settlement, reason):
    """A bill settled after finding the person by national ID number (no phone): always reviewed."""
    _flag(session, settlement, "manual_identification", reason)


def check_revoked_credentials(session, jtis, now):
    """When credentials are revoked: flag what they paid earlier the same day."""
    day_start = datetime.combine(datetime.fromtimestamp(now, CHINA).date(), datetime.min.time(), CHINA)
    for settlement in session.scalars(select(Settlement).filter(
            Settlement.credential_jti.in_(list(jtis)), Settlement.created_at >= day_start)):
        _flag(session, settlement, "revoked_same_day")


def ride_flag(ride_id, region, rule, detail, created_at):
    """The row of a flag on a ride (ride ingest inserts them in bulk): the holder's home region is
    both the insured and the treating region, so that region's fund reviews it."""
    return {"ride_id": ride_id, "rule": rule, "insured_region": region, "treating_region": region,
            "detail": detail[:200], "created_at": created_at}
