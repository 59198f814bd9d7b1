"""Load on the whole stack: gunicorn (gunicorn.conf.py, its workers) on PostgreSQL and Redis,
driven over HTTP by wrk with a Lua script that sends every pre-made request once.

  make bench-load                      # installs Debian's wrk if missing, then runs this
  .venv/bin/python bench/load_bench.py [--persons 1500] [--duration 10] [--connections 16]

Measured in one run, against the same gunicorn config:
- a bare Flask JSON endpoint (bench/load/bare_app.py): the yardstick;
- POST /api/v1/verify as a hospital cashier, each request a fresh valid code (goal: ≥ 0.5 of the
  bare endpoint's throughput), then its p99 latency with the load paced to about 80% of that peak;
- POST /api/v1/settlements (each a scan made beforehand), and POST /api/v1/rides/batch (batches of
  fresh ride codes from enrolled validators): settles/s and rides/s.

Codes are single-use online, so every request carries its own: persons are inserted with a phone
key and credentials each (as bench/ingest_bench.py does), and the server is started with
YIMA_CODE_WINDOW_STEPS=40 so that codes made for the steps around the start stay valid for the
whole run (the checks per code are the same at any window). The verify rate limit is lifted
(YIMA_VERIFY_RATE_LIMIT) since one cashier session sends everything. Its own database
(yima_bench_h6_load) and Redis db (9); the server log goes to bench/out/load/.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
BIN = os.path.dirname(sys.executable)
DB_URL = "postgresql://postgres@127.0.0.1:5432/yima_bench_h6_load"
REDIS_URL = "redis://127.0.0.1:6379/9"
OUT = os.path.join(ROOT, "bench", "out", "load")
INSTANCE = os.path.join(OUT, "instance")
LUA = os.path.join(ROOT, "bench", "load", "feed.lua")
WINDOW = 40
BACKDATE = 6 * 3600  # credentials issued this long before the run, so rides can be in the past
METRICS_TOKEN = "load-bench-metrics"
BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_000},
        {"category": "examination", "coverage_class": "A", "amount_fen": 18_000},
        {"category": "drug", "coverage_class": "B", "amount_fen": 10_000},
        {"category": "material", "coverage_class": "C", "amount_fen": 5_000}]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=1500)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--ride-batch", type=int, default=100)
    parser.add_argument("--rides-only", action="store_true",
                        help="only the bare endpoint and the ride batches (issue 21 part 3), each "
                             "measured under /tmp/yima-bench.lock")
    args = parser.parse_args()
    if args.rides_only:  # its own database, Redis db and output: a whole run may go on beside it
        global DB_URL, REDIS_URL, OUT, INSTANCE
        DB_URL, REDIS_URL = DB_URL.rsplit("/", 1)[0] + "/yima_bench_h1_rides", "redis://127.0.0.1:6379/3"
        OUT = os.path.join(ROOT, "bench", "out", "load-rides")
        INSTANCE = os.path.join(OUT, "instance")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: `make bench-load` installs it (apt-get install wrk)")
    env = prepare()
    started = int(time.time())
    people = make_people(args.persons, started - BACKDATE)
    if args.rides_only:
        return rides_only(env, people, started, args)
    codes = code_stream(people, started)
    wrk = Wrk(args)
    results = {}

    with Server(env, "bare_app:app", ["--pythonpath", os.path.join(ROOT, "bench", "load")]) as bare:
        lines = [f"/bare\t-\t{json.dumps({'code': 'YM1' + 'A' * 297, 'context': 'hospital'})}"]
        results["bare"] = wrk.run(bare, "bare", lines * 64, label="bare Flask JSON endpoint",
                                  reusable=True)
    workers = Server.last_workers

    with Server(env, "wsgi:app") as app:
        cookie, csrf = login(app, "demo-cashier")
        cashier = [f"Cookie: {cookie}", f"X-CSRF-Token: {csrf}"]

        def verify_lines(n):
            return [f"/api/v1/verify\t-\t{json.dumps({'code': next(codes), 'context': 'hospital'})}"
                    for _ in range(n)]
        # A short probe sizes the runs (every request needs a code of its own).
        probe = wrk.run(app, "verify-probe", verify_lines(min(int(results["bare"]["rps"] * 3), 6000)),
                        headers=cashier, duration=3)
        needed = int(probe["rps"] * args.duration * 2.5) + 500
        results["verify"] = wrk.run(app, "verify", verify_lines(needed), headers=cashier,
                                    label="POST /api/v1/verify (hospital)")
        peak = results["verify"]["rps"]
        results["verify80"] = paced(wrk, app, verify_lines, cashier, peak, args)

        tokens = enrol_validators(app, 4, started)
        bus_codes = code_stream(people, started, "ss")
        bus_lines = [f"/api/v1/verify\t-\t{json.dumps({'code': next(bus_codes), 'context': 'bus'})}"
                     for _ in range(min(needed * 3, 40_000))]
        results["verify_bus"] = wrk.run(app, "verify-bus", bus_lines,
                                        headers=[f"Authorization: Bearer {tokens[0]}"],
                                        label="POST /api/v1/verify (bus, validator token)")

        scans = make_scans(app, cookie, csrf, codes, int(peak * args.duration * 2) + 300)
        settle_lines = [f"/api/v1/settlements\tIdempotency-Key: load-{i:06d}\t"
                        + json.dumps({"scan_id": scan, "lines": BILL}) for i, scan in enumerate(scans)]
        results["settle"] = wrk.run(app, "settle", settle_lines, headers=cashier,
                                    label="POST /api/v1/settlements")

        batches = ride_batches(people, tokens, started, args.ride_batch)
        results["rides"] = wrk.run(app, "rides", batches, label=f"POST /api/v1/rides/batch "
                                   f"({args.ride_batch} rides)")
        metrics = scrape(app)

    report(args, results, workers, metrics)


def rides_only(env, people, started, args):
    """The bare endpoint, then the ride batches, each wrk run holding the shared benchmark lock
    (making the codes and enrolling the validators does not)."""
    import fcntl

    wrk, results = Wrk(args), {}
    lock = open("/tmp/yima-bench.lock", "w")
    with Server(env, "bare_app:app", ["--pythonpath", os.path.join(ROOT, "bench", "load")]) as bare:
        lines = [f"/bare\t-\t{json.dumps({'code': 'YM1' + 'A' * 297, 'context': 'hospital'})}"]
        fcntl.flock(lock, fcntl.LOCK_EX)
        results["bare"] = wrk.run(bare, "bare", lines * 64, label="bare Flask JSON endpoint",
                                  reusable=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    workers = Server.last_workers
    with Server(env, "wsgi:app") as app:
        batches = ride_batches(people, enrol_validators(app, 4, started), started, args.ride_batch)
        fcntl.flock(lock, fcntl.LOCK_EX)
        results["rides"] = wrk.run(app, "rides", batches, label=f"POST /api/v1/rides/batch "
                                   f"({args.ride_batch} rides)")
        fcntl.flock(lock, fcntl.LOCK_UN)
        metrics = scrape(app)
    bare, rides = results["bare"], results["rides"]
    print(f"gunicorn.conf.py: {workers} workers × {os.environ.get('GUNICORN_THREADS', '4')} threads "
          f"(gthread); wrk -t{args.threads} -c{args.connections}, {args.duration} s per run; "
          f"{args.persons} persons; load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| run | requests | req/s | p50 ms | p99 ms | non-2xx | CPU ms/request: app + PostgreSQL |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in (bare, rides):
        print(f"| {r['label']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['non2xx']} | {r['app_cpu_ms']:.2f} + {r['db_cpu_ms']:.2f} |")
        if r.get("note") or r.get("socket_errors"):
            print(f"|   ↳ {r.get('note', '')} {r.get('socket_errors', '')} | | | | | | |")
    per_ride = (rides["app_cpu_ms"] + rides["db_cpu_ms"]) / args.ride_batch
    print(f"\nrides/s = {rides['rps'] * args.ride_batch:,.0f} ({rides['rps']:,.1f} batches/s of "
          f"{args.ride_batch}); rides/s ÷ bare req/s = {rides['rps'] * args.ride_batch / bare['rps']:.2f}; "
          f"server CPU per ride {per_ride:.3f} ms = "
          f"{per_ride / (bare['app_cpu_ms'] + bare['db_cpu_ms']):.2f} × a bare request's")
    print("/metrics afterwards:", json.dumps(metrics, ensure_ascii=False))


# -- preparing -------------------------------------------------------------------------------

def prepare():
    base, name = DB_URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(INSTANCE)
    env = dict(os.environ, DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL, YIMA_INSTANCE_PATH=INSTANCE,
               YIMA_CODE_WINDOW_STEPS=str(WINDOW), YIMA_VERIFY_RATE_LIMIT="1000000 per minute",
               YIMA_METRICS_TOKEN=METRICS_TOKEN)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "YIMA_INSTANCE_PATH")})
    # The issuer key must be older than the back-dated credentials: create the ring first.
    from backend import create_app
    from backend.service.issuer import locked_ring

    with locked_ring(create_app(), now=int(time.time()) - BACKDATE - 3600):
        pass
    flask = [os.path.join(BIN, "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def make_people(count, issued_at, tag="load"):
    """Insured persons with a funded account and wallet, one phone each, credentials issued."""
    from phones import Phone
    from sqlalchemy import insert, select

    from backend import create_app
    from backend.models import Account, Device, Person
    from backend.patients.credentials import _issue
    from backend.service.extensions import db
    from backend.service.issuer import current_ring
    from backend.tokens.credential import DeviceKey, new_pseudonym

    app = create_app()
    people = []
    with app.app_context():
        ring = current_ring(app)
        account = db.session.scalars(select(Account).filter_by(login="demo-patient")).one()
        rows = [{"holder_id": new_pseudonym(), "national_id_hash": f"{tag}{i:0{32 - len(tag)}d}",
                 "national_id_masked": "3101**********0000", "name": "负载", "phone": "13900000000",
                 "home_region": ("310118", "320509", "330421")[i % 3], "insurance_class": "employee",
                 "personal_account_fen": 100_000_000, "transit_wallet_fen": 1_000_000,
                 "password_free_limit_fen": 2_000} for i in range(count)]
        ids = db.session.scalars(insert(Person).returning(Person.id), rows).all()
        for person_id in ids:
            phone = Phone()
            device = Device(person_id=person_id, account_id=account.id, alg="Ed25519",
                            public_jwk="{}", label="load")
            db.session.add(device)
            db.session.flush()
            credentials = _issue(db.session, device, db.session.get(Person, person_id),
                                 DeviceKey.from_jwk(phone.jwk()), ring, issued_at, 7 * 86_400)
            people.append((phone, credentials))
        db.session.commit()
    return people


def code_stream(people, now, kind="med"):
    """Fresh codes, never the same (credential, step) twice: steps around ``now``."""
    from backend.tokens.code import make_code

    step = now // 30
    for offset in [0] + [sign * k for k in range(1, WINDOW // 2) for sign in (1, -1)]:
        for phone, credentials in people:
            yield make_code(credentials[kind], step + offset, phone.sign)
    raise RuntimeError("out of codes: raise --persons")


def make_scans(app, cookie, csrf, codes, count):
    """Codes scanned at the counter beforehand (each settle names one scan)."""
    bodies = [json.dumps({"code": next(codes), "context": "hospital"}) for _ in range(count)]

    def scan(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
        ids = []
        for body in chunk:
            conn.request("POST", "/api/v1/verify", body, {"Content-Type": "application/json",
                                                          "Cookie": cookie, "X-CSRF-Token": csrf})
            answer = conn.getresponse()
            ids.append(json.loads(answer.read())["scan_id"])
        return ids
    with ThreadPoolExecutor(4) as pool:
        return [i for ids in pool.map(scan, [bodies[k::4] for k in range(4)]) for i in ids]


def enrol_validators(app, count, now):
    """Validators registered in the database, enrolled through the API with their own keys."""
    import base64

    from phones import Phone

    from backend import create_app
    from backend.service.extensions import db
    from backend.transit import validators

    flask_app = create_app()
    tokens = []
    for k in range(count):
        with flask_app.app_context():
            validator, code = validators.register_validator(db.session, line_code="ZONE6",
                                                         label=f"load {k}", created_by="bench", now=now)
            db.session.commit()
        device = Phone()
        proof = base64.urlsafe_b64encode(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))
        status, body = post(app, "/api/v1/validators/enrol", {
            "enrol_code": code, "public_jwk": device.jwk(), "signature": proof.rstrip(b"=").decode()})
        assert status == 201, body
        tokens.append(body["token"])
    return tokens


def ride_batches(people, tokens, now, size):
    """Every person's rides over the back-dated hours, one code per step, shuffled into batches."""
    from backend.tokens.code import make_code

    first, last = (now - BACKDATE) // 30 + 1, now // 30 - WINDOW // 2 - 5  # not the verify steps
    rides = []
    for phone, credentials in people:
        for step in random.sample(range(first, last), 80):
            rides.append({"code": make_code(credentials["ss"], step, phone.sign),
                          "ridden_at": step * 30 + random.randrange(30)})
    random.shuffle(rides)
    return [f"/api/v1/rides/batch\tAuthorization: Bearer {tokens[i % len(tokens)]}\t"
            + json.dumps({"rides": rides[k:k + size]})
            for i, k in enumerate(range(0, len(rides) - size + 1, size))]


