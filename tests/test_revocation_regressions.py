"""Security regressions of issue 14: revocation bites at every door.

- A ride taken after its credential's, phone's or person's revocation is not charged to the owner
  (a possible stolen phone): ``revoked``, no fare, no ledger row, a joint-audit flag. A ride taken
  before the revocation still charges, however late the validator uploads it.
- A suspended registry entry neither verifies, nor settles, nor rides with the codes already on
  the phone (``person_suspended``); suspending revokes its phones, and a reinstated person
  activates a phone again."""
import base64
import json
import time

import pytest
from phones import Phone, login, steady_time
from sqlalchemy import select
from test_counter_api import BILL
from test_transit_api import enrol_validator

from backend.demo.seed import demo_national_id
from backend.models import AuditEntry, AuditFlag, Device, Person, Ride, WalletEntry
from backend.models.base import unix
from backend.service.extensions import db

JIASHAN, QINGPU = "330421", "310118"
STRONG = "kiwi-harbour-lantern"


class Client:
    """A logged-in test client that sends its CSRF token with every call."""

    def __init__(self, app, name, password=None):
        self.client = app.test_client()
        self.csrf = login(self.client, name, *([password] if password else []))

    def __call__(self, method, path, body=None, key=None):
        headers = {"X-CSRF-Token": self.csrf, **({"Idempotency-Key": key} if key else {})}
        return self.client.open(path, method=method, json=body, headers=headers)


@pytest.fixture
def zone2(seeded):
    """The demo patient's phone, and an upload to a validator on zone line 2 (fare ¥3)."""
    patient = Client(seeded, "demo-patient")
    phone = Phone()
    assert phone.activate(patient.client, patient.csrf).status_code == 201
    client, auth, _, _ = enrol_validator(seeded, line="ZONE2")

    def upload(rides):
        answer = client.post("/api/v1/rides/batch", headers=auth, json={
            "rides": [{"code": code, "ridden_at": ridden} for code, ridden in rides]})
        assert answer.status_code == 200, answer.json
        return answer.json["results"]
    return patient, phone, upload


def mother(app):
    with app.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        return person.holder_id, person.transit_wallet_fen


def ledger_rows(app):
    with app.app_context():
        return db.session.scalars(select(WalletEntry.amount_fen).filter_by(kind="ride")).all()


def revoked_at(app, device_id):
    with app.app_context():
        return unix(db.session.get(Device, device_id).revoked_at)


def jti_of(credential):
    payload = credential.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def ride_flags(app):
    with app.app_context():
        return db.session.execute(select(AuditFlag.rule, AuditFlag.insured_region, Ride.outcome)
                                  .join(Ride, Ride.id == AuditFlag.ride_id)).all()


# -- 2. revocation bites at ride ingest -----------------------------------------------------------

def test_a_ride_after_the_phone_was_revoked_is_not_charged_but_one_before_is(seeded, zone2):
    """The reproduction: revoke a phone, upload a ride with its ss code ridden 34 s later. It was
    charged (300 fen debited); now it is ``revoked``, nothing is debited, and the region's fund
    sees a flag. The validator was offline: a ride 20 s before the revocation arrives in the same
    batch and is charged."""
    patient, phone, upload = zone2
    _, before = mother(seeded)
    assert patient("POST", f"/api/v1/devices/{phone.device_id}/revoke").status_code == 200
    revoked = revoked_at(seeded, phone.device_id)
    earlier, later = revoked - 20, revoked + 34
    batch = [(phone.code("ss", now=earlier), earlier), (phone.code("ss", now=later), later)]
    results = upload(batch)
    assert [(r["status"], r["fare_fen"]) for r in results] == [("charged", 300), ("revoked", 0)]
    assert results[1]["reason"] == "credential_revoked"
    assert mother(seeded)[1] == before - 300
    assert ledger_rows(seeded) == [-300]
    assert ride_flags(seeded) == [("ridden_after_revocation", JIASHAN, "revoked")]
    assert [r["status"] for r in upload(batch)] == ["duplicate", "duplicate"]  # a retry: once
    assert mother(seeded)[1] == before - 300 and len(ride_flags(seeded)) == 1
    flags = Client(seeded, "demo-auditor")("GET", "/api/v1/audit/flags").json["flags"]
    assert [f["rule"] for f in flags] == ["ridden_after_revocation"]


