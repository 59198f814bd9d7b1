"""No personal data in any log line: the main flows run with every logger open (our JSON lines at
DEBUG, every library at INFO, as an operator turning logging up would have it), and each captured
line is searched for the demo persons' names, phone numbers and national ID numbers."""
import io
import json
import logging
import time

import jwt
import pytest
from phones import Phone, login
from sqlalchemy.exc import IntegrityError
from test_counter_api import BILL
from test_metrics import AUTH, TOKEN
from test_patient_api import GU_ID, GU_PHONE, sign_up
from test_transit_api import enrol_validator

from backend.demo.data import PERSONS
from backend.demo.seed import demo_national_id
from backend.models import Account, AuditEntry
from backend.service.extensions import db
from backend.service.logs import JsonFormatter

PERSONAL = sorted({value for p in PERSONS for value in (p[4], p[5], demo_national_id(p[1], p[2], p[3]))})


@pytest.fixture
def log_lines(seeded, caplog, capfd):
    """Everything logged while the test runs: our own JSON lines (as written), every other
    logger's records, and whatever reached stdout or stderr."""
    caplog.set_level(logging.INFO)
    ours = io.StringIO()
    handler = logging.StreamHandler(ours)
    handler.setFormatter(JsonFormatter())
    yima = logging.getLogger("yima")
    yima.addHandler(handler)
    yima.setLevel(logging.DEBUG)

    def lines():
        captured = capfd.readouterr()
        texts = ours.getvalue().splitlines() + captured.out.splitlines() + captured.err.splitlines()
        # Other libraries' records as their own handlers would print them. Ours are checked as
        # our JSON handler wrote them (pytest also hands them to its handler, which formats
        # tracebacks its own way: not what a deployment writes).
        for record in caplog.records:
            if record.name != "yima" and not record.name.startswith("yima."):
                texts.append(f"{record.name} {logging.Formatter().format(record)}")
        return texts
    yield lines
    yima.removeHandler(handler)


def assert_no_personal_data(lines):
    assert lines, "nothing was captured: the capture is broken"
    leaks = [(value, line) for line in lines for value in PERSONAL if value in line]
    assert not leaks, leaks[:5]


