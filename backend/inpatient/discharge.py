"""Pre-settlement (预结算), discharge settlement (出院结算) and its same-day reversal (撤销).

A discharge settlement is one transaction: the stay's row is taken (only an open stay can be
settled, so two concurrent discharges give one settlement), the person's counters are locked,
the split is computed under the home region's inpatient policy, and the ``settlements`` row,
its link to the stay and its lines, the counters and the personal account are written. The same
Idempotency-Key answers the same settlement. A reversal writes the refund row (negative amounts),
moves everything back and opens the stay again. No Flask; the caller commits."""
from datetime import datetime, timezone

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..counter import settlements as counter
from ..models import (BenefitCounter, Institution, InpatientCounter, InpatientSettlement,
                      InpatientSettlementLine, Person, Settlement, Stay)
from ..models.base import CHINA, at
from ..oversight import rules
from ..service.errors import Conflict, Forbidden, NotFound, ValidationFailed, YimaError
from ..service.idempotency import check_idempotency_key, check_same_request, fingerprint
from . import benefits, policy as policies, stays

AMOUNTS = counter._AMOUNTS


class Computed:
    """What a preview shows and a settlement writes."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _year(now):
    return datetime.fromtimestamp(now, CHINA).year


def _discharge_day(stay, discharged_on, now):
    today = stays.china_today(now)
    day = stays.parse_date(discharged_on, "discharged_on", default=today)
    if not stay.admitted_on <= day <= today:
        raise ValidationFailed("The discharge day is between the admission and today.",
                               code="bad_date", extra={"field": "discharged_on"})
    return day


def _home_policy(session, person):
    policy = policies.policy_for(session, person.home_region, person.insurance_class)
    if policy is None:
        raise YimaError("The insured region has no inpatient policy for this scheme.",
                        code="no_inpatient_policy", status=409, title="No inpatient policy")
    return policy


def earlier_admissions(session, person_id, stay_id, year):
    """The person's other stays settled (and not reversed) this year."""
    return session.scalar(
        select(func.count()).select_from(Stay).join(Settlement, Settlement.id == Stay.settlement_id)
        .filter(Stay.person_id == person_id, Stay.id != stay_id, Stay.status == "settled",
                Settlement.year == year))


def compute(session, stay, *, discharged_on, use_account, now, lock=False):
    person = session.get(Person, stay.person_id)
    institution = session.get(Institution, stay.institution_code)
    policy = _home_policy(session, person)
    day = _discharge_day(stay, discharged_on, now)
    lines = stays.live_amounts(session, stay.id)
    if not lines:
        raise ValidationFailed("The stay has no fee lines to settle.", code="no_fee_lines")
    year = _year(now)
    inpatient, outpatient = _counters(session, person.id, year, policy, lock)
    used_fund = (outpatient.fund_paid_fen if outpatient else 0) if policy.cap_shared_with_outpatient \
        else (inpatient.fund_paid_fen if inpatient else 0)
    so_far = benefits.InpatientYear(
        deductible_used_fen=inpatient.deductible_used_fen if inpatient else 0,
        fund_paid_fen=used_fund,
        earlier_admissions=earlier_admissions(session, person.id, stay.id, year))
    split = benefits.settle_stay(
        policy, institution.level,
        [benefits.Line(line.category, line.coverage_class, line.amount_fen) for line in lines],
        so_far, person.personal_account_fen, use_account)
    return Computed(person=person, institution=institution, policy=policy, day=day, lines=lines,
                    year=year, split=split, inpatient=inpatient, outpatient=outpatient,
                    so_far=so_far, days=stays.days_of(stay.admitted_on, day),
                    stay_deductible=benefits.stay_deductible(policy, institution.level, so_far))


def _counters(session, person_id, year, policy, lock):
    if lock:  # a write first: SQLite's lock; then PostgreSQL's row locks, always in this order
        if policy.cap_shared_with_outpatient:
            counter._ensure_counter(session, person_id, year)
        _ensure_inpatient_counter(session, person_id, year)
    outpatient_query = select(BenefitCounter).filter_by(person_id=person_id, year=year)
    inpatient_query = select(InpatientCounter).filter_by(person_id=person_id, year=year)
    if lock:
        outpatient_query = outpatient_query.with_for_update()
        inpatient_query = inpatient_query.with_for_update()
    outpatient = session.scalars(outpatient_query).first() \
        if policy.cap_shared_with_outpatient or not lock else None
    return session.scalars(inpatient_query).first(), outpatient


