"""Inpatient settlement (住院结算, docs/inpatient.md): the desk admits a scanned (or identified)
patient, adds and cancels fee lines, previews, settles at discharge and reverses the same day, and
lists its day; an admin reads and edits each region's inpatient policy; a patient sees their stays.
Thin views over ``backend.inpatient``."""
import time
from typing import Any, Literal

from flask import g, jsonify, request
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from ..counter import today
from ..counter.receipts import china_time
from ..counter.settlements import describe as describe_settlement
from ..inpatient import day, discharge, policy as policies, receipts, stays
from ..models import InpatientSettlement, Person, Stay
from ..oversight import audit
from ..service import metrics
from ..service.extensions import db, redis_client
from ..service.security import requires_role
from .blueprint import bp, read_json
from .schemas import (BP, FEN, FLAG, LOGGED_IN, REPLAYED, Body, IdempotencyHeaders,
                      OptionalIdempotencyHeaders, Out, Query, _array_of, _checked_by_domain, api,
                      json_body, responses)

TAGS = ["inpatient"]
FEE_LINE = {
    "type": "object",
    "required": ["line_no", "category", "coverage_class", "item", "quantity", "unit_price_fen",
                 "date"],
    "properties": {
        "line_no": {"type": "integer", "minimum": 1, "maximum": stays.MAX_LINE_NO},
        "category": {"type": "string", "enum": list(stays.INPATIENT_CATEGORIES)},
        "coverage_class": {"type": "string", "enum": ["A", "B", "C"]},
        "item": {"type": "string", "minLength": 1, "maxLength": 80},
        "quantity": {"type": "integer", "minimum": 1, "maximum": stays.MAX_QUANTITY},
        "unit_price_fen": {"type": "integer", "minimum": 1, "maximum": stays.MAX_LINE_FEN},
        "date": {"type": "string", "format": "date"},
    },
}


class InpatientAdmitIn(Body):
    scan_id: str = Field(description="From POST /verify (context hospital) or /counter/identify")
    admission_no: str = Field(description="住院号: 1-30 of A-Z a-z 0-9 - _")
    ward: str = Field(description="病区, 1-40 characters")
    diagnosis_code: str = Field(description="ICD-10, e.g. I21.9")
    diagnosis_text: str = Field(description="1-100 characters")
    admitted_on: str | None = Field(None, description="China day, default today, up to 7 days back")


class InpatientStayOut(Out):
    stay: dict[str, Any]
    replayed: bool | None = None


class InpatientStaysQuery(Query):
    status: Literal["open", "settled", "all"] | None = Field(None, description="Default open")


class InpatientStaysOut(Out):
    stays: list[dict[str, Any]]


class InpatientStayDetailOut(Out):
    stay: dict[str, Any]
    lines: list[dict[str, Any]]
    settlements: list[dict[str, Any]]


class InpatientLinesIn(Body):
    lines: list[Any] = _array_of(FEE_LINE, minItems=1, maxItems=stays.MAX_LINES_PER_CALL)


class InpatientLinesOut(Out):
    added: int
    unchanged: int
    lines: list[dict[str, Any]]
    stay: dict[str, Any]


class InpatientCancelIn(Body):
    reason: str


class InpatientLineOut(Out):
    line: dict[str, Any]
    stay: dict[str, Any]


class InpatientDischargeIn(Body):
    discharged_on: str | None = Field(None, description="China day, default today")
    use_personal_account: bool | None = Field(None, description="Default true")


class InpatientPreviewOut(Out):
    split: dict[str, int]
    rules_of: str
    admission_in_year: int
    deductible_fen_for_stay: int
    days: int
    personal_account_before_fen: int
    year: dict[str, Any]


class InpatientDischargedOut(Out):
    stay: dict[str, Any]
    settlement: dict[str, Any]
    receipt: dict[str, Any]
    personal_account_after_fen: int
    replayed: bool


class InpatientReverseIn(Body):
    reason: str


class InpatientReversedOut(Out):
    stay: dict[str, Any]
    refund: dict[str, Any]
    receipt: dict[str, Any]
    personal_account_after_fen: int
    replayed: bool


class InpatientReceiptQuery(Query):
    settlement_id: str | None = Field(None, description="Default: the latest discharge settlement")


class InpatientReceiptOut(Out):
    receipt: dict[str, Any]


class InpatientDayQuery(Query):
    date: str | None = Field(None, description="China day, default today")


class InpatientDayOut(Out):
    date: str
    today: bool
    admissions: list[dict[str, Any]]
    discharges: list[dict[str, Any]]
    totals: dict[str, int]


