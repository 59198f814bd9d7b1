"""The auditor's cases (联审互查): the flags in a region's view with what a person needs to judge
them (date, amount, both regions, institution, masked person), one flag opened with its bill and
split and its history, notes, and the decision that makes a refusal (拒付) in clearing. No Flask.

``scope`` is the acting auditor's (or admin's) region code, None for the whole zone: a flag is in
scope when its insured or its treating region is the scope. Time is a parameter."""
from sqlalchemy import func, select, update

from ..models import (Account, AuditFlag, AuditFlagNote, Institution, Person, Ride, Settlement,
                      Validator)
from ..models.base import at
from ..service.errors import Conflict, NotFound, ValidationFailed
from .clearing import settlement_period
from .names import names_for
from .rules import RULES

STATUSES = ("open", "confirmed", "dismissed")
NOTE_MAX = 500


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def _in_scope(query, scope):
    if scope is None:
        return query
    return query.filter((AuditFlag.insured_region == scope) | (AuditFlag.treating_region == scope))


def _filtered(scope, *, status=None, rule=None, start=None, end=None):
    query = _in_scope(select(AuditFlag), scope)
    if status:
        query = query.filter(AuditFlag.status == status)
    if rule:
        query = query.filter(AuditFlag.rule == rule)
    if start is not None:
        query = query.filter(AuditFlag.created_at >= start)
    if end is not None:
        query = query.filter(AuditFlag.created_at < end)
    return query


def _refunded_ids(session, settlement_ids):
    if not settlement_ids:
        return set()
    return set(session.scalars(select(Settlement.reverses_id)
                               .where(Settlement.reverses_id.in_(settlement_ids))))


def _deduction(flag, settlement, refunded):
    """What confirming this flag takes out of clearing: the bill's fund share, when the bill is
    cross-region and not refunded; a ride, a local bill or a refunded bill: nothing."""
    if settlement is None or refunded or settlement.insured_region == settlement.treating_region:
        return 0
    return settlement.fund_fen


def deduction_of(session, flag):
    """The refusal a (confirmed) flag makes in clearing, in fen (0 for a ride or a local bill)."""
    if flag.settlement_id is None:
        return 0
    settlement = session.get(Settlement, flag.settlement_id)
    return _deduction(flag, settlement, bool(_refunded_ids(session, [settlement.id])))


def _describe(flag, settlement, ride, person, refunded):
    amount = settlement.total_fen if settlement is not None else (ride.fare_fen if ride else None)
    return {
        "id": flag.id, "rule": flag.rule, "rule_text": RULES.get(flag.rule, flag.rule),
        "detail": flag.detail, "status": flag.status, "at": _iso(flag.created_at),
        "insured_region": flag.insured_region, "treating_region": flag.treating_region,
        "settlement": flag.settlement_id, "ride": flag.ride_id,
        "institution": settlement.institution_code if settlement is not None else None,
        "line": ride.line_code if ride is not None else None,
        "person": person.masked_name() if person is not None else None,
        "amount_fen": amount,
        "fund_fen": settlement.fund_fen if settlement is not None else None,
        "refunded": refunded,
        "deduction_fen": _deduction(flag, settlement, refunded),
        "note": flag.note, "decided_by": flag.decided_by, "decided_at": _iso(flag.decided_at),
    }


def _names(session, flags):
    return names_for(session,
                     regions={f["insured_region"] for f in flags} | {f["treating_region"] for f in flags},
                     institutions={f["institution"] for f in flags},
                     lines={f["line"] for f in flags})


