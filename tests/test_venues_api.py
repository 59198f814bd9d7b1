"""Venue gates through the API (issue 19): enrolment by role and region, the online check (replay
guard, a med code refused in its own words), visit batches stored exactly once with no charge, and
visits per venue and hour."""
import contextlib
import threading
import time
from datetime import datetime

import pytest
from phones import Phone, b64url, login
from sqlalchemy import event, func, select
from test_transit_api import enrol_validator, wallet

from backend.accounts.hashing import hash_password
from backend.models import Account, Visit
from backend.models.base import CHINA
from backend.service.extensions import db

WUJIANG, QINGPU = "320509", "310118"


def admin_client(app, name="demo-admin", password=None):
    client = app.test_client()
    csrf = login(client, name, *([password] if password else []))

    def call(method, path, body=None):
        return client.open(path, method=method, json=body, headers={"X-CSRF-Token": csrf})
    return call


def enrol_gate(app, admin, venue_id, label="东门 1 号机"):
    registered = admin("POST", f"/api/v1/admin/venues/{venue_id}/verifiers", {"label": label})
    assert registered.status_code == 201, registered.json
    code = registered.json["enrol_code"]
    device, client = Phone(), app.test_client()
    proof = b64url(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))
    enrolled = client.post("/api/v1/venue-verifiers/enrol", json={
        "enrol_code": code, "public_jwk": device.jwk(), "signature": proof})
    assert enrolled.status_code == 201, enrolled.json
    assert enrolled.json["token"].startswith("yg_") and enrolled.json["venue"]["id"] == venue_id
    again = client.post("/api/v1/venue-verifiers/enrol", json={
        "enrol_code": code, "public_jwk": device.jwk(), "signature": proof})
    assert again.status_code == 404 and again.json["code"] == "enrolment_invalid"
    return client, {"Authorization": f"Bearer {enrolled.json['token']}"}, registered.json["id"]


@pytest.fixture
def gate(seeded):
    """The zone admin's library in Wujiang, its enrolled gate, and the demo patient's phone."""
    admin = admin_client(seeded)
    library = admin("POST", "/api/v1/admin/venues", {"name_zh": "吴江图书馆", "name_en": "Wujiang Library",
                                                    "kind": "library", "region": WUJIANG})
    assert library.status_code == 201, library.json
    client, auth, verifier_id = enrol_gate(seeded, admin, library.json["id"])
    patient = seeded.test_client()
    phone = Phone()
    assert phone.activate(patient, login(patient, "demo-patient")).status_code == 201
    return {"admin": admin, "client": client, "auth": auth, "venue": library.json["id"],
            "verifier": verifier_id, "phone": phone}


def test_enrolment_by_role_and_region(seeded):
    zone = admin_client(seeded)
    with seeded.app_context():
        db.session.add(Account(login="admin-qp", password_hash=hash_password("qingpu-admin-2026"),
                               role="admin", region_code=QINGPU))
        db.session.commit()
    qingpu = admin_client(seeded, "admin-qp", "qingpu-admin-2026")
    cashier = seeded.test_client()
    cashier_csrf = login(cashier, "demo-cashier")

    wujiang_museum = zone("POST", "/api/v1/admin/venues", {"name_zh": "吴江博物馆", "kind": "museum",
                                                          "region": WUJIANG}).json
    assert zone("POST", "/api/v1/admin/venues", {"name_zh": "某地", "kind": "museum"}).json["fields"] \
        == {"region": "invalid"}  # the zone's admin must say where
    assert zone("POST", "/api/v1/admin/venues", {"name_zh": "某地", "kind": "zoo", "region": WUJIANG}) \
        .json["code"] == "invalid_venue"
    own = qingpu("POST", "/api/v1/admin/venues", {"name_zh": "青浦博物馆", "kind": "scenic"})
    assert own.status_code == 201 and own.json["region"] == QINGPU  # their region by default
    foreign = qingpu("POST", "/api/v1/admin/venues", {"name_zh": "嘉善图书馆", "kind": "library",
                                                     "region": "330421"})
    assert foreign.status_code == 403 and foreign.json["code"] == "outside_your_region"
    taken = qingpu("POST", f"/api/v1/admin/venues/{wujiang_museum['id']}/verifiers", {"label": "x"})
    assert taken.status_code == 403 and taken.json["code"] == "outside_your_region"
    seen_by_qingpu = qingpu("GET", "/api/v1/admin/venues").json["venues"]
    assert own.json["id"] in [v["id"] for v in seen_by_qingpu]
    assert {v["region"] for v in seen_by_qingpu} == {QINGPU}  # the demo's 青浦区博物馆 too
    seen_by_zone = zone("GET", "/api/v1/admin/venues").json["venues"]
    assert {own.json["id"], wujiang_museum["id"]} <= {v["id"] for v in seen_by_zone}
    assert {v["region"] for v in seen_by_zone} == {QINGPU, WUJIANG, "330421"}

    _, _, wujiang_gate = enrol_gate(seeded, zone, wujiang_museum["id"])
    refused = qingpu("POST", f"/api/v1/admin/venue-verifiers/{wujiang_gate}/disable")
    assert refused.status_code == 403 and refused.json["code"] == "outside_your_region"
    assert qingpu("POST", "/api/v1/admin/venue-verifiers/999999/disable").status_code == 404
    for path, body in (("/api/v1/admin/venues", {"name_zh": "x", "kind": "museum", "region": WUJIANG}),
                       (f"/api/v1/admin/venues/{wujiang_museum['id']}/verifiers", {"label": "x"})):
        answer = cashier.post(path, json=body, headers={"X-CSRF-Token": cashier_csrf})
        assert answer.status_code == 403 and answer.json["code"] == "forbidden"
    assert seeded.test_client().get("/api/v1/admin/venues").status_code == 401
    # The audit log names the gate and its venue, in the region's log too.
    enrolled = zone("GET", "/api/v1/admin/audit-log?action=venue_verifier.enrol").json["entries"]
    assert enrolled[0]["actor_info"] == {"kind": "venue", "id": wujiang_gate, "name": "东门 1 号机",
                                         "venue": {"zh": "吴江博物馆", "en": "吴江博物馆"}}
    assert "吴江博物馆" in enrolled[0]["target_name"]["zh"] and enrolled[0]["region"] == WUJIANG


