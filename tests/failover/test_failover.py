"""Past one machine, failed over under load (issue 20; `make test-failover`, docs/deployment.md).

On ports and in a folder of its own: a Redis master, a replica and three sentinels; a PostgreSQL
primary with a synchronous streaming standby; two gunicorn instances of the app sharing them
(REDIS_URL=redis+sentinel://..., DATABASE_URL naming both PostgreSQL servers with
target_session_attrs=read-write, DATABASE_READ_URL preferring the standby for the reports,
YIMA_DB_SYNCHRONOUS_COMMIT=remote_apply). Cashiers settle, patients top up and a validator uploads
ride batches through both instances while (a) the Redis master is killed (SIGKILL) and the
sentinels promote the replica, then (b) the PostgreSQL primary crashes (immediate stop) and the
standby is promoted. Clients behave as real ones: the same Idempotency-Key or batch again after a
503 or a lost connection, a new scan or the patient's next code when the server says the scan is
gone, a new login when the session is.

Afterwards every answer a client saw is in the database exactly once, no code paid twice, no ride
lost or charged twice, and every balance equals its ledger; the only 5xx answers were 503 problem
documents, all inside a failover window. The windows and the figures are printed."""
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

import psycopg
import pytest
from loads import (TOP_UP_FEN, Cashier, Http, Patient, ReadinessProbe, Record, RideCodes,
                   Validator)
from phones import Phone, b64url, login
from servers import (REPO, AppInstance, PostgresPair, Processes, RedisNode,
                     RedisSentinelGroup, missing_tools, wait_until)
from sqlalchemy import func, select

from backend import create_app
from backend.accounts.hashing import hash_password
from backend.demo.data import DEMO_PASSWORD
from backend.models import (Account, PaymentClaim, Person, Ride, RideCharge, Settlement,
                            WalletEntry)
from backend.service.config import from_environment
from backend.service.extensions import db
from backend.service.issuer import current_ring

PATIENTS = 30   # phones whose ride codes the validator uploads
WALLET, ACCOUNT = 10 ** 8, 10 ** 7  # every person's ride wallet and personal account at the start
PASSWORD = "failover-test-password"
SECRET_KEY, ID_HASH_KEY = "failover-secret-key", "failover-id-hash-key"
LOAD_BEFORE, LOAD_BETWEEN, LOAD_AFTER = 4, 4, 5  # seconds of load around the faults
RECOVERY_LIMIT = 60  # a failover that takes longer fails the test
SLACK = 5  # a 503 sent up to this long after an instance was ready again still counts as the fault's


@pytest.fixture(scope="module")
def zone():
    missing = missing_tools()
    if missing:
        pytest.skip("the failover test needs " + ", ".join(missing))
    folder = tempfile.mkdtemp(prefix="yima-failover-")
    os.chmod(folder, 0o755)
    processes = Processes(folder)
    instances, app = [], None
    try:
        redis_group = RedisSentinelGroup(processes)
        redis_group.start()
        postgres = PostgresPair(processes)
        postgres.start()
        primary, standby = postgres.primary, postgres.standby
        urls = {
            "DATABASE_URL": postgres.url(order=[primary, standby], attrs="read-write"),
            "DATABASE_READ_URL": postgres.url(order=[standby, primary], attrs="prefer-standby")
            + "&application_name=yima-reports",
            "REDIS_URL": redis_group.url,
        }
        env = _app_environment(folder, urls)
        settings = {**urls, "SECRET_KEY": SECRET_KEY, "ID_HASH_KEY": ID_HASH_KEY,
                    "KEYS_DIR": env["YIMA_KEYS_DIR"], "LOG_LEVEL": "ERROR",
                    "INSTANCE_PATH": os.path.join(folder, "checker"),
                    "DB_SYNCHRONOUS_COMMIT": "remote_apply"}
        _cli(processes, env, "db", "upgrade")
        _cli(processes, env, "demo", "seed")
        app = create_app(settings)
        with app.app_context():
            current_ring(app)  # the shared key ring exists before two instances want it
            logins = _more_patients(PATIENTS)
        instances = [AppInstance(processes, name, env) for name in ("app-a", "app-b")]
        for instance in instances:
            instance.start()
        for instance in instances:
            try:
                wait_until(lambda i=instance: Http([i.port], 5).get("/readyz").status_code == 200,
                           90, f"{instance.name} to be ready")
            except AssertionError:
                raise AssertionError(instance.log_tail()) from None
        yield {"processes": processes, "redis": redis_group, "postgres": postgres, "app": app,
               "instances": instances, "logins": logins, "folder": folder}
    finally:
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        for instance in instances:  # first the app, then what it stands on
            if instance.process is not None:
                processes.stop(instance.process)
        processes.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


