"""Family grants (亲情账户): a patient invites another account to show their codes on that
account's own phone. Invitations are short codes, kept only as a hash, valid for a day."""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, select

from ..models import Device, FamilyGrant
from ..models.base import at
from ..service.errors import Forbidden, NotFound, YimaError
from .credentials import revoke_device

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud or typed by a parent
INVITATION_TTL = 86_400
MAX_ACTIVE = 5


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(text):
    return "".join(c for c in str(text).upper() if c in ALPHABET)


def invite(session, *, grantor, now):
    live = session.scalars(select(FamilyGrant).filter(
        FamilyGrant.person_id == grantor.person_id, FamilyGrant.status != "revoked")).all()
    if len(live) >= MAX_ACTIVE:
        raise YimaError(f"At most {MAX_ACTIVE} family members; revoke one first.",
                        code="too_many_family", status=409, title="Too many family members")
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    grant = FamilyGrant(person_id=grantor.person_id, grantor_account_id=grantor.id,
                        invitation_hash=_digest(code), status="pending",
                        invitation_expires_at=at(now) + timedelta(seconds=INVITATION_TTL),
                        created_at=at(now))
    session.add(grant)
    session.flush()
    return grant, code[:4] + "-" + code[4:]


def accept(session, *, member, code, now):
    grant = session.scalars(select(FamilyGrant).filter_by(
        invitation_hash=_digest(normalise_code(code)), status="pending")).first()
    if grant is None or grant.invitation_expires_at.replace(tzinfo=at(now).tzinfo) < at(now):
        raise NotFound("This invitation code is unknown, used or expired. Ask for a new one.",
                       code="invitation_invalid")
    if grant.person_id == member.person_id:
        raise Forbidden("You cannot accept your own invitation.", code="own_invitation")
    grant.status, grant.member_account_id, grant.accepted_at = "active", member.id, at(now)
    session.flush()
    return grant


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
