"""Money writes (issue 14, item 4): a top-up claims its key before the provider is asked, the same
Idempotency-Key with another request is refused, and a scan settles only where the e-voucher is
still accepted. Each test failed on the code before the fix."""
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from phones import Phone, login
from sqlalchemy import func, select

from backend.models import Institution, PaymentClaim, Person, Settlement, WalletEntry
from backend.patients import wallet
from backend.service.extensions import db

BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_000},
        {"category": "drug", "coverage_class": "B", "amount_fen": 10_000, "description": "阿莫西林"}]
OTHER_BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_500}]


class CountingProvider:
    """A payment provider that counts what it is asked to charge, and takes its time doing it."""

    name = "counting"

    def __init__(self, delay=0.05, refuse=False):
        self.calls, self.keys, self.delay, self.refuse = 0, [], delay, refuse
        self._lock = threading.Lock()

    def charge(self, amount_fen, idempotency_key):
        with self._lock:
            self.calls += 1
            self.keys.append(idempotency_key)
        time.sleep(self.delay)
        if self.refuse:
            raise wallet.PaymentFailed()
        return f"CNT-{len(self.keys)}"


@pytest.fixture
def provider(seeded):
    counting = CountingProvider()
    seeded.extensions["yima_payments"] = counting
    seeded.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    return counting


def _patient(app):
    client = app.test_client()
    return client, login(client, "demo-patient")


def _top_up(client, csrf, key, amount=1_000):
    return client.post("/api/v1/wallet/topups", json={"amount_fen": amount},
                       headers={"X-CSRF-Token": csrf, "Idempotency-Key": key})


def _wallet(app):
    with app.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        entries = db.session.scalar(select(func.count()).select_from(WalletEntry)
                                    .filter_by(person_id=person.id, kind="topup"))
        return person.transit_wallet_fen, entries


def test_thirty_concurrent_retries_of_one_top_up_charge_the_provider_once(seeded, provider):
    before, _ = _wallet(seeded)
    clients = [_patient(seeded) for _ in range(30)]
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def fire(i):
        client, csrf = clients[i]
        barrier.wait()
        statuses[i] = _top_up(client, csrf, "topup-race-0001").status_code

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.calls == 1, provider.keys
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    assert _wallet(seeded) == (before + 1_000, 1)
    client, csrf = clients[0]
    again = _top_up(client, csrf, "topup-race-0001")
    assert again.status_code == 200 and again.json["replayed"] is True
    assert provider.calls == 1


def test_the_provider_gets_the_same_key_for_the_same_top_up(seeded, provider):
    client, csrf = _patient(seeded)
    assert _top_up(client, csrf, "topup-key-0001").status_code == 201
    with seeded.app_context():
        person_id = db.session.scalars(select(Person.id).filter_by(name="沈桂芳")).one()
    assert provider.keys == [wallet.provider_key(person_id, "topup-key-0001")]


def test_a_top_up_key_reused_for_another_amount_is_refused(seeded, provider):
    client, csrf = _patient(seeded)
    assert _top_up(client, csrf, "topup-reuse-01", 1_000).status_code == 201
    balance = _wallet(seeded)
    reused = _top_up(client, csrf, "topup-reuse-01", 5_000)
    assert reused.status_code == 422 and reused.json["code"] == "idempotency_key_reused"
    assert _wallet(seeded) == balance and provider.calls == 1


def test_a_claim_left_by_a_crash_is_taken_over_after_its_lease(seeded, provider):
    client, csrf = _patient(seeded)
    before, _ = _wallet(seeded)
    with seeded.app_context():
        person_id = db.session.scalars(select(Person.id).filter_by(name="沈桂芳")).one()
        claim = PaymentClaim(person_id=person_id, idempotency_key="topup-crash-01",
                             request_hash=wallet.fingerprint("topup", amount_fen=1_000),
                             amount_fen=1_000, state="claimed",
                             claimed_at=datetime.now(timezone.utc) - timedelta(seconds=5))
        db.session.add(claim)
        db.session.commit()
    busy = _top_up(client, csrf, "topup-crash-01")  # within the lease: another request may be at it
    assert busy.status_code == 409 and busy.json["code"] == "request_in_progress"
    with seeded.app_context():
        db.session.execute(PaymentClaim.__table__.update().values(
            claimed_at=datetime.now(timezone.utc) - timedelta(seconds=wallet.CLAIM_LEASE_SECONDS + 5)))
        db.session.commit()
    taken = _top_up(client, csrf, "topup-crash-01")
    assert taken.status_code == 201, taken.json
    assert provider.keys == [wallet.provider_key(person_id, "topup-crash-01")]
    assert _wallet(seeded)[0] == before + 1_000