def _app_environment(folder, urls):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_MULTIPROC_DIR", "YIMA_INSTANCE_PATH")}
    limits = {f"YIMA_{name}": "100000 per minute"
              for name in from_environment({}) if name.endswith("_RATE_LIMIT")}
    env.update(urls)
    env.update(limits)
    env.update({
        "SECRET_KEY": SECRET_KEY, "YIMA_ID_HASH_KEY": ID_HASH_KEY,
        "YIMA_KEYS_DIR": os.path.join(folder, "keys"), "YIMA_DB_SYNCHRONOUS_COMMIT": "remote_apply",
        "YIMA_LOG_LEVEL": "ERROR", "YIMA_DEMO_MODE": "1", "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        # Many distinct codes per phone within the test, and a fare cap no one reaches (so a
        # second charge of a ride would show in the balances).
        "YIMA_CODE_WINDOW_STEPS": "400", "YIMA_DAILY_FARE_CAP_FEN": str(10 ** 9),
        "YIMA_ARREARS_DENY_FEN": str(10 ** 9), "YIMA_LOCKOUT_THRESHOLD": "1000"})
    return env


def _cli(processes, env, *args):
    """``flask --app wsgi ...`` as an operator runs it, against the same servers."""
    flask = os.path.join(REPO, ".venv", "bin", "flask")
    flask = flask if os.access(flask, os.X_OK) else shutil.which("flask")
    done = subprocess.run([flask, "--app", "wsgi", *args], capture_output=True, text=True,
                          env={**env, "YIMA_INSTANCE_PATH": os.path.join(processes.folder, "cli")},
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def _more_patients(count):
    """Accounts for persons of the demo registry and new riders (one password hash for all), a
    large wallet and personal account for everyone. Returns the new logins."""
    digest = hash_password(PASSWORD)
    have = set(db.session.scalars(select(Account.person_id).where(Account.person_id.is_not(None))))
    persons = [p for p in db.session.scalars(select(Person).order_by(Person.id)) if p.id not in have]
    for index in range(len(persons), count):
        persons.append(Person(holder_id=f"fo{index:08d}", national_id_hash=f"fo{index:030d}",
                              national_id_masked="310118********000X", name=f"乘客{index}",
                              phone=f"1390001{index:04d}", home_region="310118",
                              insurance_class="resident"))
        db.session.add(persons[-1])
    db.session.flush()
    logins = []
    for person in persons[:count]:
        logins.append(f"fo-{person.id}")
        db.session.add(Account(login=logins[-1], password_hash=digest, role="patient",
                               person_id=person.id))
    for person in db.session.scalars(select(Person)):
        person.transit_wallet_fen, person.password_free_limit_fen = WALLET, 10 ** 6
        person.personal_account_fen = ACCOUNT
    db.session.commit()
    return logins


def _activate(ports, name, password):
    client = Http(ports)
    phone = Phone()
    response = phone.activate(client, login(client, name, password))
    assert response.status_code == 201, response.json
    return phone


def _enrol_validator(ports):
    admin = Http(ports)
    csrf = login(admin, "demo-admin")
    registered = admin.post("/api/v1/admin/validators", json={"line": "ZONE6", "label": "failover"},
                            headers={"X-CSRF-Token": csrf})
    assert registered.status_code == 201, registered.json
    device = Phone()
    code = registered.json["enrol_code"]
    proof = b64url(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))
    enrolled = Http(ports).post("/api/v1/validators/enrol", json={
        "enrol_code": code, "public_jwk": device.jwk(), "signature": proof})
    assert enrolled.status_code == 201, enrolled.json
    return enrolled.json["token"], registered.json["id"]


