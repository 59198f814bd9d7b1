"""Login for API clients and the PWA: a session cookie plus a CSRF token for writes; logout,
"log out everywhere" and a password change, each ending sessions on the server."""
from flask import current_app, jsonify, session
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from ..accounts import passwords
from ..accounts.hashing import hash_password, password_matches
from ..models import Account
from ..models.people import ROLES as ACCOUNT_ROLES  # people who log in (not a validator's token)
from ..oversight import audit
from ..service.errors import Unauthenticated, ValidationFailed, YimaError
from ..service.extensions import db, limiter, redis_client
from ..service.limits import principal_key
from ..service.lockout import Lockout
from ..service.security import end_every_session, end_this_session, new_csrf_token, requires_role
from .blueprint import bp
from .schemas import (LOGGED_IN, LoggedOutOut, LoginIn, PasswordChangedOut, PasswordChangeIn,
                      SessionOut, StatusOut, api, json_body, responses)


def _lockout():
    return Lockout(redis_client.client(), threshold=current_app.config["LOCKOUT_THRESHOLD"],
                   seconds=current_app.config["LOCKOUT_SECONDS"])


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.post("/auth/login")
@limiter.limit(_login_limit)
@api.validate(json=LoginIn,
              resp=responses(HTTP_200=SessionOut, errors={
                  401: "`invalid_credentials`: wrong login or password", 429: None}),
              tags=["accounts"])
def login():
    body = json_body()
    name = body["login"].strip()
    lockout = _lockout()
    _refuse_if_locked(lockout.retry_after(name))
    account = db.session.scalars(select(Account).filter_by(login=name)).first()
    if not password_matches(account, body["password"]) or not account.active:
        _refuse_if_locked(lockout.failed(name))
        raise Unauthenticated("Login or password is wrong.", code="invalid_credentials",
                              title="Login failed")
    lockout.succeeded(name)
    session.clear()
    login_user(account)  # a new server-side session (backend.service.security)
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
    """This session ends on the server: a copy of the cookie kept anywhere stops working."""
    end_this_session()
    return jsonify(status="logged_out")


@bp.post("/auth/logout-all")
@requires_role(*ACCOUNT_ROLES)
@api.validate(resp=responses(HTTP_200=LoggedOutOut, errors=LOGGED_IN), tags=["accounts"])
def logout_everywhere():
    """Every session of this account ends (every phone and browser), this one included."""
    ended = end_every_session(current_user.id)
    end_this_session()
    return jsonify(status="logged_out", sessions_ended=ended)


@bp.post("/auth/password")
@limiter.limit(_login_limit, key_func=principal_key)
@requires_role(*ACCOUNT_ROLES)
@api.validate(json=PasswordChangeIn,
              resp=responses(HTTP_200=PasswordChangedOut, errors={
                  **dict.fromkeys(LOGGED_IN),
                  422: "`wrong_password` (the current password), `weak_password` or "
                       "`password_unchanged` (the new one), each with `fields`",
                  429: "`account_locked` (too many wrong passwords for this login) or "
                       "`rate_limited`"}),
              tags=["accounts"])
def change_password():
    """Check the current password, set a new one that meets the policy, end every other session
    of the account and start a new one here (new cookie and CSRF token)."""
    body = json_body()
    account = current_user._get_current_object()
    lockout = _lockout()  # a stolen session guesses the password no faster than a login would
    _refuse_if_locked(lockout.retry_after(account.login))
    if not password_matches(account, body["current_password"]):
        _refuse_if_locked(lockout.failed(account.login))
        raise ValidationFailed("The current password is wrong.", code="wrong_password",
                               title="Wrong password",
                               extra={"fields": {"current_password": "wrong"}})
    lockout.succeeded(account.login)
    new = body["new_password"]
    try:
        passwords.check(new, login=account.login,
                        phone=account.person.phone if account.person is not None else None)
    except ValidationFailed as refused:
        refused.extra.update(field="new_password", fields={"new_password": refused.extra["reason"]})
        raise
    if password_matches(account, new):
        raise ValidationFailed("The new password is the current one.", code="password_unchanged",
                               title="Password unchanged",
                               extra={"fields": {"new_password": "same"}})
    account.password_hash = hash_password(new)
    ended = end_every_session(account.id)
    audit.record(db.session, actor=account.login, action="account.password_change",
                 target_type="account", target_id=account.id, detail={"sessions_ended": ended})
    session.clear()
    login_user(account)  # one commit: the new password, the ended sessions, this new one
    return jsonify(status="password_changed", csrf_token=new_csrf_token(),
                   account=describe(account), sessions_ended=max(0, ended - 1))


@bp.get("/auth/me")
@login_required
@api.validate(resp=responses(HTTP_200=SessionOut, errors=(401,)), tags=["accounts"])
def me():
    return jsonify(account=describe(current_user), csrf_token=session.get("csrf") or new_csrf_token())


def describe(account):
    return {"login": account.login, "role": account.role,
            "institution": account.institution_code, "region": account.region_code}