@pytest.mark.parametrize("how", ["credential", "person"])
def test_a_ride_after_an_admin_revocation_is_not_charged(seeded, zone2, how):
    _, phone, upload = zone2
    holder, before = mother(seeded)
    admin = Client(seeded, "demo-admin")
    path = f"/api/v1/admin/credentials/{jti_of(phone.credentials['ss'])}/revoke" \
        if how == "credential" else f"/api/v1/admin/persons/{holder}/revoke"
    assert admin("POST", path, {"reason": "reported stolen"}).status_code == 200
    later = int(time.time()) + 34
    [result] = upload([(phone.code("ss", now=later), later)])
    assert (result["status"], result["fare_fen"], result["reason"]) == \
        ("revoked", 0, "credential_revoked")
    assert mother(seeded)[1] == before and ledger_rows(seeded) == []
    assert [rule for rule, *_ in ride_flags(seeded)] == ["ridden_after_revocation"]


def test_a_scan_does_not_pay_once_its_phone_is_revoked(seeded, zone2):
    """A code scanned at the counter, then the phone reported lost before the bill was settled:
    the scan (good for 15 minutes) settled anyway, and the same-day flag missed it (it runs when
    the credential is revoked, before this settlement existed)."""
    patient, phone, _ = zone2
    cashier = Client(seeded, "demo-cashier")
    scan = cashier("POST", "/api/v1/verify", {"code": phone.code("med"), "context": "hospital"})
    assert scan.status_code == 200
    assert patient("POST", f"/api/v1/devices/{phone.device_id}/revoke").status_code == 200
    body = {"scan_id": scan.json["scan_id"], "lines": BILL}
    for path, key in (("/api/v1/settlements/preview", None), ("/api/v1/settlements", "lost-0001")):
        refused = cashier("POST", path, body, key=key)
        assert (refused.status_code, refused.json["code"]) == (422, "credential_revoked")


# -- 3. a person's status counts ------------------------------------------------------------------

def suspend_in_registry(app):
    """What a registry import (or any other writer of the registry) does: only the status."""
    with app.app_context():
        db.session.scalars(select(Person).filter_by(name="沈桂芳")).one().status = "suspended"
        db.session.commit()


def test_a_suspended_person_neither_verifies_settles_nor_rides(seeded, zone2):
    """The reproduction: with the registry entry suspended, the codes already on the phone still
    verified (200) and settled (201); now each door answers ``person_suspended``."""
    _, phone, upload = zone2
    cashier = Client(seeded, "demo-cashier")
    scan = cashier("POST", "/api/v1/verify", {"code": phone.code("med", now=steady_time() - 30),
                                              "context": "hospital"})
    assert scan.status_code == 200
    _, before = mother(seeded)
    suspend_in_registry(seeded)
    verified = cashier("POST", "/api/v1/verify", {"code": phone.code("med"), "context": "hospital"})
    assert (verified.status_code, verified.json["code"]) == (403, "person_suspended")
    body = {"scan_id": scan.json["scan_id"], "lines": BILL}
    preview = cashier("POST", "/api/v1/settlements/preview", body)
    assert (preview.status_code, preview.json["code"]) == (403, "person_suspended")
    settled = cashier("POST", "/api/v1/settlements", body, key="suspended-0001")
    assert (settled.status_code, settled.json["code"]) == (403, "person_suspended")
    now = int(time.time())
    [ride] = upload([(phone.code("ss", now=now), now)])
    assert (ride["status"], ride["fare_fen"], ride["reason"]) == ("revoked", 0, "person_suspended")
    assert mother(seeded)[1] == before and ledger_rows(seeded) == []


