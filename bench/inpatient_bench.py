"""Discharge settlement of a 500-line stay against an outpatient settlement of the same 500 lines,
measured in the same run, through the domain functions (backend.inpatient.discharge.settle and
backend.counter.settlements.settle), each in its own committed transaction.

  .venv/bin/python bench/inpatient_bench.py [--rounds 15] [--lines 500] [--database-url URL]

Default: a fresh SQLite file and the embedded Redis; with --database-url (a PostgreSQL database
that this run drops and recreates, e.g. postgresql://postgres@127.0.0.1:5432/yima_bench_h1) and
--redis-url, the real services. Each round admits a stay (identified by national ID number, no
phone), adds its 500 lines (timed apart: the hospital sends them during the stay), settles it,
then settles the same lines at the counter; both are then reversed/refunded (not timed), so every
round starts from the same counters. The counter takes at most 100 lines a bill: the bench lifts
that limit for its own run. Prints the median and 90th percentile wall time of each, and the
ratio."""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]

CATEGORIES = ("bed", "drug", "examination", "laboratory", "treatment", "material")
OUTPATIENT = {"bed": "treatment", "laboratory": "examination"}


def lines(count, day):
    out = []
    for number in range(1, count + 1):
        category = CATEGORIES[number % len(CATEGORIES)]
        out.append({"line_no": number, "category": category, "coverage_class": "ABBC"[number % 4],
                    "item": f"项目{number}", "quantity": 1 + number % 3,
                    "unit_price_fen": 500 + (number * 37) % 5_000, "date": day})
    return out


def as_bill(fee_lines):
    return [{"category": OUTPATIENT.get(line["category"], line["category"]),
             "coverage_class": line["coverage_class"],
             "amount_fen": line["quantity"] * line["unit_price_fen"],
             "description": line["item"]} for line in fee_lines]


def _recreate_postgres(url):
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="yima-inpatient-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    if args.database_url:
        _recreate_postgres(url)

    from flask_migrate import upgrade
    from sqlalchemy import select

    from backend import create_app
    from backend.counter import identify, settlements
    from backend.demo.seed import seed
    from backend.inpatient import discharge, stays
    from backend.models import Account, Person
    from backend.models.base import CHINA
    from backend.service.extensions import db, redis_client

    app = create_app({"DATABASE_URL": url, "REDIS_URL": args.redis_url,
                      "INSTANCE_PATH": os.path.join(workdir, "instance"), "SECRET_KEY": "bench",
                      "ID_HASH_KEY": "bench", "LOG_LEVEL": "WARNING"})
    settlements.MAX_LINES = max(settlements.MAX_LINES, args.lines)
    inpatient_ms, outpatient_ms, lines_ms = [], [], []
    with app.app_context():
        upgrade()
        seed(db.session, app.config["ID_HASH_KEY"])
        session, store = db.session, redis_client.client()
        store.flushdb()
        cashier = session.scalars(select(Account).filter_by(login="demo-cashier")).one()
        institution = cashier.institution_code
        person = session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        person.personal_account_fen = 0  # the account is not what is measured
        session.commit()
        today = datetime.now(CHINA).date().isoformat()
        fee_lines = lines(args.lines, today)
        bill = as_bill(fee_lines)

        def scan():
            scan_id, (key, value, seconds) = identify.new_scan(
                person=person, institution_code=institution, cashier_id=cashier.id,
                reason="other", note="bench")
            store.set(key, value, ex=seconds)
            return scan_id

        for round_no in range(args.rounds + 1):  # round 0 warms up, not counted
            now = int(time.time())
            stay, _ = stays.admit(session, store, scan_id=scan(), institution_code=institution,
                                  staff_id=cashier.id, admission_no=f"B{round_no:05d}",
                                  ward="bench", diagnosis_code="I21.9", diagnosis_text="bench",
                                  now=now)
            session.commit()
            started = time.perf_counter()
            stays.add_lines(session, stay_id=stay.id, institution_code=institution,
                            staff_id=cashier.id, raw_lines=fee_lines, now=now)
            session.commit()
            added = time.perf_counter()
            settled, _ = discharge.settle(session, stay_id=stay.id, institution_code=institution,
                                          cashier_id=cashier.id,
                                          idempotency_key=f"bench-in-{uuid.uuid4()}", now=now)
            session.commit()
            discharged = time.perf_counter()
            scan_id = scan()
            before_counter = time.perf_counter()
            counter, _ = settlements.settle(session, store, scan_id=scan_id,
                                            institution_code=institution, cashier_id=cashier.id,
                                            raw_lines=bill, now=now,
                                            idempotency_key=f"bench-out-{uuid.uuid4()}")
            session.commit()
            after_counter = time.perf_counter()
            assert settled.total_fen == counter.total_fen
            discharge.reverse(session, stay_id=stay.id, institution_code=institution,
                              cashier_id=cashier.id, reason="bench", now=now)
            settlements.refund(session, settlement_id=counter.id, institution_code=institution,
                               cashier_id=cashier.id, reason="bench", now=now)
            stay_row = session.get(type(stay), stay.id)
            stay_row.status = "settled"  # close the bench's stay for good (a new admission next)
            session.commit()
            if round_no:
                lines_ms.append((added - started) * 1000)
                inpatient_ms.append((discharged - added) * 1000)
                outpatient_ms.append((after_counter - before_counter) * 1000)
        engine = db.engine.url.get_backend_name()

    def p90(values):
        return sorted(values)[max(0, int(len(values) * 0.9) - 1)]

    print(f"{engine}, {args.lines} lines, {args.rounds} rounds (wall ms: median / p90)")
    for label, values in ((f"add the stay's {args.lines} lines", lines_ms),
                          ("discharge settlement", inpatient_ms),
                          ("outpatient settle, same lines", outpatient_ms)):
        print(f"  {label:30} {statistics.median(values):7.1f} / {p90(values):7.1f}")
    ratio = statistics.median(inpatient_ms) / statistics.median(outpatient_ms)
    print(f"  {'ratio discharge / outpatient':30} {ratio:7.2f}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
