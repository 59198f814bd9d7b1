"""The joint-audit rules (联审互查): flags raised when a bill is settled, a credential revoked or a
ride uploaded (what an auditor sees and decides of them: ``cases``). No Flask."""
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from ..models import AuditFlag, Region, Settlement, Stay
from ..models.base import CHINA
from ..models.fastsql import Hot

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
    "readmission_15_days": "admitted within 15 days of an earlier discharge (分解住院)",
    "long_stay": "a stay longer than the insured region's limit of days",
    "daily_cost_over_threshold": "a stay's cost per day over the insured region's threshold",
}
READMISSION_DAYS = 15


def _flag(session, settlement, rule, detail=""):
    exists = session.scalars(select(AuditFlag).filter_by(settlement_id=settlement.id, rule=rule)).first()
    if exists is None:
        session.add(AuditFlag(settlement_id=settlement.id, rule=rule, detail=detail[:200],
                              insured_region=settlement.insured_region,
                              treating_region=settlement.treating_region,
                              created_at=settlement.created_at))


# The holder's other bills for the two rules below, in one statement built once: the first other
# institution within 30 minutes, and how many bills today (this one included).
_OTHER_BILLS = Hot(
    select(func.min(Settlement.institution_code).filter(
               Settlement.created_at >= bindparam("recent"),
               Settlement.id != bindparam("settlement_id"),
               Settlement.institution_code != bindparam("institution_code")),
           func.count().filter(Settlement.created_at >= bindparam("day_start")))
    .filter(Settlement.person_id == bindparam("person_id"), Settlement.kind == "settlement",
            Settlement.created_at >= bindparam("since")))


def check_settlement(session, settlement, threshold=None):
    """Run the rules that can be decided when a bill is settled (same transaction). The two
    rules on the holder's other bills read them in one statement; ``threshold`` (the insured
    region's ``audit_bill_threshold_fen``) spares the region's read when the caller has it."""
    created = settlement.created_at
    recent = created - timedelta(minutes=30)
    day_start = datetime.combine(created.astimezone(CHINA).date(), datetime.min.time(), CHINA)
    session.flush()  # what the ORM holds is counted too (the cursor path does not autoflush)
    elsewhere, today = _OTHER_BILLS.one(session, {
        "person_id": settlement.person_id, "settlement_id": settlement.id,
        "institution_code": settlement.institution_code, "recent": recent, "day_start": day_start,
        "since": min(recent, day_start)})
    if elsewhere is not None:
        _flag(session, settlement, "two_places_30_min", f"also at {elsewhere}")
    if today > 3:
        _flag(session, settlement, "over_3_a_day", f"{today} settlements today")
    if threshold is None:
        threshold = session.get(Region, settlement.insured_region).audit_bill_threshold_fen
    if settlement.total_fen > threshold:
        _flag(session, settlement, "bill_over_threshold", f"{settlement.total_fen} > {threshold}")


def check_inpatient_discharge(session, settlement, *, stay, days, policy):
    """The inpatient rules, when a stay is settled at discharge (same transaction); ``policy`` is
    the home region's inpatient policy (docs/inpatient.md)."""
    earlier = session.scalars(select(Stay).filter(
        Stay.person_id == stay.person_id, Stay.id != stay.id, Stay.status == "settled",
        Stay.discharged_on <= stay.admitted_on,
        Stay.discharged_on >= stay.admitted_on - timedelta(days=READMISSION_DAYS))
        .order_by(Stay.discharged_on.desc())).first()
    if earlier is not None:
        _flag(session, settlement, "readmission_15_days",
              f"discharged {earlier.discharged_on.isoformat()} at {earlier.institution_code}, "
              f"admitted {stay.admitted_on.isoformat()}")
    if days > policy.audit_max_stay_days:
        _flag(session, settlement, "long_stay", f"{days} days > {policy.audit_max_stay_days}")
    if settlement.total_fen > policy.audit_daily_cost_fen * days:
        _flag(session, settlement, "daily_cost_over_threshold",
              f"{settlement.total_fen // days} a day > {policy.audit_daily_cost_fen}")


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
