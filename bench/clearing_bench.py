"""Clearing report over 1,000,000 settlements on PostgreSQL.

  .venv/bin/python bench/clearing_bench.py [--rows 1000000] [--database-url URL]

Loads settlements with COPY into a freshly migrated, seeded database (``yima_bench_clearing``),
then times ``backend.oversight.clearing.clearing`` for one month (best of five) against a baseline
measured in the same run: ``SELECT count(*)`` over the same month (a scan with no grouping).
"""
import argparse
import io
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/yima_bench_clearing")
    args = parser.parse_args()
    base, name = args.database_url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=args.database_url,
               YIMA_INSTANCE_PATH=os.path.join(ROOT, "bench", "out", "instance"))
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)

    with psycopg.connect(args.database_url) as conn:
        persons = [r for r in conn.execute("SELECT id, home_region FROM persons")]
        institutions = [r for r in conn.execute("SELECT code, region_code FROM institutions")]
        cashier = conn.execute("SELECT id FROM accounts WHERE login = 'demo-cashier'").fetchone()[0]
        rng = random.Random(7)
        start = datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=8)))
        buffer = io.StringIO()
        for i in range(args.rows):
            person, home = rng.choice(persons)
            institution, region = rng.choice(institutions)
            fund = rng.randrange(0, 50_000)
            at = start + timedelta(seconds=rng.randrange(0, 61 * 86_400))
            buffer.write(f"settlement\t{institution}\t{person}\t{home}\t{region}\t{cashier}\t"
                         f"bench-{i}\t2026\t{fund + 1000}\t{fund}\t0\t1000\t0\t0\t0\t0\t{at.isoformat()}\n")
        buffer.seek(0)
        with conn.cursor().copy(
                "COPY settlements (kind, institution_code, person_id, insured_region, "
                "treating_region, cashier_account_id, idempotency_key, year, total_fen, fund_fen, "
                "personal_account_fen, cash_fen, deductible_fen, class_b_self_fen, class_c_fen, "
                "coinsurance_fen, created_at) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        conn.execute("ANALYZE settlements")
        conn.commit()

    os.environ.update(env)
    from backend import create_app
    from backend.oversight.clearing import clearing
    from backend.service.extensions import db

    app = create_app()
    period = (datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=8))),
              datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=8))))
    with app.app_context():
        def best(fn):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - t)
            return min(times), result
        from sqlalchemy import text
        base_s, count = best(lambda: db.session.execute(text(
            "SELECT count(*) FROM settlements WHERE created_at >= :a AND created_at < :b"),
            {"a": period[0], "b": period[1]}).scalar())
        report_s, rows = best(lambda: clearing(db.session, start=period[0], end=period[1]))
    print(f"| measurement (PostgreSQL, {args.rows:,} settlements; October: {count:,}) | seconds | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: count(*) over the month | {base_s:.3f} | 1.00 |")
    print(f"| clearing report, whole zone, by institution ({len(rows)} rows) | {report_s:.3f} | "
          f"{report_s / base_s:.2f} |")


if __name__ == "__main__":
    main()