def _ensure_inpatient_counter(session, person_id, year):
    if session.get(InpatientCounter, (person_id, year)) is None:
        try:
            with session.begin_nested():
                session.execute(insert(InpatientCounter).values(
                    person_id=person_id, year=year, deductible_used_fen=0, fund_paid_fen=0))
        except IntegrityError:
            pass  # another discharge created it first
    else:
        session.execute(update(InpatientCounter).filter_by(person_id=person_id, year=year)
                        .values(year=year))


def year_left(policy, computed_or_counters):
    """What remains of the year's inpatient deductible (per year) and cap after a split."""
    c = computed_or_counters
    return {"deductible_fen_for_stay": c.stay_deductible,
            "deductible_left_fen": max(0, c.stay_deductible - c.split.deductible_fen)
            if policy.deductible_mode == "per_year" else None,
            "cap_left_fen": max(0, policy.annual_cap_fen - c.so_far.fund_paid_fen - c.split.fund_fen)}


def preview(session, *, stay_id, institution_code, discharged_on=None, use_account=True, now):
    stay = stays.own_stay(session, stay_id, institution_code)
    if stay.status != "open":
        raise Conflict("The stay is already settled.", code="stay_not_open")
    computed = compute(session, stay, discharged_on=discharged_on, use_account=use_account, now=now)
    return stay, computed


def _request_hash(stay_id, discharged_on, use_account):
    return fingerprint("discharge", stay_id=stay_id, discharged_on=discharged_on,
                       use_personal_account=bool(use_account))


def settle(session, *, stay_id, institution_code, cashier_id, idempotency_key, now,
           discharged_on=None, use_account=True):
    """Return (settlement, created). Runs in the caller's transaction; commits nothing."""
    key = check_idempotency_key(idempotency_key)
    digest = _request_hash(stay_id, discharged_on, use_account)
    earlier = counter._by_key(session, institution_code, key)
    if earlier is not None:
        check_same_request(earlier.request_hash, digest)
        return earlier, False
    stay = stays.own_stay(session, stay_id, institution_code)
    if stay.status == "open":  # refused before the stay is taken: a plain answer, nothing held
        _discharge_day(stay, discharged_on, now)
        if not stays.has_live_lines(session, stay.id):
            raise ValidationFailed("The stay has no fee lines to settle.", code="no_fee_lines")
    taken = session.execute(update(Stay).where(Stay.id == stay.id, Stay.status == "open")
                            .values(status="settled")).rowcount
    if taken != 1:  # settled before us (perhaps by this very request, retried)
        session.rollback()
        earlier = counter._by_key(session, institution_code, key)
        if earlier is not None:
            check_same_request(earlier.request_hash, digest)
            return earlier, False
        raise Conflict("This stay is already settled.", code="stay_already_settled")
    session.refresh(stay)
    person = session.get(Person, stay.person_id)
    if person.status != "active":
        raise Forbidden("This person's insurance is suspended.", code="person_suspended")
    counter._accepting(session, institution_code)
    policy = _home_policy(session, person)
    computed = compute(session, stay, discharged_on=discharged_on, use_account=use_account,
                       now=now, lock=True)
    split = computed.split
    settlement = Settlement(
        kind="settlement", institution_code=institution_code, person_id=person.id,
        insured_region=stay.insured_region, treating_region=stay.treating_region,
        cashier_account_id=cashier_id, idempotency_key=key, request_hash=digest,
        year=computed.year, created_at=at(now), **counter._amounts(split, 1))
    session.add(settlement)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the key was used meanwhile for another request here
        raise ValidationFailed("This Idempotency-Key was already used for another request; "
                               "send a new key for a new request.",
                               code="idempotency_key_reused") from None
    stay.settled_count += 1
    stay.discharged_on, stay.settlement_id = computed.day, settlement.id
    session.add(InpatientSettlement(
        settlement_id=settlement.id, stay_id=stay.id, attempt=stay.settled_count,
        discharged_on=computed.day, days=computed.days,
        admission_in_year=computed.so_far.earlier_admissions + 1,
        deductible_mode=policy.deductible_mode,
        cap_shared_with_outpatient=policy.cap_shared_with_outpatient))
    session.flush()
    session.execute(insert(InpatientSettlementLine), [
        {"settlement_id": settlement.id, "line_id": line.id} for line in computed.lines])
    _move(session, person.id, computed.inpatient, computed.outpatient, split,
          policy.cap_shared_with_outpatient, 1)
    rules.check_inpatient_discharge(session, settlement, stay=stay, days=computed.days,
                                    policy=policy)
    if stay.manual_reason:
        rules.flag_manual_identification(session, settlement, stay.manual_reason)
    return settlement, True


