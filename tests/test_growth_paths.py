"""What keeps verify, settle and the clearing report flat as the zone grows (issue 21, part 5;
bench/growth_bench.py, docs/benchmarks.md "Cost as the zone grows")."""
from datetime import datetime

from sqlalchemy import inspect, text

from backend.models.base import CHINA
from backend.oversight.clearing import clearing, trend
from backend.service.extensions import db

MONTH = (datetime(2026, 10, 1, tzinfo=CHINA), datetime(2026, 11, 1, tzinfo=CHINA))


def test_the_indexes_the_growing_paths_read_through_are_there(seeded):
    with seeded.app_context():
        inspector = inspect(db.engine)
        indexed = {tuple(index["column_names"]) for index in inspector.get_indexes("settlements")}
        indexed |= {tuple(c["column_names"]) for c in inspector.get_unique_constraints("settlements")}
        # the month of a clearing report, a person's recent bills, a retry's Idempotency-Key,
        # a bill's refund (the report's deduction check)
        for columns in (("created_at",), ("person_id",), ("institution_code", "idempotency_key"),
                        ("reverses_id",)):
            assert columns in indexed, columns
        flags = {tuple(index["column_names"]) for index in inspector.get_indexes("audit_flags")}
        assert ("settlement_id",) in flags or ("settlement_id", "rule") in {
            tuple(c["column_names"]) for c in inspector.get_unique_constraints("audit_flags")}


def test_the_clearing_report_runs_without_jit_and_only_for_its_transaction(seeded):
    with seeded.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        before = db.session.execute(text("SHOW jit")).scalar() if postgres else None
        db.session.rollback()
        report = clearing(db.session, start=MONTH[0], end=MONTH[1])
        assert report["totals"]["net_fen"] == report["totals"]["gross_fen"] - report["totals"]["deductions_fen"]
        if postgres:
            assert db.session.execute(text("SHOW jit")).scalar() == "off"
        db.session.rollback()
        if postgres:
            assert db.session.execute(text("SHOW jit")).scalar() == before
        db.session.rollback()
        assert trend(db.session, last_month=MONTH[0].date(), months=2)["months"] == ["2026-09", "2026-10"]
        if postgres:
            assert db.session.execute(text("SHOW jit")).scalar() == "off"
        db.session.rollback()