class InpatientPoliciesOut(Out):
    policies: list[dict[str, Any]]


class InpatientPolicyIn(Body):
    """Only the fields to change (docs/inpatient.md); fen integer, ratios basis points."""
    deductible_mode: Any = _checked_by_domain({"type": "string",
                                               "enum": list(policies.MODES)})
    deductible_year_fen: Any = _checked_by_domain(FEN)
    deductible_l1_fen: Any = _checked_by_domain(FEN)
    deductible_l2_fen: Any = _checked_by_domain(FEN)
    deductible_l3_fen: Any = _checked_by_domain(FEN)
    later_admission_deductible_bp: Any = _checked_by_domain(BP)
    ratio_l1_a_bp: Any = _checked_by_domain(BP)
    ratio_l2_a_bp: Any = _checked_by_domain(BP)
    ratio_l3_a_bp: Any = _checked_by_domain(BP)
    ratio_l1_b_bp: Any = _checked_by_domain(BP)
    ratio_l2_b_bp: Any = _checked_by_domain(BP)
    ratio_l3_b_bp: Any = _checked_by_domain(BP)
    class_b_self_share_bp: Any = _checked_by_domain(BP)
    annual_cap_fen: Any = _checked_by_domain(FEN)
    cap_shared_with_outpatient: Any = _checked_by_domain(FLAG)
    has_personal_account: Any = _checked_by_domain(FLAG)
    personal_account_pays_deductible: Any = _checked_by_domain(FLAG)
    personal_account_pays_class_c: Any = _checked_by_domain(FLAG)
    audit_max_stay_days: Any = _checked_by_domain({"type": "integer", "minimum": 1,
                                                   "maximum": 365})
    audit_daily_cost_fen: Any = _checked_by_domain(FEN)


class InpatientPolicyOut(Out):
    region: str
    policy: dict[str, Any]


class InpatientMyStaysOut(Out):
    stays: list[dict[str, Any]]


def _institution():
    return current_user.institution_code


def _now():
    return int(time.time())


def _audit(action, stay_id, detail=None):
    audit.record(db.session, actor=current_user.login, action=action, target_type="stay",
                 target_id=stay_id, detail=detail, request_id=g.get("request_id"))


def _balance(person_id):
    return db.session.scalar(select(Person.personal_account_fen).filter_by(id=person_id))


@bp.post("/inpatient/stays")
@requires_role("cashier")
@api.validate(json=InpatientAdmitIn,
              resp=responses(HTTP_201=InpatientStayOut, HTTP_200=(InpatientStayOut, REPLAYED),
                             errors=(*LOGGED_IN, 409, 422)), tags=TAGS)
def stay_admit():
    """入院登记: admit the scanned patient (no filing for a zone-insured person). The same
    admission sent again answers the first."""
    body, now = json_body(), _now()
    stay, created = stays.admit(
        db.session, redis_client.client(), scan_id=body["scan_id"],
        institution_code=_institution(), staff_id=current_user.id,
        admission_no=body["admission_no"], ward=body["ward"],
        diagnosis_code=body["diagnosis_code"], diagnosis_text=body["diagnosis_text"],
        admitted_on=body.get("admitted_on"), now=now)
    if created:
        _audit("stay.admit", stay.id, {"insured_region": stay.insured_region})
    db.session.commit()
    return jsonify(stay=stays.describe(db.session, stay, now), replayed=not created), \
        201 if created else 200


@bp.get("/inpatient/stays")
@requires_role("cashier")
@api.validate(query=InpatientStaysQuery,
              resp=responses(HTTP_200=InpatientStaysOut, errors=(*LOGGED_IN, 422)),
              tags=TAGS)
def stays_list():
    """This institution's stays, newest first (200 at most): open by default."""
    status = request.args.get("status") or "open"
    return jsonify(stays=stays.list_stays(db.session, institution_code=_institution(),
                                          status=status, now=_now()))


@bp.get("/inpatient/stays/<int:stay_id>")
@requires_role("cashier")
@api.validate(resp=responses(HTTP_200=InpatientStayDetailOut, errors=(*LOGGED_IN, 404)), tags=TAGS)
def stay_show(stay_id):
    """The stay, every fee line (cancelled ones marked) and its settlements and reversals."""
    stay = stays.own_stay(db.session, stay_id, _institution())
    names = {}
    return jsonify(stay=stays.describe(db.session, stay, _now()),
                   lines=[stays.describe_line(db.session, line, names) for line in stay.lines],
                   settlements=discharge.settlements_of(db.session, stay.id))


