"""Online verification of a shown code, for a cashier (hospital) or a validator (bus)."""
import time

from flask import current_app, g, jsonify
from flask_login import current_user

from ..counter import settlements
from ..oversight import audit
from ..patients import credentials
from ..service.errors import Forbidden
from ..service.extensions import db, limiter, redis_client
from ..service.issuer import current_ring, verified_credentials
from ..service.limits import configured, principal_key
from ..service.security import requires_role
from .blueprint import bp
from .schemas import LOGGED_IN, VerifyIn, VerifyOut, api, json_body, responses

ROLE_CONTEXTS = {"cashier": {"hospital"}, "validator": {"bus"}}


@bp.post("/verify")
@limiter.limit(configured("VERIFY_RATE_LIMIT"), key_func=principal_key)
@requires_role("cashier", "validator")
@api.validate(json=VerifyIn, resp=responses(HTTP_200=VerifyOut, errors=(*LOGGED_IN, 409, 422, 429)),
              tags=["verification"])
def verify_code():
    body = json_body()
    context = body["context"]
    if context in ("hospital", "bus") and context not in ROLE_CONTEXTS[current_user.role]:
        raise Forbidden(f"A {current_user.role} verifies {next(iter(ROLE_CONTEXTS[current_user.role]))} codes only.",
                        code="context_not_allowed")
    institution = current_user.institution if current_user.role == "cashier" else None
    if institution is not None and not institution.accepts_evoucher:
        raise Forbidden("This institution does not accept the medical e-voucher yet.",
                        code="evoucher_not_accepted")
    guard = credentials.RedisReplayGuard(redis_client.client(),
                                         current_app.config["CODE_WINDOW_STEPS"])
    scan = {}

    def remember_scan(jti, step, person):  # stored with the replay guard, in its round trip
        scan["id"], entry = settlements.new_scan(
            jti=jti, step=step, person_id=person.id, institution_code=institution.code,
            cashier_id=current_user.id)
        return entry
    holder = credentials.verify_code(
        db.session, guard, code=body["code"], context=context, ring=current_ring(),
        now=int(time.time()), window=current_app.config["CODE_WINDOW_STEPS"],
        verified_credentials=verified_credentials(),
        remember=remember_scan if institution is not None else None)
    claims, person = holder.claims, holder.person
    answer = {
        "valid": True,
        "holder": claims.sub,
        "kind": claims.knd,
        "home_region": claims.reg,
        "insurance_class": person.insurance_class,
        "family_holder": claims.fam,
        "step": holder.step,
        "credential_expires_at": claims.exp,
    }
    if current_user.role == "cashier":
        answer["scan_id"] = scan["id"]
        answer.update(masked_name=person.masked_name(),
                      personal_account_fen=person.personal_account_fen,
                      home_region_name={"zh": person.region_name_zh, "en": person.region_name_en},
                      cross_region=person.home_region != institution.region_code,
                      rules_of=person.home_region)
        audit.append(db.session, actor=current_user.login, action="person.read",
                     target_type="person", target_id=person.holder_id,
                     detail={"via": "verify", "institution": institution.code},
                     request_id=g.get("request_id"))
        db.session.commit()
    return jsonify(answer)
