"""Faults on servers of our own (never the machine's 5432/6379): a redis-server and a PostgreSQL
cluster (initdb/pg_ctl in a temporary folder), each on a free port, under the real app with real
crypto.

(a) Redis killed during a settle load and a ride-upload load, (b) PostgreSQL killed and restarted
during the same loads: no code pays twice, clients get 503 problem documents (never a 500), and the
same app object recovers by itself. (c) A validator's uploads cut 20 times by the server process
dying before or after the commit: once it retries, nothing is lost and nothing is charged twice.
"""
import http.client
import itertools
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

import pytest
import redis
from phones import Phone, b64url, login
from flask import request as flask_request
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from backend import create_app
from backend.accounts.hashing import hash_password
from backend.models import Account, Person, Ride, RideCharge, Settlement, WalletEntry
from backend.service.extensions import db
from backend.service.security import load_api_client

PG_BIN = "/usr/lib/postgresql/15/bin"
HERE = os.path.dirname(os.path.abspath(__file__))
BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 500},
        {"category": "drug", "coverage_class": "B", "amount_fen": 700}]
PATIENTS = 24  # phones whose ride codes the uploads use (a ride code is good from activation on)
WALLET, ACCOUNT = 10 ** 8, 10 ** 7  # every person's transit wallet and personal account at the start


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_tool(name):
    path = os.path.join(PG_BIN, name)
    return path if os.access(path, os.X_OK) else shutil.which(name)


class RedisServer:
    def __init__(self, folder):
        self.port, self.folder, self.process = free_port(), folder, None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        probe.close()

    def kill(self):
        self.process.kill()
        self.process.wait()


