"""Hospital-system keys, joint-audit flags and the clearing report."""
import time

import pytest
from phones import Phone, login
from test_counter_api import BILL

BIG_BILL = [{"category": "treatment", "coverage_class": "A", "amount_fen": 1_200_000}]  # ¥12,000


@pytest.fixture
def world(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    clients = {}

    def as_(who):
        if who not in clients:
            client = seeded.test_client()
            clients[who] = (client, login(client, who))
        client, csrf = clients[who]

        def call(method, path, body=None, key=None):
            headers = {"X-CSRF-Token": csrf, **({"Idempotency-Key": key} if key else {})}
            return client.open(path, method=method, json=body, headers=headers)
        return call

    offsets = iter((-30, 0, 30))  # three codes per test: the steps inside the ±1 window

    def settle(cashier, lines=BILL, key=None):
        call = as_(cashier)
        code = phone.code("med", now=time.time() + next(offsets))
        scan = call("POST", "/api/v1/verify", {"code": code, "context": "hospital"})
        assert scan.status_code == 200, scan.json
        answer = call("POST", "/api/v1/settlements", {"scan_id": scan.json["scan_id"], "lines": lines},
                      key=key)
        assert answer.status_code == 201, answer.json
        return answer.json["settlement"]
    return as_, settle, phone


def test_a_hospital_system_settles_with_its_key_until_revoked(seeded, world):
    as_, _, phone = world
    admin = as_("demo-admin")
    created = admin("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "HIS"})
    assert created.status_code == 201 and created.json["key"].startswith("yk_")
    his = seeded.test_client()
    bearer = {"Authorization": "Bearer " + created.json["key"]}
    scan = his.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"}, headers=bearer)
    assert scan.status_code == 200, scan.json
    settled = his.post("/api/v1/settlements", json={"scan_id": scan.json["scan_id"], "lines": BILL},
                       headers={**bearer, "Idempotency-Key": "his-bill-0001"})
    assert settled.status_code == 201
    listed = admin("GET", "/api/v1/admin/institutions/H31011800001/api-keys").json["keys"]
    assert listed[0]["label"] == "HIS" and "secret" not in str(listed)
    assert admin("POST", f"/api/v1/admin/api-keys/{created.json['id']}/revoke").status_code == 200
    refused = his.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"}, headers=bearer)
    assert refused.status_code == 401
    wrong = his.post("/api/v1/verify", json={"code": "x", "context": "hospital"},
                     headers={"Authorization": "Bearer yk_nothing_here"})
    assert wrong.status_code == 401
    cashier = as_("demo-cashier")
    assert cashier("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "x"}).status_code == 403


def test_rules_flag_and_auditors_of_the_regions_involved_decide(seeded, world):
    as_, settle, phone = world
    big = settle("demo-cashier", BIG_BILL, key="big-bill-0001")  # Jiashan threshold is ¥10,000
    settle("demo-cashier-wj", key="wujiang-0001")  # another institution within 30 minutes
    jiashan = as_("demo-auditor")
    flags = jiashan("GET", "/api/v1/audit/flags").json["flags"]
    rules = {f["rule"] for f in flags}
    assert {"bill_over_threshold", "two_places_30_min"} <= rules
    qingpu = as_("demo-auditor-qp")
    seen_by_qingpu = {f["rule"] for f in qingpu("GET", "/api/v1/audit/flags").json["flags"]}
    assert "bill_over_threshold" in seen_by_qingpu  # treated in Qingpu
    assert "two_places_30_min" not in seen_by_qingpu  # Jiashan person treated in Wujiang
    flag = next(f for f in flags if f["rule"] == "bill_over_threshold")
    assert flag["settlement"] == big["id"]
    no_note = jiashan("POST", f"/api/v1/audit/flags/{flag['id']}", {"decision": "confirm", "note": " "})
    assert no_note.json["code"] == "note_required"
    done = jiashan("POST", f"/api/v1/audit/flags/{flag['id']}", {"decision": "dismiss", "note": "surgery, documented"})
    assert done.json["status"] == "dismissed"
    assert as_("demo-cashier")("GET", "/api/v1/audit/flags").status_code == 403


def test_a_credential_revoked_the_same_day_flags_what_it_paid(seeded, world):
    as_, settle, phone = world
    s = settle("demo-cashier", key="before-revoke-1")
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    patient.post(f"/api/v1/devices/{phone.device_id}/revoke", headers={"X-CSRF-Token": csrf})
    flags = as_("demo-auditor")("GET", "/api/v1/audit/flags").json["flags"]
    assert any(f["rule"] == "revoked_same_day" and f["settlement"] == s["id"] for f in flags)


def test_clearing_shows_who_owes_whom_net_of_refunds(seeded, world):
    as_, settle, _ = world
    first = settle("demo-cashier", [{"category": "examination", "coverage_class": "A",
                                     "amount_fen": 200_000}], key="clearing-0001")
    second = settle("demo-cashier", [{"category": "examination", "coverage_class": "A",
                                      "amount_fen": 100_000}], key="clearing-0002")
    as_("demo-cashier")("POST", f"/api/v1/settlements/{second['id']}/refund", {"reason": "duplicate"})
    report = as_("demo-auditor")("GET", "/api/v1/clearing").json
    assert report["rows"] == [{"insured_region": "330421", "treating_region": "310118",
                               "institution": "H31011800001", "settlements": 1,
                               "fund_fen": first["fund_fen"]}]
    csv_text = as_("demo-admin")("GET", "/api/v1/clearing?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "insured_region,treating_region,institution,settlements,fund_fen"
    assert as_("demo-auditor")("GET", "/api/v1/clearing?from=2026-13-01").json["code"] == "bad_period"
