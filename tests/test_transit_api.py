"""Bus validators through the API: enrolment, trust data, ride batches charged exactly once,
daily cap, arrears and the deny list, copies, disabling, ridership."""
import base64
import json
import time

import jwt
import pytest
from phones import Phone, b64url, login
from sqlalchemy import select

from backend.models import AuditFlag, Person
from backend.service.extensions import db
from backend.tokens.credential import DeviceKey
from backend.tokens.documents import verify_document


def enrol_validator(app, line="ZONE6"):
    admin = app.test_client()
    csrf = login(admin, "demo-admin")
    registered = admin.post("/api/v1/admin/validators", json={"line": line, "label": "bus 88"},
                            headers={"X-CSRF-Token": csrf})
    assert registered.status_code == 201, registered.json
    device = Phone()
    code = registered.json["enrol_code"]
    proof = b64url(device.sign(b"YIMA-ACTIVATE-1" + code.encode()))
    client = app.test_client()
    enrolled = client.post("/api/v1/validators/enrol", json={"enrol_code": code,
                                                             "public_jwk": device.jwk(),
                                                             "signature": proof})
    assert enrolled.status_code == 201, enrolled.json
    token = enrolled.json["token"]
    reuse = client.post("/api/v1/validators/enrol", json={"enrol_code": code, "public_jwk": device.jwk(),
                                                          "signature": proof})
    assert reuse.json["code"] == "enrolment_invalid"
    auth = {"Authorization": f"Bearer {token}"}
    return client, auth, registered.json["id"], (admin, csrf)


