"""A patient's own page: who they are to the fund, balances, history; wallet top-ups."""
import time

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from ..models import WalletEntry
from ..oversight import audit
from ..patients import wallet
from ..service.extensions import db
from ..service.security import requires_role
from ..transit import trust
from .blueprint import bp
from .schemas import (LOGGED_IN, REPLAYED, IdempotencyHeaders, MeOut, TopUpIn, TopUpOut, api,
                      json_body, responses)


@bp.get("/me")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=MeOut, errors=LOGGED_IN), tags=["patient"])
def me_summary():
    person = current_user.person
    entries = db.session.scalars(select(WalletEntry).filter_by(person_id=person.id)
                                 .order_by(WalletEntry.id.desc()).limit(50)).all()
    return jsonify(
        person={"name": person.name, "national_id_masked": person.national_id_masked,
                "home_region": person.home_region,
                "home_region_name": {"zh": person.region.name_zh, "en": person.region.name_en},
                "insurance_class": person.insurance_class, "status": person.status},
        balances={"personal_account_fen": person.personal_account_fen,
                  "transit_wallet_fen": person.transit_wallet_fen,
                  "password_free_limit_fen": person.password_free_limit_fen},
        settlements=[],  # filled by the hospital counter (issue 6)
        rides=[],  # filled by the bus validators (issue 7)
        wallet=[{"id": e.id, "kind": e.kind, "amount_fen": e.amount_fen,
                 "balance_after_fen": e.balance_after_fen, "at": e.created_at.isoformat()}
                for e in entries])


@bp.post("/wallet/topups")
@requires_role("patient")
@api.validate(json=TopUpIn, headers=IdempotencyHeaders,
              resp=responses(HTTP_201=TopUpOut, HTTP_200=(TopUpOut, REPLAYED),
                             errors=(*LOGGED_IN, 409, 422)),
              tags=["patient"])
def wallet_top_up():
    body = json_body()
    provider = current_app.extensions.get("yima_payments", wallet.DemoPaymentProvider())
    entry, created = wallet.top_up(db.session, provider, person_id=current_user.person_id,
                                   amount_fen=body["amount_fen"],
                                   idempotency_key=request.headers.get("Idempotency-Key", ""))
    if created:  # a top-up that clears the arrears lifts the deny-list entry
        db.session.refresh(current_user.person)
        trust.review_arrears(db.session, current_user.person,
                               current_app.config["ARREARS_DENY_FEN"], int(time.time()))
        audit.record(db.session, actor=current_user.login, action="wallet.topup",
                     target_type="wallet_entry", target_id=entry.id,
                     detail={"amount_fen": entry.amount_fen})
    db.session.commit()
    return jsonify(entry={"id": entry.id, "amount_fen": entry.amount_fen,
                          "balance_after_fen": entry.balance_after_fen,
                          "provider": provider.name, "provider_ref": entry.provider_ref},
                   replayed=not created), 201 if created else 200