def test_the_online_check_admits_once_and_refuses_a_med_code_in_its_own_words(gate):
    client, auth, phone = gate["client"], gate["auth"], gate["phone"]
    trust = client.get("/api/v1/venue-verifiers/trust", headers=auth).json
    assert trust["entry"] == "free" and trust["venue"]["kind"] == "library"
    assert set(trust["zone_regions"]) == {QINGPU, WUJIANG, "330421"} and trust["jwks"]["keys"]
    code = phone.code("ss")
    first = client.post("/api/v1/venue-verifiers/check", json={"code": code}, headers=auth)
    assert first.status_code == 200 and first.json["entry"] == "free", first.json
    assert "name" not in str(first.json) and "masked" not in str(first.json)  # never who it is
    used = client.post("/api/v1/venue-verifiers/check", json={"code": code}, headers=auth)
    assert used.status_code == 409 and used.json["code"] == "code_replayed"
    med = client.post("/api/v1/venue-verifiers/check", json={"code": phone.code("med")}, headers=auth)
    assert med.status_code == 422 and med.json["code"] == "med_code_at_venue"
    assert "e-voucher" in med.json["detail"]
    # A venue gate's token opens nothing of a bus validator's, and the other way round.
    assert client.get("/api/v1/validators/trust", headers=auth).status_code == 403
    bus_client, bus_auth, _, _ = enrol_validator(gate["client"].application)
    assert bus_client.post("/api/v1/visits/batch", json={"visits": [{"code": code, "visited_at": 1}]},
                           headers=bus_auth).status_code == 403


def test_visits_upload_exactly_once_without_a_charge_and_are_counted_per_venue_and_hour(gate, seeded):
    client, auth, phone, admin = gate["client"], gate["auth"], gate["phone"], gate["admin"]
    now = int(time.time())
    balance = wallet(seeded)
    codes = [(phone.code("ss", now=now), now), (phone.code("ss", now=now + 30), now + 30)]
    batch = {"visits": [{"code": c, "visited_at": at} for c, at in codes]
             + [{"code": codes[0][0], "visited_at": codes[0][1]},  # the same visit twice
                {"code": phone.code("med", now=now), "visited_at": now},
                {"code": "not a code", "visited_at": now}, {"visited_at": now},
                {"code": codes[0][0], "visited_at": now - 8 * 86_400},  # past the upload window
                {"code": codes[0][0], "visited_at": True}]}
    first = client.post("/api/v1/visits/batch", json=batch, headers=auth).json["results"]
    assert [r["status"] for r in first] == ["admitted", "admitted", "duplicate"] + ["rejected"] * 5
    assert [r["reason"] for r in first[3:]] == ["med_code_at_venue", "code_malformed", "bad_item",
                                                "visited_at_out_of_range", "bad_item"]
    again = client.post("/api/v1/visits/batch", json=batch, headers=auth).json["results"]
    assert [r["status"] for r in again[:3]] == ["duplicate"] * 3
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 2
    assert wallet(seeded) == balance  # nothing charged

    # The same code reported by another venue's gate: stored (someone came in), marked a copy.
    museum = admin("POST", "/api/v1/admin/venues", {"name_zh": "嘉善博物馆", "kind": "museum",
                                                    "region": "330421"}).json
    other, other_auth, _ = enrol_gate(seeded, admin, museum["id"])
    copy = other.post("/api/v1/visits/batch", json={"visits": batch["visits"][:1]}, headers=other_auth)
    assert copy.json["results"][0]["status"] == "copy"

    day = datetime.fromtimestamp(now, CHINA).date().isoformat()
    counted = admin("GET", f"/api/v1/admin/venue-visits?date={day}").json
    per_venue = {}
    for row in counted["rows"]:
        per_venue[row["venue"]] = per_venue.get(row["venue"], 0) + row["visits"]
    assert per_venue == {gate["venue"]: 2, museum["id"]: 1}
    assert counted["venues"][str(gate["venue"])]["zh"] == "吴江图书馆"
    hour = datetime.fromtimestamp(now, CHINA).hour
    assert {"venue": gate["venue"], "hour": hour, "visits": 2 if (now + 30) // 3600 == now // 3600
            else 1} in counted["rows"]
    qingpu_auditor = seeded.test_client()
    login(qingpu_auditor, "demo-auditor-qp")
    assert qingpu_auditor.get(f"/api/v1/admin/venue-visits?date={day}").json["rows"] == []
    assert admin("GET", "/api/v1/admin/venue-visits?date=2026-13-01").json["code"] == "bad_date"
    assert admin("GET", "/api/v1/admin/venue-visits?date=２０２６-１１-２９").json["code"] == "bad_date"

    # A disabled gate is refused with its own code.
    assert admin("POST", f"/api/v1/admin/venue-verifiers/{gate['verifier']}/disable").json["status"] \
        == "disabled"
    refused = client.post("/api/v1/visits/batch", json=batch, headers=auth)
    assert refused.status_code == 403 and refused.json["code"] == "venue_disabled"


