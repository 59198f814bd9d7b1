"""Who may call what: session login (Flask-Login) over sessions kept on the server, the CSRF token
for cookie-authenticated writes, and role checks. Secrets are compared in constant time.

The signed cookie names a server-side session (``backend.accounts.sessions``) by a random token;
every request checks that the session still exists and is within its limits, so logout, "log
out everywhere", a password change or a disabled account end every copy of the cookie at once."""
import functools
import hmac
import secrets
import time

from flask import current_app, g, request, session
from flask_login import current_user, logout_user, user_logged_in
from sqlalchemy.exc import DBAPIError, PendingRollbackError

from ..accounts import sessions
from .errors import Forbidden, Unauthenticated, YimaError
from .extensions import db, login_manager

CSRF_HEADER = "X-CSRF-Token"
SESSION_TOKEN = "sid"  # the key of the server-side session's token in the signed cookie
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def session_policy(config=None):
    config = config or current_app.config
    return sessions.Policy(
        staff=sessions.Limits(config["STAFF_SESSION_IDLE"], config["STAFF_SESSION_MAX"] or None),
        patient=sessions.Limits(config["PATIENT_SESSION_IDLE"],
                                config["PATIENT_SESSION_MAX"] or None))


@user_logged_in.connect
def _begin_server_session(_app, user, **_extra):
    """Every ``login_user`` (login, sign-up, a password change) gets a new server-side session,
    committed with whatever the request changed before it. Patients keep the cookie across
    browser restarts (a phone app); staff cookies end with the browser (and the shift limits)."""
    session[SESSION_TOKEN] = sessions.begin(db.session, user, now=time.time(),
                                            policy=session_policy())
    session.permanent = user.role == "patient"
    db.session.commit()


@login_manager.user_loader
def load_account(account_id):
    """The account of the cookie's live server-side session, or None (anonymous). A cookie
    without a session token (made before sessions were kept on the server) is anonymous.

    The first to ask may be the rate limiter, which swallows errors: a database failure here
    must not leave the request's session in a failed transaction for the next asker, who then
    gets the failure itself (a 503), not a 500 for a transaction nobody rolled back."""
    return _loaded(_live_account, account_id)


def _loaded(load, *args):
    """``load(*args)`` for a user loader: after a database failure the session is rolled back
    before the error goes on (to the rate limiter, which swallows it, or to the 503 handler)."""
    try:
        return load(*args)
    except PendingRollbackError:  # someone before us swallowed a failure: start afresh, once
        _roll_back()
        return load(*args)
    except DBAPIError:
        _roll_back()
        raise


def _roll_back():
    try:
        db.session.rollback()
    except DBAPIError:  # the connection died under the transaction: drop it instead
        db.session().invalidate()


def _live_account(account_id):
    now = time.time()
    login_session = sessions.resume(db.session, session.get(SESSION_TOKEN), now=now,
                                    policy=session_policy())
    if login_session is None:
        return None
    account = login_session.account
    if account.get_id() != account_id or not account.active:
        return None
    if sessions.due_for_touch(login_session, now):
        # Its own short transaction: the view's changes are not committed with it.
        with db.engine.begin() as connection:
            sessions.touch(connection, login_session.id, now=now)
    return account


def end_this_session():
    """Logout: the server-side session ends, then the cookie is emptied."""
    sessions.end(db.session, session.get(SESSION_TOKEN))
    db.session.commit()
    logout_user()
    session.clear()


def end_every_session(account_id):
    """End all of an account's sessions (added to the caller's transaction; the caller commits)."""
    return sessions.end_all(db.session, account_id)


@login_manager.request_loader
def load_api_client(req):
    """Hospital systems (``Bearer yk_...``), bus validators (``yv_...``) and venue gates
    (``yg_...``): no cookie, so no CSRF token. A disabled device still loads, so its uploads get a
    clear refusal. Like ``load_account``, a database failure leaves the session rolled back (CI:
    PostgreSQL restarted under the limiter's first load, and the CSRF check's second load met
    the unrolled transaction: a 500)."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from ..counter.apikeys import account_for_key
    from ..transit.validators import validator_for_token
    from ..venues.verifiers import verifier_for_token

    presented = header[len("Bearer "):].strip()
    account = _loaded(lambda: account_for_key(db.session, presented)
                      or validator_for_token(db.session, presented)
                      or verifier_for_token(db.session, presented))
    if account is not None:
        g.api_key_client = True
    return account if account is not None and (
        account.is_active or account.role in ("validator", "venue")) else None


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
