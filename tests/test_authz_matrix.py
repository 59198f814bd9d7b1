"""The authorization matrix: every route, called by every role, is let through (anything but 401, or
403 ``forbidden``) exactly for the roles in ``ALLOWED`` — and docs/security.md shows that same
table. Then the tenant boundaries: another patient's, institution's and region's ids are refused.

A route added without a row here fails ``test_every_route_has_a_row``."""
import os
import time

import pytest
from phones import Phone, login
from sqlalchemy import select
from test_transit_api import enrol_validator

from backend.models import Account
from backend.service.extensions import db

ROLES = ("anonymous", "patient", "family", "cashier", "validator", "auditor", "admin")
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}

# (method, rule) -> the roles let through. "family" is a patient account that shows a relative's
# codes (demo-family); it has the patient role, so the family rules are tenant checks (below).
ALLOWED = {
    ("GET", "/"): EVERYONE,
    ("GET", "/sw.js"): EVERYONE,
    ("GET", "/manifest.webmanifest"): EVERYONE,
    ("GET", "/pwa/<path:path>"): EVERYONE,
    ("GET", "/static/<path:path>"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/.well-known/jwks.json"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/api/docs"): EVERYONE,
    ("GET", "/metrics"): set(),  # a bearer token of its own (YIMA_METRICS_TOKEN), no role
    ("POST", "/his/v1/call"): set(),  # hospital systems: the institution's API key, no login
    ("POST", "/api/v1/auth/login"): EVERYONE,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("POST", "/api/v1/auth/logout-all"): SIGNED_IN - {"validator"},  # accounts, not devices
    ("POST", "/api/v1/auth/password"): SIGNED_IN - {"validator"},
    ("GET", "/api/v1/auth/me"): SIGNED_IN,  # a validator is told it is "validator:<id>"
    ("POST", "/api/v1/signup/code"): EVERYONE,
    ("POST", "/api/v1/signup"): EVERYONE,
    ("GET", "/api/v1/revocations"): EVERYONE,
    ("GET", "/api/v1/me"): {"patient", "family"},
    ("POST", "/api/v1/wallet/topups"): {"patient", "family"},
    ("GET", "/api/v1/me/settlements"): {"patient", "family"},
    ("GET", "/api/v1/me/rides"): {"patient", "family"},
    ("GET", "/api/v1/me/wallet"): {"patient", "family"},
    ("GET", "/api/v1/me/settings"): {"patient", "family"},
    ("PUT", "/api/v1/me/settings/password-free"): {"patient", "family"},
    ("GET", "/api/v1/directory/institutions"): EVERYONE,
    ("GET", "/api/v1/directory/lines"): EVERYONE,
    ("POST", "/api/v1/devices/challenge"): {"patient", "family"},
    ("POST", "/api/v1/devices"): {"patient", "family"},
    ("GET", "/api/v1/devices"): {"patient", "family"},
    ("POST", "/api/v1/devices/refresh"): {"patient", "family"},
    ("POST", "/api/v1/devices/<int:device_id>/revoke"): {"patient", "family"},
    ("GET", "/api/v1/family"): {"patient", "family"},
    ("POST", "/api/v1/family/invitations"): {"patient", "family"},
    ("POST", "/api/v1/family/accept"): {"patient", "family"},
    ("POST", "/api/v1/family/grants/<int:grant_id>/revoke"): {"patient", "family"},
    ("POST", "/api/v1/verify"): {"cashier", "validator"},
    ("POST", "/api/v1/settlements/preview"): {"cashier"},
    ("POST", "/api/v1/settlements"): {"cashier"},
    ("GET", "/api/v1/settlements/<int:settlement_id>"): {"cashier"},
    ("POST", "/api/v1/settlements/<int:settlement_id>/refund"): {"cashier"},
    ("GET", "/api/v1/settlements/<int:settlement_id>/receipt"): {"cashier"},
    ("GET", "/api/v1/counter/session"): {"cashier"},
    ("GET", "/api/v1/counter/day"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays"): {"cashier"},  # the inpatient desk is a cashier's
    ("GET", "/api/v1/inpatient/stays"): {"cashier"},
    ("GET", "/api/v1/inpatient/stays/<int:stay_id>"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays/<int:stay_id>/lines"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays/<int:stay_id>/lines/<int:line_no>/cancel"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays/<int:stay_id>/preview"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays/<int:stay_id>/discharge"): {"cashier"},
    ("POST", "/api/v1/inpatient/stays/<int:stay_id>/reversal"): {"cashier"},
    ("GET", "/api/v1/inpatient/stays/<int:stay_id>/receipt"): {"cashier"},
    ("GET", "/api/v1/inpatient/day"): {"cashier"},
    ("GET", "/api/v1/me/stays"): {"patient", "family"},
    ("POST", "/api/v1/counter/identify"): {"cashier"},
    ("POST", "/api/v1/validators/enrol"): EVERYONE,
    ("GET", "/api/v1/validators/trust"): {"validator"},
    ("POST", "/api/v1/rides/batch"): {"validator"},
    ("GET", "/api/v1/audit/flags"): {"auditor", "admin"},
    ("POST", "/api/v1/audit/flags/<int:flag_id>"): {"auditor"},
    ("GET", "/api/v1/audit/flags/<int:flag_id>"): {"auditor", "admin"},
    ("POST", "/api/v1/audit/flags/<int:flag_id>/notes"): {"auditor"},
    ("GET", "/api/v1/clearing"): {"auditor", "admin"},
    ("GET", "/api/v1/clearing/trend"): {"auditor", "admin"},
    ("GET", "/api/v1/admin/ridership"): {"auditor", "admin"},
    ("GET", "/api/v1/admin/console"): {"admin"},
    ("GET", "/api/v1/admin/regions"): {"admin"},
    ("PATCH", "/api/v1/admin/regions/<code>/policies/<insurance_class>"): {"admin"},
    ("GET", "/api/v1/admin/inpatient-policies"): {"admin"},
    ("PATCH", "/api/v1/admin/regions/<code>/inpatient-policies/<insurance_class>"): {"admin"},
    ("GET", "/api/v1/admin/institutions"): {"admin"},
    ("POST", "/api/v1/admin/institutions/<code>/evoucher"): {"admin"},
    ("GET", "/api/v1/admin/institutions/<code>/api-keys"): {"admin"},
    ("POST", "/api/v1/admin/institutions/<code>/api-keys"): {"admin"},
    ("GET", "/api/v1/admin/api-keys"): {"admin"},
    ("POST", "/api/v1/admin/api-keys/<int:key_id>/revoke"): {"admin"},
    ("GET", "/api/v1/admin/lines"): {"admin"},
    ("PATCH", "/api/v1/admin/lines/<code>"): {"admin"},
    ("GET", "/api/v1/admin/staff"): {"admin"},
    ("POST", "/api/v1/admin/staff"): {"admin"},
    ("POST", "/api/v1/admin/staff/<int:account_id>/disable"): {"admin"},
    ("POST", "/api/v1/admin/staff/<int:account_id>/enable"): {"admin"},
    ("GET", "/api/v1/admin/validators"): {"admin"},
    ("POST", "/api/v1/admin/validators"): {"admin"},
    ("POST", "/api/v1/admin/validators/<int:validator_id>/disable"): {"admin"},
    ("GET", "/api/v1/admin/signing-keys"): {"admin"},
    ("POST", "/api/v1/admin/signing-keys/rotate"): {"admin"},
    ("GET", "/api/v1/admin/revocations"): {"admin"},
    ("POST", "/api/v1/admin/credentials/<jti>/revoke"): {"admin"},
    ("POST", "/api/v1/admin/persons/<holder>/revoke"): {"admin"},
    ("POST", "/api/v1/admin/persons/<holder>/suspend"): {"admin"},
    ("POST", "/api/v1/admin/persons/<holder>/reinstate"): {"admin"},
    ("GET", "/api/v1/admin/audit-log"): {"admin"},
    # Venue gates (issue 19): the gate-only routes take a venue verifier's token (``yg_…``), which
    # none of these callers holds; tests/test_venues_api.py calls them as a gate.
    ("GET", "/api/v1/admin/venues"): {"admin"},
    ("POST", "/api/v1/admin/venues"): {"admin"},
    ("POST", "/api/v1/admin/venues/<int:venue_id>/verifiers"): {"admin"},
    ("POST", "/api/v1/admin/venue-verifiers/<int:verifier_id>/disable"): {"admin"},
    ("GET", "/api/v1/admin/venue-visits"): {"auditor", "admin"},
    ("POST", "/api/v1/venue-verifiers/enrol"): EVERYONE,
    ("GET", "/api/v1/venue-verifiers/trust"): set(),
    ("POST", "/api/v1/venue-verifiers/check"): set(),
    ("POST", "/api/v1/visits/batch"): set(),
    # Insurance certificates (issue 19): the holder's own, a region's counter, and anyone's check.
    ("GET", "/api/v1/me/certificates"): {"patient", "family"},
    ("POST", "/api/v1/me/certificates"): {"patient", "family"},
    ("GET", "/api/v1/me/certificates/<jti>/pdf"): {"patient", "family"},
    ("POST", "/api/v1/me/certificates/<jti>/revoke"): {"patient", "family"},
    ("POST", "/api/v1/admin/certificates"): {"admin"},
    ("GET", "/api/v1/admin/certificates/<jti>/pdf"): {"admin"},
    ("POST", "/api/v1/certificates/check"): EVERYONE,
    ("POST", "/api/v1/certificates/read"): EVERYONE,
}

# Path values that exist for nobody in particular: the role check comes before any lookup.
PATH_VALUES = {"path": "js/app.js", "code": "H31011800001", "insurance_class": "employee",
               "jti": "AAAAAAAAAAA", "holder": "AAAAAAAAAAA"}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def concrete(rule):
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if type(converter).__name__ == "IntegerConverter" else PATH_VALUES[name]
        path = path.replace(f"<int:{name}>", value).replace(f"<path:{name}>", value) \
            .replace(f"<{name}>", value)
    return path


def refused(response):
    """The role (or the missing login) is what stopped the call."""
    if response.status_code == 401:
        return True
    return response.status_code == 403 and (response.get_json(silent=True) or {}).get("code") in (
        "forbidden", "csrf_failed")


LOGINS = {"patient": "demo-patient", "family": "demo-family", "cashier": "demo-cashier",
          "auditor": "demo-auditor", "admin": "demo-admin"}


@pytest.fixture
def callers(seeded):
    seeded.config.update(LOGIN_RATE_LIMIT="10000 per minute", OTP_RATE_LIMIT="10000 per minute",
                         VERIFY_RATE_LIMIT="10000 per minute", DEVICE_RATE_LIMIT="10000 per minute",
                         METRICS_TOKEN="metrics-secret")
    clients = {"anonymous": (seeded.test_client(), {})}
    for role, name in LOGINS.items():
        client = seeded.test_client()
        clients[role] = (client, {"X-CSRF-Token": login(client, name)})
    validator, auth, _, _ = enrol_validator(seeded)
    clients["validator"] = (validator, auth)
    return clients


def test_every_route_has_a_row(seeded):
    missing = sorted(f"{m} {r.rule}" for m, r in routes(seeded) if (m, r.rule) not in ALLOWED)
    assert not missing, f"add these routes to ALLOWED (and docs/security.md): {missing}"
    stale = sorted(f"{m} {p}" for m, p in ALLOWED if (m, p) not in
                   {(m, r.rule) for m, r in routes(seeded)})
    assert not stale, f"these rows name no route: {stale}"


def test_each_role_is_let_through_exactly_where_the_matrix_says(seeded, callers):
    actual = {}
    for method, rule in routes(seeded):
        if rule.endpoint in ("api.logout", "api.logout_everywhere"):  # would end the session of
            continue                                                  # later calls: last
        for role, (client, headers) in callers.items():
            response = client.open(concrete(rule), method=method, headers={
                **headers, "Idempotency-Key": f"matrix-{role}-0001"},
                json={} if method in ("POST", "PATCH") else None)
            assert response.status_code < 500, (method, rule.rule, role, response.get_json())
            if not refused(response):
                actual.setdefault((method, rule.rule), set()).add(role)
            response.close()
    for role, (client, headers) in callers.items():
        response = client.post("/api/v1/auth/logout", headers=headers)
        if not refused(response):
            actual.setdefault(("POST", "/api/v1/auth/logout"), set()).add(role)
    for role, (client, headers) in callers.items():  # logged in again, then out everywhere
        if role in LOGINS:
            headers = {"X-CSRF-Token": login(client, LOGINS[role])}
        response = client.post("/api/v1/auth/logout-all", headers=headers)
        if not refused(response):
            actual.setdefault(("POST", "/api/v1/auth/logout-all"), set()).add(role)
    wrong = {key: (sorted(actual.get(key, set())), sorted(expected))
             for key, expected in ALLOWED.items() if actual.get(key, set()) != expected}
    assert not wrong, "route: (let through, expected): " + repr(wrong)


def test_docs_show_the_same_matrix():
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                           "security.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert matrix_markdown() in text, "regenerate the table: python tests/test_authz_matrix.py"


def matrix_markdown():
    lines = ["| method | route | " + " | ".join(ROLES) + " |",
             "| --- | --- | " + " | ".join(":-:" for _ in ROLES) + " |"]
    for (method, rule), allowed in sorted(ALLOWED.items(), key=lambda item: (item[0][1], item[0][0])):
        cells = " | ".join("✓" if role in allowed else "·" for role in ROLES)
        lines.append(f"| {method} | `{rule}` | {cells} |")
    return "\n".join(lines)


# -- tenants: the right role, someone else's ids ------------------------------------------------

def test_a_patient_cannot_touch_another_patients_phone_or_family_grant(seeded):
    from backend.accounts.hashing import hash_password
    from backend.models import Person

    mother, son, stranger = seeded.test_client(), seeded.test_client(), seeded.test_client()
    mother_csrf, son_csrf = login(mother, "demo-patient"), login(son, "demo-family")
    with seeded.app_context():  # a third insured person with an account of their own
        person = db.session.scalars(select(Person).filter_by(name="吴国强")).one()
        db.session.add(Account(login="13962510441", password_hash=hash_password("stranger-pass-26"),
                               role="patient", person_id=person.id))
        db.session.commit()
    stranger_csrf = login(stranger, "13962510441", "stranger-pass-26")
    phone = Phone()
    assert phone.activate(mother, mother_csrf).status_code == 201
    for client, csrf in ((son, son_csrf), (stranger, stranger_csrf)):
        taken = client.post(f"/api/v1/devices/{phone.device_id}/revoke", headers={"X-CSRF-Token": csrf})
        assert taken.status_code == 404 and taken.json["code"] == "device_not_found"
        assert all(d["id"] != phone.device_id for d in client.get("/api/v1/devices").json["devices"])
    # The mother grants her son; the stranger can neither show her codes nor end the grant.
    code = mother.post("/api/v1/family/invitations", json={}, headers={"X-CSRF-Token": mother_csrf}).json["code"]
    grant = son.post("/api/v1/family/accept", json={"code": code},
                     headers={"X-CSRF-Token": son_csrf}).json["grant"]["id"]
    assert stranger.get("/api/v1/family").json == {"given": [], "received": []}
    ended = stranger.post(f"/api/v1/family/grants/{grant}/revoke", headers={"X-CSRF-Token": stranger_csrf})
    assert ended.status_code == 404 and ended.json["code"] == "grant_not_found"
    relative = Phone()
    shown = relative.activate(stranger, stranger_csrf, extra={"grant_id": grant})
    assert shown.status_code == 404 and shown.json["code"] == "grant_not_found"
    assert relative.activate(son, son_csrf, extra={"grant_id": grant}).status_code == 201


def settle_across_regions(app):
    """demo-patient (insured in Jiashan) settles a bill at Qingpu Central Hospital: its id."""
    from test_counter_api import BILL

    patient, cashier = app.test_client(), app.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    headers = {"X-CSRF-Token": login(cashier, "demo-cashier"), "Idempotency-Key": "bill-matrix-1"}
    scan = cashier.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"},
                        headers=headers).json["scan_id"]
    big = [dict(BILL[1], amount_fen=3_000_000)]  # over every region's single-bill audit threshold
    settled = cashier.post("/api/v1/settlements", json={"scan_id": scan, "lines": big}, headers=headers)
    assert settled.status_code == 201, settled.json
    settlement_id = settled.json["settlement"]["id"]
    assert cashier.get(f"/api/v1/settlements/{settlement_id}").status_code == 200
    return settlement_id


