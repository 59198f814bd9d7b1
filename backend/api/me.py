"""A patient's own page: who they are to the fund, balances, history (paged), settings; wallet
top-ups."""
import time

from flask import current_app, jsonify, request
from flask_login import current_user

from ..models.base import at, china_iso
from ..oversight import audit
from ..patients import history, settings, wallet
from ..service.extensions import db
from ..service.security import requires_role
from ..transit import trust
from .blueprint import bp
from .schemas import (LOGGED_IN, REPLAYED, HistoryPageOut, HistoryQuery, IdempotencyHeaders, MeOut,
                      PasswordFreeIn, SettingsOut, TopUpIn, TopUpOut, api, json_body, responses)


@bp.get("/me")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=MeOut, errors=LOGGED_IN), tags=["patient"])
def me_summary():
    """Who the patient is to the fund, balances, settings, and the first page of each history
    (``more`` says where the next page of each starts: GET /me/settlements?before=...)."""
    person = current_user.person
    pages = {name: getattr(history, name)(db.session, person.id) for name in HISTORIES}
    return jsonify(
        person={"name": person.name, "masked_name": person.masked_name(),
                "national_id_masked": person.national_id_masked,
                "home_region": person.home_region,
                "home_region_name": {"zh": person.region.name_zh, "en": person.region.name_en},
                "insurance_class": person.insurance_class, "status": person.status},
        balances={"personal_account_fen": person.personal_account_fen,
                  "transit_wallet_fen": person.transit_wallet_fen,
                  "password_free_limit_fen": person.password_free_limit_fen},
        password_free=settings.password_free(person),
        settlements=pages["settlements"]["items"], rides=pages["rides"]["items"],
        wallet=pages["wallet"]["items"],
        more={name: page["next_before"] for name, page in pages.items()},
        as_of=china_iso(at(int(time.time()))))


HISTORIES = ("settlements", "rides", "wallet")


def _history_page(name):
    person = current_user.person
    before, limit = history.page_args(request.args.get("before"), request.args.get("limit"))
    return jsonify(getattr(history, name)(db.session, person.id, before=before, limit=limit))


@bp.get("/me/settlements")
@requires_role("patient")
@api.validate(query=HistoryQuery, resp=responses(HTTP_200=HistoryPageOut, errors=LOGGED_IN),
              tags=["patient"])
def me_settlements():
    """Settlements, newest first: hospital, China time, total, fund / personal account / cash,
    refunded or not, and the bill's lines."""
    return _history_page("settlements")


@bp.get("/me/rides")
@requires_role("patient")
@api.validate(query=HistoryQuery, resp=responses(HTTP_200=HistoryPageOut, errors=LOGGED_IN),
              tags=["patient"])
def me_rides():
    """Rides, latest first: line, China time, fare and outcome (charged, capped, arrears, copy)."""
    return _history_page("rides")


@bp.get("/me/wallet")
@requires_role("patient")
@api.validate(query=HistoryQuery, resp=responses(HTTP_200=HistoryPageOut, errors=LOGGED_IN),
              tags=["patient"])
def me_wallet():
    """Ride-wallet entries, newest first (top-ups, fares, adjustments) with the balance after."""
    return _history_page("wallet")


@bp.get("/me/settings")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=SettingsOut, errors=LOGGED_IN), tags=["patient"])
def me_settings():
    return jsonify(password_free=settings.password_free(current_user.person))


@bp.put("/me/settings/password-free")
@requires_role("patient")
@api.validate(json=PasswordFreeIn, resp=responses(HTTP_200=SettingsOut, errors=(*LOGGED_IN, 422)),
              tags=["patient"])
def me_password_free():
    """Small password-free payment on or off, and its limit (fen) within the region's maximum."""
    body = json_body()
    person = current_user.person
    answer = settings.set_password_free(person, enabled=body["enabled"],
                                        limit_fen=body.get("limit_fen"))
    audit.record(db.session, actor=current_user.login, action="settings.password_free",
                 target_type="person", target_id=person.holder_id,
                 detail={"limit_fen": person.password_free_limit_fen})
    db.session.commit()
    return jsonify(password_free=answer)


@bp.post("/wallet/topups")
@requires_role("patient")
@api.validate(json=TopUpIn, headers=IdempotencyHeaders,
              resp=responses(HTTP_201=TopUpOut, HTTP_200=(TopUpOut, REPLAYED),
                             errors=(*LOGGED_IN, 409, 422)),
              tags=["patient"])
def wallet_top_up():
    body = json_body()
    provider = current_app.extensions.get("yima_payments", wallet.DemoPaymentProvider())
    claim, entry = wallet.claim_top_up(db.session, person_id=current_user.person_id,
                                       amount_fen=body["amount_fen"], now=int(time.time()),
                                       idempotency_key=request.headers.get("Idempotency-Key", ""))
    created = False
    if entry is None:
        db.session.commit()  # the claim is ours before the provider is asked for money
        try:
            entry, created = wallet.complete_top_up(db.session, provider, claim)
        except wallet.PaymentFailed:
            db.session.rollback()
            wallet.release_claim(db.session, claim)
            db.session.commit()
            raise
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
