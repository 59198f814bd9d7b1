"""The hospital counter: preview and settle a scanned patient's bill, look it up, refund it."""
import time

from flask import g, jsonify, request
from flask_login import current_user

from ..counter import settlements
from ..models import Settlement
from ..oversight import audit
from ..service import metrics
from ..service.errors import NotFound
from ..service.extensions import db, redis_client
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (LOGGED_IN, REPLAYED, BillIn, IdempotencyHeaders, PreviewOut, RefundIn,
                      RefundOut, SettlementAnswerOut, api, json_body, responses)


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
              resp=responses(HTTP_201=SettlementAnswerOut, HTTP_200=(SettlementAnswerOut, REPLAYED),
                             errors=(*LOGGED_IN, 409, 422)),
              tags=["counter"])
def settlement_create():
    body = json_body()
    settlement, created = settlements.settle(
        db.session, redis_client.client(), scan_id=body["scan_id"],
        institution_code=_institution(), cashier_id=current_user.id, raw_lines=body["lines"],
        idempotency_key=request.headers.get("Idempotency-Key", ""), now=int(time.time()),
        use_account=body.get("use_personal_account", True) is not False)
    if created:
        audit.record(db.session, actor=current_user.login, action="settlement.create",
                     target_type="settlement", target_id=settlement.id,
                     detail={"total_fen": settlement.total_fen}, request_id=g.get("request_id"))
    db.session.commit()
    metrics.record_settlement(settlement, created)
    return jsonify(settlement=settlements.describe(settlement), replayed=not created), \
        201 if created else 200


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
@api.validate(json=RefundIn, resp=responses(HTTP_201=RefundOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["counter"])
def settlement_refund(settlement_id):
    body = json_body()
    reversal = settlements.refund(db.session, settlement_id=settlement_id,
                                  institution_code=_institution(), cashier_id=current_user.id,
                                  reason=body["reason"], now=int(time.time()))
    audit.record(db.session, actor=current_user.login, action="settlement.refund",
                 target_type="settlement", target_id=settlement_id,
                 detail={"refund_id": reversal.id}, request_id=g.get("request_id"))
    db.session.commit()
    metrics.record_settlement(reversal)
    return jsonify(refund=settlements.describe(reversal)), 201