def test_a_cashier_sees_and_refunds_only_their_own_institutions_settlements(seeded):
    settlement_id = settle_across_regions(seeded)
    elsewhere = seeded.test_client()
    csrf = login(elsewhere, "demo-cashier-wj")
    assert elsewhere.get(f"/api/v1/settlements/{settlement_id}").status_code == 404
    refund = elsewhere.post(f"/api/v1/settlements/{settlement_id}/refund", json={"reason": "test"},
                            headers={"X-CSRF-Token": csrf, "Idempotency-Key": "refund-elsewhere-1"})
    assert refund.status_code == 404


def test_an_auditor_sees_and_decides_only_their_own_regions_cases(seeded):
    from backend.accounts.hashing import hash_password

    settle_across_regions(seeded)  # Jiashan insured, Qingpu treating: both funds' case
    with seeded.app_context():
        db.session.add(Account(login="auditor-wj", password_hash=hash_password("wujiang-audit-26"),
                               role="auditor", region_code="320509"))
        db.session.commit()
    qingpu, wujiang = seeded.test_client(), seeded.test_client()
    login(qingpu, "demo-auditor-qp")
    wujiang_csrf = login(wujiang, "auditor-wj", "wujiang-audit-26")
    flags = qingpu.get("/api/v1/audit/flags").json["flags"]
    assert flags and all("310118" in (f["insured_region"], f["treating_region"]) for f in flags)
    assert [r["insured_region"] for r in qingpu.get("/api/v1/clearing").json["rows"]] == ["330421"]
    assert wujiang.get("/api/v1/audit/flags").json["flags"] == []
    assert wujiang.get("/api/v1/clearing").json["rows"] == []
    decided = wujiang.post(f"/api/v1/audit/flags/{flags[0]['id']}", json={"decision": "dismiss",
                           "note": "not ours"}, headers={"X-CSRF-Token": wujiang_csrf})
    assert decided.status_code == 404 and decided.json["code"] == "flag_not_found"


