"""What a validator trusts besides the issuer's keys: the deny list, the credentials whose holder is
past the arrears threshold (先乘车后付费 has a limit). The server keeps versioned add/lift entries
per holder; a validator is told credential ids (jti) only, never who holds them, so the list
links nobody's rides. No Flask; time is a parameter."""
from sqlalchemy import func, select

from ..models import Credential, DenyEntry, Person
from ..models.base import at


def _denied_holders():
    """The holder ids whose latest deny entry is an ``add`` (a subquery)."""
    latest = select(DenyEntry.holder_id, func.max(DenyEntry.version).label("v")) \
        .group_by(DenyEntry.holder_id).subquery()
    return select(DenyEntry.holder_id).join(
        latest, (DenyEntry.holder_id == latest.c.holder_id) & (DenyEntry.version == latest.c.v)
    ).where(DenyEntry.action == "add")


def denied_credentials(session, now):
    """The jti of every live ``ss`` credential (unexpired, not revoked: a revoked one is on the
    revocation list already) of a person on the deny list, in one statement. Computed when asked,
    so a denied person's new phone is denied as soon as it is activated, and a credential issued
    before pseudonyms were per credential (``sub`` = the holder id) is listed by its jti too."""
    return session.scalars(
        select(Credential.jti).join(Person, Person.id == Credential.person_id)
        .where(Person.holder_id.in_(_denied_holders()), Credential.kind == "ss",
               Credential.revoked_at.is_(None), Credential.expires_at > at(now))
        .order_by(Credential.jti)).all()


def deny_list(session, now):
    version = session.scalar(select(func.max(DenyEntry.version))) or 0
    return {"iss": "yima", "typ": "deny", "version": version,
            "jti": denied_credentials(session, now), "iat": now}


def review_arrears(session, person, threshold_fen, now):
    """Put a person past the arrears threshold on the deny list; lift it once they are clear."""
    review_arrears_of(session, [person], {person.id: person.transit_wallet_fen}, threshold_fen, now)


def review_arrears_of(session, persons, balances, threshold, now):
    """``review_arrears`` for many persons (one query for their deny-list state)."""
    latest = select(DenyEntry.holder_id, func.max(DenyEntry.version).label("v")) \
        .where(DenyEntry.holder_id.in_({p.holder_id for p in persons})) \
        .group_by(DenyEntry.holder_id).subquery()
    denied = set(session.scalars(select(DenyEntry.holder_id).join(
        latest, (DenyEntry.holder_id == latest.c.holder_id) & (DenyEntry.version == latest.c.v))
        .where(DenyEntry.action == "add")))
    for person in sorted(persons, key=lambda p: p.id):
        balance = balances[person.id]
        if balance <= -threshold and person.holder_id not in denied:
            session.add(DenyEntry(holder_id=person.holder_id, action="add", at=at(now)))
        elif balance >= 0 and person.holder_id in denied:
            session.add(DenyEntry(holder_id=person.holder_id, action="lift", at=at(now)))
    session.flush()
