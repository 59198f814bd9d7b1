"""Abuse limits: account lockout (Redis), the password policy, the per-principal limits on
phone activation/refresh and online verification, and guessing: family invitations (per account,
and per invitation through its locator), validator enrolment, anonymous writes, body size.
The reproductions of issue 14 are in test_input_regressions.py."""
import hashlib
import json
import statistics
import time
import uuid

import pytest
from phones import Phone, login
from sqlalchemy import select
from test_patient_api import GU_ID, GU_PHONE, sign_up
from test_transit_api import enrol_validator

from backend.accounts import passwords
from backend.accounts.hashing import new_staff_account
from backend.demo.data import DEMO_PASSWORD
from backend.models import Account, AuditEntry, FamilyGrant
from backend.models.base import at
from backend.service.errors import ValidationFailed
from backend.service.extensions import db


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client, name, password):
    return client.post("/api/v1/auth/login", json={"login": name, "password": password})


@pytest.mark.parametrize("name", ["demo-cashier", "nobody-at-all"])
def test_five_failures_lock_the_name_whether_it_exists_or_not(seeded, name):
    client = client_from(seeded, "10.0.0.1")
    answers = [attempt(client, name, "wrong-password") for _ in range(5)]
    assert [a.json["code"] for a in answers] == ["invalid_credentials"] * 4 + ["account_locked"]
    locked = attempt(client, name, DEMO_PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and locked.json["code"] == "account_locked"
    assert 0 < locked.json["retry_after"] <= 900
    # Flask-Limiter rewrites Retry-After (the later of its reset and ours), rounding down.
    assert locked.json["retry_after"] - 2 <= int(locked.headers["Retry-After"]) <= 900
    assert "Try again in 15 minutes" in locked.json["detail"]
    other = client_from(seeded, "10.0.0.2")  # the lock follows the name, not the address
    assert attempt(other, name, DEMO_PASSWORD).json["code"] == "account_locked"
    assert attempt(other, "demo-patient", DEMO_PASSWORD).status_code == 200


def test_the_lock_ends_by_itself_and_a_success_resets_the_count(seeded):
    # The window runs from the first failure: long enough for five scrypt checks on a busy machine.
    seeded.config["LOCKOUT_SECONDS"] = 6
    client = client_from(seeded, "10.0.0.3")
    for _ in range(4):
        assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "invalid_credentials"
    assert attempt(client, "demo-auditor", DEMO_PASSWORD).status_code == 200
    for _ in range(4):  # the count started again after the success
        assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "invalid_credentials"
    assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "account_locked"
    time.sleep(6.2)
    assert attempt(client_from(seeded, "10.0.0.4"), "demo-auditor", DEMO_PASSWORD).status_code == 200


def test_a_wrong_password_and_an_unknown_login_take_about_as_long(seeded):
    def median_time(name, address):
        client = client_from(seeded, address)
        times = []
        for _ in range(4):
            start = time.perf_counter()
            assert attempt(client, name, "wrong-password").json["code"] == "invalid_credentials"
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    known, unknown = median_time("demo-cashier", "10.0.1.1"), median_time("no-such-user", "10.0.1.2")
    assert 0.5 < known / unknown < 2, (known, unknown)  # both pay one scrypt check


@pytest.mark.parametrize("password, reason", [
    ("short-1", "too_short"), (GU_PHONE + "ab", "like_login"), ("my" + GU_PHONE, "like_login"),
    ("password123", "common"), ("aaaaaaaaaaaa", "common"), ("x" * 129, "too_long")])
def test_sign_up_refuses_weak_passwords_readably(seeded, client, password, reason):
    response = sign_up(client, password=password)
    assert response.status_code == 422
    assert response.json["code"] == "weak_password" and response.json["reason"] == reason
    assert response.json["detail"].startswith("Password: ")


def test_sign_up_accepts_a_good_password(seeded, client):
    assert sign_up(client, password="chenyang-2026").status_code == 201
    assert attempt(client, GU_PHONE, "chenyang-2026").status_code == 200
    assert GU_ID  # the registry person is the one test_patient_api signs up


def test_staff_accounts_meet_the_same_policy():
    with pytest.raises(ValidationFailed) as refused:
        new_staff_account("cashier-wang", "cashier-wang-2026", role="cashier")
    assert refused.value.extra["reason"] == "like_login"
    with pytest.raises(ValidationFailed):
        new_staff_account("cashier-wang", "1234567890", role="cashier")
    account = new_staff_account("cashier-wang", "tea-kettle-orchid", role="cashier")
    assert account.password_hash.startswith("scrypt:")
    assert passwords.problem("tea-kettle-orchid") is None


def test_activation_and_refresh_are_limited_per_patient(seeded):
    seeded.config["DEVICE_RATE_LIMIT"] = "2 per hour"
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    assert Phone().activate(patient, csrf).status_code == 201
    phone = Phone()
    assert phone.activate(patient, csrf).status_code == 201
    third = Phone().activate(patient, csrf)
    assert third.status_code == 429 and third.json["code"] == "rate_limited"
    refresh = patient.post("/api/v1/devices/refresh", json={"device_id": phone.device_id,
                                                            "nonce": "x", "signature": "y"},
                           headers={"X-CSRF-Token": csrf})
    assert refresh.status_code == 429  # activation and refresh share the patient's bucket
    family = seeded.test_client()  # another patient from the same address is not affected
    assert Phone().activate(family, login(family, "demo-family")).status_code == 201


def test_verify_is_limited_per_principal_not_per_address(seeded):
    seeded.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    first, second = client_from(seeded, "10.0.2.1"), client_from(seeded, "10.0.2.1")
    first_csrf, second_csrf = login(first, "demo-cashier"), login(second, "demo-cashier-wj")

    def verify(client, csrf):
        return client.post("/api/v1/verify", json={"code": "not-a-code", "context": "hospital"},
                           headers={"X-CSRF-Token": csrf})
    answers = [verify(first, first_csrf).status_code for _ in range(4)]
    assert answers[:3] != [429] * 3 and answers[3] == 429
    assert verify(second, second_csrf).status_code != 429
    assert verify(first, first_csrf).json["code"] == "rate_limited"


# ---- guessing: family invitations, validator enrolment, anonymous writes, body size --------

def invite(client, csrf):
    answer = client.post("/api/v1/family/invitations", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 201, answer.json
    return answer.json["code"]


def accept(client, csrf, code):
    return client.post("/api/v1/family/accept", json={"code": code}, headers={"X-CSRF-Token": csrf})


def test_only_wrong_invitation_codes_count_and_per_account(seeded):
    seeded.config["FAMILY_ACCEPT_RATE_LIMIT"] = "2 per hour"
    parent, member, other = (seeded.test_client() for _ in range(3))
    parent_csrf, member_csrf = login(parent, "demo-patient"), login(member, "demo-family")
    assert accept(member, member_csrf, "WXYZ-2345").status_code == 404
    assert accept(member, member_csrf, invite(parent, parent_csrf)).status_code == 200
    assert accept(member, member_csrf, "WXYZ-2346").status_code == 404
    assert accept(member, member_csrf, "WXYZ-2347").json["code"] == "rate_limited"
    other_csrf = login(other, "demo-patient")  # same address, another account
    assert accept(other, other_csrf, "WXYZ-2348").json["code"] == "invitation_invalid"


def test_wrong_tries_under_another_locator_leave_an_invitation_alone(seeded):
    parent, member = seeded.test_client(), seeded.test_client()
    parent_csrf, member_csrf = login(parent, "demo-patient"), login(member, "demo-family")
    code = invite(parent, parent_csrf)
    plain = code.replace("-", "")
    elsewhere = ("2" if plain[0] != "2" else "3") + plain[1:]  # same secret, another locator
    for _ in range(6):
        assert accept(member, member_csrf, elsewhere).json["code"] == "invitation_invalid"
    assert accept(member, member_csrf, code).status_code == 200


def test_the_fifth_wrong_try_is_audited_against_the_guessing_account(seeded):
    parent, member = seeded.test_client(), seeded.test_client()
    parent_csrf, member_csrf = login(parent, "demo-patient"), login(member, "demo-family")
    plain = invite(parent, parent_csrf).replace("-", "")
    for secret in [c * 5 for c in "234567" if c * 5 != plain[3:]][:5]:
        accept(member, member_csrf, plain[:3] + secret)
    with seeded.app_context():
        entry = db.session.scalars(select(AuditEntry).filter_by(
            action="family.invitation_ended")).one()
        grant = db.session.get(FamilyGrant, int(entry.target_id))
    assert grant.status == "revoked" and grant.revoked_at is not None
    assert entry.actor == "demo-family"


def test_an_invitation_made_before_locators_still_opens(seeded):
    """Invitations of the day before the change hold a plain SHA-256 of the code."""
    with seeded.app_context():
        grantor = db.session.scalars(select(Account).filter_by(login="demo-patient")).one()
        now = int(time.time())
        db.session.add(FamilyGrant(person_id=grantor.person_id, grantor_account_id=grantor.id,
                                   invitation_hash=hashlib.sha256(b"QRSTUVWX").hexdigest(),
                                   status="pending", invitation_expires_at=at(now + 3600),
                                   created_at=at(now)))
        db.session.commit()
    member = seeded.test_client()
    member_csrf = login(member, "demo-family")
    assert accept(member, member_csrf, "QRST-UVWY").status_code == 404
    assert accept(member, member_csrf, "qrst-uvwx").status_code == 200


def test_enrolments_that_succeed_do_not_count(seeded):
    seeded.config["ENROL_RATE_LIMIT"] = "2 per hour"
    # Each enrols one validator from 127.0.0.1 and then tries its used code again (a failure).
    enrol_validator(seeded)
    enrol_validator(seeded)
    client = seeded.test_client()
    refused = client.post("/api/v1/validators/enrol", json={"enrol_code": "WRONG", "public_jwk": {},
                                                            "signature": "x"})
    assert refused.json["code"] == "rate_limited"


def test_the_anonymous_limit_leaves_signed_in_callers_alone(seeded):
    seeded.config["ANONYMOUS_WRITE_RATE_LIMIT"] = "1 per minute"
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    for _ in range(3):
        assert patient.post("/api/v1/devices/challenge", headers={"X-CSRF-Token": csrf}).status_code == 200
    stranger = seeded.test_client()
    assert stranger.post("/api/v1/devices/challenge").json["code"] == "unauthenticated"
    assert stranger.post("/api/v1/devices/challenge").json["code"] == "rate_limited"
    assert stranger.get("/api/v1/revocations").status_code == 200  # reads are not counted


def test_a_full_batch_of_500_rides_fits_under_the_body_limit(seeded):
    """The largest batch the API takes, with real codes and ride ids, is well under 1 MiB (about
    190 KB), and is taken whole."""
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    client, auth, _, _ = enrol_validator(seeded)
    now = time.time()
    rides = [{"id": str(uuid.uuid4()), "code": phone.code("ss", now=now - 30 * (i % 3)),
              "ridden_at": int(now) - 30 * (i % 3)} for i in range(500)]
    body = json.dumps({"rides": rides}).encode()
    assert len(body) < 0.6 * seeded.config["MAX_CONTENT_LENGTH"], len(body)
    answer = client.post("/api/v1/rides/batch", data=body, content_type="application/json",
                         headers=auth)
    assert answer.status_code == 200 and len(answer.json["results"]) == 500