@pytest.fixture
def bus(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    client, auth, validator_id, admin = enrol_validator(seeded)

    def upload(codes, auth_headers=auth):
        rides = [{"code": code, "ridden_at": at} for code, at in codes]
        return client.post("/api/v1/rides/batch", json={"rides": rides}, headers=auth_headers)
    return phone, upload, client, auth, validator_id, admin


def deny_payload(signed):
    return json.loads(base64.urlsafe_b64decode(signed.split(".")[1] + "=="))


def wallet(app, name="沈桂芳"):
    with app.app_context():
        return db.session.scalars(select(Person.transit_wallet_fen).filter_by(name=name)).one()


def test_trust_data_is_signed_and_complete(seeded, bus):
    _, _, client, auth, _, _ = bus
    trust = client.get("/api/v1/validators/trust", headers=auth).json
    assert trust["line"]["code"] == "ZONE6" and trust["fares"]["ZONE6"] == 400
    keys = {k["kid"]: DeviceKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": k["x"]}).public_key
            for k in trust["jwks"]["keys"]}
    assert verify_document(trust["revocations"], keys)["typ"] == "revocations"
    assert verify_document(trust["deny"], keys)["jti"] == []
    assert trust["limits"] == {"warn_age": 21600, "max_age": 259200}


def test_a_batch_sent_five_times_is_charged_once(seeded, bus):
    phone, upload, *_ = bus
    now = time.time()
    before = wallet(seeded)
    batch = [(phone.code("ss", now=now), int(now))]
    answers = [upload(batch).json["results"][0]["status"] for _ in range(5)]
    assert answers == ["charged", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert wallet(seeded) == before - 400


def test_two_validators_with_one_code_charge_once_and_flag(seeded, bus):
    phone, upload, *_ = bus
    other, other_auth, _, _ = enrol_validator(seeded)
    now = time.time()
    code = phone.code("ss", now=now)
    assert upload([(code, int(now))]).json["results"][0]["status"] == "charged"
    second = other.post("/api/v1/rides/batch", json={"rides": [{"code": code, "ridden_at": int(now)}]},
                        headers=other_auth)
    assert second.json["results"][0]["status"] == "copy"
    with seeded.app_context():
        assert db.session.scalars(select(AuditFlag.rule)).all() == ["copied_code"]


def test_daily_cap_then_arrears_then_deny_then_top_up_lifts(seeded, bus):
    phone, upload, client, auth, _, _ = bus
    with seeded.app_context():  # an empty wallet: rides become arrears
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        person.transit_wallet_fen = 0
        db.session.commit()
    now = int(time.time())
    # The day's cap is ¥10: rides of ¥4, ¥4, ¥2 (capped at ¥10), then free.
    codes = [(phone.code("ss", now=now + 30 * k), now + 30 * k) for k in range(4)]
    results = upload(codes).json["results"]
    assert [(r["status"], r["fare_fen"]) for r in results] == \
        [("arrears", 400), ("arrears", 400), ("arrears", 200), ("capped", 0)]
    assert wallet(seeded) == -1000
    deny = client.get("/api/v1/validators/trust", headers=auth).json["deny"]
    ss = jwt.decode(phone.credentials["ss"], options={"verify_signature": False})
    assert deny_payload(deny)["jti"] == [ss["jti"]]  # the live ss credential, by its id only
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    patient.post("/api/v1/wallet/topups", json={"amount_fen": 2000},
                 headers={"X-CSRF-Token": csrf, "Idempotency-Key": "clear-arrears-01"})
    deny = client.get("/api/v1/validators/trust", headers=auth).json["deny"]
    assert deny_payload(deny)["jti"] == []


def test_bad_rides_are_rejected_one_by_one(seeded, bus):
    phone, upload, *_ = bus
    now = int(time.time())
    results = upload([("garbage", now), (phone.code("med", now=now), now),
                      (phone.code("ss", now=now), now - 30 * 86_400)]).json["results"]
    assert [r["reason"] for r in results] == ["code_malformed", "wrong_kind", "ridden_at_out_of_range"]


def test_a_disabled_validator_is_refused(seeded, bus):
    phone, upload, _, _, validator_id, (admin, csrf) = bus
    assert admin.post(f"/api/v1/admin/validators/{validator_id}/disable",
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    refused = upload([(phone.code("ss"), int(time.time()))])
    assert refused.status_code == 403 and refused.json["code"] == "validator_disabled"
    anonymous = upload([(phone.code("ss"), int(time.time()))], auth_headers={})
    assert anonymous.status_code == 401


def test_ridership_per_line_and_hour(seeded, bus):
    phone, upload, _, _, _, (admin, _) = bus
    now = int(time.time())
    upload([(phone.code("ss", now=now), now)])
    rows = admin.get("/api/v1/admin/ridership").json["rows"]
    assert sum(r["rides"] for r in rows) == 1 and rows[0]["line"] == "ZONE6"
    assert admin.get("/api/v1/admin/ridership?date=yesterday").json["code"] == "bad_date"


def test_ridership_shows_an_auditor_only_the_lines_serving_their_region(seeded, bus):
    """The reproduction: the Qingpu auditor saw zone line 4 (Wujiang–Jiashan). Now, like the
    clearing report, a regional role sees the lines that serve its region; the zone sees all."""
    phone, upload, *_ = bus  # zone line 6 serves all three regions
    zone4, zone4_auth, _, _ = enrol_validator(seeded, line="ZONE4")
    now = int(time.time())
    assert upload([(phone.code("ss", now=now), now)]).json["results"][0]["status"] == "charged"
    later = phone.code("ss", now=now + 30)
    assert zone4.post("/api/v1/rides/batch", json={"rides": [{"code": later, "ridden_at": now + 30}]},
                      headers=zone4_auth).json["results"][0]["status"] == "charged"
    seen = {}
    for name in ("demo-auditor-qp", "demo-auditor", "demo-admin"):
        client = seeded.test_client()
        login(client, name)
        seen[name] = sorted({r["line"] for r in client.get("/api/v1/admin/ridership").json["rows"]})
    assert seen == {"demo-auditor-qp": ["ZONE6"], "demo-auditor": ["ZONE4", "ZONE6"],
                    "demo-admin": ["ZONE4", "ZONE6"]}


def test_a_validator_may_verify_online(seeded, bus):
    phone, _, client, auth, _, _ = bus
    answer = client.post("/api/v1/verify", json={"code": phone.code("ss"), "context": "bus"}, headers=auth)
    assert answer.status_code == 200 and "masked_name" not in answer.json


def test_one_batch_of_two_people_with_a_ride_repeated_inside_it(seeded, bus):
    phone, upload, *_ = bus
    son = Phone()
    son_client = seeded.test_client()
    son.activate(son_client, login(son_client, "demo-family"))
    now = int(time.time())
    mother_before, son_before = wallet(seeded), wallet(seeded, "陆建华")
    mine = phone.code("ss", now=now)
    results = upload([(mine, now), (son.code("ss", now=now), now), (mine, now),
                      (phone.code("ss", now=now + 30), now + 30)]).json["results"]
    assert [r["status"] for r in results] == ["charged", "charged", "duplicate", "charged"]
    assert results[0]["id"] == results[2]["id"]
    assert wallet(seeded) == mother_before - 800 and wallet(seeded, "陆建华") == son_before - 400
    with seeded.app_context():  # one ledger row per charged ride, balances consistent
        from backend.models import WalletEntry
        entries = db.session.scalars(select(WalletEntry).filter_by(kind="ride")
                                     .order_by(WalletEntry.id)).all()
        assert sorted(e.amount_fen for e in entries) == [-400, -400, -400]
        last = {e.person_id: e.balance_after_fen for e in entries}
        persons = {p.id: p.transit_wallet_fen for p in db.session.scalars(select(Person))}
        assert all(persons[pid] == balance for pid, balance in last.items())


def test_a_credential_from_before_per_credential_pseudonyms_rides_until_it_expires(seeded, bus):
    """Credentials issued before each got its own pseudonym carry the holder id as sub. They verify
    and charge as before, and the deny list names them by jti like any other."""
    from backend.models import Credential
    from backend.models.base import at
    from backend.service.issuer import current_ring
    from backend.tokens.code import make_code, step_at
    from backend.tokens.credential import Claims, issue_credential, new_credential_id

    phone, upload, client, auth, _, _ = bus
    now = int(time.time())
    with seeded.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        device_id = db.session.scalars(select(Credential.device_id)
                                       .filter_by(person_id=person.id)).first()
        old = Claims(sub=person.holder_id, jti=new_credential_id(), knd="ss", reg=person.home_region,
                     cls="emp", fam=False, iat=now - 3600, exp=now + 86_400,
                     device_key=DeviceKey.from_jwk(phone.jwk()))
        ring = current_ring(seeded)
        credential = issue_credential(ring, old, now)
        db.session.add(Credential(jti=old.jti, device_id=device_id, person_id=person.id, kind="ss",
                                  kid=ring.signing_key(now).kid, issued_at=at(now - 3600),
                                  expires_at=at(now + 86_400)))
        person.transit_wallet_fen = 0
        db.session.commit()
    code = make_code(credential, step_at(now), phone.sign)
    assert client.post("/api/v1/verify", json={"code": code, "context": "bus"},
                       headers=auth).json["holder"] == old.sub
    rides = [(make_code(credential, step_at(now + 30 * k), phone.sign), now + 30 * k)
             for k in (1, 2, 3)]
    assert [r["status"] for r in upload(rides).json["results"]] == ["arrears"] * 3
    deny = deny_payload(client.get("/api/v1/validators/trust", headers=auth).json["deny"])
    new = jwt.decode(phone.credentials["ss"], options={"verify_signature": False})["jti"]
    assert deny["jti"] == sorted([old.jti, new])