def list_flags(session, scope, *, status=None, rule=None, start=None, end=None, page=1,
               per_page=25):
    """One page of the flags in scope (newest first) with the filters, the total, and the counts
    by rule and status for the same period (what the chart shows)."""
    query = _filtered(scope, status=status, rule=rule, start=start, end=end)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    flags = session.scalars(query.order_by(AuditFlag.created_at.desc(), AuditFlag.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    settlements = {s.id: s for s in session.scalars(select(Settlement).where(
        Settlement.id.in_([f.settlement_id for f in flags if f.settlement_id])))}
    rides = {r.id: r for r in session.scalars(select(Ride).where(
        Ride.id.in_([f.ride_id for f in flags if f.ride_id])))}
    person_ids = {s.person_id for s in settlements.values()} | {r.person_id for r in rides.values()}
    persons = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    refunded = _refunded_ids(session, list(settlements))
    described = []
    for flag in flags:
        settlement, ride = settlements.get(flag.settlement_id), rides.get(flag.ride_id)
        owner = settlement or ride
        described.append(_describe(flag, settlement, ride,
                                   persons.get(owner.person_id) if owner else None,
                                   flag.settlement_id in refunded))
    counts = {}
    by_rule = _filtered(scope, start=start, end=end).with_only_columns(
        AuditFlag.rule, AuditFlag.status, func.count()).group_by(AuditFlag.rule, AuditFlag.status)
    for flag_rule, flag_status, count in session.execute(by_rule):
        counts.setdefault(flag_rule, {name: 0 for name in STATUSES})[flag_status] = count
    return {"flags": described, "total": total, "page": page, "per_page": per_page,
            "by_rule": [{"rule": name, "rule_text": RULES.get(name, name), **counts[name]}
                        for name in sorted(counts)],
            "names": _names(session, described)}


def _flag_in_scope(session, scope, flag_id):
    flag = session.get(AuditFlag, flag_id) if isinstance(flag_id, int) else None
    if flag is None or (scope is not None and scope not in (flag.insured_region,
                                                            flag.treating_region)):
        raise NotFound("No such flag in your region.", code="flag_not_found")
    return flag


def _authors(session, logins):
    logins = sorted({login for login in logins if login})
    if not logins:
        return {}
    return {login: {"name": name, "role": role, "region": region} for login, name, role, region in
            session.execute(select(Account.login, Account.display_name, Account.role,
                                   Account.region_code).where(Account.login.in_(logins)))}


def history(session, flag_id):
    notes = session.scalars(select(AuditFlagNote).filter_by(flag_id=flag_id)
                            .order_by(AuditFlagNote.at, AuditFlagNote.id)).all()
    authors = _authors(session, [n.author for n in notes])
    return [{"at": _iso(n.at), "author": n.author, "author_name": authors.get(n.author, {}).get("name"),
             "author_region": authors.get(n.author, {}).get("region"), "kind": n.kind, "text": n.text}
            for n in notes]


def _settlement_view(session, settlement, person, refund):
    institution = session.get(Institution, settlement.institution_code)
    return {
        "id": settlement.id, "at": _iso(settlement.created_at),
        "institution": settlement.institution_code, "level": institution.level,
        "insured_region": settlement.insured_region, "treating_region": settlement.treating_region,
        "cross_region": settlement.insured_region != settlement.treating_region,
        "person": {"masked_name": person.masked_name(), "home_region": person.home_region,
                   "insurance_class": person.insurance_class},
        "lines": [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": line.description, "amount_fen": line.amount_fen}
                  for line in settlement.lines],
        "split": {name: getattr(settlement, name) for name in (
            "total_fen", "fund_fen", "personal_account_fen", "cash_fen", "deductible_fen",
            "class_b_self_fen", "class_c_fen", "coinsurance_fen")},
        "refund": None if refund is None else {"id": refund.id, "at": _iso(refund.created_at),
                                               "reason": refund.reason},
    }


def _ride_view(session, ride, person):
    validator = session.get(Validator, ride.validator_id)
    return {"id": ride.id, "at": _iso(ride.ridden_at), "line": ride.line_code,
            "validator": {"id": validator.id, "label": validator.label},
            "fare_fen": ride.fare_fen, "outcome": ride.outcome,
            "person": {"masked_name": person.masked_name(), "home_region": person.home_region,
                       "insurance_class": person.insurance_class}}


def open_case(session, scope, flag_id):
    """One flag with its bill (lines and split) or ride, the other flags on the same bill, its
    history, and what a confirmation does to clearing. The caller logs this read."""
    flag = _flag_in_scope(session, scope, flag_id)
    settlement = session.get(Settlement, flag.settlement_id) if flag.settlement_id else None
    ride = session.get(Ride, flag.ride_id) if flag.ride_id else None
    owner = settlement or ride
    person = session.get(Person, owner.person_id) if owner is not None else None
    refund = None
    if settlement is not None:
        refund = session.scalars(select(Settlement).filter_by(reverses_id=settlement.id)).first()
    described = _describe(flag, settlement, ride, person, refund is not None)
    others = []
    if settlement is not None:
        others = [{"id": other.id, "rule": other.rule, "status": other.status}
                  for other in session.scalars(select(AuditFlag).filter(
                      AuditFlag.settlement_id == settlement.id, AuditFlag.id != flag.id)
                      .order_by(AuditFlag.id))]
    effect = {"clears": settlement is not None and settlement.insured_region != settlement.treating_region,
              "kind": "settlement" if settlement is not None else "ride",
              "payer": flag.insured_region, "payee": flag.treating_region,
              "period": settlement_period(settlement.created_at) if settlement is not None else None,
              "deduction_fen": described["deduction_fen"],
              "already_deducted": any(o["status"] == "confirmed" for o in others),
              "applied": flag.status == "confirmed" or any(o["status"] == "confirmed" for o in others)}
    return {"flag": described, "others": others, "effect": effect,
            "settlement": _settlement_view(session, settlement, person, refund) if settlement else None,
            "ride": _ride_view(session, ride, person) if ride else None,
            "history": history(session, flag.id),
            "names": names_for(session, regions={flag.insured_region, flag.treating_region},
                               institutions={described["institution"]},
                               lines={described["line"]})}


def _note_text(note):
    if not isinstance(note, str) or not note.strip():
        raise ValidationFailed("Write a note for the other fund.", code="note_required")
    if len(note.strip()) > NOTE_MAX:
        raise ValidationFailed(f"A note is at most {NOTE_MAX} characters.", code="note_too_long")
    return note.strip()


def add_note(session, *, scope, flag_id, note, who, now):
    """An auditor's note on a flag, open or decided; the decision stays as it was."""
    flag = _flag_in_scope(session, scope, flag_id)
    session.add(AuditFlagNote(flag_id=flag.id, at=at(now), author=who, kind="note",
                              text=_note_text(note)))
    session.flush()
    return flag


def decide(session, *, scope, flag_id, decision, note, who, now):
    """Confirm (a refusal in clearing, by the bill's fund share) or dismiss (nothing changes) an
    open flag, with a note. A decision is final: a decided flag answers ``flag_already_decided``,
    also when two auditors decide at once (the update only takes an open flag)."""
    flag = _flag_in_scope(session, scope, flag_id)
    if decision not in ("confirm", "dismiss"):
        raise ValidationFailed("decision is confirm or dismiss", code="bad_decision")
    text = _note_text(note)
    status = "confirmed" if decision == "confirm" else "dismissed"
    changed = session.execute(
        update(AuditFlag).where(AuditFlag.id == flag.id, AuditFlag.status == "open")
        .values(status=status, note=text, decided_by=who, decided_at=at(now))
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict("This flag was already decided.", code="flag_already_decided")
    session.add(AuditFlagNote(flag_id=flag.id, at=at(now), author=who, kind=decision, text=text))
    session.flush()
    session.refresh(flag)
    return flag