# --- the cost of waiting for the standby ---------------------------------------------------------


def measure_synchronous_commit(primary, rounds=5, per_round=60):
    """Commit latency of one small write on the live pair, per synchronous_commit level
    (interleaved rounds, so a busy moment of the machine hits every level alike)."""
    levels = ("local", "on", "remote_apply")
    times = {level: [] for level in levels}
    with primary.connect(autocommit=False) as connection:
        connection.execute("CREATE TABLE failover_commit_probe (id serial PRIMARY KEY, t text)")
        connection.commit()
        for _ in range(rounds):
            for level in levels:
                connection.execute("SELECT set_config('synchronous_commit', %s, false)", (level,))
                connection.commit()
                for _ in range(per_round):
                    started = time.perf_counter()
                    connection.execute("INSERT INTO failover_commit_probe (t) VALUES ('x')")
                    connection.commit()
                    times[level].append(time.perf_counter() - started)
        connection.execute("DROP TABLE failover_commit_probe")
        connection.commit()
    return {level: (statistics.median(values) * 1000,
                    statistics.quantiles(values, n=20)[18] * 1000)
            for level, values in times.items()}


# --- the test ------------------------------------------------------------------------------------


def test_redis_and_postgres_fail_over_under_load_and_nothing_is_lost(zone):
    started = time.monotonic()
    redis_group, postgres = zone["redis"], zone["postgres"]
    ports = [instance.port for instance in zone["instances"]]
    commit_costs = measure_synchronous_commit(postgres.primary)

    logins = zone["logins"]
    phones = {name: _activate(ports, name, PASSWORD) for name in logins}
    cashier_phones = [_activate(ports, "demo-patient", DEMO_PASSWORD),
                      _activate(ports, "demo-family", DEMO_PASSWORD)]
    cashier_phones.append(next(p for p in phones.values() if "med" in p.credentials))
    token, validator_id = _enrol_validator(ports)

    record, stop, probes_stop = Record(), threading.Event(), threading.Event()
    standby_misses, phase = [], {"name": "before"}
    local, opened = threading.local(), []

    def settled_is_on_the_standby(settlement_id):
        """remote_apply: a settlement a client saw is already readable on the standby."""
        if phase["name"] != "before":
            return
        try:
            if getattr(local, "standby", None) is None:
                local.standby = postgres.standby.connect(autocommit=True)
                opened.append(local.standby)
            found = local.standby.execute("SELECT 1 FROM settlements WHERE id = %s",
                                          (settlement_id,)).fetchall()
        except psycopg.Error:
            local.standby = None
            return
        if phase["name"] == "before" and not found:
            standby_misses.append(settlement_id)
    record.after_settle = settled_is_on_the_standby

    probes = [ReadinessProbe(port, probes_stop) for port in ports]
    clients = [Cashier(record, Http(ports), stop, name, DEMO_PASSWORD, phone) for name, phone in
               zip(("demo-cashier", "demo-cashier-wj", "demo-cashier-js"), cashier_phones)]
    clients += [Patient(record, Http(ports), stop, name, PASSWORD) for name in logins[:2]]
    clients.append(Validator(record, Http(ports), stop, token, RideCodes(list(phones.values()))))
    for thread in probes + clients:
        thread.start()
    try:
        time.sleep(LOAD_BEFORE)
        assert not record.errors, record.errors[0]

        # (a) the Redis master dies; the sentinels promote the replica.
        old_master = redis_group.master_address()
        redis_fault = time.monotonic()
        redis_group.master.kill()
        wait_until(lambda: redis_group.master_address() not in (None, old_master), RECOVERY_LIMIT,
                   "the sentinels to promote the replica")
        redis_promoted = time.monotonic()
        redis_back = _wait_for_probes(probes, redis_fault)
        time.sleep(LOAD_BETWEEN)
        # The old master comes back empty; the sentinels make it a replica of the new one.
        returning = RedisNode(zone["processes"], "redis-old-master")
        returning.port = old_master[1]
        returning.start()
        wait_until(lambda: returning.role() == "slave", 30, "the old master to become a replica")
        assert not record.errors, record.errors[0]

        reports_before = _reports(ports)
        on_standby = postgres.standby.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'yima-reports'")[0][0]

        # (b) the PostgreSQL primary crashes; the standby is promoted.
        phase["name"] = "postgres"
        pg_fault = time.monotonic()
        postgres.primary.crash()
        pg_stopped = time.monotonic()
        assert postgres.standby.promote() is True
        pg_promoted = time.monotonic()
        pg_back = _wait_for_probes(probes, pg_fault)
        time.sleep(LOAD_AFTER)
    finally:
        stop.set()
        for thread in clients:
            thread.join(240)
        probes_stop.set()
        for thread in probes:
            thread.join(30)
        for connection in opened:
            connection.close()
    assert not any(thread.is_alive() for thread in clients), "a client never finished"
    assert not record.errors, "\n".join(record.errors)
    reports_after = _reports(ports)
    load_ended = time.monotonic()

    windows = {"redis": (redis_fault, redis_back), "postgres": (pg_fault, pg_back)}
    answers = _check_answers(record, windows)
    figures = _check_database(zone["app"], record, validator_id)

    print("\n=== failover (tests/failover/test_failover.py) ===")
    print("synchronous_commit, one-row commit on the live pair (median / p95 ms): " + ", ".join(
        f"{level} {median:.2f} / {p95:.2f}" for level, (median, p95) in commit_costs.items()))
    print(f"Redis: master killed; sentinels agreed on the new master after "
          f"{redis_promoted - redis_fault:.2f} s; both instances ready after "
          f"{redis_back - redis_fault:.2f} s; {_window_line(answers['redis'], redis_fault)}")
    print(f"PostgreSQL: primary crashed (stopped in {pg_stopped - pg_fault:.2f} s), standby "
          f"promoted after {pg_promoted - pg_fault:.2f} s; both instances ready after "
          f"{pg_back - pg_fault:.2f} s; {_window_line(answers['postgres'], pg_fault)}")
    print("readiness down per instance: " + "; ".join(
        f"{name} {_down(probe, fault, back)}" for probe in probes
        for name, (fault, back) in windows.items()))
    print(f"answers: {answers['total']} ({answers['by_status']}); tolerated refusals: "
          f"{dict(sorted(record.tolerated.items())) or 'none'}; lost connections: "
          f"{answers['lost']}")
    print("exactly once: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"reports on the standby: {on_standby} connections named yima-reports; the whole run "
          f"{load_ended - started:.0f} s")

    assert not standby_misses, f"settlements answered but not yet on the standby: {standby_misses}"
    assert on_standby > 0, "the reports did not read from the standby"
    assert reports_before == reports_after == {200}


