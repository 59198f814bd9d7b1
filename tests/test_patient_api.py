"""Sign-up against the registry, family grants and the transit wallet, through the API."""
import pytest
from phones import Phone, login

from backend.demo.data import PERSONS
from backend.demo.seed import demo_national_id

# 顾晨阳, insured in Jiashan, has no account in the demo.
GU = next(p for p in PERSONS if p[0] == "js-1")
GU_ID, GU_PHONE = demo_national_id(GU[1], GU[2], GU[3]), GU[5]


def sign_up(client, national_id=GU_ID, phone=GU_PHONE, password="chenyang-2026"):
    sent = client.post("/api/v1/signup/code", json={"national_id": national_id, "phone": phone})
    assert sent.status_code == 200, sent.json
    return client.post("/api/v1/signup", json={"national_id": national_id, "phone": phone,
                                               "code": sent.json["demo_code"], "password": password})


def test_a_registered_person_signs_up_and_logs_in_with_the_phone(seeded, client, capfd):
    response = sign_up(client)
    assert response.status_code == 201, response.json
    assert response.json["account"]["role"] == "patient"
    assert client.get("/api/v1/me").json["person"]["name"] == "顾晨阳"
    fresh = seeded.test_client()
    assert login(fresh, GU_PHONE, "chenyang-2026")
    logged = capfd.readouterr().err
    assert GU_PHONE not in logged and GU_ID not in logged and "139****0114" in logged
    again = seeded.test_client().post("/api/v1/signup/code",
                                      json={"national_id": GU_ID, "phone": GU_PHONE})
    assert again.status_code == 409 and again.json["code"] == "account_exists"


@pytest.mark.parametrize("national_id, phone, code", [
    ("12345", GU_PHONE, "bad_national_id"),
    (GU_ID, "123", "bad_phone"),
    (GU_ID, "13900000000", "not_in_registry"),
    (GU_ID[:17] + ("0" if GU_ID[17] != "0" else "1"), GU_PHONE, "bad_national_id"),
])
def test_sign_up_refusals_are_readable(seeded, client, national_id, phone, code):
    response = client.post("/api/v1/signup/code", json={"national_id": national_id, "phone": phone})
    assert response.json["code"] == code
    assert response.json["detail"]


def test_wrong_codes_and_weak_passwords(seeded, client):
    sent = client.post("/api/v1/signup/code", json={"national_id": GU_ID, "phone": GU_PHONE}).json
    base = {"national_id": GU_ID, "phone": GU_PHONE}
    weak = client.post("/api/v1/signup", json={**base, "code": sent["demo_code"], "password": "12345678"})
    assert weak.json["code"] == "weak_password"
    wrong = "000000" if sent["demo_code"] != "000000" else "111111"
    for _ in range(5):
        assert client.post("/api/v1/signup", json={**base, "code": wrong, "password": "good-pass-1"}
                           ).json["code"] == "otp_wrong"
    locked = client.post("/api/v1/signup", json={**base, "code": sent["demo_code"], "password": "good-pass-1"})
    assert locked.json["code"] == "otp_locked"


def test_login_is_rate_limited_with_a_readable_answer(seeded, client):
    answers = [client.post("/api/v1/auth/login", json={"login": "demo-patient", "password": "x"})
               for _ in range(11)]
    assert answers[-1].status_code == 429
    assert answers[-1].json["code"] == "rate_limited"
    assert "Wait" in answers[-1].json["detail"]


def test_a_family_member_shows_the_parents_code_until_revoked(seeded):
    parent, member, cashier = seeded.test_client(), seeded.test_client(), seeded.test_client()
    parent_csrf = login(parent, "demo-patient")
    member_csrf = login(member, "demo-family")
    cashier_csrf = login(cashier, "demo-cashier")
    invitation = parent.post("/api/v1/family/invitations", headers={"X-CSRF-Token": parent_csrf})
    assert invitation.status_code == 201 and invitation.json["qr_svg"].startswith("<?xml")
    code = invitation.json["code"]
    assert member.post("/api/v1/family/accept", json={"code": "WRONG-CODE"},
                       headers={"X-CSRF-Token": member_csrf}).json["code"] == "invitation_invalid"
    accepted = member.post("/api/v1/family/accept", json={"code": code.lower()},
                           headers={"X-CSRF-Token": member_csrf})
    assert accepted.status_code == 200
    grant_id = accepted.json["grant"]["id"]
    assert member.get("/api/v1/family").json["received"][0]["holder_masked_name"] == "沈**"
    phone = Phone()
    phone.activate(member, member_csrf, extra={"grant_id": grant_id})
    verified = cashier.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"},
                            headers={"X-CSRF-Token": cashier_csrf})
    assert verified.status_code == 200 and verified.json["family_holder"] is True
    assert verified.json["masked_name"] == "沈**"
    revoked = parent.post(f"/api/v1/family/grants/{grant_id}/revoke",
                          headers={"X-CSRF-Token": parent_csrf})
    assert revoked.json["revoked_credentials"] == 2
    after = cashier.post("/api/v1/verify", json={"code": phone.code("med", now=None), "context": "hospital"},
                         headers={"X-CSRF-Token": cashier_csrf})
    assert after.json["code"] in ("credential_revoked", "code_replayed")


def test_top_up_lands_once_per_idempotency_key(seeded, client):
    csrf = login(client, "demo-patient")
    before = client.get("/api/v1/me").json["balances"]["transit_wallet_fen"]
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "topup-0001-abc"}
    first = client.post("/api/v1/wallet/topups", json={"amount_fen": 5000}, headers=headers)
    again = client.post("/api/v1/wallet/topups", json={"amount_fen": 5000}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200 and again.json["replayed"]
    assert first.json["entry"]["provider"] == "demo"
    assert client.get("/api/v1/me").json["balances"]["transit_wallet_fen"] == before + 5000
    no_key = client.post("/api/v1/wallet/topups", json={"amount_fen": 5000},
                         headers={"X-CSRF-Token": csrf})
    assert no_key.json["code"] == "idempotency_key_required"
    too_big = client.post("/api/v1/wallet/topups", json={"amount_fen": 10 ** 9},
                          headers={**headers, "Idempotency-Key": "topup-0002-abc"})
    assert too_big.json["code"] == "bad_amount"
