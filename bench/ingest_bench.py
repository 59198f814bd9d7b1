"""Ride batch ingest on PostgreSQL, exactly once: rides/s through ``backend.transit.rides.ingest``
(every code verified again, stored with set-based statements, charged), against ``verify()`` alone
over the same codes in the same run (the floor set by checking two signatures per code).

  .venv/bin/python bench/ingest_bench.py [--persons 2000] [--rides-per-person 20] [--workers 2]

A day on the zone's buses, compressed: each person rides several times (each ride its own code,
ridden when it was shown); batches of 500 rides from many people, as a validator uploads them.
Measured on four equal shares of the batches, in turn: the general path (``rides._store``, the
one SQLite takes and PostgreSQL took before issue 21) and the COPY path (``transit/ingest_pg.py``),
each with one process uploading as one validator and with ``--workers`` processes at once, each a
validator with its own part (as gunicorn workers serve several buses: the phones' signatures are
checked in all of them at once). Each worker keeps the credentials it has verified
(``VerifiedCredentials``), as a server worker does. Every batch is then sent again: nothing more may
be charged. The measured part holds /tmp/yima-bench.lock (one benchmark at a time on the machine);
making the database and the codes does not.
"""
import argparse
import fcntl
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
LOCK = "/tmp/yima-bench.lock"
UPLOADED = 6 * 3600  # the rides are uploaded this long after the credentials were issued


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--rides-per-person", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    prepare_database()
    os.environ.update(DATABASE_URL=URL, YIMA_INSTANCE_PATH=INSTANCE)
    first_key()
    now = int(time.time())
    validators, items = make_rides(args.persons, args.rides_per_person, args.workers + 1, now)
    now += UPLOADED
    n = len(items)
    batches = [items[i:i + BATCH] for i in range(0, n, BATCH)]

    lock = open(LOCK, "w")  # one benchmark at a time on the shared machine; not for generation
    fcntl.flock(lock, fcntl.LOCK_EX)
    baseline, baseline_cpu = verify_alone(items, now)
    # Four equal shares of the batches, the two ways of storing them taken in turn: the general
    # path (rides._store, as on SQLite and as PostgreSQL did before) and the COPY path.
    quarter = len(batches) // 4
    shares = {("general", 1): batches[:quarter], ("copy", 1): batches[quarter:2 * quarter],
              ("general", args.workers): batches[2 * quarter:3 * quarter],
              ("copy", args.workers): batches[3 * quarter:]}
    timings, statuses = {}, {}
    for (path, workers), share in shares.items():
        seconds, answers, cpu = timed_parallel(validators, share, now, workers, path == "copy")
        timings[path, workers] = (sum(len(b) for b in share), seconds, cpu)
        add_up(statuses, answers)
    # Every batch again, from the same validators: all duplicates, nothing charged.
    _, again, _ = timed_parallel(validators, batches[:2 * quarter], now, 1, True)
    add_up(again, timed_parallel(validators, batches[2 * quarter:], now, args.workers, True)[1])
    fcntl.flock(lock, fcntl.LOCK_UN)
    check = exactly_once(n)

    print(f"PostgreSQL, {n:,} rides of {args.persons:,} persons, batches of {BATCH}; "
          f"outcomes: {statuses}; sent again: {again}; {check}\n")
    # CPU per ride (the Python processes + PostgreSQL's backends) is steadier than rides/s on a
    # shared machine; 2,000 / (CPU ms per ride) is what two whole cores would ingest.
    print("| measurement | rides | seconds | rides/s | ratio to baseline | CPU ms per ride: Python "
          "+ PostgreSQL | ratio to baseline by CPU | rides/s on 2 whole cores |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    per_code = baseline_cpu * 1000 / n
    print(f"| baseline: verify() alone, one process, no memory | {n:,} | {n / baseline:.2f} | "
          f"{baseline:,.0f} | 1.00 | {per_code:.3f} + 0 | 1.00 | {2000 / per_code:,.0f} |")
    names = {"general": "general path (as before)", "copy": "COPY path"}
    for (path, workers), (rides, seconds, (app_cpu, db_cpu)) in timings.items():
        per_ride = (app_cpu + db_cpu) * 1000 / rides
        print(f"| ingest, {names[path]}, {workers} process{'es at once' if workers > 1 else ''} "
              f"| {rides:,} | {seconds:.2f} | {rides / seconds:,.0f} | "
              f"{rides / seconds / baseline:.2f} | {app_cpu * 1000 / rides:.3f} + "
              f"{db_cpu * 1000 / rides:.3f} | {per_code / per_ride:.2f} | {2000 / per_ride:,.0f} |")


def add_up(total, more):
    for key, count in more.items():
        total[key] = total.get(key, 0) + count


def timed_parallel(validators, batches, now, workers, fast):
    """``batches`` shared out to ``workers`` processes at once, each its own validator. Returns
    seconds, outcomes and the CPU seconds used (the workers', PostgreSQL's backends')."""
    database_before = database_cpu()
    if workers == 1:
        (start, end), statuses, cpu = timed_ingest(validators[0], batches, now, fast)
        return end - start, statuses, (cpu, database_cpu() - database_before)
    shares = [batches[k::workers] for k in range(workers)]
    # The clock runs from the moment every worker is ready (forked, app made, connected) to the
    # last one's end, as for one process: a server's workers are up before the buses upload.
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(workers)
    with context.Pool(workers, initializer=_share_barrier, initargs=(ready,)) as pool:
        answers = pool.starmap(timed_ingest, [(validators[k + 1], shares[k], now, fast)
                                              for k in range(workers)])
        database = database_cpu() - database_before  # before the workers and their backends end
    seconds = max(end for (_, end), _, _ in answers) - min(start for (start, _), _, _ in answers)
    statuses = {}
    for _, more, _ in answers:
        add_up(statuses, more)
    return seconds, statuses, (sum(cpu for *_, cpu in answers), database)


_barrier = None


def _share_barrier(barrier):
    global _barrier
    _barrier = barrier


def database_cpu():
    """CPU seconds used so far by the PostgreSQL backends serving the bench database."""
    import psutil

    name, total = URL.rsplit("/", 1)[1], 0.0
    for process in psutil.process_iter(["cmdline"]):
        if any(name in part for part in (process.info["cmdline"] or [])):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
    return total


def prepare_database():
    base, name = URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=URL, YIMA_INSTANCE_PATH=INSTANCE)
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)


