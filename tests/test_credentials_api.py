"""Activation, online verification, revocation and the JWKS, through the HTTP API."""
import json

import jwt
import pytest
from phones import Phone, login
from sqlalchemy import select

from backend.models import Account, AuditEntry
from backend.service.extensions import db
from backend.tokens.documents import verify_document

PATIENT, CASHIER = "demo-patient", "demo-cashier"


@pytest.fixture
def patient(seeded):
    client = seeded.test_client()
    csrf = login(client, PATIENT)
    return client, csrf


@pytest.fixture
def cashier(seeded):
    client = seeded.test_client()
    csrf = login(client, CASHIER)

    def verify(code, context="hospital"):
        return client.post("/api/v1/verify", json={"code": code, "context": context},
                           headers={"X-CSRF-Token": csrf})
    return verify


def jwks(client):
    return client.get("/.well-known/jwks.json").json


def test_activation_issues_two_credentials_without_identity(seeded, patient):
    client, csrf = patient
    phone = Phone()
    response = phone.activate(client, csrf)
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body["credentials"]) == {"med", "ss"}
    assert body["revoked_devices"] == [] and abs(body["expires_at"] - body["server_time"] - 7 * 86400) < 5
    keys = {k["kid"]: k for k in jwks(client)["keys"]}
    with seeded.app_context():
        person = db.session.scalars(select(Account).filter_by(login=PATIENT)).one().person
        name, holder = person.name, person.holder_id
    subs = set()
    for kind, token in body["credentials"].items():
        header = jwt.get_unverified_header(token)
        assert header == {"alg": "EdDSA", "kid": header["kid"]}
        key = jwt.PyJWK(keys[header["kid"]]).key
        claims = jwt.decode(token, key, algorithms=["EdDSA"])
        assert claims["knd"] == kind and claims["reg"] == "330421"
        assert len(claims["sub"]) == 11 and claims["sub"] != holder  # a pseudonym of this credential
        subs.add(claims["sub"])
        assert claims["cnf"]["jwk"] == phone.jwk()
        assert name not in json.dumps(claims, ensure_ascii=False)
    assert len(subs) == 2  # the med and the ss code cannot be linked by their sub


def test_a_new_phone_replaces_the_old_one(patient, cashier):
    client, csrf = patient
    old, new = Phone(), Phone("P-256")
    assert old.activate(client, csrf).status_code == 201
    response = new.activate(client, csrf)
    assert response.status_code == 201
    assert response.json["revoked_devices"] == [old.device_id]
    assert "previous phone" in response.json["notice"]
    assert cashier(old.code()).json["code"] == "credential_revoked"
    assert cashier(new.code()).status_code == 200


