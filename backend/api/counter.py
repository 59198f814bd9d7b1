"""The hospital counter: who is at the counter, preview and settle a scanned (or, with no phone,
identified) patient's bill, the receipt, refund it, and the day's list and reconciliation."""
import time
from datetime import datetime
from typing import Any, Literal

from flask import Response, current_app, g, jsonify, request
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from ..counter import identify, receipts, settlements, today
from ..counter.registry_cache import RegistryCache
from ..models import Person, Settlement
from ..models.base import CHINA
from ..oversight import audit
from ..service import metrics
from ..service.errors import NotFound, YimaError
from ..service.extensions import db, limiter, redis_client
from ..service.limits import configured, principal_key
from ..service.pipeline import commit_with
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (CSV, LOGGED_IN, REPLAYED, BillIn, Body, IdempotencyHeaders,
                      OptionalIdempotencyHeaders, Out, PreviewOut, Query, RefundIn, RefundOut,
                      SettlementAnswerOut, api, json_body, responses)


class CounterSessionOut(Out):
    cashier: dict[str, Any] = Field(description="login and name")
    institution: dict[str, Any] = Field(description="code, zh, en, level, region {code, zh, en}")
    today: str = Field(description="China date, 2026-11-29")
    now: str = Field(description="ISO 8601 with the +08:00 offset")


class SettledOut(SettlementAnswerOut):
    receipt: dict[str, Any] = Field(description="What the receipt prints (GET .../receipt)")
    personal_account_after_fen: int = Field(description="The balance after this settlement")


class RefundedOut(RefundOut):
    receipt: dict[str, Any] = Field(description="The refunded bill's receipt, with its refund")
    personal_account_after_fen: int


class ReceiptOut(Out):
    receipt: dict[str, Any]


class DayQuery(Query):
    date: str | None = Field(None, description="China day, 2026-11-29 (default today)")
    mine: str | None = Field(None, description="`1`: only this cashier's rows and totals")
    format: Literal["json", "csv"] | None = None


class DayOut(Out):
    date: str
    today: bool
    mine: bool
    rows: list[dict[str, Any]]
    truncated: bool
    totals: dict[str, int]
    reconciliation: dict[str, Any]


class IdentifyIn(Body):
    national_id: str = Field(description="18 characters, as on the person's ID card")
    reason: str = Field(description=", ".join(identify.REASONS))
    note: str | None = Field(None, description="Required with reason `other` (100 characters)")
    person_present: bool = Field(description="The person is at the counter with the ID card")


class IdentifyOut(Out):
    scan_id: str = Field(description="Settle with it as after a scan (15 minutes)")
    manual: bool
    masked_name: str
    national_id_masked: str
    home_region: str
    home_region_name: dict[str, str]
    insurance_class: str
    personal_account_fen: int
    cross_region: bool
    rules_of: str


def _institution():
    return current_user.institution_code


@bp.post("/settlements/preview")
@requires_role("cashier")
@api.validate(json=BillIn, resp=responses(HTTP_200=PreviewOut, errors=(*LOGGED_IN, 409, 422)),
              tags=["counter"])
def settlement_preview():
    body = json_body()
    person, split = settlements.preview(
        db.session, redis_client.client(), scan_id=body["scan_id"],
        institution_code=_institution(), raw_lines=body["lines"], now=int(time.time()),
        use_account=body.get("use_personal_account", True) is not False)
    return jsonify(split=split.as_dict(), rules_of=person.home_region,
                   personal_account_before_fen=person.personal_account_fen)


@bp.post("/settlements")
@requires_role("cashier")
@api.validate(json=BillIn, headers=IdempotencyHeaders,
              resp=responses(HTTP_201=SettledOut, HTTP_200=(SettledOut, REPLAYED),
                             errors=(*LOGGED_IN, 409, 422)),
              tags=["counter"])