def first_key():
    """A fresh instance makes its first issuer key when first opened; it signs from that moment
    (a fraction of a second), so credentials are issued from the next whole second on."""
    from backend import create_app
    from backend.service.issuer import current_ring

    current_ring(create_app())
    time.sleep(1.0)


def make_rides(persons, rides_each, validators, now):
    """Persons with a funded wallet and one phone each; their rides, shuffled across the day."""
    from load_bench import make_people

    from backend import create_app
    from backend.service.extensions import db
    from backend.tokens.code import make_code
    from backend.transit import validators as registry

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
            validator, _ = registry.register_validator(db.session, line_code=f"ZONE{k % 6 + 1}",
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
    start, cpu = time.perf_counter(), time.process_time()
    for item in items:
        verify(item["code"], issuer_keys=keys, expected_kind="ss", now=item["ridden_at"])
    return len(items) / (time.perf_counter() - start), time.process_time() - cpu


def timed_ingest(validator_id, batches, now, fast=True):
    """Upload ``batches`` as one validator, one transaction per batch, as the API does. Returns
    (start, end) on the perf_counter clock, the outcomes and the CPU seconds used."""
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
        if _barrier is not None:  # one of several workers: all start together
            _barrier.wait()
        start, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            for result in rides.ingest(db.session, validator, batch, ring=ring, now=now,
                                         daily_cap_fen=1_000, arrears_threshold_fen=1_000,
                                         max_age_seconds=86_400, verified_credentials=memory,
                                         fast=fast):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            db.session.commit()
        end, cpu = time.perf_counter(), time.process_time() - cpu
        db.session.remove()
    return (start, end), statuses, cpu  # perf_counter: one clock for all the processes


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