def _move(session, person_id, inpatient, outpatient, amounts, shared, sign):
    inpatient.deductible_used_fen += sign * amounts.deductible_fen
    inpatient.fund_paid_fen += sign * amounts.fund_fen
    if shared:
        outpatient.fund_paid_fen += sign * amounts.fund_fen
    if amounts.personal_account_fen:
        counter.debit_personal_account(session, person_id, sign * amounts.personal_account_fen)
    session.flush()


def reverse(session, *, stay_id, institution_code, cashier_id, reason, now, idempotency_key=None):
    """Return (refund, created): the same-day reversal of the stay's discharge settlement, which
    opens the stay again (lines may then be added or cancelled, and the stay settled anew)."""
    key = check_idempotency_key(idempotency_key) if idempotency_key else None
    digest = fingerprint("reverse_stay", stay_id=stay_id,
                         reason=reason.strip() if isinstance(reason, str) else None)
    if key is not None:
        earlier = counter._by_key(session, institution_code, key)
        if earlier is not None:
            check_same_request(earlier.request_hash, digest)
            return earlier, False
    stay = stays.own_stay(session, stay_id, institution_code)
    if stay.status != "settled" or stay.settlement_id is None:
        raise Conflict("The stay is open: there is no discharge settlement to reverse.",
                       code="stay_not_settled")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Say why the settlement is reversed.", code="reason_required")
    original = session.get(Settlement, stay.settlement_id)
    created = original.created_at.replace(tzinfo=original.created_at.tzinfo or timezone.utc)
    if created.astimezone(CHINA).date() != datetime.fromtimestamp(now, CHINA).date():
        raise Forbidden("Only a same-day reversal is possible at the desk.",
                        code="refund_not_same_day")
    reopened = session.execute(
        update(Stay).where(Stay.id == stay.id, Stay.status == "settled",
                           Stay.settlement_id == original.id)
        .values(status="open", settlement_id=None, discharged_on=None)).rowcount
    if reopened != 1:
        raise Conflict("The stay was reversed meanwhile.", code="stay_not_settled")
    session.refresh(stay)
    link = session.get(InpatientSettlement, original.id)
    person_id = original.person_id
    if link.cap_shared_with_outpatient:
        counter._ensure_counter(session, person_id, original.year)
    _ensure_inpatient_counter(session, person_id, original.year)
    inpatient = session.scalars(select(InpatientCounter).filter_by(
        person_id=person_id, year=original.year).with_for_update()).one()
    outpatient = session.scalars(select(BenefitCounter).filter_by(
        person_id=person_id, year=original.year).with_for_update()).one() \
        if link.cap_shared_with_outpatient else None
    reversal = Settlement(
        kind="refund", institution_code=institution_code, person_id=person_id,
        insured_region=original.insured_region, treating_region=original.treating_region,
        cashier_account_id=cashier_id, idempotency_key=key or f"refund:{original.id}",
        request_hash=digest, reverses_id=original.id, year=original.year,
        reason=reason.strip()[:200], created_at=at(now), **counter._amounts(original, -1))
    session.add(reversal)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("This settlement was already reversed.", code="already_refunded") from None
    _move(session, person_id, inpatient, outpatient, original, link.cap_shared_with_outpatient, -1)
    return reversal, True


def settlements_of(session, stay_id):
    """Every discharge settlement of a stay and its reversal, oldest first."""
    ids = select(InpatientSettlement.settlement_id).filter_by(stay_id=stay_id)
    rows = session.scalars(select(Settlement).filter(
        Settlement.id.in_(ids) | Settlement.reverses_id.in_(ids)).order_by(Settlement.id))
    return [{"id": s.id, "kind": s.kind, "created_at": s.created_at.astimezone(CHINA)
             .isoformat(timespec="seconds"), "reverses": s.reverses_id, "reason": s.reason,
             **{name: getattr(s, name) for name in ("total_fen", "fund_fen",
                                                    "personal_account_fen", "cash_fen")}}
            for s in rows]


def own_settlement(session, stay, settlement_id=None):
    """The stay's settlement named (default: the latest), as a settlements row."""
    query = select(InpatientSettlement).filter_by(stay_id=stay.id)
    if settlement_id is not None:
        query = query.filter_by(settlement_id=settlement_id)
    link = session.scalars(query.order_by(InpatientSettlement.attempt.desc())).first()
    if link is None:
        raise NotFound("This stay has no such discharge settlement.", code="settlement_not_found")
    return session.get(Settlement, link.settlement_id), link


