"""Admins manage hospital-system keys; auditors review flags and the clearing report."""
import csv
import io
import time
from datetime import date, datetime, timedelta

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from ..models.base import CHINA
from ..models import ApiKey, Institution
from ..counter import apikeys
from ..oversight import audit, clearing, rules
from ..service.errors import NotFound, ValidationFailed
from ..service.extensions import db
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (CSV, LOGGED_IN, ApiKeyCreatedOut, ApiKeyRevokedOut, ApiKeysOut, ClearingOut,
                      ClearingQuery, DecisionIn, FlagDecidedOut, FlagsOut, FlagsQuery, LabelIn, api,
                      json_body, responses)


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
    _institution_in_scope(code)
    body = json_body()
    key, presented = apikeys.create_api_key(db.session, institution_code=code,
                                              label=body["label"], created_by=current_user.login)
    audit.record(db.session, actor=current_user.login, action="api_key.create",
                 target_type="api_key", target_id=key.id, detail={"institution": code})
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
    _institution_in_scope(key.institution_code)
    apikeys.revoke_api_key(db.session, key_id, int(time.time()))
    audit.record(db.session, actor=current_user.login, action="api_key.revoke",
                 target_type="api_key", target_id=key_id)
    db.session.commit()
    return jsonify(id=key_id, revoked=True)


@bp.get("/audit/flags")
@requires_role("auditor", "admin")
@api.validate(query=FlagsQuery, resp=responses(HTTP_200=FlagsOut, errors=LOGGED_IN),
              tags=["oversight"])
def audit_flags():
    status = request.args.get("status") or None
    flags = rules.flags_for(db.session, current_user.region_code, status)
    return jsonify(flags=[{"id": f.id, "settlement": f.settlement_id, "ride": f.ride_id, "rule": f.rule,
                           "rule_text": rules.RULES[f.rule], "detail": f.detail,
                           "insured_region": f.insured_region, "treating_region": f.treating_region,
                           "status": f.status, "note": f.note, "decided_by": f.decided_by}
                          for f in flags])


@bp.post("/audit/flags/<int:flag_id>")
@requires_role("auditor")
@api.validate(json=DecisionIn,
              resp=responses(HTTP_200=FlagDecidedOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["oversight"])
def audit_decide(flag_id):
    body = json_body()
    flag = rules.decide(db.session, flag_id=flag_id, region_code=current_user.region_code,
                            decision=body["decision"], note=body["note"], who=current_user.login,
                            now=int(time.time()))
    audit.record(db.session, actor=current_user.login, action=f"audit_flag.{flag.status}",
                 target_type="audit_flag", target_id=flag.id)
    db.session.commit()
    return jsonify(id=flag.id, status=flag.status)


def _day(text, name):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be a date like 2026-11-01", code="bad_period") from None


@bp.get("/clearing")
@requires_role("auditor", "admin")
@api.validate(query=ClearingQuery,
              resp=responses(HTTP_200=ClearingOut, media=CSV, errors=(*LOGGED_IN, 422)),
              tags=["oversight"])
def clearing_report():
    today = datetime.now(CHINA).date()
    first = _day(request.args.get("from", today.replace(day=1).isoformat()), "from")
    last = _day(request.args.get("to", today.isoformat()), "to")
    if last < first or (last - first).days > 366:
        raise ValidationFailed("The period runs forward and at most a year.", code="bad_period")
    start = datetime.combine(first, datetime.min.time(), CHINA)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), CHINA)
    rows = clearing.clearing(db.session, start=start, end=end, region_code=current_user.region_code)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["insured_region", "treating_region", "institution",
                                                 "settlements", "fund_fen"])
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="clearing-{first}-{last}.csv"'})
    return jsonify(period={"from": first.isoformat(), "to": last.isoformat()}, rows=rows)