def test_suspending_in_the_console_revokes_and_reinstating_needs_a_new_phone(seeded, zone2):
    patient, phone, upload = zone2
    holder, before = mother(seeded)
    zone = Client(seeded, "demo-admin")
    made = zone("POST", "/api/v1/admin/staff", {"login": "admin-qp", "password": STRONG,
                                                "role": "admin", "region": QINGPU})
    assert made.status_code == 201, made.json
    qingpu = Client(seeded, "admin-qp", STRONG)  # she is insured in Jiashan: not Qingpu's to touch
    outside = qingpu("POST", f"/api/v1/admin/persons/{holder}/suspend", {"reason": "ended"})
    assert (outside.status_code, outside.json["code"]) == (404, "person_not_found")
    listed = seeded.test_client().get("/api/v1/revocations").json["version"]

    suspended = zone("POST", f"/api/v1/admin/persons/{holder}/suspend", {"reason": "ended"})
    assert suspended.status_code == 200, suspended.json
    assert suspended.json["person"]["status"] == "suspended"
    assert suspended.json["revoked_credentials"] == 2
    revocations = seeded.test_client().get(f"/api/v1/revocations?since={listed}").json["jti"]
    assert sorted(revocations) == sorted(jti_of(c) for c in phone.credentials.values())
    cashier = Client(seeded, "demo-cashier")
    verified = cashier("POST", "/api/v1/verify", {"code": phone.code("med"), "context": "hospital"})
    assert verified.json["code"] == "person_suspended"
    later = int(time.time()) + 34
    [ride] = upload([(phone.code("ss", now=later), later)])
    assert (ride["status"], ride["reason"]) == ("revoked", "person_suspended")
    assert mother(seeded)[1] == before
    again = zone("POST", f"/api/v1/admin/persons/{holder}/suspend", {"reason": "ended"})
    assert again.json["revoked_credentials"] == 0  # idempotent: nothing more to revoke
    assert Phone().activate(patient.client, patient.csrf).json["code"] == "person_suspended"

    reinstated = zone("POST", f"/api/v1/admin/persons/{holder}/reinstate", {"reason": "re-enrolled"})
    assert reinstated.status_code == 200 and reinstated.json["person"]["status"] == "active"
    old = cashier("POST", "/api/v1/verify", {"code": phone.code("med", now=time.time() + 30),
                                             "context": "hospital"})
    assert old.json["code"] == "credential_revoked"  # the phone's old codes stay dead
    new_phone = Phone()
    assert new_phone.activate(patient.client, patient.csrf).status_code == 201
    fresh = cashier("POST", "/api/v1/verify", {"code": new_phone.code("med"), "context": "hospital"})
    assert fresh.status_code == 200, fresh.json
    with seeded.app_context():
        entries = db.session.execute(select(AuditEntry.action, AuditEntry.target_id,
                                            AuditEntry.region_code)
                                     .where(AuditEntry.action.in_(("person.suspend",
                                                                   "person.reinstate")))
                                     .order_by(AuditEntry.id)).all()
    assert entries == [("person.suspend", holder, JIASHAN), ("person.reinstate", holder, JIASHAN)]


def test_a_registry_import_that_suspends_revokes_the_phones(seeded, zone2, runner, tmp_path):
    _, phone, _ = zone2
    listed = seeded.test_client().get("/api/v1/revocations").json["version"]
    row = (demo_national_id(JIASHAN, "19480512", "002"), "沈桂芳", "13905730112", JIASHAN,
           "employee", "suspended")
    path = tmp_path / "persons.csv"
    path.write_text("national_id,name,phone,home_region,insurance_class,status\n"
                    + ",".join(row) + "\n", encoding="utf-8")
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0, result.output
    revocations = seeded.test_client().get(f"/api/v1/revocations?since={listed}").json["jti"]
    assert sorted(revocations) == sorted(jti_of(c) for c in phone.credentials.values())
    with seeded.app_context():
        assert db.session.get(Device, phone.device_id).revoke_reason == "person_suspended"