def settlement_create():
    body = json_body()
    user = current_user._get_current_object()
    session = db.session()  # the request's Session itself, not the scoped proxy on every call
    done = settlements.settle_at_counter(
        session, redis_client.client(), scan_id=body["scan_id"],
        institution_code=user.institution_code, cashier_id=user.id, raw_lines=body["lines"],
        idempotency_key=request.headers.get("Idempotency-Key", ""), now=int(time.time()),
        use_account=body.get("use_personal_account", True) is not False,
        registry=registry_cache())
    settlement, created = done.settlement, done.created
    # The answer made inside the transaction, from the objects it already holds (after the
    # commit every one of them would be loaded again: a dozen statements).
    answer = {"settlement": settlements.describe(settlement, done.lines if created else None),
              "replayed": not created, **_receipt_and_balance(settlement, done, session)}
    counted = metrics.settlement_values(settlement)
    # The audit row and the commit in one round trip (service/pipeline.py).
    commit_with(session, *([lambda: audit.append(
        session, actor=user.login, action="settlement.create", target_type="settlement",
        target_id=settlement.id, detail={"total_fen": settlement.total_fen},
        request_id=g.get("request_id"))] if created else []))
    metrics.record_settlement(counted, created)
    return jsonify(answer), 201 if created else 200