# -- serving and driving ---------------------------------------------------------------------

class Server:
    last_workers = None

    def __init__(self, env, app, extra=()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env, PORT=str(self.port))
        self.command = [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", *extra, app]
        self.log_path = os.path.join(OUT, app.split(":")[0] + ".log")

    def __enter__(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)  # every worker booted
        import psutil
        Server.last_workers = len(psutil.Process(self.process.pid).children())
        return self

    def cpu_seconds(self):
        """CPU used so far by this server's workers and by PostgreSQL's backends for the bench
        database: CPU per request is steadier than requests/s on a shared machine."""
        import psutil

        def used(process):
            try:
                times = process.cpu_times()
                return times.user + times.system
            except psutil.NoSuchProcess:
                return 0.0
        workers = sum(used(p) for p in psutil.Process(self.process.pid).children())
        database = sum(used(p) for p in psutil.process_iter(["cmdline"])
                       if any(DB_URL.rsplit("/", 1)[1] in part
                              for part in (p.info["cmdline"] or [])))
        return workers, database

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


class Wrk:
    def __init__(self, args):
        self.args = args

    def run(self, server, name, lines, headers=(), delay_ms=0, duration=None, label="", reusable=False):
        url = server.url
        path = os.path.join(OUT, f"{name}.lines")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        command = ["wrk", "-t", str(self.args.threads), "-c", str(self.args.connections),
                   "-d", f"{duration or self.args.duration}s", "--timeout", "10s", "--latency",
                   "-s", LUA]
        for header in headers:
            command += ["-H", header]
        command += [url, "--", path, str(self.args.threads), str(delay_ms)]
        cpu_before = server.cpu_seconds()
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        cpu_after = server.cpu_seconds()
        with open(os.path.join(OUT, f"{name}.wrk.txt"), "a") as f:
            f.write(" ".join(command) + "\n" + output + "\n")
        result = parse_wrk(output)
        result.update(label=label, lines=len(lines),
                      app_cpu_ms=(cpu_after[0] - cpu_before[0]) * 1000 / max(result["requests"], 1),
                      db_cpu_ms=(cpu_after[1] - cpu_before[1]) * 1000 / max(result["requests"], 1))
        repeated = int(re.search(r"repeated: (\d+)", output)[1])
        if repeated and not reusable:
            result["note"] = f"{repeated} requests repeated a line (a thread ran out of lines)"
        return result


def parse_wrk(text):
    def ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text).groups()[:2]
    percentiles = {int(p): ms(v, u) for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$",
                                                                 text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {"requests": int(requests), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text)[1]),
            "p50": percentiles.get(50), "p99": percentiles.get(99),
            "non2xx": int(errors[1]) if errors else 0,
            "socket_errors": socket_errors[1] if socket_errors else ""}


