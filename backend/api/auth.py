"""Login for API clients and the PWA: a session cookie plus a CSRF token for writes."""
from flask import current_app, jsonify, session
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..accounts.hashing import password_matches
from ..models import Account
from ..service.errors import Unauthenticated, YimaError
from ..service.extensions import db, limiter, redis_client
from ..service.lockout import Lockout
from ..service.security import new_csrf_token
from .blueprint import bp
from .schemas import LOGGED_IN, LoginIn, SessionOut, StatusOut, api, json_body, responses


@bp.post("/auth/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@api.validate(json=LoginIn,
              resp=responses(HTTP_200=SessionOut, errors={
                  401: "`invalid_credentials`: wrong login or password", 429: None}),
              tags=["accounts"])
def login():
    body = json_body()
    name = body["login"].strip()
    lockout = Lockout(redis_client.client(), threshold=current_app.config["LOCKOUT_THRESHOLD"],
                      seconds=current_app.config["LOCKOUT_SECONDS"])
    _refuse_if_locked(lockout.retry_after(name))
    account = db.session.scalars(select(Account).filter_by(login=name)).first()
    if not password_matches(account, body["password"]) or not account.active:
        _refuse_if_locked(lockout.failed(name))
        raise Unauthenticated("Login or password is wrong.", code="invalid_credentials",
                              title="Login failed")
    lockout.succeeded(name)
    session.clear()
    login_user(account)
    return jsonify(csrf_token=new_csrf_token(), account=describe(account))


def _refuse_if_locked(retry_after):
    """Locked names get one answer, whether the login exists or not (no enumeration)."""
    if retry_after:
        minutes = -(-retry_after // 60)
        raise YimaError(f"Too many failed logins for this name. Try again in {minutes} minutes.",
                        code="account_locked", status=429, title="Login locked for a while",
                        extra={"retry_after": retry_after})


@bp.post("/auth/logout")
@login_required
@api.validate(resp=responses(HTTP_200=StatusOut, errors=LOGGED_IN), tags=["accounts"])
def logout():
    logout_user()
    session.clear()
    return jsonify(status="logged_out")


@bp.get("/auth/me")
@login_required
@api.validate(resp=responses(HTTP_200=SessionOut, errors=(401,)), tags=["accounts"])
def me():
    return jsonify(account=describe(current_user), csrf_token=session.get("csrf") or new_csrf_token())


def describe(account):
    return {"login": account.login, "role": account.role,
            "institution": account.institution_code, "region": account.region_code}
