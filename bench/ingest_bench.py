"""Ride batch ingest on PostgreSQL, exactly once: rides/s through ``backend.transit.rides.ingest``
(every code verified again, stored with set-based statements, charged), against ``verify()`` alone
over the same codes in the same run (the floor set by checking two signatures per code).

  .venv/bin/python bench/ingest_bench.py [--persons 2000] [--rides-per-person 10] [--workers 2]

A day on the zone's buses, compressed: each person rides several times (each ride its own code,
ridden when it was shown); batches of 500 rides from many people, as a validator uploads them.
Measured: one process uploading every batch as one validator; then ``--workers`` processes at once,
each a validator with its own share of the rides (as gunicorn workers serve several buses). Each
worker keeps the credentials it has verified (``VerifiedCredentials``), as a server worker does.
Every batch is then sent again: nothing more may be charged.
"""
import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import time

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

URL = "postgresql://postgres@127.0.0.1:5432/yima_bench_rides"
INSTANCE = os.path.join(ROOT, "bench", "out", "instance-rides")
BATCH = 500
UPLOADED = 6 * 3600  # the rides are uploaded this long after the credentials were issued


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--rides-per-person", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    prepare_database()
    os.environ.update(DATABASE_URL=URL, YIMA_INSTANCE_PATH=INSTANCE)
    now = int(time.time())
    validators, items = make_rides(args.persons, args.rides_per_person, args.workers + 1, now)
    now += UPLOADED
    n = len(items)
    batches = [items[i:i + BATCH] for i in range(0, n, BATCH)]

    baseline = verify_alone(items, now)
    single_s, statuses = timed_ingest(validators[0], batches[:len(batches) // 2], now)
    half = sum(len(b) for b in batches[:len(batches) // 2])
    rest = batches[len(batches) // 2:]
    shares = [rest[k::args.workers] for k in range(args.workers)]
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        start = time.perf_counter()
        answers = pool.starmap(timed_ingest, [(validators[k + 1], shares[k], now)
                                              for k in range(args.workers)])
        parallel_s = time.perf_counter() - start
    for _, more in answers:
        for key, count in more.items():
            statuses[key] = statuses.get(key, 0) + count
    # Every batch again, from the same validators: all duplicates, nothing charged.
    _, again = timed_ingest(validators[0], batches[:len(batches) // 2], now)
    for k in range(args.workers):
        _, more = timed_ingest(validators[k + 1], shares[k], now)
        for key, count in more.items():
            again[key] = again.get(key, 0) + count
    check = exactly_once(n)

    print(f"PostgreSQL, {n:,} rides of {args.persons:,} persons, batches of {BATCH}; "
          f"outcomes: {statuses}; sent again: {again}; {check}\n")
    print("| measurement | rides | seconds | rides/s | ratio to baseline |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| baseline: verify() alone, one process, no memory | {n:,} | {n / baseline:.2f} | "
          f"{baseline:,.0f} | 1.00 |")
    print(f"| ingest, one process | {half:,} | {single_s:.2f} | {half / single_s:,.0f} | "
          f"{half / single_s / baseline:.2f} |")
    print(f"| ingest, {args.workers} processes at once | {n - half:,} | {parallel_s:.2f} | "
          f"{(n - half) / parallel_s:,.0f} | {(n - half) / parallel_s / baseline:.2f} |")


def prepare_database():
    base, name = URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=URL, YIMA_INSTANCE_PATH=INSTANCE)
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)


def make_rides(persons, rides_each, validators, now):
    """Persons with a funded wallet and one phone each; their rides, shuffled across the day."""
    from load_bench import make_people

    from backend import create_app
    from backend.service.extensions import db
    from backend.tokens.code import make_code
    from backend.transit import validators

    items = []
    for phone, credentials in make_people(persons, now, tag="bench"):
        # Issued now, ridden over the next five hours, uploaded after (see UPLOADED).
        for step in random.sample(range(now // 30 + 1, (now + 5 * 3600) // 30), rides_each):
            items.append({"code": make_code(credentials["ss"], step, phone.sign),
                          "ridden_at": step * 30 + random.randrange(30)})
    app = create_app()
    validator_ids = []
    with app.app_context():
        for k in range(validators):
            validator, _ = validators.register_validator(db.session, line_code=f"ZONE{k % 6 + 1}",
                                                      label=f"bench {k}", created_by="bench", now=now)
            validator.status = "active"
            db.session.flush()
            validator_ids.append(validator.id)
        db.session.commit()
    random.shuffle(items)
    return validator_ids, items


def verify_alone(items, now):
    from backend import create_app
    from backend.service.issuer import current_ring
    from backend.tokens.verify import verify

    app = create_app()
    with app.app_context():
        keys = current_ring(app).public_keys(now)
    start = time.perf_counter()
    for item in items:
        verify(item["code"], issuer_keys=keys, expected_kind="ss", now=item["ridden_at"])
    return len(items) / (time.perf_counter() - start)


def timed_ingest(validator_id, batches, now):
    """Upload ``batches`` as one validator, one transaction per batch, as the API does."""
    from backend import create_app
    from backend.models import Validator
    from backend.service.extensions import db
    from backend.service.issuer import current_ring
    from backend.tokens.verify import VerifiedCredentials
    from backend.transit import rides

    app = create_app()
    statuses = {}
    memory = VerifiedCredentials()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked worker opens its own connections
        ring = current_ring(app)
        validator = db.session.get(Validator, validator_id)
        start = time.perf_counter()
        for batch in batches:
            for result in rides.ingest(db.session, validator, batch, ring=ring, now=now,
                                         daily_cap_fen=1_000, arrears_threshold_fen=1_000,
                                         max_age_seconds=86_400, verified_credentials=memory):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            db.session.commit()
        elapsed = time.perf_counter() - start
        db.session.remove()
    return elapsed, statuses


def exactly_once(n):
    with psycopg.connect(URL) as conn:
        rides, charges, fares, debits = conn.execute(
            "SELECT (SELECT count(*) FROM rides), (SELECT count(*) FROM ride_charges),"
            " (SELECT coalesce(sum(fare_fen), 0) FROM rides),"
            " (SELECT coalesce(-sum(amount_fen), 0) FROM wallet_entries WHERE kind = 'ride')"
        ).fetchone()
        wallets = conn.execute("SELECT sum(1000000 - transit_wallet_fen) FROM persons"
                               " WHERE national_id_hash LIKE 'bench%'").fetchone()[0]
    ok = rides == charges == n and fares == debits == wallets
    return (f"exactly once: {'yes' if ok else 'NO'} (rides {rides:,}, charges {charges:,}, "
            f"fares {fares:,} fen = ledger {debits:,} fen = wallets {wallets:,} fen)")


if __name__ == "__main__":
    main()