def test_main_flows_log_no_names_phones_or_id_numbers(seeded, log_lines):
    seeded.config["METRICS_TOKEN"] = TOKEN
    # Sign-up with a national ID and phone, a wrong try, then login by phone (also a wrong one).
    client = seeded.test_client()
    assert client.post("/api/v1/signup/code", json={"national_id": GU_ID, "phone": "13900000000"}
                       ).json["code"] == "not_in_registry"
    assert sign_up(client).status_code == 201
    assert client.get("/api/v1/me").json["person"]["name"] == "顾晨阳"
    assert seeded.test_client().post("/api/v1/auth/login", json={"login": GU_PHONE, "password": "no"}
                                     ).status_code == 401
    assert login(seeded.test_client(), GU_PHONE, "chenyang-2026")
    # One phone asking for codes until the per-phone limit answers (the limiter logs the breach).
    asking = [seeded.test_client().post("/api/v1/signup/code",
                                        json={"national_id": GU_ID, "phone": GU_PHONE})
              for _ in range(6)]
    assert asking[-1].status_code == 429

    # Activation, then verify at the counter (success and refusals), settle and refund.
    patient = seeded.test_client()
    patient_csrf = login(patient, "demo-patient")
    phone = Phone()
    assert phone.activate(patient, patient_csrf).status_code == 201
    cashier = seeded.test_client()
    cashier_csrf = login(cashier, "demo-cashier")

    def as_cashier(path, body, **headers):
        return cashier.post(path, json=body, headers={"X-CSRF-Token": cashier_csrf, **headers})
    code = phone.code("med")
    scan = as_cashier("/api/v1/verify", {"code": code, "context": "hospital"})
    assert scan.status_code == 200 and scan.json["masked_name"] == "沈**"
    assert as_cashier("/api/v1/verify", {"code": code, "context": "hospital"}).status_code == 409
    settled = as_cashier("/api/v1/settlements", {"scan_id": scan.json["scan_id"], "lines": BILL},
                         **{"Idempotency-Key": "privacy-0001"})
    assert settled.status_code == 201
    sid = settled.json["settlement"]["id"]
    assert as_cashier(f"/api/v1/settlements/{sid}/refund", {"reason": "test"}).status_code == 201

    # Family: invitation, acceptance, a family phone verified, the grant revoked.
    member = seeded.test_client()
    member_csrf = login(member, "demo-family")
    invitation = patient.post("/api/v1/family/invitations", headers={"X-CSRF-Token": patient_csrf})
    accepted = member.post("/api/v1/family/accept", json={"code": invitation.json["code"]},
                           headers={"X-CSRF-Token": member_csrf})
    grant_id = accepted.json["grant"]["id"]
    family_phone = Phone()
    assert family_phone.activate(member, member_csrf, extra={"grant_id": grant_id}).status_code == 201
    assert as_cashier("/api/v1/verify", {"code": family_phone.code("med"), "context": "hospital"}
                      ).status_code == 200
    assert patient.post(f"/api/v1/family/grants/{grant_id}/revoke",
                        headers={"X-CSRF-Token": patient_csrf}).status_code == 200

    # A validator uploads rides (charged, a copy of garbage); the admin revokes a credential
    # and then the whole person.
    bus, auth, _, (admin, admin_csrf) = enrol_validator(seeded)
    now = int(time.time())
    rides = [{"code": phone.code("ss", now=now), "ridden_at": now},
             {"code": "garbage", "ridden_at": now}]
    assert bus.post("/api/v1/rides/batch", json={"rides": rides}, headers=auth).status_code == 200
    claims = jwt.decode(phone.credentials["med"], options={"verify_signature": False})
    assert admin.post(f"/api/v1/admin/credentials/{claims['jti']}/revoke", json={"reason": "fraud"},
                      headers={"X-CSRF-Token": admin_csrf}).status_code == 200
    with seeded.app_context():  # the registry's pseudonym (codes carry one per credential)
        holder = db.session.query(Account).filter_by(login="demo-patient").one().person.holder_id
    assert admin.post(f"/api/v1/admin/persons/{holder}/revoke", json={"reason": "lost"},
                      headers={"X-CSRF-Token": admin_csrf}).status_code == 200
    assert as_cashier("/api/v1/verify", {"code": phone.code("med", now=now + 30),
                                         "context": "hospital"}).json["code"] == "credential_revoked"
    assert seeded.test_client().get("/metrics", headers=AUTH).status_code == 200

    lines = log_lines()
    assert any('"event": "otp_sent"' in line for line in lines)  # the capture saw our own lines
    assert_no_personal_data(lines)


def test_the_audit_log_names_patients_by_account_not_by_phone(seeded, log_lines):
    """Patients log in with their phone number; the append-only audit log keeps forever whatever
    it is given, so it names them by account id."""
    client = seeded.test_client()
    assert sign_up(client).status_code == 201
    Phone().activate(client, login(client, GU_PHONE, "chenyang-2026"))
    with seeded.app_context():
        entries = db.session.query(AuditEntry).all()
        account_id = db.session.query(Account.id).filter_by(login=GU_PHONE).scalar()
        lines = [json.dumps([e.actor, e.action, e.target_id, e.detail], ensure_ascii=False)
                 for e in entries]
    assert {"account.signup", "device.activate"} <= {e.action for e in entries}
    assert all(e.actor == f"account:{account_id}" for e in entries if e.action in
               {"account.signup", "device.activate"})
    assert_no_personal_data(lines)


def test_a_failing_statement_does_not_log_its_parameters(seeded, log_lines):
    """An unexpected database error is logged with its traceback, but not with the values the
    statement carried (a phone number here)."""
    @seeded.get("/_test/duplicate-login")
    def duplicate_login():
        # The login is taken: IntegrityError, with a phone number among the bound values.
        db.session.add(Account(login="demo-patient", password_hash=GU_PHONE, role="patient"))
        db.session.flush()
        return "unreachable"

    seeded.config["PROPAGATE_EXCEPTIONS"] = False
    answer = seeded.test_client().get("/_test/duplicate-login")
    assert answer.status_code == 500 and answer.json["code"] == "internal_error"
    lines = log_lines()
    assert any(IntegrityError.__name__ in line for line in lines)
    assert_no_personal_data(lines)