def _wait_for_probes(probes, fault_at):
    deadline = time.monotonic() + RECOVERY_LIMIT
    while time.monotonic() < deadline:
        back = [probe.back_after(fault_at) for probe in probes]
        if all(back):
            return max(back)
        time.sleep(0.05)
    raise AssertionError(f"not ready {RECOVERY_LIMIT} s after the fault")


def _down(probe, fault, back):
    span = probe.down_between(fault, back + SLACK)
    return f"{span[0] - fault:.2f}–{span[1] - fault:.2f} s" if span else "never"


def _reports(ports):
    """The three reports served from DATABASE_READ_URL, on both instances."""
    statuses = set()
    auditor, admin = Http(ports), Http(ports)
    login(auditor, "demo-auditor")
    login(admin, "demo-admin")
    for _ in ports:
        statuses.add(auditor.get("/api/v1/clearing").status_code)
        statuses.add(admin.get("/api/v1/admin/ridership").status_code)
        statuses.add(admin.get("/api/v1/admin/audit-log").status_code)
    return statuses


def _check_answers(record, windows):
    """Every 5xx a 503 problem document, inside a failover window; lost connections likewise."""
    by_status, per_fault, lost = {}, {name: [] for name in windows}, 0
    for sent, done, _port, kind, status, code, mimetype, body in record.answers:
        by_status[status] = by_status.get(status, 0) + 1
        if status < 500 and status != 0:
            continue
        fault = next((name for name, (start, back) in windows.items()
                      if start - 1 <= sent <= back + SLACK), None)
        assert fault, f"{kind} answered {status} {code} outside a failover window"
        if status == 0:  # the connection went away without an answer
            lost += 1
        else:
            assert status == 503, (kind, status, body)
            assert mimetype == "application/problem+json" and code == "service_unavailable"
            assert body["detail"] and "Traceback" not in str(body)
        per_fault[fault].append((sent, done, kind))
    return {**per_fault, "by_status": dict(sorted(by_status.items())), "lost": lost,
            "total": len(record.answers)}


