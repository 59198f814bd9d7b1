"""/metrics: who may read it, and the counters moving after a scripted settle, refund, verify
refusals and a ride upload (real phones, real crypto, real storage)."""
import time

import pytest
from phones import Phone, login
from prometheus_client.parser import text_string_to_metric_families
from test_counter_api import BILL
from test_transit_api import enrol_validator
from test_venues_api import admin_client, enrol_gate

TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_with_token(seeded):
    seeded.config["METRICS_TOKEN"] = TOKEN
    return seeded


def scrape(app):
    """Every sample on /metrics as {(name, sorted label items): value}."""
    response = app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_need_the_configured_token(seeded):
    client = seeded.test_client()
    off = client.get("/metrics", headers=AUTH)
    assert off.status_code == 404 and off.json["code"] == "not_found"
    seeded.config["METRICS_TOKEN"] = TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_settle_refund_and_verify_refusals_move_the_counters(app_with_token):
    app = app_with_token
    before = scrape(app)
    patient = app.test_client()
    phone = Phone()
    assert phone.activate(patient, login(patient, "demo-patient")).status_code == 201
    cashier = app.test_client()
    csrf = login(cashier, "demo-cashier")

    def post(path, body, **headers):
        return cashier.post(path, json=body, headers={"X-CSRF-Token": csrf, **headers})

    code = phone.code("med")
    scan = post("/api/v1/verify", {"code": code, "context": "hospital"})
    assert scan.status_code == 200
    assert post("/api/v1/verify", {"code": code, "context": "hospital"}).json["code"] == "code_replayed"
    assert post("/api/v1/verify", {"code": "garbage", "context": "hospital"}).status_code == 422
    scan_id = scan.json["scan_id"]
    settled = post("/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, **{"Idempotency-Key": "metrics-0001"})
    assert settled.status_code == 201
    replay = post("/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, **{"Idempotency-Key": "metrics-0001"})
    assert replay.status_code == 200  # a replay is not a new settlement
    sid = settled.json["settlement"]["id"]
    assert post(f"/api/v1/settlements/{sid}/refund", {"reason": "test"}).status_code == 201
    after = scrape(app)

    assert moved(before, after, "yima_verify_outcomes_total", outcome="success") == 1
    assert moved(before, after, "yima_verify_outcomes_total", outcome="code_replayed") == 1
    assert moved(before, after, "yima_verify_outcomes_total", outcome="code_malformed") == 1
    assert moved(before, after, "yima_settlements_total", kind="settlement") == 1
    assert moved(before, after, "yima_settlements_total", kind="refund") == 1
    # The demo bill: ¥350 paid from the personal account (test_counter_api), then refunded.
    for kind in ("settlement", "refund"):
        assert moved(before, after, "yima_settlement_fen_total", kind=kind, part="total") == 35_000
        assert moved(before, after, "yima_settlement_fen_total", kind=kind,
                     part="personal_account") == 35_000
    # Requests by endpoint name (never by raw path), with status; latency alongside.
    assert moved(before, after, "yima_http_requests_total", endpoint="api.settlement_create",
                 method="POST", status="201") == 1
    assert moved(before, after, "yima_http_requests_total", endpoint="api.settlement_create",
                 method="POST", status="200") == 1
    assert moved(before, after, "yima_http_requests_total", endpoint="api.settlement_refund",
                 method="POST", status="201") == 1
    assert moved(before, after, "yima_http_request_duration_seconds_count",
                 endpoint="api.verify_code", status="409") == 1
    assert not any("/api/v1/settlements/" in str(labels) for _, labels in after)


def test_a_ride_upload_moves_the_ride_counters(app_with_token):
    app = app_with_token
    patient = app.test_client()
    phone = Phone()
    assert phone.activate(patient, login(patient, "demo-patient")).status_code == 201
    client, auth, _, _ = enrol_validator(app)
    before = scrape(app)
    now = int(time.time())
    rides = [{"code": phone.code("ss", now=now), "ridden_at": now},
             {"code": phone.code("ss", now=now + 30), "ridden_at": now + 30},
             {"code": "garbage", "ridden_at": now}]
    answer = client.post("/api/v1/rides/batch", json={"rides": rides}, headers=auth)
    assert [r["status"] for r in answer.json["results"]] == ["charged", "charged", "rejected"]
    again = client.post("/api/v1/rides/batch", json={"rides": rides[:1]}, headers=auth)
    assert again.json["results"][0]["status"] == "duplicate"
    after = scrape(app)
    assert moved(before, after, "yima_rides_ingested_total", status="charged", reason="") == 2
    assert moved(before, after, "yima_rides_ingested_total", status="duplicate", reason="") == 1
    assert moved(before, after, "yima_rides_ingested_total", status="rejected",
                 reason="code_malformed") == 1
    assert moved(before, after, "yima_http_requests_total", endpoint="api.rides_batch",
                 method="POST", status="200") == 2


def test_a_visit_upload_moves_the_visit_counters(app_with_token):
    app = app_with_token
    admin = admin_client(app)
    library = admin("POST", "/api/v1/admin/venues", {"name_zh": "青浦图书馆", "kind": "library",
                                                    "region": "310118"}).json
    client, auth, _ = enrol_gate(app, admin, library["id"])
    patient = app.test_client()
    phone = Phone()
    assert phone.activate(patient, login(patient, "demo-patient")).status_code == 201
    before = scrape(app)
    now = int(time.time())
    visits = [{"code": phone.code("ss", now=now), "visited_at": now},
              {"code": phone.code("med", now=now), "visited_at": now}]
    answer = client.post("/api/v1/visits/batch", json={"visits": visits}, headers=auth)
    assert [r["status"] for r in answer.json["results"]] == ["admitted", "rejected"]
    again = client.post("/api/v1/visits/batch", json={"visits": visits[:1]}, headers=auth)
    assert again.json["results"][0]["status"] == "duplicate"
    after = scrape(app)
    expected = {("admitted", ""): 1, ("duplicate", ""): 1, ("rejected", "med_code_at_venue"): 1}
    assert {key: moved(before, after, "yima_visits_ingested_total", status=key[0], reason=key[1])
            for key in expected} == expected
    assert moved(before, after, "yima_rides_ingested_total", status="duplicate", reason="") == 0


def test_unmatched_paths_share_one_label(app_with_token):
    client = app_with_token.test_client()
    before = scrape(app_with_token)
    for path in ("/nope/13905730112", "/nope/330421194805120026"):
        assert client.get(path).status_code == 404
    after = scrape(app_with_token)
    assert moved(before, after, "yima_http_requests_total", endpoint="unmatched", method="GET",
                 status="404") == 2


def test_gunicorn_workers_add_up_and_a_dead_workers_counts_stay(tmp_path):
    """Several gunicorn workers, one sum (multiprocess mode); values from an earlier run are
    wiped at start; a worker that dies and is replaced keeps its counts in the sum."""
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    import psutil
    from test_serve import BIN, ROOT, free_port, get

    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(YIMA_INSTANCE_PATH=str(instance), PORT=str(free_port()), WEB_CONCURRENCY="2",
               GUNICORN_THREADS="1", YIMA_METRICS_TOKEN=TOKEN,
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    os.makedirs(tmp_path / "prom")
    stale = "from backend.service import metrics; metrics.REQUESTS.labels('ops.healthz', 'GET', '200').inc(1000)"
    subprocess.run([sys.executable, "-c", stale], cwd=ROOT, env=env, check=True, timeout=60)
    assert list((tmp_path / "prom").glob("counter_*.db"))
    base = f"http://127.0.0.1:{env['PORT']}"

    def healthz_count():
        request = urllib.request.Request(base + "/metrics", headers=AUTH)
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "yima_http_requests_total" and \
                        sample.labels == {"endpoint": "ops.healthz", "method": "GET", "status": "200"}:
                    return sample.value
        return 0

    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while get(base + "/healthz") != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        before = healthz_count()  # the readiness polls (a slow one may have counted late)
        assert before < 1000  # the stale 1000 are gone
        for _ in range(39):
            assert get(base + "/healthz") == 200
        assert healthz_count() == before + 39
        workers = psutil.Process(server.pid).children()
        assert len(workers) == 2
        # Kill a worker that has counted (the kernel may have handed every request to one).
        counted = {int(f.stem.split("_")[1]) for f in (tmp_path / "prom").glob("counter_*.db")}
        victim = next(w for w in workers if w.pid in counted)
        os.kill(victim.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and \
                {p.pid for p in psutil.Process(server.pid).children()} - {w.pid for w in workers} == set():
            time.sleep(0.2)
        assert get(base + "/healthz") == 200
        assert healthz_count() == before + 40
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
