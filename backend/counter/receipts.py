"""The receipt of a settlement (结算单), as the counter prints it and reprints it. No Flask.

A receipt names the institution, the cashier and the patient (masked), the insured region and
scheme whose rules applied, the time in China, every line with its class (甲/乙/丙 on paper), the
three parts (fund, personal account, cash), the deductible this bill used and what remains of the
year's deductible and cap *after this bill*. A reprint says the same as the first print: what
remained is worked out from the person's counters now, less what every later settlement or refund
of the same year moved (so a later bill, or this bill's refund, does not change an old receipt).
A refunded receipt carries its refund (number, time, reason), and the paper says so."""
from sqlalchemy import bindparam, case, func, select

from ..models import (Account, BenefitCounter, InpatientSettlement, Institution, Person, Region,
                      Settlement)
from ..models.base import CHINA
from . import identify

AMOUNTS = ("total_fen", "fund_fen", "personal_account_fen", "cash_fen", "deductible_fen",
           "class_b_self_fen", "class_c_fen", "coinsurance_fen")


def china_time(moment):
    """An aware moment as ISO 8601 in China time, with its offset: 2026-11-29T07:52:00+08:00."""
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def number(settlement):
    """The number printed on the receipt: China date and the settlement id, 20261129-000123."""
    return f"{settlement.created_at.astimezone(CHINA):%Y%m%d}-{settlement.id:06d}"


def staff_name(account):
    return (account.display_name or account.login) if account is not None else ""


def region_names(region):
    return {"code": region.code, "zh": region.name_zh, "en": region.name_en}


def institution_names(institution):
    return {"code": institution.code, "zh": institution.name_zh, "en": institution.name_en,
            "level": institution.level}


# What every later settlement or refund of the person's year moved (built once). A later discharge
# settlement (docs/inpatient.md) has its own deductible, and counts against the outpatient cap only
# when its policy shares the cap.
_INPATIENT = select(InpatientSettlement.settlement_id)
_SEPARATE = _INPATIENT.filter(InpatientSettlement.cap_shared_with_outpatient.is_(False))
_LATER = (select(func.coalesce(func.sum(case(
                     (Settlement.id.in_(_INPATIENT) | Settlement.reverses_id.in_(_INPATIENT), 0),
                     else_=Settlement.deductible_fen)), 0),
                 func.coalesce(func.sum(case(
                     (Settlement.id.in_(_SEPARATE) | Settlement.reverses_id.in_(_SEPARATE), 0),
                     else_=Settlement.fund_fen)), 0))
          .filter(Settlement.person_id == bindparam("person_id"),
                  Settlement.year == bindparam("year"), Settlement.id > bindparam("settlement_id")))


def year_left(session, settlement, person, *, counter=None, policy=None, latest=False):
    """What remained of the year's deductible and cap right after ``settlement``. ``counter`` (the
    person's counters as they are now) and ``policy`` spare their reads when the caller has them.
    ``latest``: the settlement was made in this transaction, which still holds the person's
    counter lock; every writer of a later settlement or refund that moves these counters takes
    that lock before its INSERT (a discharge with its own cap moves neither sum), so nothing
    later can count yet, and ``_LATER`` is not asked."""
    if counter is None:
        counter = session.get(BenefitCounter, (settlement.person_id, settlement.year))
    later = (0, 0) if latest else session.execute(_LATER, {
        "person_id": settlement.person_id, "year": settlement.year,
        "settlement_id": settlement.id}).one()
    deductible_used = (counter.deductible_used_fen if counter else 0) - int(later[0])
    fund_paid = (counter.fund_paid_fen if counter else 0) - int(later[1])
    policy = policy or person.region.policy_for(person.insurance_class)
    if policy is None:
        return None
    return {"deductible_fen": policy.deductible_fen,
            "deductible_left_fen": max(0, policy.deductible_fen - deductible_used),
            "cap_fen": policy.annual_cap_fen,
            "cap_left_fen": max(0, policy.annual_cap_fen - fund_paid)}


def receipt(session, settlement, settled=None):
    """The receipt of a settlement; for a refund, the receipt of the bill it refunded.
    ``settled`` (a ``settlements.Settled`` of a bill made in this transaction) brings what the
    settlement read on the way: the person, counters, lines and regions are not read again, and a
    bill made a moment ago has no refund to look for."""
    if settlement.kind == "refund":
        settlement = session.get(Settlement, settlement.reverses_id)
    fresh = settled is not None and settled.created and settled.settlement is settlement
    person = settled.person if fresh else session.get(Person, settlement.person_id)
    institution = session.get(Institution, settlement.institution_code)
    refund = None if fresh else \
        session.scalars(select(Settlement).filter_by(reverses_id=settlement.id)).first()
    regions = settled.regions if fresh and settled.regions is not None else None

    def region(code):
        return regions[code] if regions is not None else session.get(Region, code)
    policy = regions[person.home_region].policy_for(person.insurance_class) \
        if regions is not None else None
    return {
        "id": settlement.id,
        "number": number(settlement),
        "created_at": china_time(settlement.created_at),
        "institution": institution_names(institution),
        "cashier": staff_name(session.get(Account, settlement.cashier_account_id)),
        "patient": {"masked_name": person.masked_name()},
        "insured_region": region_names(region(settlement.insured_region)),
        "treating_region": region_names(region(settlement.treating_region)),
        "insurance_class": person.insurance_class,
        "cross_region": settlement.insured_region != settlement.treating_region,
        "identified_by": "national_id" if identify.is_manual(settlement) else "e_voucher",
        "lines": [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": text, "amount_fen": line.amount_fen}
                  for line, text in settled.lines] if fresh else
                 [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": line.description, "amount_fen": line.amount_fen}
                  for line in settlement.lines],
        **{name: getattr(settlement, name) for name in AMOUNTS},
        "year": year_left(session, settlement, person, counter=settled.counter if fresh else None,
                          policy=policy, latest=fresh),
        "refund": None if refund is None else {
            "id": refund.id, "number": number(refund), "created_at": china_time(refund.created_at),
            "reason": refund.reason, "cashier": staff_name(session.get(Account, refund.cashier_account_id)),
            **{name: getattr(refund, name) for name in ("total_fen", "fund_fen",
                                                        "personal_account_fen", "cash_fen")}},
    }
