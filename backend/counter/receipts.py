"""The receipt of a settlement (结算单), as the counter prints it and reprints it. No Flask.

A receipt names the institution, the cashier and the patient (masked), the insured region and
scheme whose rules applied, the time in China, every line with its class (甲/乙/丙 on paper), the
three parts (fund, personal account, cash), the deductible this bill used and what remains of the
year's deductible and cap *after this bill*. A reprint says the same as the first print: what
remained is worked out from the person's counters now, less what every later settlement or refund
of the same year moved (so a later bill, or this bill's refund, does not change an old receipt).
A refunded receipt carries its refund (number, time, reason), and the paper says so."""
from sqlalchemy import func, select

from ..models import Account, BenefitCounter, Institution, Person, Region, Settlement
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


def year_left(session, settlement, person):
    """What remained of the year's deductible and cap right after ``settlement``."""
    counter = session.get(BenefitCounter, (settlement.person_id, settlement.year))
    later = session.execute(
        select(func.coalesce(func.sum(Settlement.deductible_fen), 0),
               func.coalesce(func.sum(Settlement.fund_fen), 0))
        .filter(Settlement.person_id == settlement.person_id, Settlement.year == settlement.year,
                Settlement.id > settlement.id)).one()
    deductible_used = (counter.deductible_used_fen if counter else 0) - int(later[0])
    fund_paid = (counter.fund_paid_fen if counter else 0) - int(later[1])
    policy = person.region.policy_for(person.insurance_class)
    if policy is None:
        return None
    return {"deductible_fen": policy.deductible_fen,
            "deductible_left_fen": max(0, policy.deductible_fen - deductible_used),
            "cap_fen": policy.annual_cap_fen,
            "cap_left_fen": max(0, policy.annual_cap_fen - fund_paid)}


def receipt(session, settlement):
    """The receipt of a settlement; for a refund, the receipt of the bill it refunded."""
    if settlement.kind == "refund":
        settlement = session.get(Settlement, settlement.reverses_id)
    person = session.get(Person, settlement.person_id)
    institution = session.get(Institution, settlement.institution_code)
    refund = session.scalars(select(Settlement).filter_by(reverses_id=settlement.id)).first()
    return {
        "id": settlement.id,
        "number": number(settlement),
        "created_at": china_time(settlement.created_at),
        "institution": institution_names(institution),
        "cashier": staff_name(session.get(Account, settlement.cashier_account_id)),
        "patient": {"masked_name": person.masked_name()},
        "insured_region": region_names(session.get(Region, settlement.insured_region)),
        "treating_region": region_names(session.get(Region, settlement.treating_region)),
        "insurance_class": person.insurance_class,
        "cross_region": settlement.insured_region != settlement.treating_region,
        "identified_by": "national_id" if identify.is_manual(settlement) else "e_voucher",
        "lines": [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": line.description, "amount_fen": line.amount_fen}
                  for line in settlement.lines],
        **{name: getattr(settlement, name) for name in AMOUNTS},
        "year": year_left(session, settlement, person),
        "refund": None if refund is None else {
            "id": refund.id, "number": number(refund), "created_at": china_time(refund.created_at),
            "reason": refund.reason, "cashier": staff_name(session.get(Account, refund.cashier_account_id)),
            **{name: getattr(refund, name) for name in ("total_fen", "fund_fen",
                                                        "personal_account_fen", "cash_fen")}},
    }