def registry_cache():
    """This app's (so this worker's) regions and policies in memory (counter/registry_cache.py)."""
    cache = current_app.extensions.get("yima_registry_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("yima_registry_cache", RegistryCache())
    return cache


def _receipt_and_balance(settlement, settled=None, session=None):
    """The receipt, and the personal account as it is now (after this settlement or refund)."""
    session = session or db.session
    receipt = receipts.receipt(session, settlement, settled)
    balance = settled.balance_after_fen if settled is not None and settled.created else None
    if balance is None:
        balance = session.scalar(
            select(Person.personal_account_fen).filter_by(id=settlement.person_id))
    return {"receipt": receipt, "personal_account_after_fen": balance}


@bp.get("/settlements/<int:settlement_id>")
@requires_role("cashier")
@api.validate(resp=responses(HTTP_200=SettlementAnswerOut, errors=(*LOGGED_IN, 404)),
              tags=["counter"])
def settlement_show(settlement_id):
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None or settlement.institution_code != _institution():
        raise NotFound("No such settlement at this institution.", code="settlement_not_found")
    return jsonify(settlement=settlements.describe(settlement))


@bp.post("/settlements/<int:settlement_id>/refund")
@requires_role("cashier")
@api.validate(json=RefundIn, headers=OptionalIdempotencyHeaders,
              resp=responses(HTTP_201=RefundedOut, HTTP_200=(RefundedOut, REPLAYED),
                             errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["counter"])
def settlement_refund(settlement_id):
    body = json_body()
    reversal, created = settlements.refund(
        db.session, settlement_id=settlement_id, institution_code=_institution(),
        cashier_id=current_user.id, reason=body["reason"], now=int(time.time()),
        idempotency_key=request.headers.get("Idempotency-Key"))
    if created:
        audit.record(db.session, actor=current_user.login, action="settlement.refund",
                     target_type="settlement", target_id=settlement_id,
                     detail={"refund_id": reversal.id}, request_id=g.get("request_id"))
    db.session.commit()
    metrics.record_settlement(reversal, created)
    return jsonify(refund=settlements.describe(reversal), replayed=not created,
                   **_receipt_and_balance(reversal)), 201 if created else 200


def _own(settlement_id):
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None or settlement.institution_code != _institution():
        raise NotFound("No such settlement at this institution.", code="settlement_not_found")
    return settlement


@bp.get("/settlements/<int:settlement_id>/receipt")
@requires_role("cashier")
@api.validate(resp=responses(HTTP_200=ReceiptOut, errors=(*LOGGED_IN, 404)), tags=["counter"])
def settlement_receipt(settlement_id):
    """The receipt to print again (a refund's id gives the receipt of the bill it refunded)."""
    settlement = _own(settlement_id)
    receipt = receipts.receipt(db.session, settlement)
    audit.record(db.session, actor=current_user.login, action="settlement.receipt",
                 target_type="settlement", target_id=receipt["id"], request_id=g.get("request_id"))
    db.session.commit()
    return jsonify(receipt=receipt)


@bp.get("/counter/session")
@requires_role("cashier")
@api.validate(resp=responses(HTTP_200=CounterSessionOut, errors=LOGGED_IN), tags=["counter"])
def counter_session():
    """Who is at the counter, where, and today's date in China: the console's header."""
    institution = current_user.institution
    return jsonify(
        cashier={"login": current_user.login, "name": receipts.staff_name(current_user)},
        institution={**receipts.institution_names(institution),
                     "region": receipts.region_names(institution.region)},
        today=datetime.now(CHINA).date().isoformat(),
        now=datetime.now(CHINA).isoformat(timespec="seconds"))


@bp.get("/counter/day")
@requires_role("cashier")
@api.validate(query=DayQuery, resp=responses(HTTP_200=DayOut, media=CSV, errors=(*LOGGED_IN, 422)),
              tags=["counter"])
def counter_day():
    """The day's settlements and refunds at this institution (``mine=1``: this cashier's), their
    totals, and the reconciliation of the institution's day with the clearing report. CSV:
    Chinese headers, yuan, every row of the day."""
    now = int(time.time())
    day = today.parse_day(request.args.get("date"), now)
    mine = request.args.get("mine", "").lower() in ("1", "true", "yes", "on")
    as_csv = request.args.get("format") == "csv"
    report = today.day_report(db.session, institution_code=_institution(), day=day, now=now,
                              cashier_id=current_user.id if mine else None,
                              limit=None if as_csv else today.ROW_LIMIT)
    if not as_csv:
        return jsonify(report)
    audit.record(db.session, actor=current_user.login, action="counter.day_export",
                 target_type="institution", target_id=_institution(),
                 detail={"date": day.isoformat(), "rows": len(report["rows"]), "mine": mine},
                 request_id=g.get("request_id"))
    db.session.commit()
    name = f"counter-{_institution()}-{day.isoformat()}{'-mine' if mine else ''}.csv"
    return Response(today.day_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/counter/identify")
@limiter.limit(configured("MANUAL_ID_RATE_LIMIT"), key_func=principal_key)
@requires_role("cashier")
@api.validate(json=IdentifyIn,
              resp=responses(HTTP_200=IdentifyOut, errors=(*LOGGED_IN, 404, 422, 429)),
              tags=["counter"])
def counter_identify():
    """No phone: find the insured person at the counter by national ID number (a reason, the
    person present). Rate-limited per cashier; every attempt is in the audit log; the bill it
    settles is flagged for the joint audit as a manual identification."""
    body = json_body()
    national_id, note = identify.check_request(
        national_id=body["national_id"], reason=body["reason"], note=body.get("note"),
        person_present=body["person_present"])
    try:
        person, institution = identify.find(
            db.session, id_hash_key=current_app.config["ID_HASH_KEY"], national_id=national_id,
            institution_code=_institution())
    except YimaError as refused:
        db.session.rollback()
        audit.record(db.session, actor=current_user.login, action="person.identify",
                     target_type="person", target_id="-",
                     detail={"via": "national_id", "reason": body["reason"], "refused": refused.code,
                             "institution": _institution()}, request_id=g.get("request_id"))
        db.session.commit()
        raise
    scan_id, (key, value, seconds) = identify.new_scan(
        person=person, institution_code=institution.code, cashier_id=current_user.id,
        reason=body["reason"], note=note)
    redis_client.client().set(key, value, ex=seconds)
    audit.record(db.session, actor=current_user.login, action="person.identify",
                 target_type="person", target_id=person.holder_id,
                 detail={"via": "national_id", "reason": body["reason"],
                         "institution": institution.code}, request_id=g.get("request_id"))
    db.session.commit()
    return jsonify(scan_id=scan_id, manual=True, masked_name=person.masked_name(),
                   national_id_masked=person.national_id_masked, home_region=person.home_region,
                   home_region_name={"zh": person.region.name_zh, "en": person.region.name_en},
                   insurance_class=person.insurance_class,
                   personal_account_fen=person.personal_account_fen,
                   cross_region=person.home_region != institution.region_code,
                   rules_of=person.home_region)
