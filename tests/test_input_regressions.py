"""Regression tests for the input and abuse findings of issue 14 (items 5 and 6): each is the
reproduction that worked against the service, and names what it guards against."""
import base64
import io
import json
import time

import pytest
from phones import Phone, b64url, login, steady_time
from test_counter_api import BILL
from test_transit_api import enrol_validator

BIG_BILL = [{"category": "treatment", "coverage_class": "A", "amount_fen": 1_200_000,
             "description": "手术"}]  # over Jiashan's ¥10,000 threshold: an audit flag
SURROGATE = "\ud800"
MiB = 1024 * 1024


def as_json(value):
    return json.dumps(value)  # escapes a lone surrogate as \ud800, as an attacker's client does


def problem(response, status, code):
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code, response.json
    return response.json


def deep(depth):
    return "[" * depth + "]" * depth


# ---- item 6: no 500 from input ------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/validators/enrol"])
def test_json_nested_3000_deep_is_refused_not_a_recursion_error(client, path):
    """RecursionError in the JSON parser was a 500, anonymous."""
    answer = client.post(path, data=deep(3000), content_type="application/json")
    problem(answer, 400, "json_too_deep")
    field = client.post(path, data='{"login": ' + deep(3000) + ', "password": "x"}',
                        content_type="application/json")
    problem(field, 400, "json_too_deep")


def test_json_nested_past_the_limit_is_refused_before_any_view(client):
    """33 levels parse, but nothing the API takes is deeper than 3: refused as too deep, too."""
    body = '{"login": "demo-patient", "password": ' + deep(33) + '}'
    problem(client.post("/api/v1/auth/login", data=body, content_type="application/json"),
            400, "json_too_deep")


def test_a_lone_surrogate_at_login_is_refused_not_a_500(client):
    """UnicodeEncodeError on the login name (lockout key, database) was a 500, anonymous."""
    for body in ({"login": SURROGATE, "password": "x"}, {"login": "demo-patient", "password": SURROGATE},
                 {"login": "demo-patient", "password": "x", "a\udfffb": 1}):
        answer = client.post("/api/v1/auth/login", data=as_json(body), content_type="application/json")
        refused = problem(answer, 422, "invalid_text")
        assert refused["fields"] in ({"login": "not valid Unicode text"},
                                     {"password": "not valid Unicode text"},
                                     {"body": "not valid Unicode text"})


@pytest.mark.parametrize("path, body", [
    ("/api/v1/admin/institutions/H31011800001/api-keys", {"label": "HIS " + SURROGATE}),
    ("/api/v1/admin/validators", {"line": "ZONE6", "label": "bus " + SURROGATE}),
])
def test_a_lone_surrogate_in_an_admin_label_is_refused_not_a_500(seeded, path, body):
    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    answer = admin.post(path, data=as_json(body), content_type="application/json",
                        headers={"X-CSRF-Token": csrf})
    assert problem(answer, 422, "invalid_text")["fields"] == {"label": "not valid Unicode text"}


def test_a_lone_surrogate_in_a_phone_label_is_refused_not_a_500(seeded):
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    phone = Phone()
    nonce = patient.post("/api/v1/devices/challenge", headers={"X-CSRF-Token": csrf}).json["nonce"]
    proof = b64url(phone.sign(b"YIMA-ACTIVATE-1" + base64.urlsafe_b64decode(nonce + "=")))
    answer = patient.post("/api/v1/devices", headers={"X-CSRF-Token": csrf},
                          content_type="application/json",
                          data=as_json({"public_jwk": phone.jwk(), "nonce": nonce,
                                        "signature": proof, "label": "我的" + SURROGATE}))
    problem(answer, 422, "invalid_text")


def test_a_lone_surrogate_in_a_bill_a_refund_and_a_flag_note_is_refused_not_a_500(seeded):
    patient, cashier, auditor = (seeded.test_client() for _ in range(3))
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    cashier_csrf, auditor_csrf = login(cashier, "demo-cashier"), login(auditor, "demo-auditor")

    def post(client, csrf, path, body, key=None):
        headers = {"X-CSRF-Token": csrf, **({"Idempotency-Key": key} if key else {})}
        return client.post(path, data=as_json(body), content_type="application/json",
                           headers=headers)

    def scan(offset):
        answer = post(cashier, cashier_csrf, "/api/v1/verify",
                      {"code": phone.code("med", now=steady_time() + offset), "context": "hospital"})
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]

    bad_line = [dict(BILL[2], description="阿莫西林" + SURROGATE)]
    refused = post(cashier, cashier_csrf, "/api/v1/settlements",
                   {"scan_id": scan(-30), "lines": bad_line}, key="surrogate-bill-1")
    assert problem(refused, 422, "invalid_text")["fields"] == {"lines.0.description":
                                                               "not valid Unicode text"}
    settled = post(cashier, cashier_csrf, "/api/v1/settlements",
                   {"scan_id": scan(0), "lines": BIG_BILL}, key="surrogate-bill-2")
    assert settled.status_code == 201, settled.json
    settlement = settled.json["settlement"]["id"]
    refund = post(cashier, cashier_csrf, f"/api/v1/settlements/{settlement}/refund",
                  {"reason": "退费" + SURROGATE}, key="surrogate-refund-1")
    problem(refund, 422, "invalid_text")
    flag = next(f for f in auditor.get("/api/v1/audit/flags").json["flags"]
                if f["settlement"] == settlement)
    note = post(auditor, auditor_csrf, f"/api/v1/audit/flags/{flag['id']}",
                {"decision": "dismiss", "note": "ok" + SURROGATE})
    problem(note, 422, "invalid_text")


