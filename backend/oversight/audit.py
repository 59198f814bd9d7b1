"""Writing to the append-only audit log. Details name ids and counts, never personal data."""
import json

from sqlalchemy import insert, select

from ..models import Account, AuditEntry
from ..models.base import utcnow
from ..models.fastsql import Hot
from ..registry.identity import phone_problem


def record(session, *, actor, action, target_type, target_id, detail=None, request_id=None,
           region_code=None):
    """Add one entry to ``session`` (committed with the change it describes). ``region_code``
    names the region the change concerns (None: the whole zone)."""
    entry = AuditEntry(
        actor=_actor_name(session, actor), action=action, target_type=target_type, target_id=str(target_id),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        request_id=request_id, region_code=region_code,
    )
    session.add(entry)
    return entry


def append(session, *, actor, action, target_type, target_id, detail=None, request_id=None,
           region_code=None):
    """The same entry as ``record``, written at once with a Core INSERT and no ORM object: for hot
    paths (every verify at a counter) that only add the entry and commit."""
    _INSERT.run(session, {
        "at": utcnow(), "actor": _actor_name(session, actor), "action": action,
        "target_type": target_type, "target_id": str(target_id),
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        "request_id": request_id, "region_code": region_code})


# inline: no RETURNING of the new id (nobody reads it), so it can go in a psycopg pipeline.
_INSERT = Hot(insert(AuditEntry.__table__).inline())


def _actor_name(session, login):
    """Patients log in with their phone number; the append-only log, which keeps what it is given
    forever, names them by account id instead (staff logins are names, kept as they are)."""
    if phone_problem(login) is not None:
        return login
    account_id = session.scalar(select(Account.id).filter_by(login=login))
    return f"account:{account_id}"
