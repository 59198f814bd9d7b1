"""Who may call what: session login (Flask-Login), the CSRF token for cookie-authenticated writes,
and role checks. Secrets are compared in constant time."""
import functools
import hmac
import secrets

from flask import g, request, session
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..models import Account
from .errors import Forbidden, Unauthenticated, YimaError
from .extensions import db, login_manager

CSRF_HEADER = "X-CSRF-Token"
_WITH_INSTITUTION = [joinedload(Account.institution)]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def load_account(account_id):
    try:
        # A cashier's institution comes in the same statement: every counter request reads it.
        account = db.session.get(Account, int(account_id), options=_WITH_INSTITUTION)
    except (TypeError, ValueError):
        return None
    return account if account is not None and account.active else None


@login_manager.request_loader
def load_api_client(req):
    """Hospital systems (``Bearer yk_...``) and bus validators (``Bearer yv_...``): no cookie,
    so no CSRF token. A disabled validator still loads, so its uploads get a clear refusal."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from ..counter.apikeys import account_for_key
    from ..transit.validators import validator_for_token

    presented = header[len("Bearer "):].strip()
    account = account_for_key(db.session, presented) or validator_for_token(db.session, presented)
    if account is not None:
        g.api_key_client = True
    return account if account is not None and (account.is_active or account.role == "validator") \
        else None


@login_manager.unauthorized_handler
def unauthorized():
    raise Unauthenticated("Log in first.")


def new_csrf_token():
    session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf():
    """Before every cookie-authenticated write: the header must carry the session's token."""
    if request.method not in UNSAFE_METHODS or not current_user.is_authenticated \
            or g.get("api_key_client"):
        return
    expected = session.get("csrf", "")
    supplied = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise YimaError("Send the csrf_token from login in the X-CSRF-Token header.",
                        code="csrf_failed", status=403, title="CSRF token missing or wrong")


def requires_role(*roles):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise Unauthenticated("Log in first.")
            if current_user.role not in roles:
                raise Forbidden(f"This needs the {' or '.join(roles)} role.")
            if not current_user.is_active:  # a disabled validator still identifies itself
                raise Forbidden("This device or account is disabled.", code=f"{current_user.role}_disabled")
            return view(*args, **kwargs)
        return wrapped
    return decorate