def test_a_refused_payment_frees_the_key(seeded, provider):
    client, csrf = _patient(seeded)
    before = _wallet(seeded)
    provider.refuse = True
    refused = _top_up(client, csrf, "topup-refused-1")
    assert refused.status_code == 502 and refused.json["code"] == "payment_failed"
    assert _wallet(seeded) == before
    provider.refuse = False
    assert _top_up(client, csrf, "topup-refused-1").status_code == 201
    assert provider.calls == 2


@pytest.fixture
def counter(seeded):
    seeded.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    cashier = seeded.test_client()
    csrf = login(cashier, "demo-cashier")

    def call(path, body, key=None):
        headers = {"X-CSRF-Token": csrf, **({"Idempotency-Key": key} if key else {})}
        return cashier.post(path, json=body, headers=headers)

    def scan():  # an online code is good once: each scan a step of its own
        code = phone.fresh_code("med")
        answer = call("/api/v1/verify", {"code": code, "context": "hospital"})
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]
    return call, scan


def _settlements(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Settlement))


def test_a_settlement_key_reused_with_another_bill_is_refused(seeded, counter):
    call, scan = counter
    scan_id = scan()
    key = f"bill-{uuid.uuid4()}"
    first = call("/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, key)
    assert first.status_code == 201
    other_bill = call("/api/v1/settlements", {"scan_id": scan_id, "lines": OTHER_BILL}, key)
    assert other_bill.status_code == 422 and other_bill.json["code"] == "idempotency_key_reused"
    other_scan = call("/api/v1/settlements", {"scan_id": scan(), "lines": BILL}, key)
    assert other_scan.status_code == 422 and other_scan.json["code"] == "idempotency_key_reused"
    same = call("/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, key)
    assert same.status_code == 200 and same.json["settlement"]["id"] == first.json["settlement"]["id"]
    assert _settlements(seeded) == 1


def test_a_refund_retried_with_its_key_answers_the_first_refund(seeded, counter):
    call, scan = counter
    settled = [call("/api/v1/settlements", {"scan_id": scan(), "lines": BILL},
                    f"bill-{uuid.uuid4()}").json["settlement"]["id"] for k in range(2)]
    key = f"refund-{uuid.uuid4()}"
    body = {"reason": "开错药"}
    first = call(f"/api/v1/settlements/{settled[0]}/refund", body, key)
    assert first.status_code == 201 and first.json["replayed"] is False
    again = call(f"/api/v1/settlements/{settled[0]}/refund", body, key)
    assert again.status_code == 200 and again.json["replayed"] is True
    assert again.json["refund"]["id"] == first.json["refund"]["id"]
    other = call(f"/api/v1/settlements/{settled[1]}/refund", body, key)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert _settlements(seeded) == 3  # two bills, one refund
    keyless = call(f"/api/v1/settlements/{settled[0]}/refund", body)
    assert keyless.status_code == 409 and keyless.json["code"] == "already_refunded"


def test_a_scan_settles_only_where_the_e_voucher_is_still_accepted(seeded, counter):
    call, scan = counter
    scan_id = scan()
    with seeded.app_context():  # the admin switches the e-voucher off after the scan
        db.session.get(Institution, "H31011800001").accepts_evoucher = False
        db.session.commit()
    refused = call("/api/v1/settlements", {"scan_id": scan_id, "lines": BILL}, f"bill-{uuid.uuid4()}")
    assert refused.status_code == 403 and refused.json["code"] == "evoucher_not_accepted"
    preview = call("/api/v1/settlements/preview", {"scan_id": scan_id, "lines": BILL})
    assert preview.status_code == 403 and preview.json["code"] == "evoucher_not_accepted"
    assert _settlements(seeded) == 0