def test_a_region_admin_cannot_change_another_regions_policy_or_staff(seeded):
    from backend.accounts.hashing import hash_password

    with seeded.app_context():
        db.session.add(Account(login="admin-wj", password_hash=hash_password("wujiang-admin-2026"),
                               role="admin", region_code="320509"))
        db.session.commit()
        qingpu_cashier = db.session.scalars(select(Account.id).filter_by(login="demo-cashier")).one()
    client = seeded.test_client()
    csrf = login(client, "admin-wj", "wujiang-admin-2026")
    policy = client.patch("/api/v1/admin/regions/310118/policies/employee",
                          json={"deductible_fen": 1}, headers={"X-CSRF-Token": csrf})
    assert policy.status_code == 403 and policy.json["code"] == "outside_your_region"
    staff = client.post(f"/api/v1/admin/staff/{qingpu_cashier}/disable", headers={"X-CSRF-Token": csrf})
    assert staff.status_code in (403, 404)
    rotate = client.post("/api/v1/admin/signing-keys/rotate", json={}, headers={"X-CSRF-Token": csrf})
    assert rotate.status_code == 403
    # Validators: lines that serve Wujiang only (ZONE2 runs Qingpu–Jiashan).
    foreign = client.post("/api/v1/admin/validators", json={"line": "ZONE2", "label": "bus"},
                          headers={"X-CSRF-Token": csrf})
    assert foreign.status_code == 403 and foreign.json["code"] == "outside_your_region"
    own = client.post("/api/v1/admin/validators", json={"line": "ZONE4", "label": "bus"},
                      headers={"X-CSRF-Token": csrf})
    assert own.status_code == 201
    _, _, qingpu_validator, _ = enrol_validator(seeded, line="ZONE2")
    taken = client.post(f"/api/v1/admin/validators/{qingpu_validator}/disable",
                        headers={"X-CSRF-Token": csrf})
    assert taken.status_code == 403 and taken.json["code"] == "outside_your_region"


def test_a_validator_uploads_only_as_itself(seeded):
    from test_transit_api import enrol_validator as enrol

    _, auth, validator_id, (admin, csrf) = enrol(seeded)
    forged = {"Authorization": f"Bearer yv_{validator_id}_not-the-secret"}
    client = seeded.test_client()
    answer = client.post("/api/v1/rides/batch", json={"rides": [{"code": "x", "ridden_at": int(time.time())}]},
                         headers=forged)
    assert answer.status_code == 401


if __name__ == "__main__":  # prints the table for docs/security.md
    print(matrix_markdown())
