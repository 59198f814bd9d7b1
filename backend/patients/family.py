"""Family grants (亲情账户): a patient invites another account to show their codes on that
account's own phone. Invitations are short codes, kept only as a hash, valid for a day.

An invitation code is 8 characters of ALPHABET (40 bits). Its first three name the invitation (the
*locator*, kept in the clear at the head of ``invitation_hash``: ``ABC:`` and 60 hex digits of the
code's SHA-256); the other five are its secret (25 bits). So a guess says which invitation it is
aimed at, and wrong secrets count against the pending invitations under that locator (Redis, one
counter each): the MAX_WRONG_TRIES-th ends them (``revoked``), which keeps the chance that any one
invitation is ever guessed at 5 in 2**25 (1 in 6.7 million), however many accounts try. A guess
whose locator names no pending invitation counts only against the guessing account (the API's
FAMILY_ACCEPT_RATE_LIMIT), and is answered exactly like any other wrong code.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import or_, select

from ..models import Device, FamilyGrant
from ..models.base import at
from ..service.errors import Forbidden, NotFound, YimaError
from .credentials import revoke_device

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud or typed by a parent
CODE_LENGTH = 8
LOCATOR = 3
INVITATION_TTL = 86_400
MAX_ACTIVE = 5
MAX_WRONG_TRIES = 5


class InvitationInvalid(NotFound):
    """No pending invitation for this code. ``ended``: the invitations these wrong tries ended."""
    code = "invitation_invalid"

    def __init__(self, ended=()):
        super().__init__("This invitation code is unknown, used or expired. Ask for a new one.")
        self.ended = list(ended)


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


def _stored(code):
    """What ``invitation_hash`` holds: the locator in the clear, then the code's hash (64 chars)."""
    return code[:LOCATOR] + ":" + _digest(code)[:60]


def _wrong_tries_key(grant):
    return f"family:wrong:{grant.id}"


def normalise_code(text):
    return "".join(c for c in str(text).upper() if c in ALPHABET)


def invite(session, *, grantor, now):
    live = session.scalars(select(FamilyGrant).filter(
        FamilyGrant.person_id == grantor.person_id, FamilyGrant.status != "revoked")).all()
    if len(live) >= MAX_ACTIVE:
        raise YimaError(f"At most {MAX_ACTIVE} family members; revoke one first.",
                        code="too_many_family", status=409, title="Too many family members")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    grant = FamilyGrant(person_id=grantor.person_id, grantor_account_id=grantor.id,
                        invitation_hash=_stored(code), status="pending",
                        invitation_expires_at=at(now) + timedelta(seconds=INVITATION_TTL),
                        created_at=at(now))
    session.add(grant)
    session.flush()
    return grant, code[:4] + "-" + code[4:]


def accept(session, redis, *, member, code, now):
    """The pending invitation this code opens, now active for ``member``. A wrong code raises
    InvitationInvalid after counting against the invitations its locator names (flushed: the
    caller commits the ones it ended)."""
    code = normalise_code(code)
    candidates = _pending_under_locator(session, code, now) if len(code) == CODE_LENGTH else []
    stored, legacy = _stored(code), _digest(code)
    grant = next((g for g in candidates if hmac.compare_digest(g.invitation_hash, stored)
                  or hmac.compare_digest(g.invitation_hash, legacy)), None)
    if grant is not None and int(redis.get(_wrong_tries_key(grant)) or 0) >= MAX_WRONG_TRIES:
        grant = None  # ended by wrong tries a moment ago (another request is revoking it)
    if grant is None:
        raise InvitationInvalid(_count_wrong_try(session, redis, candidates, stored, now))
    if grant.person_id == member.person_id:
        raise Forbidden("You cannot accept your own invitation.", code="own_invitation")
    grant.status, grant.member_account_id, grant.accepted_at = "active", member.id, at(now)
    session.flush()
    return grant


def _pending_under_locator(session, code, now):
    """Pending, unexpired invitations whose locator is the code's (a range scan of the unique
    index: ``ABC:`` <= hash < ``ABC;``), and one made before locators whose hash is the code's."""
    prefix = code[:LOCATOR] + ":"
    found = session.scalars(select(FamilyGrant).filter(
        FamilyGrant.status == "pending",
        or_(FamilyGrant.invitation_hash == _digest(code),
            (FamilyGrant.invitation_hash >= prefix) & (FamilyGrant.invitation_hash < prefix[:-1] + ";"))
    )).all()
    moment = at(now)
    return [g for g in found if g.invitation_expires_at.replace(tzinfo=moment.tzinfo) >= moment]


def _count_wrong_try(session, redis, candidates, stored, now):
    """One wrong try against each invitation the guess was aimed at; the ones it ends."""
    ended = []
    for grant in candidates:
        if not grant.invitation_hash.startswith(stored[:LOCATOR + 1]):
            continue  # made before locators: the guess did not name it
        key = _wrong_tries_key(grant)
        with redis.pipeline() as pipe:
            tries = pipe.incr(key).expire(key, INVITATION_TTL).execute()[0]
        if tries >= MAX_WRONG_TRIES:
            grant.status, grant.revoked_at = "revoked", at(now)
            ended.append(grant)
    session.flush()
    return ended


def grants_of(session, account):
    """(grants this account gave, grants it received), newest first."""
    given = session.scalars(select(FamilyGrant).filter_by(grantor_account_id=account.id)
                            .order_by(FamilyGrant.id.desc())).all()
    received = session.scalars(select(FamilyGrant).filter_by(member_account_id=account.id,
                                                             status="active")
                               .order_by(FamilyGrant.id.desc())).all()
    return given, received


def active_grant_for(session, member, grant_id):
    grant = session.get(FamilyGrant, grant_id) if isinstance(grant_id, int) else None
    if grant is None or grant.member_account_id != member.id or grant.status != "active":
        raise NotFound("No such family grant for you.", code="grant_not_found")
    return grant


def revoke(session, *, account, grant_id, now):
    """Either side may end a grant; the member's phone stops showing the codes at once."""
    grant = session.get(FamilyGrant, grant_id) if isinstance(grant_id, int) else None
    if grant is None or account.id not in (grant.grantor_account_id, grant.member_account_id):
        raise NotFound("No such family grant.", code="grant_not_found")
    grant.status, grant.revoked_at = "revoked", at(now)
    count = 0
    for device in session.scalars(select(Device).filter(
            Device.grant_id == grant.id, or_(Device.revoked_at.is_(None)))):
        count += revoke_device(session, device, "family_revoked", now)
    session.flush()
    return grant, count
