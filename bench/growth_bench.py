"""Cost as the zone grows: verify and settle CPU with 10 k and with 3 M insured persons, with 0 and
10 M settlements in the ledger, and the clearing report for one month at 10 M (issue 21, part 5).

  .venv/bin/python bench/growth_bench.py --generate          # once; resumable, not timed
  flock /tmp/yima-bench.lock .venv/bin/python bench/growth_bench.py   # the measurement (short)
  make bench-growth                                          # both, the second under the lock

One PostgreSQL database, yima_bench_growth, kept between runs, holds three zones side by side, one
schema each (the app is pointed at one with ``search_path``), all migrated and seeded alike:

- ``g_small``: 10,000 insured persons, no settlements: the baseline;
- ``g_persons``: 3,000,000 insured persons, no settlements;
- ``g_full``: 3,000,000 insured persons and 10,000,000 settlements over twelve months (2 % of them
  refunded the same day, 0.5 % flagged by an auditor, confirmed or not), with the benefit counters
  they imply.

Persons and settlements are generated with COPY (not through the ORM), in steps that commit and
are skipped when done, so an interrupted ``--generate`` picks up where it stopped.

The measurement, in process as bench/profile_verify.py and bench/profile_settle.py do (their code is
imported): in each zone, the same number of fresh persons with phones and credentials
(load_bench.make_people), then, in rounds that visit the zones in turn, CPU ms per request of
GET /healthz (the yardstick of the same round), a hospital verify and a settlement (four-line bill,
each paying a scan of its own made beforehand), for the Python process and for the PostgreSQL
backends serving it (/proc). Per zone the median of the rounds; growth is each zone's cost over
g_small's. Then the clearing report (``backend.oversight.clearing.clearing``) over one month of
g_full, best of five, against ``count(*)`` over the same month.
"""
import argparse
import hashlib
import io
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]
BASE_URL = "postgresql://postgres@127.0.0.1:5432"
DB_NAME = "yima_bench_growth"
DB_URL = f"{BASE_URL}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/4"
OUT = os.path.join(ROOT, "bench", "out", "growth")
INSTANCE = os.path.join(OUT, "instance")
CHINA = timezone(timedelta(hours=8))
LEDGER_START = datetime(2025, 12, 1, tzinfo=CHINA)  # twelve months: Dec 2025 .. Nov 2026
CLEARING_MONTH = (datetime(2026, 10, 1, tzinfo=CHINA), datetime(2026, 11, 1, tzinfo=CHINA))
ZONES = {"g_small": (10_000, 0), "g_persons": (3_000_000, 0), "g_full": (3_000_000, 10_000_000)}
REGIONS = ("310118", "320509", "330421")
COPY_ROWS = 500_000


def zone_url(schema):
    return f"{DB_URL}?options=-csearch_path%3D{schema}"


def zone_env(schema):
    env = dict(os.environ, DATABASE_URL=zone_url(schema), REDIS_URL=REDIS_URL,
               YIMA_INSTANCE_PATH=INSTANCE)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


# -- generating (resumable) ------------------------------------------------------------------

def generate():
    with psycopg.connect(BASE_URL + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    os.makedirs(INSTANCE, exist_ok=True)
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.growth_steps "
                     "(step text PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now())")
    # The issuer key must be older than the back-dated credentials made when measuring.
    os.environ.update(zone_env("g_small"))
    from backend import create_app
    from backend.service.issuer import locked_ring

    import load_bench
    with locked_ring(create_app(), now=int(time.time()) - load_bench.BACKDATE - 3600):
        pass
    for schema, (persons, settlements) in ZONES.items():
        step(f"{schema}: migrated and seeded", lambda: migrate(schema))
        step(f"{schema}: {persons:,} persons", lambda: copy_persons(schema, persons))
        if settlements:
            step(f"{schema}: {settlements:,} settlements", lambda: copy_settlements(schema, settlements))
            step(f"{schema}: audit flags", lambda: flag(schema))
            step(f"{schema}: benefit counters", lambda: count(schema))
        step(f"{schema}: vacuum analyze", lambda: vacuum(schema))


def step(name, run):
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM public.growth_steps WHERE step = %s", (name,)).fetchone():
            print(f"done before: {name}")
            return
    began = time.perf_counter()
    run()
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute("INSERT INTO public.growth_steps (step) VALUES (%s)", (name,))
    print(f"{name}: {time.perf_counter() - began:.0f} s", flush=True)


