"""Sign-up against the registry: national ID + registered phone + one-time code + password."""
import hmac

from flask import current_app, jsonify, request, session
from flask_login import login_user

from ..oversight import audit
from ..patients import signup
from ..service.extensions import db, limiter, redis_client
from ..service.notify import LogNotifier
from ..service.security import new_csrf_token
from .blueprint import bp
from .auth import describe
from .schemas import SessionOut, SignupCodeIn, SignupCodeOut, SignupIn, api, json_body, responses


def _phone_key():
    body = request.get_json(silent=True)
    phone = body.get("phone") if isinstance(body, dict) else None
    if not isinstance(phone, str):
        return request.remote_addr
    # Keyed hash: the limiter writes its key to Redis and to its log line, never the number.
    return "phone:" + hmac.new(current_app.config["ID_HASH_KEY"].encode(), phone.encode(),
                               "sha256").hexdigest()[:24]


def _otp_limit():
    return current_app.config["OTP_RATE_LIMIT"]


@bp.post("/signup/code")
@limiter.limit(_otp_limit)
@limiter.limit(_otp_limit, key_func=_phone_key)
@api.validate(json=SignupCodeIn,
              resp=responses(HTTP_200=SignupCodeOut, errors=(404, 409, 422, 429)),
              tags=["accounts"])
def signup_code():
    body = json_body()
    code, ttl = signup.send_code(
        db.session, redis_client.client(), current_app.extensions.get("yima_notifier", LogNotifier()),
        id_hash_key=current_app.config["ID_HASH_KEY"], national_id=body["national_id"],
        phone=body["phone"])
    answer = {"sent": True, "expires_in": ttl}
    if current_app.config["DEMO_MODE"]:
        answer["demo_code"] = code  # demo only: there is no SMS gateway
    return jsonify(answer)


@bp.post("/signup")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@api.validate(json=SignupIn, resp=responses(HTTP_201=SessionOut, errors=(404, 409, 422, 429)),
              tags=["accounts"])
def signup_account():
    body = json_body()
    account = signup.create_account(
        db.session, redis_client.client(), id_hash_key=current_app.config["ID_HASH_KEY"],
        national_id=body["national_id"], phone=body["phone"], code=body["code"],
        password=body["password"])
    audit.record(db.session, actor=account.login, action="account.signup",
                 target_type="account", target_id=account.id)
    db.session.commit()
    session.clear()
    login_user(account)
    return jsonify(csrf_token=new_csrf_token(), account=describe(account)), 201
