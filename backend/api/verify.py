"""Online verification of a shown code, for a cashier (hospital) or a validator (bus)."""
import time

from flask import after_this_request, current_app, g, jsonify
from flask_login import current_user

from ..counter import settlements
from ..oversight import audit
from ..patients import credentials
from ..service.errors import Forbidden
from ..service.extensions import db, redis_client
from ..service.issuer import current_ring, verified_credentials
from ..service.limits import Gate, principal_key
from ..service.pipeline import commit_with
from ..service.security import requires_role
from .blueprint import bp
from .schemas import LOGGED_IN, VerifyIn, VerifyOut, api, json_body, responses

ROLE_CONTEXTS = {"cashier": {"hospital"}, "validator": {"bus"}}


@bp.post("/verify")
@requires_role("cashier", "validator")
@api.validate(json=VerifyIn, resp=responses(HTTP_200=VerifyOut, errors=(*LOGGED_IN, 409, 422, 429)),
              tags=["verification"])
def verify_code():
    # The principal's VERIFY_RATE_LIMIT is counted with the replay guard, in one Redis round trip
    # (service.limits.Gate); a request refused before the guard is counted on its own.
    now = int(time.time())
    window = current_app.config["CODE_WINDOW_STEPS"]
    gate = Gate(redis_client.client(), current_app.config["VERIFY_RATE_LIMIT"], principal_key(),
                scope="verify", replay_ttl=(2 * window + 1) * 30 + 30)

    @after_this_request
    def rate_limit_headers(response):
        response.headers.update(gate.headers(now))
        return response
    try:
        return _verify(gate, now, window)
    except Exception:
        gate.count()  # a refused code uses up the allowance too (RateLimited once it is full)
        raise


def _verify(gate, now, window):
    body = json_body()
    user = current_user._get_current_object()  # once, not through the proxy at every use
    context = body["context"]
    if context in ("hospital", "bus") and context not in ROLE_CONTEXTS[user.role]:
        raise Forbidden(f"A {user.role} verifies {next(iter(ROLE_CONTEXTS[user.role]))} codes only.",
                        code="context_not_allowed")
    institution = user.institution if user.role == "cashier" else None
    if institution is not None and not institution.accepts_evoucher:
        raise Forbidden("This institution does not accept the medical e-voucher yet.",
                        code="evoucher_not_accepted")
    scan = {}

    def remember_scan(jti, step, person):  # stored with the replay guard, in its round trip
        scan["id"], entry = settlements.new_scan(
            jti=jti, step=step, person_id=person.id, institution_code=institution.code,
            cashier_id=user.id)
        return entry
    holder = credentials.verify_code(
        db.session, gate, code=body["code"], context=context, ring=current_ring(),
        now=now, window=window,
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
    if user.role == "cashier":
        answer["scan_id"] = scan["id"]
        answer.update(masked_name=person.masked_name(),
                      personal_account_fen=person.personal_account_fen,
                      home_region_name={"zh": person.region_name_zh, "en": person.region_name_en},
                      cross_region=person.home_region != institution.region_code,
                      rules_of=person.home_region)
        # The audit row and the commit in one round trip (service/pipeline.py).
        commit_with(db.session, lambda: audit.append(
            db.session, actor=user.login, action="person.read", target_type="person",
            target_id=person.holder_id, detail={"via": "verify", "institution": institution.code},
            request_id=g.get("request_id")))
    return jsonify(answer)