class PostgresCluster:
    """initdb in a temporary folder; as root, the cluster runs as the postgres user."""

    def __init__(self, folder):
        self.port, self.folder = free_port(), folder
        self.data, self.log = os.path.join(folder, "data"), os.path.join(folder, "server.log")
        self.prefix = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run(pg_tool("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-N",
                  "-E", "UTF8", "--locale=C")

    def _run(self, *args):
        subprocess.run([*self.prefix, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self):
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=60")
        self._run(pg_tool("pg_ctl"), "-D", self.data, "-l", self.log, "-o", options, "-w",
                  "-t", "30", "start")

    def kill(self):
        """An immediate stop: the postmaster and every backend die at once, like a crash."""
        self._run(pg_tool("pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop")

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture(scope="module")
def stack():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    if not (pg_tool("initdb") and pg_tool("pg_ctl")):
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_ctl) not found in {PG_BIN} or PATH")
    if os.geteuid() == 0 and not (shutil.which("runuser") and _has_user("postgres")):
        pytest.skip("running as root needs runuser and a postgres user for initdb")
    folder = tempfile.mkdtemp(prefix="yima-faults-")
    os.chmod(folder, 0o755)
    redis_server = RedisServer(folder)
    redis_server.start()
    postgres = PostgresCluster(tempfile.mkdtemp(prefix="pg-", dir=folder))
    postgres.start()
    settings = {
        "DATABASE_URL": postgres.url, "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "INSTANCE_PATH": os.path.join(folder, "instance"), "SECRET_KEY": "fault-secret",
        "ID_HASH_KEY": "fault-id-hash-key", "LOG_LEVEL": "ERROR",
        # Generous limits: the loads below are one client address and a few principals.
        "LOGIN_RATE_LIMIT": "10000 per minute", "VERIFY_RATE_LIMIT": "100000 per minute",
        "DEVICE_RATE_LIMIT": "10000 per minute",
        # A wide code window lets one phone make hundreds of distinct codes within the test;
        # a cap no one reaches makes every ride pay its fare (so a second charge would show).
        "CODE_WINDOW_STEPS": 400, "DAILY_FARE_CAP_FEN": 10 ** 9, "ARREARS_DENY_FEN": 10 ** 9,
    }
    app = create_app(settings)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            from backend.demo.seed import seed
            upgrade()
            seed(db.session, settings["ID_HASH_KEY"])
            _more_patients(PATIENTS)
        yield {"app": app, "redis": redis_server, "postgres": postgres, "settings": settings,
               "folder": folder, "phones": _activate_phones(app)}
    finally:
        with app.app_context():
            db.engine.dispose()
        redis_server.kill()
        postgres.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _more_patients(count):
    """Patient accounts for persons of the demo registry (one password hash for all), with a
    wallet and a password-free limit large enough that every ride is an ordinary charge."""
    digest = hash_password("fault-test-password")
    have = set(db.session.scalars(select(Account.person_id).where(Account.person_id.is_not(None))))
    persons = [p for p in db.session.scalars(select(Person).order_by(Person.id)) if p.id not in have]
    for index in range(len(persons), count - 2):  # the demo registry is small: add riders
        persons.append(Person(holder_id=secrets.token_urlsafe(8), national_id_hash=secrets.token_hex(16),
                              national_id_masked="310118********000X", name=f"乘客{index}",
                              phone=f"1390000{index:04d}", home_region="310118",
                              insurance_class="resident"))
        db.session.add(persons[-1])
    db.session.flush()
    for person in persons[:count - 2]:
        db.session.add(Account(login=f"fault-{person.id}", password_hash=digest, role="patient",
                               person_id=person.id))
    for person in db.session.scalars(select(Person)):
        person.transit_wallet_fen, person.password_free_limit_fen = WALLET, 10 ** 6
        person.personal_account_fen = ACCOUNT
    db.session.commit()


def _activate_phones(app):
    logins = ["demo-patient", "demo-family"]
    with app.app_context():
        logins += list(db.session.scalars(select(Account.login).where(Account.login.like("fault-%"))
                                          .order_by(Account.id)))
    phones = []
    for name in logins:
        client = app.test_client()
        phone = Phone()
        password = "fault-test-password" if name.startswith("fault-") else None
        csrf = login(client, name, password) if password else login(client, name)
        assert phone.activate(client, csrf).status_code == 201
        phone.first_step, phone.ride_steps = int(time.time()) // 30, itertools.count(0)
        phone.med_steps = itertools.count(-390)
        phone.lock = threading.Lock()
        phones.append(phone)
    return phones


def next_ride_code(phones, used):
    """A ride code and its time not used yet: the earliest unused step of some phone that the
    server accepts (from the credential's issue to a few minutes ahead)."""
    now = int(time.time())
    for phone in phones:
        with phone.lock:
            offset = next(phone.ride_steps)
            at = (phone.first_step + offset) * 30 + 15
            if at <= now + 240:
                used.append((phone, at))
                return phone.code("ss", now=at), at
            phone.ride_steps = itertools.count(offset)  # this phone's next code is not due yet
    raise AssertionError("ran out of ride codes: activate more phones")


# --- loads ---------------------------------------------------------------------------------------


class Load:
    """Worker threads that settle bills and upload rides through the test client, retrying as a
    real client would; every answer is kept for the assertions."""

    def __init__(self, app, phones):
        self.app, self.phones = app, phones
        self.answers, self.settled, self.rides_sent, self.errors = [], {}, {}, []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ride_codes_used = []

    def note(self, kind, response):
        record = (time.monotonic(), kind, response.status_code,
                  response.get_json(silent=True) or {}, response.mimetype)
        with self.lock:
            self.answers.append(record)
        return response

    def _retrying(self, kind, call, deadline):
        while time.monotonic() < deadline:
            response = self.note(kind, call())
            if response.status_code != 503:
                return response
            time.sleep(0.05)
        raise AssertionError(f"{kind}: still 503 after the fault was over")

    def settle_worker(self, phone, cashier):
        client = self.app.test_client()
        csrf = self._retrying("login", lambda: client.post(
            "/api/v1/auth/login", json={"login": cashier, "password": "yima-demo-2026"}),
            time.monotonic() + 20).json["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        while not self.stop.is_set():
            with phone.lock:
                code = phone.code("med", now=time.time() + 30 * next(phone.med_steps))
            key = "fault-" + uuid.uuid4().hex[:16]
            deadline = time.monotonic() + 30  # an answer for this bill, whatever happens
            settled = None
            while settled is None:
                scan = self._retrying("verify", lambda: client.post(
                    "/api/v1/verify", json={"code": code, "context": "hospital"}, headers=headers),
                    deadline)
                if scan.status_code == 409 and scan.json["code"] == "code_replayed":
                    break  # spent by a scan whose answer was lost: nothing was paid with it
                assert scan.status_code == 200, scan.json
                answer = self._retrying("settle", lambda: client.post(
                    "/api/v1/settlements", json={"scan_id": scan.json["scan_id"], "lines": BILL},
                    headers={**headers, "Idempotency-Key": key}), deadline)
                if answer.status_code == 409 and answer.json["code"] == "scan_expired":
                    continue  # Redis came back empty: scan the same code again, same key
                assert answer.status_code in (200, 201), answer.json
                settled = answer.json["settlement"]["id"]
                with self.lock:
                    assert self.settled.setdefault(key, settled) == settled
            time.sleep(0.01)

    def ride_worker(self, auth):
        client = self.app.test_client()
        while not self.stop.is_set():
            with self.lock:
                batch = [next_ride_code(self.phones, self.ride_codes_used) for _ in range(2)]
            rides = [{"code": code, "ridden_at": at} for code, at in batch]
            answer = self._retrying("rides", lambda: client.post(
                "/api/v1/rides/batch", json={"rides": rides}, headers=auth),
                time.monotonic() + 30)
            assert answer.status_code == 200, answer.json
            for ride, result in zip(rides, answer.json["results"]):
                assert result["status"] in ("charged", "duplicate"), result
                with self.lock:
                    self.rides_sent[(ride["code"], ride["ridden_at"])] = result["status"]
            time.sleep(0.2)

    def run(self, workers, fault, recover, *, before=0.8, down=1.5, after=2.0):
        threads = [threading.Thread(target=self._guard, args=w) for w in workers]
        for thread in threads:
            thread.start()
        time.sleep(before)
        fault()
        self.fault_at = time.monotonic()
        time.sleep(down)
        recover()
        self.recovered_at = time.monotonic()
        time.sleep(after)
        self.stop.set()
        for thread in threads:
            thread.join(60)
        assert not self.errors, self.errors[0]

    def _guard(self, target, *args):
        try:
            target(*args)
        except BaseException:  # noqa: BLE001  (reported by run())
            self.errors.append(traceback.format_exc())


def enrol_validator(app):
    admin = app.test_client()
    csrf = login(admin, "demo-admin")
    registered = admin.post("/api/v1/admin/validators", json={"line": "ZONE6", "label": "faults"},
                            headers={"X-CSRF-Token": csrf})
    device = Phone()
    code = registered.json["enrol_code"]
    proof = b64url(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))
    enrolled = app.test_client().post("/api/v1/validators/enrol", json={
        "enrol_code": code, "public_jwk": device.jwk(), "signature": proof})
    assert enrolled.status_code == 201, enrolled.json
    return {"Authorization": f"Bearer {enrolled.json['token']}"}, registered.json["id"]


def assert_clean_answers(load, *, expect_503_for):
    kinds_503 = set()
    for _, kind, status, body, mimetype in load.answers:
        assert status < 500 or status == 503, (kind, status, body)
        if status == 503:
            assert mimetype == "application/problem+json" and body["code"] == "service_unavailable"
            assert body["detail"] and "Traceback" not in json.dumps(body)
            kinds_503.add(kind)
    # Which calls landed in the outage is timing: each group needs one of its kinds refused.
    assert all(group & kinds_503 for group in expect_503_for), kinds_503
    # Recovered by itself: every kind of call succeeded again after the service came back.
    later = {kind for at, kind, status, _, _ in load.answers
             if at > load.recovered_at + 0.5 and status < 400}
    assert {"verify", "settle", "rides"} <= later, later


def assert_nothing_paid_twice(app, settled=None):
    """Money moved exactly as the stored settlements and rides say, each of them stored once.
    Every wallet started at WALLET and every personal account at ACCOUNT (``_more_patients``)."""
    with app.app_context():
        if settled is not None:  # every bill a client saw settled is there, once
            found = dict(db.session.execute(select(Settlement.idempotency_key, Settlement.id)
                                            .where(Settlement.idempotency_key.in_(list(settled)))
                                            ).all())
            assert found == settled
        twice = db.session.execute(select(Settlement.credential_jti, Settlement.code_step)
                                   .where(Settlement.kind == "settlement")
                                   .group_by(Settlement.credential_jti, Settlement.code_step)
                                   .having(func.count() > 1)).all()
        assert twice == []
        rides = db.session.scalars(select(Ride)).all()
        assert len({r.natural_id for r in rides}) == len(rides)
        assert db.session.scalar(select(func.count()).select_from(RideCharge)) == \
            len({(r.credential_jti, r.code_step) for r in rides})
        assert all(r.fare_fen == 400 for r in rides)  # no cap reached: each ride paid its fare
        paid = _sums(Settlement.person_id, Settlement.personal_account_fen)
        fares = _sums(Ride.person_id, Ride.fare_fen)
        debits = _sums(WalletEntry.person_id, WalletEntry.amount_fen, WalletEntry.kind == "ride")
        for person in db.session.scalars(select(Person)):
            assert person.personal_account_fen + paid.get(person.id, 0) == ACCOUNT
            assert person.transit_wallet_fen + fares.get(person.id, 0) == WALLET
            assert -debits.get(person.id, 0) == fares.get(person.id, 0)


def _sums(group, amount, *where):
    return dict(db.session.execute(select(group, func.sum(amount)).where(*where).group_by(group)
                                   ).all())


def run_fault(stack, fault, recover, expect_503_for):
    app, phones = stack["app"], stack["phones"]
    load = Load(app, phones[2:])
    auth, _ = stack.setdefault("validator", enrol_validator(app))
    workers = [(load.settle_worker, phones[0], "demo-cashier"),
               (load.settle_worker, phones[0], "demo-cashier-wj"),
               (load.settle_worker, phones[1], "demo-cashier-js"),
               (load.ride_worker, auth)]
    load.run(workers, fault, recover)
    assert_clean_answers(load, expect_503_for=expect_503_for)
    assert len(load.settled) >= 6 and len(load.rides_sent) >= 6
    assert_nothing_paid_twice(app, load.settled)
    return load


def test_redis_killed_during_settle_and_ride_loads(stack):
    redis_server = stack["redis"]
    load = run_fault(stack, redis_server.kill, redis_server.start, [{"verify", "settle"}])
    # Rides need no Redis: the validator's uploads went on while it was down.
    during = [status for at, kind, status, _, _ in load.answers
              if kind == "rides" and load.fault_at + 0.2 < at < load.recovered_at]
    assert 200 in during


def test_postgres_restarted_during_settle_and_ride_loads(stack):
    postgres = stack["postgres"]
    run_fault(stack, postgres.kill, postgres.start, [{"verify", "settle"}, {"rides"}])


def test_a_connection_lost_mid_transaction_does_not_escape_the_request(stack):
    """Regression: PostgreSQL dying while a request's transaction was open made the session's
    rollback at teardown raise out of the app, after the answer was made (a 500 from the WSGI
    server). The teardown now drops the dead connection."""
    app, postgres = stack["app"], stack["postgres"]
    with app.app_context():
        db.session.execute(select(func.count()).select_from(Person))  # a transaction is open
        postgres.kill()
        postgres.start()
    client = app.test_client()  # and the next request finds a fresh connection
    assert client.post("/api/v1/auth/login", json={"login": "demo-cashier",
                                                   "password": "yima-demo-2026"}).status_code == 200


def test_a_bearer_load_failed_under_the_rate_limiter_leaves_the_session_usable(stack):
    """CI: PostgreSQL restarted while the rate limiter's filter loaded a validator (its error
    swallowed by the limiter), and the CSRF check's second load met the transaction nobody had
    rolled back: a 500 instead of a 503 or an answer. The loader now rolls back first."""
    app, postgres = stack["app"], stack["postgres"]
    auth, _ = stack.setdefault("validator", enrol_validator(app))
    with app.test_request_context("/api/v1/rides/batch", method="POST", headers=auth):
        db.session.execute(select(func.count()).select_from(Person))  # a transaction is open
        postgres.kill()
        postgres.start()
        with pytest.raises(DBAPIError):  # what the limiter swallows
            load_api_client(flask_request)
        validator = load_api_client(flask_request)  # the next asker: not PendingRollbackError
        assert validator is not None and validator.role == "validator"


# --- (c) a validator whose uploads are cut -------------------------------------------------------


class FaultServers:
    """The forking server factory of fault_server.py, and the servers it makes."""

    def __init__(self, settings, folder):
        self.log = open(os.path.join(folder, "fault-servers.log"), "w")  # noqa: SIM115
        self.factory = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fault_server.py"), json.dumps(settings)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            cwd=os.path.dirname(HERE), env={**os.environ, "PYTHONPATH": os.path.dirname(HERE)})

    def serve(self, fault="none", n=0):
        port = free_port()
        self.factory.stdin.write(f"serve {port} {fault} {n}\n")
        self.factory.stdin.flush()
        pid = int(self.factory.stdout.readline())
        for _ in range(500):
            try:
                if request("GET", port, "/healthz")[0] == 200:
                    return port, pid
            except OSError:
                time.sleep(0.01)
        raise AssertionError("fault server did not start")

    def close(self):
        self.factory.stdin.close()
        self.factory.wait(10)
        self.factory.stdout.close()
        self.log.close()


def request(method, port, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body),
                           headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def gone(pid):
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def test_a_validator_cut_off_twenty_times_loses_nothing_and_pays_once(stack):
    app, phones = stack["app"], stack["phones"]
    servers = FaultServers(stack["settings"], stack["folder"])
    auth, validator_id = enrol_validator(app)
    used, outcomes = [], {}
    try:
        good_port, good_pid = servers.serve()
        for round_no in range(20):
            fault = ("before_commit", "after_commit")[round_no % 2]
            cut_at = round_no % 3 + 1  # the first, second or third batch of the outbox
            outbox = [[next_ride_code(phones[2:], used) for _ in range(2)] for _ in range(3)]
            port, pid = servers.serve(fault, cut_at)
            sent = 0
            with pytest.raises((ConnectionError, http.client.HTTPException)):
                for batch in outbox:
                    status, body = request("POST", port, "/api/v1/rides/batch",
                                           {"rides": [{"code": c, "ridden_at": at} for c, at in batch]},
                                           auth)
                    assert status == 200 and {r["status"] for r in body["results"]} == {"charged"}
                    outcomes.update({ride: "charged" for ride in batch})
                    sent += 1
            assert sent == cut_at - 1 and gone(pid)
            # The kiosk keeps every ride not answered for, and sends them all again.
            for index, batch in enumerate(outbox[sent:]):
                status, body = request("POST", good_port, "/api/v1/rides/batch",
                                       {"rides": [{"code": c, "ridden_at": at} for c, at in batch]},
                                       auth)
                assert status == 200, body
                statuses = [r["status"] for r in body["results"]]
                expected = "duplicate" if index == 0 and fault == "after_commit" else "charged"
                assert statuses == [expected] * len(batch), (round_no, fault, statuses)
                outcomes.update({ride: result for ride, result in zip(batch, statuses)})
        os.kill(good_pid, 9)
    finally:
        servers.close()
    assert len(outcomes) == 20 * 3 * 2
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Ride)
                                   .where(Ride.validator_id == validator_id))
    assert stored == len(outcomes)  # nothing lost, nothing stored twice
    assert_nothing_paid_twice(app)
