"""Sign-up against the registry: national ID + registered phone + one-time code + password."""
import hmac

from flask import current_app, jsonify, request, session
from flask_login import login_user

from .. import audit, signup
from ..extensions import db, limiter, redis_client
from ..notify import LogNotifier
from ..security import new_csrf_token
from . import bp, read_json
from .auth import describe


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
def signup_code():
    body = read_json(national_id=str, phone=str)
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
def signup_account():
    body = read_json(national_id=str, phone=str, code=str, password=str)
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
