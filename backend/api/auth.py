"""Login for API clients and the PWA: a session cookie plus a CSRF token for writes."""
from flask import current_app, jsonify, session
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..accounts import password_matches
from ..errors import Unauthenticated
from ..extensions import db, limiter
from ..models import Account
from ..security import new_csrf_token
from . import bp, read_json


@bp.post("/auth/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login():
    body = read_json(login=str, password=str)
    account = db.session.scalars(select(Account).filter_by(login=body["login"].strip())).first()
    if not password_matches(account, body["password"]) or not account.active:
        raise Unauthenticated("Login or password is wrong.", code="invalid_credentials",
                              title="Login failed")
    session.clear()
    login_user(account)
    return jsonify(csrf_token=new_csrf_token(), account=describe(account))


@bp.post("/auth/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return jsonify(status="logged_out")


@bp.get("/auth/me")
@login_required
def me():
    return jsonify(account=describe(current_user), csrf_token=session.get("csrf") or new_csrf_token())


def describe(account):
    return {"login": account.login, "role": account.role,
            "institution": account.institution_code, "region": account.region_code}