def _window_line(refused, fault_at):
    if not refused:
        return "no client was refused"
    kinds = sorted({kind for _, _, kind in refused})
    first, last = min(s for s, _, _ in refused), max(d for _, d, _ in refused)
    return (f"clients refused {len(refused)} times ({', '.join(kinds)}) from "
            f"{first - fault_at:+.2f} s to {last - fault_at:+.2f} s")


def _check_database(app, record, validator_id):
    with app.app_context():
        db.engine.dispose()  # its pooled connections were to the old primary
        session = db.session
        found = dict(session.execute(select(Settlement.idempotency_key, Settlement.id).where(
            Settlement.idempotency_key.in_(list(record.settled)))).all())
        assert found == record.settled  # each bill a client saw settled is there, once
        twice = session.execute(select(Settlement.credential_jti, Settlement.code_step)
                                .where(Settlement.kind == "settlement")
                                .group_by(Settlement.credential_jti, Settlement.code_step)
                                .having(func.count() > 1)).all()
        assert twice == []
        logins = dict(session.execute(select(Account.login, Account.person_id)).all())
        topups = session.execute(select(WalletEntry.person_id, WalletEntry.idempotency_key,
                                        WalletEntry.id).where(WalletEntry.kind == "topup")).all()
        stored = {(person, key): entry for person, key, entry in topups}
        seen = {(logins[name], key): entry for (name, key), entry in record.topped_up.items()}
        assert {k: stored.get(k) for k in seen} == seen  # each top-up a client saw, once
        assert len(stored) == len(topups) == len(seen)  # and no other
        unpaid = session.scalar(select(func.count()).select_from(PaymentClaim)
                                .where(PaymentClaim.state != "paid"))
        rides = session.scalars(select(Ride).where(Ride.validator_id == validator_id)).all()
        assert len(rides) == len(record.rides)  # nothing lost, nothing stored twice
        assert len({r.natural_id for r in rides}) == len(rides)
        charges = session.scalar(select(func.count()).select_from(RideCharge))
        assert charges == len({(r.credential_jti, r.code_step) for r in rides})
        mismatched = 0
        paid = _sums(Settlement.person_id, Settlement.personal_account_fen)
        fares = _sums(Ride.person_id, Ride.fare_fen)
        debits = _sums(WalletEntry.person_id, WalletEntry.amount_fen, WalletEntry.kind == "ride")
        credits = _sums(WalletEntry.person_id, WalletEntry.amount_fen, WalletEntry.kind == "topup")
        for person in session.scalars(select(Person)):
            account_ok = person.personal_account_fen + paid.get(person.id, 0) == ACCOUNT
            wallet_ok = person.transit_wallet_fen == \
                WALLET + credits.get(person.id, 0) - fares.get(person.id, 0)
            ledger_ok = -debits.get(person.id, 0) == fares.get(person.id, 0)
            mismatched += not (account_ok and wallet_ok and ledger_ok)
        assert mismatched == 0 and unpaid == 0
        db.session.remove()
        return {
            "settlements seen/stored": f"{len(record.settled)}/{len(found)}",
            "codes paid twice": len(twice),
            "top-ups seen/stored": f"{len(seen)}/{len(stored)} ({TOP_UP_FEN} fen each)",
            "claims left unpaid": unpaid,
            "rides answered/stored/charged": f"{len(record.rides)}/{len(rides)}/{charges}",
            "rides answered duplicate (a retry of a batch that had committed)":
                sum(status == "duplicate" for status in record.rides.values()),
            "balances off their ledger": mismatched,
        }


def _sums(group, amount, *where):
    return dict(db.session.execute(select(group, func.sum(amount)).where(*where).group_by(group)
                                   ).all())
