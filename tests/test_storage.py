"""Storage rules the database itself enforces, on SQLite and PostgreSQL alike."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError

from backend.models import Institution
from backend.oversight import audit
from backend.service.extensions import db


def test_audit_log_is_append_only(app):
    with app.app_context():
        audit.record(db.session, actor="tester", action="test.write", target_type="t",
                     target_id="1", detail={"n": 1})
        db.session.commit()
        for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["tester"]


def test_check_constraints_refuse_impossible_rows(seeded):
    with seeded.app_context():
        db.session.add(Institution(code="H31011899999", name_zh="x", name_en="x",
                                   region_code="310118", level=4))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(Institution(code="H31011899998", name_zh="x", name_en="x",
                                   region_code="310118", level=1, networked=False,
                                   accepts_evoucher=True))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        db.session.add(Institution(code="H99999900001", name_zh="x", name_en="x",
                                   region_code="999999", level=1))
        with pytest.raises(IntegrityError):
            db.session.commit()