def migrate(schema):
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    for command in (["db", "upgrade"], ["demo", "seed"]):
        flask(schema, command)


def flask(schema, command):
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi",
                    *command], cwd=ROOT, env=zone_env(schema), check=True, capture_output=True)


def copy_persons(schema, count):
    """Bulk persons (no phones): keyed-hash-like random IDs and pseudonyms, in chunks that commit
    one by one; a rerun starts after the persons already there."""
    from backend.registry.identity import new_holder_id

    with psycopg.connect(zone_url(schema)) as conn:
        start = conn.execute("SELECT count(*) FROM persons WHERE name = '增长'").fetchone()[0]
        for first in range(start, count, COPY_ROWS):
            out = io.StringIO()
            for i in range(first, min(first + COPY_ROWS, count)):
                region = REGIONS[i % 3]
                digest = hashlib.md5(b"growth%d" % i).hexdigest()
                out.write(f"{new_holder_id()}\t{digest}\t{i:018d}\t增长\t1{3 + i % 7}{i % 10**9:09d}\t"
                          f"{region}\t{'employee' if i % 5 else 'resident'}\tactive\t"
                          f"{(i * 37) % 500_000}\t{i % 5000}\t0\t2024-01-01 00:00:00+00\t"
                          "2024-01-01 00:00:00+00\n")
            with conn.cursor().copy(
                    "COPY persons (holder_id, national_id_hash, national_id_masked, name, phone, "
                    "home_region, insurance_class, status, personal_account_fen, "
                    "transit_wallet_fen, password_free_limit_fen, created_at, updated_at) "
                    "FROM STDIN") as copy:
                copy.write(out.getvalue())
            conn.commit()
            print(f"  {schema}: persons {min(first + COPY_ROWS, count):,}/{count:,}", flush=True)