@contextlib.contextmanager
def held_before_its_insert(app, thread_name):
    """The upload made on the thread ``thread_name`` waits just before its INSERT INTO visits
    until the block's ``release()`` is called: a race made deterministic."""
    with app.app_context():
        engine = db.engine
    released = threading.Event()

    def hold(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO VISITS") \
                and threading.current_thread().name == thread_name:
            released.wait(30)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield released.set
    finally:
        released.set()
        event.remove(engine, "before_cursor_execute", hold)


def race(app, first_upload, second_upload):
    """``first_upload`` reads, then waits at its INSERT while ``second_upload`` runs whole and
    commits; returns both answers."""
    answers = {}
    with held_before_its_insert(app, "held-upload") as release:
        held = threading.Thread(target=lambda: answers.update(first=first_upload()),
                                name="held-upload")
        held.start()
        time.sleep(0.5)  # it has read "not stored yet" and waits at its INSERT
        answers["second"] = second_upload()
        release()
        held.join(30)
    return answers["first"], answers["second"]


def assert_written_meanwhile(answer):
    assert answer.status_code == 409, answer.json  # never a 500
    assert answer.json["code"] == "written_meanwhile" and answer.headers["Retry-After"] == "1"


def test_a_batch_racing_its_own_retry_is_stored_once_and_never_a_500(gate, seeded):
    """A kiosk whose upload timed out sends the batch again while the first is still in flight.
    No lock is taken for visits (no money moves), so both read "not stored yet"; the unique key
    is the last word."""
    client, auth, phone = gate["client"], gate["auth"], gate["phone"]
    now = int(time.time())
    batch = {"visits": [{"code": phone.code("ss", now=now), "visited_at": now}]}

    def upload():
        return seeded.test_client().post("/api/v1/visits/batch", json=batch, headers=auth)

    late, early = race(seeded, upload, upload)
    assert early.status_code == 200 and early.json["results"][0]["status"] == "admitted"
    assert_written_meanwhile(late)
    again = client.post("/api/v1/visits/batch", json=batch, headers=auth)  # the kiosk's next try
    assert again.json["results"][0]["status"] == "duplicate"
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


def test_two_gates_storing_one_code_at_once_admit_it_once(gate, seeded):
    """A screenshot of one code shown at two venues' gates at the same moment: both gates admit
    offline, both upload; one visit is admitted, the other is the copy (the fraud signal)."""
    admin, phone = gate["admin"], gate["phone"]
    museum = admin("POST", "/api/v1/admin/venues", {"name_zh": "嘉善博物馆", "kind": "museum",
                                                    "region": "330421"}).json
    other, other_auth, _ = enrol_gate(seeded, admin, museum["id"])
    now = int(time.time())
    batch = {"visits": [{"code": phone.code("ss", now=now), "visited_at": now}]}

    def at_the_library():
        return seeded.test_client().post("/api/v1/visits/batch", json=batch, headers=gate["auth"])

    def at_the_museum():
        return other.post("/api/v1/visits/batch", json=batch, headers=other_auth)

    late, early = race(seeded, at_the_library, at_the_museum)
    assert early.status_code == 200 and early.json["results"][0]["status"] == "admitted"
    assert_written_meanwhile(late)
    again = at_the_library()  # the library's kiosk tries again
    assert again.json["results"][0]["status"] == "copy"
    with seeded.app_context():
        assert sorted(db.session.scalars(select(Visit.outcome))) == ["admitted", "copy"]