@bp.post("/inpatient/stays/<int:stay_id>/lines")
@requires_role("cashier")
@api.validate(json=InpatientLinesIn,
              resp=responses(HTTP_200=InpatientLinesOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=TAGS)
def stay_lines_add(stay_id):
    """费用明细: add fee lines, all or nothing. A line number already holding the same line is
    answered with it (a resent line is stored once); with another line, 409."""
    body, now = json_body(), _now()
    lines, added, unchanged = stays.add_lines(
        db.session, stay_id=stay_id, institution_code=_institution(), staff_id=current_user.id,
        raw_lines=body["lines"], now=now)
    db.session.commit()
    names = {}
    stay = db.session.get(Stay, stay_id)
    return jsonify(added=added, unchanged=unchanged,
                   lines=[stays.describe_line(db.session, line, names) for line in lines],
                   stay=stays.describe(db.session, stay, now))


@bp.post("/inpatient/stays/<int:stay_id>/lines/<int:line_no>/cancel")
@requires_role("cashier")
@api.validate(json=InpatientCancelIn,
              resp=responses(HTTP_200=InpatientLineOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=TAGS)
def stay_line_cancel(stay_id, line_no):
    """Cancel a fee line (until discharge), with a reason."""
    body, now = json_body(), _now()
    line = stays.cancel_line(db.session, stay_id=stay_id, institution_code=_institution(),
                             staff_id=current_user.id, line_no=line_no, reason=body["reason"],
                             now=now)
    _audit("stay.line_cancel", stay_id, {"line_no": line_no})
    db.session.commit()
    return jsonify(line=stays.describe_line(db.session, line),
                   stay=stays.describe(db.session, db.session.get(Stay, stay_id), now))


@bp.post("/inpatient/stays/<int:stay_id>/preview")
@requires_role("cashier")
@api.validate(json=InpatientDischargeIn,
              resp=responses(HTTP_200=InpatientPreviewOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=TAGS)
def stay_preview(stay_id):
    """预结算: what the discharge settlement would be now (nothing is written)."""
    body = json_body()
    stay, computed = discharge.preview(
        db.session, stay_id=stay_id, institution_code=_institution(),
        discharged_on=body.get("discharged_on"),
        use_account=body.get("use_personal_account", True) is not False, now=_now())
    left = discharge.year_left(computed.policy, computed)
    return jsonify(split=computed.split.as_dict(), rules_of=stay.insured_region,
                   admission_in_year=computed.so_far.earlier_admissions + 1,
                   deductible_fen_for_stay=left.pop("deductible_fen_for_stay"),
                   days=computed.days,
                   personal_account_before_fen=computed.person.personal_account_fen, year=left)


@bp.post("/inpatient/stays/<int:stay_id>/discharge")
@requires_role("cashier")
@api.validate(json=InpatientDischargeIn, headers=IdempotencyHeaders,
              resp=responses(HTTP_201=InpatientDischargedOut,
                             HTTP_200=(InpatientDischargedOut, REPLAYED),
                             errors=(*LOGGED_IN, 404, 409, 422)), tags=TAGS)
def stay_discharge(stay_id):
    """出院结算: settle the stay under the home region's inpatient policy, in one transaction;
    a stay settles once; the same Idempotency-Key answers the same settlement."""
    body, now = json_body(), _now()
    settlement, created = discharge.settle(
        db.session, stay_id=stay_id, institution_code=_institution(),
        cashier_id=current_user.id, idempotency_key=request.headers.get("Idempotency-Key", ""),
        discharged_on=body.get("discharged_on"),
        use_account=body.get("use_personal_account", True) is not False, now=now)
    if created:
        _audit("stay.discharge", stay_id, {"settlement_id": settlement.id,
                                           "total_fen": settlement.total_fen})
    db.session.commit()
    metrics.record_settlement(settlement, created)
    return _answer("settlement", settlement, created, now), 201 if created else 200


def _answer(name, settlement, created, now):
    """A discharge settlement or its reversal, the stay as it is now, the receipt and the
    personal account after it."""
    link = db.session.get(InpatientSettlement, settlement.reverses_id or settlement.id)
    stay = db.session.get(Stay, link.stay_id)
    return jsonify(**{name: describe_settlement(settlement)},
                   stay=stays.describe(db.session, stay, now),
                   receipt=receipts.receipt(db.session, settlement, link),
                   personal_account_after_fen=_balance(settlement.person_id),
                   replayed=not created)


@bp.post("/inpatient/stays/<int:stay_id>/reversal")
@requires_role("cashier")
@api.validate(json=InpatientReverseIn, headers=OptionalIdempotencyHeaders,
              resp=responses(HTTP_201=InpatientReversedOut,
                             HTTP_200=(InpatientReversedOut, REPLAYED),
                             errors=(*LOGGED_IN, 404, 409, 422)), tags=TAGS)
def stay_reverse(stay_id):
    """撤销: the same-day reversal of the discharge settlement; the stay is open again."""
    body, now = json_body(), _now()
    reversal, created = discharge.reverse(
        db.session, stay_id=stay_id, institution_code=_institution(), cashier_id=current_user.id,
        reason=body["reason"], now=now, idempotency_key=request.headers.get("Idempotency-Key"))
    if created:
        _audit("stay.reverse", stay_id, {"refund_id": reversal.id})
    db.session.commit()
    metrics.record_settlement(reversal, created)
    return _answer("refund", reversal, created, now), 201 if created else 200


@bp.get("/inpatient/stays/<int:stay_id>/receipt")
@requires_role("cashier")
@api.validate(query=InpatientReceiptQuery,
              resp=responses(HTTP_200=InpatientReceiptOut, errors=(*LOGGED_IN, 404)),
              tags=TAGS)
def stay_receipt(stay_id):
    """The discharge settlement's receipt (住院结算单), to print again."""
    stay = stays.own_stay(db.session, stay_id, _institution())
    raw = request.args.get("settlement_id")
    wanted = int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    if raw and wanted is None:
        wanted = -1
    settlement, link = discharge.own_settlement(db.session, stay, wanted)
    paper = receipts.receipt(db.session, settlement, link)
    audit.record(db.session, actor=current_user.login, action="settlement.receipt",
                 target_type="settlement", target_id=settlement.id, request_id=g.get("request_id"))
    db.session.commit()
    return jsonify(receipt=paper)


@bp.get("/inpatient/day")
@requires_role("cashier")
@api.validate(query=InpatientDayQuery,
              resp=responses(HTTP_200=InpatientDayOut, errors=(*LOGGED_IN, 422)), tags=TAGS)
def inpatient_day():
    """The desk's day: admissions registered and discharge settlements made (with reversals)."""
    now = _now()
    the_day = today.parse_day(request.args.get("date"), now)
    return jsonify(day.day_report(db.session, institution_code=_institution(), day=the_day,
                                  now=now))


@bp.get("/admin/inpatient-policies")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=InpatientPoliciesOut, errors=LOGGED_IN),
              tags=["admin console"])
def inpatient_policies_list():
    """Every region's inpatient policies this admin may see (a region's admin: their own)."""
    return jsonify(policies=policies.list_policies(db.session, current_user.region_code))


@bp.patch("/admin/regions/<code>/inpatient-policies/<insurance_class>")
@requires_role("admin")
@api.validate(json=InpatientPolicyIn,
              resp=responses(HTTP_200=InpatientPolicyOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["admin console"])
def inpatient_policy_update(code, insurance_class):
    """Change fields of a region's inpatient policy: all valid, or nothing changes
    (``invalid_policy`` lists every problem)."""
    changed, diff = policies.update(db.session, scope=current_user.region_code, region_code=code,
                                    insurance_class=insurance_class, changes=read_json())
    if diff:
        audit.record(db.session, actor=current_user.login, action="inpatient_policy.update",
                     target_type="policy", target_id=f"{code}/{insurance_class}",
                     detail={"changes": diff}, request_id=g.get("request_id"), region_code=code)
    db.session.commit()
    return jsonify(region=code, policy=changed)


@bp.get("/me/stays")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=InpatientMyStaysOut, errors=LOGGED_IN), tags=["patient"])
def me_stays():
    """The patient's own stays, newest first (100 at most), with the discharge settlement."""
    now = _now()
    mine = list(db.session.scalars(select(Stay).filter_by(person_id=current_user.person_id)
                                   .order_by(Stay.id.desc()).limit(100)))
    return jsonify(stays=[_patient_view(stay, now) for stay in mine])


def _patient_view(stay, now):
    full = stays.describe(db.session, stay, now)
    settlement = None
    if stay.settlement_id is not None:
        row = discharge.own_settlement(db.session, stay, stay.settlement_id)[0]
        settlement = {"id": row.id, "created_at": china_time(row.created_at),
                      **{part: getattr(row, part) for part in ("total_fen", "fund_fen",
                                                               "personal_account_fen", "cash_fen")}}
    keep = ("id", "institution", "admission_no", "ward", "diagnosis", "admitted_on",
            "discharged_on", "days", "status", "total_fen", "insured_region", "treating_region",
            "cross_region")
    return {**{name: full[name] for name in keep}, "settlement": settlement}
