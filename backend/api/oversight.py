"""Admins manage hospital-system keys; auditors open flags (cases), note and decide them, and read
the clearing report (gross, refusals, net) and its trend. docs/joint-audit.md."""
import time
from datetime import date, datetime, timedelta

from flask import Response, g, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from ..models.base import CHINA
from ..models import ApiKey, Institution
from ..counter import apikeys
from ..oversight import audit, cases, clearing, rules
from ..oversight.names import names_for
from ..service.errors import NotFound, ValidationFailed
from ..service.extensions import db
from ..service.read_replica import read_session
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (CSV, LOGGED_IN, ApiKeyCreatedOut, ApiKeyRevokedOut, ApiKeysOut, ClearingOut,
                      ClearingQuery, DecisionIn, FlagCaseOut, FlagDecidedOut, FlagNotedOut, FlagsOut,
                      FlagsQuery, LabelIn, NoteIn, TrendOut, TrendQuery, api, json_body, responses)


def _institution_in_scope(code):
    institution = db.session.get(Institution, code)
    if institution is None or current_user.region_code not in (None, institution.region_code):
        raise NotFound("No such institution in your region.", code="institution_not_found")
    return institution


@bp.post("/admin/institutions/<code>/api-keys")
@requires_role("admin")
@api.validate(json=LabelIn, resp=responses(HTTP_201=ApiKeyCreatedOut, errors=(*LOGGED_IN, 404)),
              tags=["oversight"])
def api_key_create(code):
    institution = _institution_in_scope(code)
    body = json_body()
    key, presented = apikeys.create_api_key(db.session, institution_code=code,
                                              label=body["label"], created_by=current_user.login)
    audit.record(db.session, actor=current_user.login, action="api_key.create",
                 target_type="api_key", target_id=key.id, detail={"institution": code},
                 request_id=g.get("request_id"), region_code=institution.region_code)
    db.session.commit()
    return jsonify(id=key.id, key=presented, institution=code,
                   notice="Shown once: store it in the hospital system now."), 201


@bp.get("/admin/institutions/<code>/api-keys")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ApiKeysOut, errors=(*LOGGED_IN, 404)), tags=["oversight"])
def api_key_list(code):
    _institution_in_scope(code)
    keys = db.session.scalars(select(ApiKey).filter_by(institution_code=code).order_by(ApiKey.id))
    return jsonify(keys=[{"id": k.id, "prefix": k.prefix, "label": k.label,
                          "created_by": k.created_by, "revoked": k.revoked_at is not None}
                         for k in keys])


@bp.post("/admin/api-keys/<int:key_id>/revoke")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ApiKeyRevokedOut, errors=(*LOGGED_IN, 404, 409)),
              tags=["oversight"])
def api_key_revoke(key_id):
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    institution = _institution_in_scope(key.institution_code)
    apikeys.revoke_api_key(db.session, key_id, int(time.time()))
    audit.record(db.session, actor=current_user.login, action="api_key.revoke",
                 target_type="api_key", target_id=key_id, detail={"institution": institution.code},
                 request_id=g.get("request_id"), region_code=institution.region_code)
    db.session.commit()
    return jsonify(id=key_id, revoked=True)


def _period(default_this_month=True):
    """[first, last] China days from ``from`` and ``to`` (both optional) and the UTC-aware bounds
    [start, end) that cover them; forward and at most a year and a day."""
    today = datetime.now(CHINA).date()
    first_text, last_text = request.args.get("from"), request.args.get("to")
    if not default_this_month and not first_text and not last_text:
        return None, None, None, None
    first = _day(first_text or today.replace(day=1).isoformat(), "from")
    last = _day(last_text or today.isoformat(), "to")
    if last < first or (last - first).days > 366:
        raise ValidationFailed("The period runs forward and at most a year.", code="bad_period")
    start = datetime.combine(first, datetime.min.time(), CHINA)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), CHINA)
    return first, last, start, end


def _whole(name, default, most):
    text = request.args.get(name)
    if text in (None, ""):
        return default
    if not (text.isascii() and text.isdigit() and len(text) < 7 and 1 <= int(text) <= most):
        raise ValidationFailed(f"{name} is a whole number from 1 to {most}.", code="bad_page")
    return int(text)


@bp.get("/audit/flags")
@requires_role("auditor", "admin")
@api.validate(query=FlagsQuery, resp=responses(HTTP_200=FlagsOut, errors=(*LOGGED_IN, 422)),
              tags=["oversight"])
def audit_flags():
    """The flags touching the caller's region (all for the zone), newest first, a page at a time."""
    status = request.args.get("status") or None
    if status is not None and status not in cases.STATUSES:
        raise ValidationFailed("status is open, confirmed or dismissed.", code="bad_status")
    rule = request.args.get("rule") or None
    if rule is not None and rule not in rules.RULES:
        raise ValidationFailed("No such rule.", code="bad_rule")
    _, _, start, end = _period(default_this_month=False)
    return jsonify(cases.list_flags(db.session, current_user.region_code, status=status, rule=rule,
                                    start=start, end=end, page=_whole("page", 1, 100_000),
                                    per_page=_whole("per_page", 25, 100)))