def copy_settlements(schema, count):
    """Settlements in time order over twelve months, each by a random bulk person at a random
    institution; every 50th is refunded the same day (the refund is the next row). Ids are given
    explicitly so that a refund can name its bill; chunks commit, and a rerun resumes after the
    last id. The foreign keys are not checked row by row (session_replication_role = replica:
    the generator only names rows that exist); the sequence is moved past the last id."""
    with psycopg.connect(zone_url(schema)) as conn:
        persons = conn.execute("SELECT min(id), max(id) FROM persons WHERE name = '增长'").fetchone()
        institutions = conn.execute("SELECT code, region_code FROM institutions ORDER BY code").fetchall()
        cashier = conn.execute("SELECT id FROM accounts WHERE login = 'demo-cashier'").fetchone()[0]
        base, first_id = conn.execute("SELECT count(*), min(id) FROM settlements").fetchone()
        if first_id is None:
            first_id = conn.execute(
                "SELECT nextval(pg_get_serial_sequence('settlements', 'id'))").fetchone()[0]
        conn.execute("SET session_replication_role = replica")
        seconds = 365 * 86_400
        rng = random.Random(base)
        i = base
        while i < count:
            out = io.StringIO()
            end = min(i + COPY_ROWS, count)
            while i < end:
                row_id = first_id + i
                person = rng.randint(*persons)
                home = REGIONS[(person - persons[0]) % 3]
                institution, region = institutions[rng.randrange(len(institutions))]
                at = LEDGER_START + timedelta(seconds=i * seconds // count)
                fund = rng.randrange(0, 50_000)
                cash = 1000 + rng.randrange(0, 5000)
                stamp = at.isoformat()
                out.write(f"{row_id}\tsettlement\t{institution}\t{person}\t{home}\t{region}\t"
                          f"{cashier}\tg-{i}\t\\N\t{at.year}\t{fund + cash}\t{fund}\t0\t{cash}\t"
                          f"{cash // 2}\t0\t0\t{cash // 2}\t{stamp}\n")
                i += 1
                if i % 50 == 0 and i < end:  # the refund of the bill just written
                    out.write(f"{row_id + 1}\trefund\t{institution}\t{person}\t{home}\t{region}\t"
                              f"{cashier}\tg-{i}\t{row_id}\t{at.year}\t{-(fund + cash)}\t{-fund}\t0\t"
                              f"{-cash}\t{-(cash // 2)}\t0\t0\t{-(cash // 2)}\t{stamp}\n")
                    i += 1
            with conn.cursor().copy(
                    "COPY settlements (id, kind, institution_code, person_id, insured_region, "
                    "treating_region, cashier_account_id, idempotency_key, reverses_id, year, "
                    "total_fen, fund_fen, personal_account_fen, cash_fen, deductible_fen, "
                    "class_b_self_fen, class_c_fen, coinsurance_fen, created_at) FROM STDIN") as copy:
                copy.write(out.getvalue())
            conn.commit()
            print(f"  {schema}: settlements {i:,}/{count:,}", flush=True)
        conn.execute("SELECT setval(pg_get_serial_sequence('settlements', 'id'), "
                     "(SELECT max(id) FROM settlements))")
        conn.commit()


def flag(schema):
    """A flag on every 200th bill (a third each confirmed, dismissed, open; never a refunded
    bill, whose ids end in 50 or 00 here, so that confirmed flags do deduct)."""
    with psycopg.connect(zone_url(schema)) as conn:
        conn.execute("DELETE FROM audit_flags")
        conn.execute(
            "INSERT INTO audit_flags (settlement_id, rule, insured_region, treating_region, detail, "
            "status, decided_by, decided_at, created_at) "
            "SELECT id, 'bill_over_threshold', insured_region, treating_region, 'growth', "
            "(ARRAY['confirmed', 'dismissed', 'open'])[1 + ((id / 200) % 3)::int], "
            "CASE WHEN (id / 200) % 3 < 2 THEN 'demo-auditor' END, "
            "CASE WHEN (id / 200) % 3 < 2 THEN created_at + interval '3 days' END, created_at "
            "FROM settlements WHERE kind = 'settlement' AND id % 200 = 7")
        conn.commit()


def count(schema):
    """Each person's benefit counter for each year, as the ledger implies, with set-based SQL
    (foreign keys not checked row by row: every person named exists)."""
    with psycopg.connect(zone_url(schema)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM benefit_counters")
        conn.execute(
            "INSERT INTO benefit_counters (person_id, year, deductible_used_fen, fund_paid_fen) "
            "SELECT person_id, year, greatest(sum(deductible_fen), 0), greatest(sum(fund_fen), 0) "
            "FROM settlements GROUP BY person_id, year")
        conn.commit()


def vacuum(schema):
    with psycopg.connect(zone_url(schema), autocommit=True) as conn:
        for table in ("persons", "settlements", "audit_flags", "benefit_counters"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


# -- measuring -------------------------------------------------------------------------------

class Zone:
    """One schema's app, its cashier session and a stream of fresh codes."""

    def __init__(self, schema, persons):
        import load_bench
        from phones import login

        from backend import create_app

        os.environ.update(zone_env(schema))
        self.schema = schema
        started = int(time.time())
        self.people = load_bench.make_people(persons, started - load_bench.BACKDATE, tag=f"gr{started}")
        self.codes = load_bench.code_stream(self.people, started)
        self.app = create_app()
        self.client = self.app.test_client()
        self.headers = {"X-CSRF-Token": login(self.client, "demo-cashier")}
        self.keys = iter(range(10**9))
        self.run_tag = started
        with psycopg.connect(zone_url(schema)) as conn:
            self.sizes = conn.execute(
                "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM settlements)").fetchone()

    def healthz(self):
        assert self.client.get("/healthz").status_code == 200

    def scan(self):
        answer = self.client.post("/api/v1/verify", json={"code": next(self.codes),
                                                         "context": "hospital"}, headers=self.headers)
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]

    def settle(self, scan_id):
        import load_bench
        answer = self.client.post("/api/v1/settlements", json={"scan_id": scan_id, "lines": load_bench.BILL},
                                  headers={**self.headers,
                                           "Idempotency-Key": f"gr-{self.run_tag}-{next(self.keys)}"})
        assert answer.status_code == 201, answer.json


def backend_ticks(schema):
    """CPU ticks so far of the PostgreSQL backends connected to the growth database (the app's
    pooled connections; this query's own backend left out)."""
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (DB_NAME,))]
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total


def measured(call, count, schema):
    """(app CPU ms, PostgreSQL CPU ms) per call."""
    from profile_verify import cpu_ms

    ticks = backend_ticks(schema)
    app_ms = cpu_ms(call, count)
    db_ms = (backend_ticks(schema) - ticks) * 1000 / os.sysconf("SC_CLK_TCK") / count
    return app_ms, db_ms