def paced(wrk, server, make_lines, headers, peak, args):
    """The same request at about 80% of ``peak``: each connection pauses between requests; the
    pause is tuned on short runs until the rate lands near the target."""
    target = 0.8 * peak
    per_connection = 1000 * args.connections / target  # ms per request and connection
    delay = max(1, int(per_connection * 0.6))
    for _ in range(3):
        probe = wrk.run(server, "verify80-probe", make_lines(int(target * 5 * 2) + 200), headers,
                        delay_ms=delay, duration=5)
        if abs(probe["rps"] / target - 1) < 0.06:
            break
        cycle = 1000 * args.connections / probe["rps"]  # what one request took, pause included
        delay = max(0, int(round(delay + (per_connection - cycle))))
    result = wrk.run(server, "verify80", make_lines(int(target * args.duration * 2) + 200), headers,
                     delay_ms=delay, label=f"POST /api/v1/verify at ~80% of peak (pause {delay} ms)")
    result["delay_ms"] = delay
    return result


# -- HTTP helpers ----------------------------------------------------------------------------

def post(app, path, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    answer = conn.getresponse()
    data = answer.read()
    cookie = answer.getheader("Set-Cookie", "")
    conn.close()
    return answer.status, json.loads(data) | ({"_cookie": cookie} if cookie else {})


def login(app, name):
    from backend.demo.data import DEMO_PASSWORD

    status, body = post(app, "/api/v1/auth/login", {"login": name, "password": DEMO_PASSWORD})
    assert status == 200, body
    return body["_cookie"].split(";", 1)[0], body["csrf_token"]


def scrape(app):
    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = conn.getresponse().read().decode()
    wanted = {"yima_verify_outcomes_total", "yima_settlements_total", "yima_rides_ingested_total"}
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                label = ",".join(v for v in sample.labels.values() if v)
                found[f"{sample.name}{{{label}}}"] = int(sample.value)
    return found


# -- report ----------------------------------------------------------------------------------

def report(args, results, workers, metrics):
    bare = results["bare"]["rps"]
    print(f"gunicorn.conf.py: {workers} workers × {os.environ.get('GUNICORN_THREADS', '4')} threads "
          f"(gthread); wrk -t{args.threads} -c{args.connections}, {args.duration} s per run; "
          f"{args.persons} persons; PostgreSQL + Redis on this machine ({os.cpu_count()} cores, "
          f"shared with wrk); load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| run | requests | req/s | p50 ms | p99 ms | non-2xx | ratio to bare | CPU ms/request: app + PostgreSQL |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in ("bare", "verify", "verify80", "verify_bus", "settle", "rides"):
        r = results[key]
        print(f"| {r['label']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['non2xx']} | {r['rps'] / bare:.2f} | "
              f"{r['app_cpu_ms']:.2f} + {r['db_cpu_ms']:.2f} |")
        if r.get("note") or r.get("socket_errors"):
            print(f"|   ↳ {r.get('note', '')} {r.get('socket_errors', '')} | | | | | | | |")
    verify = results["verify"]["rps"]
    print(f"\nverify / bare = {verify / bare:.2f} (goal ≥ 0.5); at 80% of peak: "
          f"{results['verify80']['rps'] / verify:.2f} of peak, p99 {results['verify80']['p99']:.1f} ms "
          f"(p99 at peak {results['verify']['p99']:.1f} ms)")
    cpu = {key: results[key]["app_cpu_ms"] + results[key]["db_cpu_ms"] for key in results}
    print(f"server CPU per request (app + PostgreSQL): bare {cpu['bare']:.2f} ms, verify "
          f"{cpu['verify']:.2f} ms: bare / verify = {cpu['bare'] / cpu['verify']:.2f} "
          f"(the throughput ratio if the CPU were the server's alone)")
    print(f"settles/s = {results['settle']['rps']:,.0f} ({results['settle']['rps'] / verify:.2f} of verify); "
          f"rides/s = {results['rides']['rps'] * args.ride_batch:,.0f} "
          f"({results['rides']['rps']:,.1f} batches/s of {args.ride_batch})")
    print("/metrics afterwards:", json.dumps(metrics, ensure_ascii=False))


if __name__ == "__main__":
    main()