@pytest.mark.parametrize("query", ["from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-02"])
def test_a_clearing_period_at_the_end_of_time_is_refused_not_an_overflow(seeded, query):
    """date(9999, 12, 31) + one day raised OverflowError: a 500 for any auditor."""
    auditor = seeded.test_client()
    login(auditor, "demo-auditor")
    problem(auditor.get("/api/v1/clearing?" + query), 422, "bad_period")


# ---- item 5: bodies and guesses ----------------------------------------------------------

def test_a_50_mb_login_body_is_413_before_a_byte_is_read(client):
    """A 50 MB login body took one worker to 1.4 GB: now its Content-Length alone refuses it."""
    stream = io.BytesIO(b'{"login": "' + b"x" * 1000)
    answer = client.post("/api/v1/auth/login", input_stream=stream, content_type="application/json",
                         environ_overrides={"CONTENT_LENGTH": str(50 * MiB)})
    assert "1,048,576 bytes" in problem(answer, 413, "payload_too_large")["detail"]
    assert stream.tell() == 0


def test_a_chunked_body_without_a_length_stops_at_the_limit(client):
    """No Content-Length (chunked, as gunicorn passes it on): read up to the limit, then 413."""
    stream = io.BytesIO(b'{"login": "' + b"x" * (5 * MiB) + b'", "password": "x"}')
    answer = client.post("/api/v1/auth/login", input_stream=stream, content_type="application/json",
                         headers={"Transfer-Encoding": "chunked"},
                         environ_overrides={"wsgi.input_terminated": True})
    problem(answer, 413, "payload_too_large")
    assert stream.tell() <= MiB + 64 * 1024


def test_a_100_000_ride_batch_is_413_before_it_is_parsed(seeded):
    """It was parsed whole (and held in memory) before maxItems refused it."""
    client, auth, _, _ = enrol_validator(seeded)
    rides = [{"code": "x" * 8, "ridden_at": 1_800_000_000 + i} for i in range(100_000)]
    answer = client.post("/api/v1/rides/batch", json={"rides": rides}, headers=auth)
    problem(answer, 413, "payload_too_large")


def test_guessing_invitation_codes_is_limited_per_account(seeded):
    """/family/accept took about 430 guesses a second: now 10 wrong codes an hour per account."""
    member = seeded.test_client()
    csrf = login(member, "demo-family")
    answers = [member.post("/api/v1/family/accept", json={"code": f"WXYZ-{i + 2222}"},
                           headers={"X-CSRF-Token": csrf}) for i in range(11)]
    assert [a.json["code"] for a in answers[:10]] == ["invitation_invalid"] * 10
    problem(answers[10], 429, "rate_limited")


def test_an_invitation_dies_after_five_wrong_tries_aimed_at_it(seeded):
    """Accounts without number guessing one invitation: its first three characters name it, and
    the fifth wrong secret under them ends it, even for the right code afterwards."""
    parent, member = seeded.test_client(), seeded.test_client()
    parent_csrf, member_csrf = login(parent, "demo-patient"), login(member, "demo-family")
    code = parent.post("/api/v1/family/invitations", headers={"X-CSRF-Token": parent_csrf}).json["code"]
    plain = code.replace("-", "")
    secrets = [c * 5 for c in "234567" if c * 5 != plain[3:]][:5]
    for secret in secrets:
        answer = member.post("/api/v1/family/accept", json={"code": plain[:3] + secret},
                             headers={"X-CSRF-Token": member_csrf})
        problem(answer, 404, "invitation_invalid")  # 5 of the account's 10: not its limit
    late = member.post("/api/v1/family/accept", json={"code": code}, headers={"X-CSRF-Token": member_csrf})
    problem(late, 404, "invitation_invalid")
    newest = parent.get("/api/v1/family").json["given"][0]
    assert newest["status"] == "revoked" and newest["member"] is None


def test_guessing_enrolment_codes_is_limited_per_address(client):
    """/validators/enrol had no limit at all."""
    device = Phone()
    answers = [client.post("/api/v1/validators/enrol",
                           json={"enrol_code": f"WRONGCODE{i}", "public_jwk": device.jwk(),
                                 "signature": "AAAA"}) for i in range(11)]
    assert {a.json["code"] for a in answers[:10]} == {"enrolment_invalid"}
    problem(answers[10], 429, "rate_limited")


def test_every_anonymous_write_is_limited(app):
    """Every route that takes an anonymous POST (PUT, PATCH, DELETE) counts it against the
    address: its own limit where it has one, the anonymous default everywhere else."""
    app.config.update({name: "2 per minute" for name in app.config if name.endswith("_RATE_LIMIT")})
    client = app.test_client()
    unlimited = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            path = rule.rule.replace("<int:", "<").replace("<path:", "<")
            while "<" in path:
                start = path.index("<")
                path = path[:start] + "1" + path[path.index(">", start) + 1:]
            answers = [client.open(path, method=method, json={}).status_code for _ in range(3)]
            if answers[-1] != 429:
                unlimited.append((method, rule.rule, answers))
    assert unlimited == []
