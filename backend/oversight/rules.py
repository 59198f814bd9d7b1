"""The joint-audit rules (联审互查): flags raised when a bill is settled, a credential revoked or a
ride uploaded, the flags an auditor may see, and the auditor's decision. No Flask."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..models import AuditFlag, Region, Settlement
from ..models.base import CHINA, at
from ..service.errors import NotFound, ValidationFailed

RULES = {
    "two_places_30_min": "same holder at two institutions within 30 minutes",
    "over_3_a_day": "more than 3 settlements for one holder in a day",
    "bill_over_threshold": "a bill over the insured region's threshold",
    "revoked_same_day": "paid with a credential revoked the same day",
    "copied_code": "one code reported by two validators (a copied screenshot)",
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


def flags_for(session, region_code, status=None):
    """Flags an auditor may see: those whose insured or treating region is theirs (all for None)."""
    query = select(AuditFlag).order_by(AuditFlag.id.desc())
    if region_code is not None:
        query = query.filter((AuditFlag.insured_region == region_code)
                             | (AuditFlag.treating_region == region_code))
    if status:
        query = query.filter_by(status=status)
    return session.scalars(query.limit(500)).all()


def decide(session, *, flag_id, region_code, decision, note, who, now):
    flag = session.get(AuditFlag, flag_id) if isinstance(flag_id, int) else None
    if flag is None or (region_code is not None
                        and region_code not in (flag.insured_region, flag.treating_region)):
        raise NotFound("No such flag in your region.", code="flag_not_found")
    if decision not in ("confirm", "dismiss"):
        raise ValidationFailed("decision is confirm or dismiss", code="bad_decision")
    if not note.strip():
        raise ValidationFailed("Write a note for the other fund.", code="note_required")
    flag.status = "confirmed" if decision == "confirm" else "dismissed"
    flag.note, flag.decided_by, flag.decided_at = note.strip()[:500], who, at(now)
    return flag