def measure(args):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    for schema in ZONES:  # the kept zones follow the code's migrations (not timed)
        flask(schema, ["db", "upgrade"])
    os.environ.update(YIMA_CODE_WINDOW_STEPS="40", YIMA_VERIFY_RATE_LIMIT="1000000 per minute")
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # the access log's lines (still made)
    try:
        zones = [Zone(schema, args.persons) for schema in ZONES]
        results = {zone.schema: {"healthz": [], "verify": [], "settle": []} for zone in zones}
        scans = {zone.schema: [zone.scan() for _ in range(args.rounds * args.settles + 20)]
                 for zone in zones}
        for zone in zones:  # warm up: pools, caches, first-request work
            for _ in range(20):
                zone.healthz()
                zone.scan()
                zone.settle(scans[zone.schema].pop())
        for _ in range(args.rounds):
            for zone in zones:
                row = results[zone.schema]
                row["healthz"].append(measured(zone.healthz, args.verifies, zone.schema))
                row["verify"].append(measured(zone.scan, args.verifies, zone.schema))
                pending = scans[zone.schema]
                row["settle"].append(measured(lambda: zone.settle(pending.pop()), args.settles,
                                              zone.schema))
        clearing_times = clearing_run(zones[-1])
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    report(args, zones, results, clearing_times)


def clearing_run(zone):
    from sqlalchemy import text

    from backend.oversight.clearing import clearing
    from backend.service.extensions import db

    def best(fn):
        times = []
        for _ in range(5):
            began = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - began)
        return min(times), result

    with zone.app.app_context():
        base_s, count = best(lambda: db.session.execute(text(
            "SELECT count(*) FROM settlements WHERE created_at >= :a AND created_at < :b"),
            {"a": CLEARING_MONTH[0], "b": CLEARING_MONTH[1]}).scalar())
        report_s, result = best(lambda: clearing(db.session, start=CLEARING_MONTH[0],
                                                 end=CLEARING_MONTH[1]))
    return base_s, count, report_s, result


def report(args, zones, results, clearing_times):
    def median(pairs, which):
        return statistics.median(p[which] for p in pairs)

    small = results["g_small"]
    print(f"CPU ms per request, median of {args.rounds} rounds ({args.verifies} /healthz and "
          f"verifies, {args.settles} settlements a round); app = this process, db = its "
          "PostgreSQL backends\n")
    print("| zone | persons | settlements | /healthz app | verify app + db | ÷ /healthz | × g_small "
          "| settle app + db | ÷ /healthz | × g_small |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for zone in zones:
        row = results[zone.schema]
        yard = median(row["healthz"], 0)
        cells = [zone.schema, f"{zone.sizes[0]:,}", f"{zone.sizes[1]:,}", f"{yard:.2f}"]
        for kind in ("verify", "settle"):
            app_ms, db_ms = median(row[kind], 0), median(row[kind], 1)
            base = median(small[kind], 0) + median(small[kind], 1)
            base_ratio = base / median(small["healthz"], 0)
            ratio = (app_ms + db_ms) / yard
            cells += [f"{app_ms:.2f} + {db_ms:.2f} = {app_ms + db_ms:.2f}", f"{ratio:.2f}",
                      f"{ratio / base_ratio:.2f}"]
        print("| " + " | ".join(cells) + " |")
    print("\nper round (app + db ms): " + "; ".join(
        f"{zone.schema} verify " + ", ".join(f"{a + d:.2f}" for a, d in results[zone.schema]["verify"])
        + " settle " + ", ".join(f"{a + d:.2f}" for a, d in results[zone.schema]["settle"])
        for zone in zones))
    base_s, count, report_s, result = clearing_times
    print(f"\n| clearing, g_full, October 2026 ({count:,} settlements and refunds of "
          f"{zones[-1].sizes[1]:,}) | seconds | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: count(*) over the month | {base_s:.3f} | 1.00 |")
    print(f"| clearing report, whole zone, by institution ({len(result['rows'])} rows, "
          f"{result['totals']['deducted']:,} bills refused) | {report_s:.3f} | {report_s / base_s:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generate", action="store_true",
                        help="build (or finish building) yima_bench_growth; not timed")
    parser.add_argument("--persons", type=int, default=300, help="fresh persons with phones per zone")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--verifies", type=int, default=200, help="per round and zone")
    parser.add_argument("--settles", type=int, default=100, help="per round and zone")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.generate:
        generate()
    else:
        measure(args)


if __name__ == "__main__":
    main()
