"""The hospital counter through the API: scan, preview, settle once, refund once."""
import threading
import uuid

import pytest
from phones import Phone, login
from sqlalchemy import func, select

from backend.models import AuditEntry, BenefitCounter, Person, Settlement
from backend.service.extensions import db, redis_client

BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_000},
        {"category": "examination", "coverage_class": "A", "amount_fen": 18_000},
        {"category": "drug", "coverage_class": "B", "amount_fen": 10_000, "description": "阿莫西林"},
        {"category": "material", "coverage_class": "C", "amount_fen": 5_000}]


@pytest.fixture
def counter(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    cashier = seeded.test_client()
    csrf = login(cashier, "demo-cashier")

    def call(method, path, body=None, key=None):
        headers = {"X-CSRF-Token": csrf}
        if key:
            headers["Idempotency-Key"] = key
        return cashier.open(path, method=method, json=body, headers=headers)

    def scan():
        answer = call("POST", "/api/v1/verify", {"code": phone.code("med"), "context": "hospital"})
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]
    return call, scan


def pa_balance(app):
    with app.app_context():
        return db.session.scalars(select(Person.personal_account_fen).filter_by(name="沈桂芳")).one()


def test_preview_then_settle_by_the_home_region_policy(seeded, counter):
    call, scan = counter
    scan_id = scan()
    before = pa_balance(seeded)
    preview = call("POST", "/api/v1/settlements/preview", {"scan_id": scan_id, "lines": BILL})
    assert preview.status_code == 200
    # Jiashan employee policy at a level-3 Qingpu hospital, nothing used this year: everything
    # falls inside the ¥800 deductible; the account pays all of it (worked in test_benefits.py).
    assert preview.json["split"]["fund_fen"] == 0 and preview.json["rules_of"] == "330421"
    settled = call("POST", "/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, key="bill-0001")
    assert settled.status_code == 201, settled.json
    s = settled.json["settlement"]
    assert (s["total_fen"], s["fund_fen"], s["personal_account_fen"], s["cash_fen"]) == (35_000, 0, 35_000, 0)
    assert s["cross_region"] is True and s["insured_region"] == "330421" and s["treating_region"] == "310118"
    assert pa_balance(seeded) == before - 35_000
    again = call("POST", "/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, key="bill-0001")
    assert again.status_code == 200 and again.json["replayed"] and again.json["settlement"]["id"] == s["id"]
    other_key = call("POST", "/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, key="bill-0002")
    assert other_key.status_code == 409 and other_key.json["code"] == "code_already_settled"
    receipt = call("GET", f"/api/v1/settlements/{s['id']}")
    assert receipt.json["settlement"]["lines"][2]["description"] == "阿莫西林"


def test_refund_restores_everything_once(seeded, counter):
    call, scan = counter
    before = pa_balance(seeded)
    s = call("POST", "/api/v1/settlements", {"scan_id": scan(), "lines": BILL}, key="bill-0003").json["settlement"]
    missing_reason = call("POST", f"/api/v1/settlements/{s['id']}/refund", {"reason": " "})
    assert missing_reason.json["code"] == "reason_required"
    refund = call("POST", f"/api/v1/settlements/{s['id']}/refund", {"reason": "wrong drug"})
    assert refund.status_code == 201
    assert refund.json["refund"]["total_fen"] == -35_000 and refund.json["refund"]["reverses"] == s["id"]
    assert pa_balance(seeded) == before
    with seeded.app_context():
        counters = db.session.scalars(select(BenefitCounter)).one()
        assert (counters.deductible_used_fen, counters.fund_paid_fen) == (0, 0)
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"settlement.create", "settlement.refund", "person.read"} <= actions
    second = call("POST", f"/api/v1/settlements/{s['id']}/refund", {"reason": "again"})
    assert second.status_code == 409 and second.json["code"] == "already_refunded"


@pytest.mark.parametrize("lines, field", [
    ([], None), ("x", None), ([{"category": "food", "coverage_class": "A", "amount_fen": 1}], "category"),
    ([{"category": "drug", "coverage_class": "D", "amount_fen": 1}], "coverage_class"),
    ([{"category": "drug", "coverage_class": "A", "amount_fen": 12.5}], "amount_fen"),
    ([{"category": "drug", "coverage_class": "A", "amount_fen": -100}], "amount_fen"),
])
def test_bad_bills_are_refused_readably(counter, lines, field):
    call, scan = counter
    answer = call("POST", "/api/v1/settlements/preview", {"scan_id": scan(), "lines": lines})
    assert answer.status_code in (400, 422)
    if field:
        assert answer.json["field"] == field


def test_a_stale_scan_and_a_missing_key_are_refused(counter):
    call, scan = counter
    assert call("POST", "/api/v1/settlements", {"scan_id": "nope", "lines": BILL},
                key="bill-0004").json["code"] == "scan_expired"
    assert call("POST", "/api/v1/settlements", {"scan_id": scan(), "lines": BILL}
                ).json["code"] == "idempotency_key_required"


def test_a_replayed_code_leaves_no_scan_behind(seeded):
    """The scan is stored in the replay guard's round trip; a second use of the code must not keep
    one (nobody was told its id)."""
    patient, cashier = seeded.test_client(), seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    headers = {"X-CSRF-Token": login(cashier, "demo-cashier")}
    body = {"code": phone.code("med"), "context": "hospital"}
    store = redis_client.client(seeded)
    first = cashier.post("/api/v1/verify", json=body, headers=headers)
    assert first.status_code == 200 and store.get(f"scan:{first.json['scan_id']}") is not None
    again = cashier.post("/api/v1/verify", json=body, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "code_replayed"
    assert store.keys("scan:*") == [f"scan:{first.json['scan_id']}".encode()]
    with seeded.app_context():  # each verify that answered 200 wrote its person.read entry
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(
            action="person.read")) == 1


def _race(app, cashier_login, requests):
    """Fire ``requests`` (body, key) at once from separate clients; return the status codes."""
    clients = []
    for _ in requests:
        client = app.test_client()
        clients.append((client, login(client, cashier_login)))
    barrier = threading.Barrier(len(requests))
    statuses = [None] * len(requests)

    def fire(i, body, key):
        client, csrf = clients[i]
        barrier.wait()
        statuses[i] = client.post("/api/v1/settlements", json=body,
                                  headers={"X-CSRF-Token": csrf, "Idempotency-Key": key}).status_code
    threads = [threading.Thread(target=fire, args=(i, body, key)) for i, (body, key) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def settlements_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Settlement))


def test_fifty_concurrent_settles_with_one_code_pay_once(seeded, counter):
    seeded.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    _, scan = counter
    scan_id = scan()
    statuses = _race(seeded, "demo-cashier",
                     [({"scan_id": scan_id, "lines": BILL}, f"race-{uuid.uuid4()}") for _ in range(50)])
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409}, statuses
    assert settlements_count(seeded) == 1


def test_fifty_concurrent_settles_with_one_key_pay_once(seeded, counter):
    seeded.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    _, scan = counter
    scan_id = scan()
    statuses = _race(seeded, "demo-cashier", [({"scan_id": scan_id, "lines": BILL}, "same-key-123")] * 50)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    assert settlements_count(seeded) == 1
