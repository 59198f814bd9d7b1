"""The discharge settlement's receipt (住院结算单): the counter receipt's fields, the stay (admission
number, ward, diagnosis, admission and discharge days, days, which admission of the year) and the
fees by category (费用汇总). What remained of the year is what remained right after this
settlement, so a reprint says what the first print said. No Flask."""
from sqlalchemy import func, select

from ..counter import receipts as counter_receipts
from ..models import (BenefitCounter, FeeLine, InpatientCounter, InpatientSettlement,
                      InpatientSettlementLine, Person, Settlement, Stay)
from ..models.inpatient import INPATIENT_CATEGORIES
from . import policy as policies


def _later_sums(session, settlement, inpatient_only):
    query = select(func.coalesce(func.sum(Settlement.deductible_fen), 0),
                   func.coalesce(func.sum(Settlement.fund_fen), 0)).filter(
        Settlement.person_id == settlement.person_id, Settlement.year == settlement.year,
        Settlement.id > settlement.id)
    if inpatient_only:  # a reversal row counts with the settlement it reverses
        ids = select(InpatientSettlement.settlement_id)
        query = query.filter(Settlement.id.in_(ids) | Settlement.reverses_id.in_(ids))
    deductible, fund = session.execute(query).one()
    return int(deductible), int(fund)


def year_left(session, settlement, link, person, stay_deductible):
    policy = policies.policy_for(session, person.home_region, person.insurance_class)
    if policy is None:
        return None
    counter = session.get(InpatientCounter, (settlement.person_id, settlement.year))
    later_deductible, later_inpatient_fund = _later_sums(session, settlement, True)
    deductible_used = (counter.deductible_used_fen if counter else 0) - later_deductible
    if link.cap_shared_with_outpatient:
        shared = session.get(BenefitCounter, (settlement.person_id, settlement.year))
        fund_paid = (shared.fund_paid_fen if shared else 0) - _later_sums(session, settlement,
                                                                           False)[1]
    else:
        fund_paid = (counter.fund_paid_fen if counter else 0) - later_inpatient_fund
    per_year = link.deductible_mode == "per_year"
    return {"deductible_rule": link.deductible_mode,
            "deductible_fen": policy.deductible_year_fen if per_year else stay_deductible,
            "deductible_left_fen": max(0, policy.deductible_year_fen - deductible_used)
            if per_year else None,
            "cap_fen": policy.annual_cap_fen,
            "cap_left_fen": max(0, policy.annual_cap_fen - fund_paid),
            "cap_shared_with_outpatient": link.cap_shared_with_outpatient}


def categories(session, settlement_id):
    """The settlement's lines by category and class, in the usual order of a 费用汇总."""
    rows = session.execute(
        select(FeeLine.category, FeeLine.coverage_class, func.count(), func.sum(FeeLine.amount_fen))
        .join(InpatientSettlementLine, InpatientSettlementLine.line_id == FeeLine.id)
        .filter(InpatientSettlementLine.settlement_id == settlement_id)
        .group_by(FeeLine.category, FeeLine.coverage_class))
    table, count = {}, 0
    for category, klass, lines, amount in rows:
        entry = table.setdefault(category, {"category": category, "A": 0, "B": 0, "C": 0,
                                            "total_fen": 0})
        entry[klass] += int(amount)
        entry["total_fen"] += int(amount)
        count += int(lines)
    return [table[c] for c in INPATIENT_CATEGORIES if c in table], count


def receipt(session, settlement, link):
    """The receipt of a discharge settlement (for a reversal: of the settlement it reversed)."""
    if settlement.kind == "refund":
        settlement = session.get(Settlement, settlement.reverses_id)
        link = session.get(InpatientSettlement, settlement.id)
    stay = session.get(Stay, link.stay_id)
    person = session.get(Person, settlement.person_id)
    paper = counter_receipts.receipt(session, settlement)
    by_category, lines_count = categories(session, settlement.id)
    admission_deductible = settlement.deductible_fen  # what this stay's deductible took
    paper.pop("lines")
    paper.update(
        title="住院结算单",
        stay={"id": stay.id, "admission_no": stay.admission_no, "ward": stay.ward,
              "diagnosis": {"code": stay.diagnosis_code, "text": stay.diagnosis_text},
              "admitted_on": stay.admitted_on.isoformat(),
              "discharged_on": link.discharged_on.isoformat(), "days": link.days,
              "admission_in_year": link.admission_in_year},
        identified_by="national_id" if stay.manual_reason else "e_voucher",
        deductible_rule=link.deductible_mode,
        categories=by_category, lines_count=lines_count,
        year=year_left(session, settlement, link, person, admission_deductible))
    return paper
