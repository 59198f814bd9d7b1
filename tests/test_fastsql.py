"""backend/models/fastsql.py: hot statements through psycopg's cursor on PostgreSQL (Core on
SQLite) read and write exactly what Core does, raise SQLAlchemy's errors, and are seen by the
engine's listeners. Runs on both databases (the cursor path on PostgreSQL only)."""
import os
from datetime import datetime, timedelta, timezone

import pytest
from phones import login
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError, NoResultFound

from backend.accounts import sessions
from backend.models import AuditEntry, Region
from backend.models.sessions import LoginSession
from backend.models.fastsql import Hot
from backend.oversight import audit
from backend.service.extensions import db

CHINA = timezone(timedelta(hours=8))
# Not `from conftest import ON_POSTGRES`: in a whole-suite run "conftest" may name tests/failover's.
ON_POSTGRES = os.environ.get("YIMA_TEST_DATABASE_URL", "").startswith("postgres")


def test_a_session_read_returns_what_core_returns(seeded, client):
    login(client, "demo-cashier")
    with seeded.app_context():
        token_hash = db.session.scalars(select(LoginSession.token_hash)).one()
        core = db.session.connection().execute(sessions._LIVE.statement,
                                               {"token_hash": token_hash}).one()
        hot = sessions._LIVE.first(db.session, {"token_hash": token_hash})
        assert tuple(hot) == tuple(core)
        created_at = hot[1]
        assert created_at.tzinfo is not None and created_at.utcoffset() == timedelta(0)
        assert sessions._LIVE.first(db.session, {"token_hash": "no such session"}) is None


def test_constants_inside_the_statement_are_bound(seeded):
    by_code = Hot(select(Region.code, Region.name_zh).where(Region.code == "310118"))
    with seeded.app_context():
        assert by_code.one(db.session, {})[0] == "310118"
        nowhere = Hot(select(Region.code).where(Region.code == "999999"))
        with pytest.raises(NoResultFound):
            nowhere.one(db.session, {})


def test_a_write_goes_through_the_column_types(seeded):
    """The audit row's moment, given in China time, is stored as the same instant (UtcTimestamp's
    bind processor ran) and reads back aware."""
    at = datetime(2026, 11, 29, 8, 30, tzinfo=CHINA)
    with seeded.app_context():
        audit._INSERT.run(db.session, {
            "at": at, "actor": "test", "action": "fastsql.check", "target_type": "none",
            "target_id": "1", "detail": "{}", "request_id": None, "region_code": None})
        db.session.commit()
        stored = db.session.scalars(select(AuditEntry).filter_by(action="fastsql.check")).one()
        assert stored.at == at and stored.at.utcoffset() == timedelta(0)


def test_a_driver_error_is_sqlalchemys_and_the_session_goes_on(seeded):
    twice = Hot(insert(Region.__table__))
    with seeded.app_context():
        row = db.session.connection().execute(select(Region.__table__)).mappings().first()
        with pytest.raises(IntegrityError):
            twice.run(db.session, dict(row))
        db.session.rollback()
        assert db.session.scalar(select(Region.code).where(Region.code == row["code"]))


def test_the_engines_listeners_see_each_statement(seeded):
    seen = []

    def executed(_conn, _cursor, statement, parameters, context, _many):
        seen.append((statement, context))

    with seeded.app_context():
        event.listen(db.engine, "before_cursor_execute", executed)
        try:
            sessions._LIVE.first(db.session, {"token_hash": "abc"})
        finally:
            event.remove(db.engine, "before_cursor_execute", executed)
    assert len(seen) == 1 and "login_sessions" in seen[0][0]
    # On PostgreSQL the statement went through the driver's cursor (Core would give a context).
    assert (seen[0][1] is None) == ON_POSTGRES


def test_a_column_left_to_its_python_default_is_refused(seeded):
    """The cursor path would not fill Python-side defaults in: refused on both databases alike."""
    without_at = Hot(insert(AuditEntry.__table__))
    with seeded.app_context():
        with pytest.raises(TypeError, match="give every column a value"):
            without_at.run(db.session, {"actor": "t", "action": "a", "target_type": "x",
                                        "target_id": "1", "detail": "{}"})


def test_a_row_attached_is_the_object_the_orm_would_load(seeded):
    """``by_id`` (the terminals' bearer-token read) gives what ``session.get`` gives, attribute by
    attribute, and the session's own object when it holds one already."""
    from sqlalchemy import inspect as inspected

    from backend.models import Account
    from backend.models.fastsql import by_id

    with seeded.app_context():
        ident = db.session.scalars(select(Account.id).order_by(Account.id)).first()
        fast = by_id(db.session, Account, ident)
        assert by_id(db.session, Account, ident) is fast  # the identity map's, no second object
        keys = [attribute.key for attribute in inspected(Account).column_attrs]
        values = {key: getattr(fast, key) for key in keys}
        assert not db.session.dirty and inspected(fast).persistent
        db.session.expunge_all()
        loaded = db.session.get(Account, ident)
        assert {key: getattr(loaded, key) for key in keys} == values
        assert by_id(db.session, Account, 10 ** 12) is None
