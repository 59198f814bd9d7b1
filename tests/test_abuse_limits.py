"""Abuse limits: account lockout (Redis), the password policy, and the per-principal limits on
phone activation/refresh and online verification."""
import statistics
import time

import pytest
from phones import Phone, login
from test_patient_api import GU_ID, GU_PHONE, sign_up

from backend.accounts import passwords
from backend.accounts.hashing import new_staff_account
from backend.demo.data import DEMO_PASSWORD
from backend.service.errors import ValidationFailed


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
    seeded.config["LOCKOUT_SECONDS"] = 2
    client = client_from(seeded, "10.0.0.3")
    for _ in range(4):
        assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "invalid_credentials"
    assert attempt(client, "demo-auditor", DEMO_PASSWORD).status_code == 200
    for _ in range(4):  # the count started again after the success
        assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "invalid_credentials"
    assert attempt(client, "demo-auditor", "nope-nope-1").json["code"] == "account_locked"
    time.sleep(2.2)
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