@bp.get("/audit/flags/<int:flag_id>")
@requires_role("auditor", "admin")
@api.validate(resp=responses(HTTP_200=FlagCaseOut, errors=(*LOGGED_IN, 404)), tags=["oversight"])
def audit_flag_case(flag_id):
    """A flag opened: the bill (lines, split) or ride, the history, the effect of confirming it.
    Reading a person's bill is itself logged (``settlement.read`` / ``ride.read``)."""
    case = cases.open_case(db.session, current_user.region_code, flag_id)
    target = ("settlement", case["flag"]["settlement"]) if case["settlement"] else \
        ("ride", case["flag"]["ride"])
    audit.record(db.session, actor=current_user.login, action=f"{target[0]}.read",
                 target_type=target[0], target_id=target[1],
                 detail={"via": "audit_flag", "flag": flag_id}, request_id=g.get("request_id"),
                 region_code=case["flag"]["insured_region"])
    db.session.commit()
    return jsonify(case)


@bp.post("/audit/flags/<int:flag_id>/notes")
@requires_role("auditor")
@api.validate(json=NoteIn, resp=responses(HTTP_201=FlagNotedOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["oversight"])
def audit_flag_note(flag_id):
    body = json_body()
    flag = cases.add_note(db.session, scope=current_user.region_code, flag_id=flag_id,
                          note=body["note"], who=current_user.login, now=int(time.time()))
    audit.record(db.session, actor=current_user.login, action="audit_flag.note",
                 target_type="audit_flag", target_id=flag.id, request_id=g.get("request_id"),
                 region_code=flag.insured_region)
    db.session.commit()
    return jsonify(id=flag.id, history=cases.history(db.session, flag.id)), 201


@bp.post("/audit/flags/<int:flag_id>")
@requires_role("auditor")
@api.validate(json=DecisionIn,
              resp=responses(HTTP_200=FlagDecidedOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["oversight"])
def audit_decide(flag_id):
    """Confirm (the bill's fund share is refused in clearing) or dismiss, with a note; final."""
    body = json_body()
    flag = cases.decide(db.session, scope=current_user.region_code, flag_id=flag_id,
                        decision=body["decision"], note=body["note"], who=current_user.login,
                        now=int(time.time()))
    deduction = cases.deduction_of(db.session, flag) if flag.status == "confirmed" else 0
    audit.record(db.session, actor=current_user.login, action=f"audit_flag.{flag.status}",
                 target_type="audit_flag", target_id=flag.id,
                 detail={"rule": flag.rule, "deduction_fen": deduction},
                 request_id=g.get("request_id"), region_code=flag.insured_region)
    db.session.commit()
    return jsonify(id=flag.id, status=flag.status, deduction_fen=deduction,
                   history=cases.history(db.session, flag.id))


def _day(text, name):
    """A day of the years 2000 to 2999: outside them no record can fall, and the period's end
    (the next day, in UTC) would not fit a datetime at 9999-12-31 (OverflowError, a 500)."""
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        raise ValidationFailed(f"{name} must be a date like 2026-11-01 (years 2000 to 2999)",
                               code="bad_period")
    return day


@bp.get("/clearing")
@requires_role("auditor", "admin")
@api.validate(query=ClearingQuery,
              resp=responses(HTTP_200=ClearingOut, media=CSV, errors=(*LOGGED_IN, 422)),
              tags=["oversight"])
def clearing_report():
    """Gross, refusals (confirmed flags, by the bill's fund share) and net, by fund pair and by
    institution, for the cross-region settlements made in the period (docs/joint-audit.md)."""
    first, last, start, end = _period()
    report = clearing.clearing(read_session(), start=start, end=end,
                               region_code=current_user.region_code)
    rows = report["rows"]
    names = names_for(read_session(),
                      regions={r["insured_region"] for r in rows} | {r["treating_region"] for r in rows},
                      institutions={r["institution"] for r in rows})
    if request.args.get("format") == "csv":
        return Response(clearing.to_csv(report, names, first, last), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="clearing-{first}-{last}.csv"'})
    return jsonify(period={"from": first.isoformat(), "to": last.isoformat()}, basis="settlement",
                   generated_at=datetime.now(CHINA).isoformat(timespec="seconds"),
                   names=names, **report)


@bp.get("/clearing/trend")
@requires_role("auditor", "admin")
@api.validate(query=TrendQuery, resp=responses(HTTP_200=TrendOut, errors=(*LOGGED_IN, 422)),
              tags=["oversight"])
def clearing_trend():
    """Gross, refusals and net by fund pair and month, for the months up to ``to`` (a month)."""
    text = request.args.get("to") or datetime.now(CHINA).date().isoformat()[:7]
    try:
        last = date.fromisoformat(text + "-01") if len(text) == 7 else None
    except ValueError:
        last = None
    if last is None:
        raise ValidationFailed("to must be a month like 2026-11", code="bad_period")
    result = clearing.trend(read_session(), last_month=last, months=_whole("months", 12, 24),
                            region_code=current_user.region_code)
    series = result["series"]
    return jsonify(names=names_for(read_session(), regions={s["insured_region"] for s in series}
                                   | {s["treating_region"] for s in series}), **result)
