"""What a validator trusts besides the issuer's keys: the deny list of credentials whose holder is
past the arrears threshold (先乘车后付费 has a limit), kept as versioned add/lift entries so a
validator can follow it. No Flask; time is a parameter."""
from sqlalchemy import func, select

from ..models import DenyEntry
from ..models.base import at


def denied_holders(session):
    latest = select(DenyEntry.holder_id, func.max(DenyEntry.version).label("v")) \
        .group_by(DenyEntry.holder_id).subquery()
    rows = session.execute(select(DenyEntry.holder_id).join(
        latest, (DenyEntry.holder_id == latest.c.holder_id) & (DenyEntry.version == latest.c.v))
        .filter(DenyEntry.action == "add")).scalars().all()
    return sorted(rows)


def deny_list(session, now):
    version = session.scalar(select(func.max(DenyEntry.version))) or 0
    return {"iss": "yima", "typ": "deny", "version": version, "holders": denied_holders(session),
            "iat": now}


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