def test_cashier_sees_masked_holder_and_whose_rules_apply(seeded, patient, cashier):
    phone = Phone()
    phone.activate(*patient)
    response = cashier(phone.code("med"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["masked_name"] == "沈**"
    assert body["home_region"] == "330421" and body["rules_of"] == "330421"
    assert body["cross_region"] is True and body["insurance_class"] == "employee"
    with seeded.app_context():
        reads = db.session.scalars(select(AuditEntry).filter_by(action="person.read")).all()
        assert len(reads) == 1 and reads[0].actor == CASHIER


def test_refusals_have_stable_codes(patient, cashier):
    phone = Phone()
    phone.activate(*patient)
    code = phone.code("med")
    assert cashier(code).status_code == 200
    again = cashier(code)
    assert again.status_code == 409 and again.json["code"] == "code_replayed"
    wrong = cashier(phone.code("ss"))
    assert wrong.status_code == 422 and wrong.json["code"] == "wrong_kind"
    assert cashier("hello").json["code"] == "code_malformed"
    tampered = code[:-5] + ("00000" if code[-5:] != "00000" else "11111")
    assert cashier(tampered).json["code"] in ("bad_device_signature", "code_malformed")
    old = phone.code("med", now=1_000_000_000)
    assert cashier(old).json["code"] in ("code_expired", "credential_not_yet_valid")
    bus = cashier(phone.code("ss"), context="bus")
    assert bus.status_code == 403 and bus.json["code"] == "context_not_allowed"
    patient_client, csrf = patient
    refused = patient_client.post("/api/v1/verify", json={"code": code, "context": "hospital"},
                                  headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403


@pytest.mark.parametrize("body", [{"code": 5, "context": "hospital"}, {"context": "hospital"},
                                  {"code": "x", "context": "spaceship"}])
def test_bad_verify_bodies_are_problems(seeded, body):
    client = seeded.test_client()
    csrf = login(client, CASHIER)
    response = client.post("/api/v1/verify", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    assert response.json["code"] in ("validation_failed", "bad_context")


def test_activation_needs_a_fresh_challenge_and_a_real_proof(patient):
    client, csrf = patient
    phone = Phone()
    nonce = client.post("/api/v1/devices/challenge", headers={"X-CSRF-Token": csrf}).json["nonce"]
    forged = client.post("/api/v1/devices", json={"public_jwk": phone.jwk(), "nonce": nonce,
                                                   "signature": "A" * 86},
                         headers={"X-CSRF-Token": csrf})
    assert forged.status_code == 400 and forged.json["code"] == "bad_device_signature"
    reused = client.post("/api/v1/devices", json={"public_jwk": phone.jwk(), "nonce": nonce,
                                                   "signature": "A" * 86},
                         headers={"X-CSRF-Token": csrf})
    assert reused.json["code"] == "challenge_invalid"
    bad_key = client.post("/api/v1/devices", json={"public_jwk": {"kty": "RSA"}, "nonce": "x",
                                                    "signature": "y"},
                          headers={"X-CSRF-Token": csrf})
    assert bad_key.status_code in (400, 422)


def test_lost_phone_revocation_bites_online_and_reaches_the_list(seeded, patient, cashier):
    client, csrf = patient
    phone = Phone()
    phone.activate(client, csrf)
    before = client.get("/api/v1/revocations?since=0").json
    response = client.post(f"/api/v1/devices/{phone.device_id}/revoke", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json["revoked_credentials"] == 2
    assert cashier(phone.code("med")).json["code"] == "credential_revoked"
    listing = client.get(f"/api/v1/revocations?since={before['version']}").json
    assert len(listing["jti"]) == 2 and listing["version"] > before["version"]
    with seeded.app_context():
        import time

        from backend.service.issuer import current_ring
        document = verify_document(listing["signed"], current_ring(seeded).public_keys(int(time.time())))
    assert sorted(document["jti"]) == sorted(listing["jti"])
    assert client.get(f"/api/v1/revocations?since={listing['version']}").json["jti"] == []
    assert client.get("/api/v1/revocations?since=-1").status_code == 422


def test_refresh_renews_the_same_phone(patient, cashier):
    client, csrf = patient
    phone = Phone()
    phone.activate(client, csrf)
    first = dict(phone.credentials)
    nonce = client.post("/api/v1/devices/challenge", headers={"X-CSRF-Token": csrf}).json["nonce"]
    import base64

    from phones import b64url
    proof = b64url(phone.sign(b"YIMA-ACTIVATE-1" + base64.urlsafe_b64decode(nonce + "=")))
    response = client.post("/api/v1/devices/refresh", json={"device_id": phone.device_id,
                                                            "nonce": nonce, "signature": proof},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.json
    phone.credentials = response.json["credentials"]
    assert phone.credentials["med"] != first["med"]
    assert cashier(phone.code("med")).status_code == 200


def test_jwks_is_public_cacheable_and_has_no_private_parts(client):
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    for key in response.json["keys"]:
        assert {key["kty"], key["crv"], key["use"], key["alg"]} == {"OKP", "Ed25519", "sig", "EdDSA"}
        assert "d" not in key and len(key["kid"]) == 8


def test_rotation_keeps_old_credentials_verifying(seeded, patient, cashier, runner):
    client, csrf = patient
    phone = Phone()
    phone.activate(client, csrf)
    old_kid = jwt.get_unverified_header(phone.credentials["med"])["kid"]
    result = runner.invoke(args=["keys", "rotate", "--overlap", "0"])
    assert result.exit_code == 0, result.output
    assert cashier(phone.code("med")).status_code == 200  # signed by the old key
    fresh = Phone()
    fresh.activate(client, csrf)
    new_kid = jwt.get_unverified_header(fresh.credentials["med"])["kid"]
    assert new_kid != old_kid
    assert {old_kid, new_kid} <= {k["kid"] for k in jwks(client)["keys"]}
    assert cashier(fresh.code("med")).status_code == 200


def test_demo_code_prints_a_code_the_cashier_accepts(seeded, runner, cashier, tmp_path):
    result = runner.invoke(args=["demo", "code", "--kind", "med", "--qr", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    code = [line for line in result.output.splitlines() if line.startswith("YM1")][0]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert cashier(code).status_code == 200
    assert runner.invoke(args=["demo", "code", "--login", "demo-cashier"]).exit_code != 0


def test_admin_revokes_one_credential_or_a_whole_person(seeded, patient, cashier):
    client, csrf = patient
    phone = Phone()
    phone.activate(client, csrf)
    jti = jwt.decode(phone.credentials["med"], options={"verify_signature": False})["jti"]
    with seeded.app_context():  # the registry's pseudonym: no code carries it
        holder = db.session.scalars(select(Account).filter_by(login=PATIENT)).one().person.holder_id
    admin = seeded.test_client()
    admin_csrf = login(admin, "demo-admin")
    one = admin.post(f"/api/v1/admin/credentials/{jti}/revoke", json={"reason": "fraud"},
                     headers={"X-CSRF-Token": admin_csrf})
    assert one.status_code == 200 and one.json["revoked_credentials"] == 1
    assert cashier(phone.code("med")).json["code"] == "credential_revoked"
    assert cashier(phone.code("ss"), context="hospital").json["code"] == "wrong_kind"
    everything = admin.post(f"/api/v1/admin/persons/{holder}/revoke", json={"reason": "lost"},
                            headers={"X-CSRF-Token": admin_csrf})
    assert everything.json["revoked_credentials"] == 1  # the ss one was still live
    assert admin.post("/api/v1/admin/persons/nobody/revoke", json={"reason": "x"},
                      headers={"X-CSRF-Token": admin_csrf}).status_code == 404
    denied = client.post(f"/api/v1/admin/persons/{holder}/revoke", json={"reason": "x"},
                         headers={"X-CSRF-Token": csrf})
    assert denied.status_code == 403


def test_the_activation_answer_is_what_the_api_document_says(patient):
    """IssuedOut.credentials was published as an array while the answer is an object by kind."""
    client, csrf = patient
    answer = Phone().activate(client, csrf).json
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    assert schemas["IssuedOut"]["properties"]["credentials"] == \
        {"$ref": "#/components/schemas/IssuedCredentialsOut"}
    published = schemas["IssuedCredentialsOut"]
    assert published["type"] == "object" and published["required"] == ["med", "ss"]
    assert set(answer["credentials"]) == {"med", "ss"}
    assert all(isinstance(jws, str) and jws.count(".") == 2 for jws in answer["credentials"].values())
