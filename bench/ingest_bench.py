"""Ride batch ingest on PostgreSQL: rides/s through ``backend.transit.ingest`` (verify each code,
exactly-once insert, charge), in batches of 500, against the in-process ``verify()`` alone over the
same codes measured in the same run (the floor set by checking signatures).

  .venv/bin/python bench/ingest_bench.py [--rides 5000]
"""
import argparse
import os
import subprocess
import sys
import time

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

URL = "postgresql://postgres@127.0.0.1:5432/yima_bench_rides"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rides", type=int, default=5000)
    args = parser.parse_args()
    base, name = URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=URL, YIMA_INSTANCE_PATH=os.path.join(ROOT, "bench", "out", "instance"))
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)

    from phones import Phone
    from sqlalchemy import select

    from backend import create_app, credentials, transit
    from backend.extensions import db, redis_client
    from backend.issuer import current_ring
    from backend.models import Account, Person
    from backend.tokens.code import make_code
    from backend.tokens.verify import verify

    app = create_app()
    now = int(time.time())
    with app.app_context():
        ring = current_ring(app)
        store = redis_client.client(app)
        account = db.session.scalars(select(Account).filter_by(login="demo-patient")).one()
        db.session.execute(Person.__table__.update().values(transit_wallet_fen=10**9,
                                                            password_free_limit_fen=10**6))
        phone = Phone()
        nonce, _ = credentials.new_challenge(store, account.id)
        proof = credentials.b64url(phone.sign(credentials.ACTIVATION_LABEL + credentials.b64url_decode(nonce)))
        issued = credentials.activate_device(db.session, store, account=account, person=account.person,
                                             public_jwk=phone.jwk(), nonce=nonce, proof=proof, ring=ring,
                                             now=now, lifetime=7 * 86_400)
        validator, _ = transit.register_validator(db.session, line_code="ZONE1", label="bench",
                                                  created_by="bench", now=now)
        validator.status = "active"
        db.session.commit()
        # Rides of one person spread over steps (each ride its own code), ridden when shown.
        # One person's codes over many steps (each a distinct ride), each ridden in its own step.
        first = now // 30 + 1
        items = []
        for i in range(args.rides):
            step = first + i
            items.append({"code": make_code(issued.credentials["ss"], step, phone.sign),
                          "ridden_at": step * 30 + 1})
        keys = ring.public_keys(now)
        t = time.perf_counter()
        for item in items:
            verify(item["code"], issuer_keys=keys, expected_kind="ss", now=item["ridden_at"])
        verify_s = time.perf_counter() - t
        t = time.perf_counter()
        statuses = {}
        for start in range(0, len(items), 500):
            for result in transit.ingest(db.session, validator, items[start:start + 500], ring=ring,
                                         now=items[-1]["ridden_at"], daily_cap_fen=10**9,
                                         arrears_threshold_fen=10**6, max_age_seconds=10**8):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            db.session.commit()
        ingest_s = time.perf_counter() - t
    n = len(items)
    print(f"| measurement (PostgreSQL, {n:,} rides, batches of 500) | rides/s | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: verify() alone over the same codes | {n / verify_s:,.0f} | 1.00 |")
    print(f"| ingest (verify, insert once, charge): {statuses} | {n / ingest_s:,.0f} | "
          f"{(n / ingest_s) / (n / verify_s):.2f} |")


if __name__ == "__main__":
    main()
