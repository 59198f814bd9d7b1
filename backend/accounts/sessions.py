"""Login sessions kept on the server (docs/security.md, sessions). No Flask.

The session cookie carries a random token; the database keeps its SHA-256 with the account, when
the session began and when it was last used. A session is live while its row exists and neither
limit of its kind has passed: staff (cashier, auditor, admin) work shifts — an idle limit and an
absolute one; patients stay logged in as a phone app does — a long idle limit, no absolute one.
Ending a session deletes its row, so every copy of the cookie dies with it.

The rows live in the database, not in Redis: a Redis that restarts empty must not log every
cashier out in the middle of a bill, nor bring back a session that had been ended.

Time is a parameter (unix seconds), so tests move the clock instead of sleeping."""
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from ..models import Account
from ..models.base import at, unix
from ..models.sessions import LoginSession

TOUCH_EVERY = 60  # seconds: last use is written at most this often per session
# Deleted rows are not looked for among loaded objects: nothing uses a session object after it ends.
_QUIET = {"synchronize_session": False}


@dataclass(frozen=True)
class Limits:
    idle: int               # seconds without a request
    absolute: int | None    # seconds since login; None: no absolute limit

    def ended(self, login_session, now):
        """Why ``login_session`` is over at ``now`` (``idle``, ``absolute``) or None."""
        if self.absolute and now - unix(login_session.created_at) >= self.absolute:
            return "absolute"
        if now - unix(login_session.last_seen_at) >= self.idle:
            return "idle"
        return None


@dataclass(frozen=True)
class Policy:
    staff: Limits
    patient: Limits

    def limits(self, role):
        return self.patient if role == "patient" else self.staff


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def begin(session, account, *, now, policy):
    """Add a session for ``account`` (committed by the caller) and return its cookie token. The
    account's sessions that are already over are deleted on the way."""
    limits = policy.limits(account.role)
    over = LoginSession.last_seen_at <= at(now - limits.idle)
    if limits.absolute:
        over = or_(over, LoginSession.created_at <= at(now - limits.absolute))
    session.execute(delete(LoginSession).where(LoginSession.account_id == account.id, over),
                    execution_options=_QUIET)
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_digest(token), account_id=account.id,
                             created_at=at(now), last_seen_at=at(now)))
    session.flush()
    return token


def resume(session, token, *, now, policy):
    """The live session that ``token`` names and its account, or None. Reads only: the caller
    writes the last use (``touch``) when ``due_for_touch`` says so."""
    if not isinstance(token, str) or not token:
        return None
    # A cashier's institution comes in the same statement: every counter request reads it.
    login_session = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == _digest(token))
        .options(joinedload(LoginSession.account).joinedload(Account.institution))).first()
    if login_session is None:
        return None
    if policy.limits(login_session.account.role).ended(login_session, now):
        return None
    return login_session


def due_for_touch(login_session, now):
    return now - unix(login_session.last_seen_at) >= TOUCH_EVERY


def touch(connection, session_id, *, now):
    """Write the last use (``connection`` may be its own short transaction)."""
    connection.execute(update(LoginSession).where(LoginSession.id == session_id)
                       .values(last_seen_at=at(now)))


def end(session, token):
    """End the session ``token`` names; return how many ended (0 or 1)."""
    if not isinstance(token, str) or not token:
        return 0
    return session.execute(delete(LoginSession).where(
        LoginSession.token_hash == _digest(token)), execution_options=_QUIET).rowcount


def end_all(session, account_id):
    """End every session of the account (password changed, disabled, "log out everywhere")."""
    return session.execute(delete(LoginSession).where(
        LoginSession.account_id == account_id), execution_options=_QUIET).rowcount

