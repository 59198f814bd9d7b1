"""The admin console API: validation problems with stable codes, the region boundary, an audit
entry for every change, 403 for a cashier everywhere, and key rotation seen in the JWKS."""
import json
from datetime import datetime

import pytest
from phones import login
from sqlalchemy import select

from backend.models import Account, AuditEntry, MedicalPolicy
from backend.models.base import CHINA
from backend.service.extensions import db

QINGPU, WUJIANG, JIASHAN = "310118", "320509", "330421"
STRONG = "kiwi-harbour-lantern"

# Every console endpoint (method, path, body): a cashier gets 403 on each.
ENDPOINTS = [
    ("GET", "/api/v1/admin/console", None),
    ("GET", "/api/v1/admin/regions", None),
    ("PATCH", f"/api/v1/admin/regions/{QINGPU}/policies/employee", {"deductible_fen": 1}),
    ("GET", "/api/v1/admin/institutions", None),
    ("POST", "/api/v1/admin/institutions/H31011800001/evoucher", {"accepts_evoucher": False}),
    ("GET", "/api/v1/admin/lines", None),
    ("PATCH", "/api/v1/admin/lines/ZONE1", {"fare_fen": 300}),
    ("GET", "/api/v1/admin/staff", None),
    ("POST", "/api/v1/admin/staff", {"login": "x-cashier", "password": STRONG, "role": "cashier",
                                     "institution": "H31011800001"}),
    ("POST", "/api/v1/admin/staff/1/disable", None),
    ("GET", "/api/v1/admin/validators", None),
    ("POST", "/api/v1/admin/validators", {"line": "ZONE1", "label": "bus"}),
    ("POST", "/api/v1/admin/validators/1/disable", None),
    ("GET", "/api/v1/admin/api-keys", None),
    ("GET", "/api/v1/admin/institutions/H31011800001/api-keys", None),
    ("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "his"}),
    ("POST", "/api/v1/admin/api-keys/1/revoke", None),
    ("GET", "/api/v1/admin/signing-keys", None),
    ("POST", "/api/v1/admin/signing-keys/rotate", {"confirm": "rotate"}),
    ("GET", "/api/v1/admin/revocations", None),
    ("GET", "/api/v1/admin/audit-log", None),
]


@pytest.fixture(autouse=True)
def own_key_ring(app, tmp_path):
    """Rotation writes to the key ring: give each test its own, not the session's shared one."""
    app.config["KEYS_DIR"] = str(tmp_path / "keys")


class Admin:
    """A logged-in test client that sends the CSRF token with every call."""

    def __init__(self, app, name, password=None):
        self.client = app.test_client()
        self.csrf = login(self.client, name, *([password] if password else []))

    def __call__(self, method, path, body=None, **query):
        return self.client.open(path, method=method, json=body, query_string=query,
                                headers={"X-CSRF-Token": self.csrf})


@pytest.fixture
def zone(seeded):
    return Admin(seeded, "demo-admin")


@pytest.fixture
def wujiang(seeded, zone):
    """A Wujiang-only admin, created through the console by the zone admin."""
    made = zone("POST", "/api/v1/admin/staff", {"login": "admin-wj", "password": STRONG,
                                                "role": "admin", "region": WUJIANG})
    assert made.status_code == 201, made.json
    return Admin(seeded, "admin-wj", STRONG)


def audit_actions(app, action):
    with app.app_context():
        return [(e.actor, e.target_id, json.loads(e.detail), e.region_code)
                for e in db.session.scalars(select(AuditEntry).filter_by(action=action))]


def test_policy_edit_is_validated_with_stable_codes(seeded, zone):
    path = f"/api/v1/admin/regions/{QINGPU}/policies/employee"
    cases = [
        ({"deductible_fen": 12.5}, "not_integer"),
        ({"deductible_fen": "100"}, "not_integer"),
        ({"deductible_fen": True}, "not_integer"),
        ({"deductible_fen": -1}, "amount_out_of_range"),
        ({"ratio_l1_a_bp": 10_001}, "ratio_out_of_range"),
        ({"class_b_self_share_bp": -5}, "ratio_out_of_range"),
        ({"has_personal_account": 1}, "not_boolean"),
        ({"deductible_fen": 10**30}, "amount_out_of_range"),
        ({"annual_cap_fen": 0}, "cap_not_positive"),
        ({"deductible_fen": 500_000, "annual_cap_fen": 400_000}, "cap_below_deductible"),
        ({"has_personal_account": False, "personal_account_pays_deductible": True},
         "no_personal_account"),
        ({"price": 1}, "unknown_field"),
        ({}, "nothing_to_change"),
    ]
    for body, code in cases:
        response = zone("PATCH", path, body)
        assert response.status_code == 422, (body, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["code"] == "invalid_policy"
        assert code in [p["code"] for p in response.json["problems"]], (body, response.json)
    assert zone("PATCH", path, [1]).status_code == 400
    assert zone("PATCH", f"/api/v1/admin/regions/{QINGPU}/policies/gold", {"deductible_fen": 1}) \
        .json["code"] == "policy_not_found"
    assert zone("PATCH", "/api/v1/admin/regions/999999/policies/employee", {"deductible_fen": 1}) \
        .json["code"] == "region_not_found"
    assert audit_actions(seeded, "policy.update") == []

    changed = zone("PATCH", path, {"deductible_fen": 180_000, "ratio_l3_a_bp": 8_500})
    assert changed.status_code == 200, changed.json
    assert changed.json["policy"]["deductible_fen"] == 180_000
    with seeded.app_context():
        policy = db.session.scalars(select(MedicalPolicy).filter_by(
            region_code=QINGPU, insurance_class="employee")).one()
        assert (policy.deductible_fen, policy.ratio_l3_a_bp) == (180_000, 8_500)
    [(actor, target, detail, region)] = audit_actions(seeded, "policy.update")
    assert (actor, target, region) == ("demo-admin", f"{QINGPU}/employee", QINGPU)
    assert detail["changes"]["deductible_fen"][1] == 180_000
    regions = zone("GET", "/api/v1/admin/regions").json["regions"]
    assert [r["code"] for r in regions] == [QINGPU, WUJIANG, JIASHAN]


def test_a_region_admin_stays_in_their_region(seeded, zone, wujiang):
    assert [r["code"] for r in wujiang("GET", "/api/v1/admin/regions").json["regions"]] == [WUJIANG]
    refused = wujiang("PATCH", f"/api/v1/admin/regions/{QINGPU}/policies/employee",
                      {"deductible_fen": 1})
    assert refused.status_code == 403 and refused.json["code"] == "outside_your_region"
    own = wujiang("PATCH", f"/api/v1/admin/regions/{WUJIANG}/policies/resident",
                  {"deductible_fen": 20_000})
    assert own.status_code == 200, own.json

    institutions = wujiang("GET", "/api/v1/admin/institutions").json["institutions"]
    assert institutions and {i["region"] for i in institutions} == {WUJIANG}
    assert wujiang("POST", "/api/v1/admin/institutions/H31011800001/evoucher",
                   {"accepts_evoucher": False}).json["code"] == "outside_your_region"

    staff = wujiang("GET", "/api/v1/admin/staff").json["staff"]
    assert {s["region"] for s in staff} == {WUJIANG}
    assert "demo-cashier-wj" in [s["login"] for s in staff]
    qingpu_cashier = next(s for s in zone("GET", "/api/v1/admin/staff").json["staff"]
                          if s["login"] == "demo-cashier")
    assert wujiang("POST", f"/api/v1/admin/staff/{qingpu_cashier['id']}/disable") \
        .json["code"] == "outside_your_region"
    assert wujiang("POST", "/api/v1/admin/staff", {
        "login": "qp-cashier-2", "password": STRONG, "role": "cashier",
        "institution": "H31011800001"}).json["code"] == "outside_your_region"
    assert wujiang("POST", "/api/v1/admin/staff", {
        "login": "qp-admin-2", "password": STRONG, "role": "admin",
        "region": QINGPU}).json["code"] == "outside_your_region"

    lines = wujiang("GET", "/api/v1/admin/lines").json["lines"]
    assert lines and all(WUJIANG in line["regions"] for line in lines)
    crossing = next(line for line in lines if len(line["regions"]) > 1)
    assert not crossing["editable"]
    assert wujiang("PATCH", f"/api/v1/admin/lines/{crossing['code']}", {"fare_fen": 300}) \
        .json["code"] == "line_spans_regions"
    assert wujiang("POST", "/api/v1/admin/signing-keys/rotate", {"confirm": "rotate"}) \
        .json["code"] == "zone_admin_only"

    mine = wujiang("GET", "/api/v1/admin/audit-log").json["entries"]
    assert [e["action"] for e in mine] == ["policy.update", "staff.create"]
    assert {e["region"] for e in mine} == {WUJIANG}
    everything = zone("GET", "/api/v1/admin/audit-log").json["entries"]
    assert {"demo.seed", "policy.update", "staff.create"} <= {e["action"] for e in everything}


def test_institutions_lines_and_staff_changes_are_audited(seeded, zone):
    off = zone("POST", "/api/v1/admin/institutions/H31011800001/evoucher", {"accepts_evoucher": False})
    assert off.status_code == 200 and off.json["institution"]["accepts_evoucher"] is False
    assert zone("POST", "/api/v1/admin/institutions/H31011800001/evoucher",
                {"accepts_evoucher": "no"}).status_code == 422
    assert zone("POST", "/api/v1/admin/institutions/H99999900001/evoucher",
                {"accepts_evoucher": True}).json["code"] == "institution_not_found"

    for fare, code in [(0, "fare_out_of_range"), (10_001, "fare_out_of_range"), (2.5, None)]:
        response = zone("PATCH", "/api/v1/admin/lines/ZONE1", {"fare_fen": fare})
        assert response.status_code == 422, response.json
        if code:
            assert response.json["problems"][0]["code"] == code
    fare = zone("PATCH", "/api/v1/admin/lines/ZONE1", {"fare_fen": 300})
    assert fare.status_code == 200 and fare.json["line"]["fare_fen"] == 300

    weak = zone("POST", "/api/v1/admin/staff", {"login": "cashier-new", "password": "short",
                                                "role": "cashier", "institution": "H31011800001"})
    assert weak.status_code == 422 and weak.json["code"] == "weak_password"
    bad = zone("POST", "/api/v1/admin/staff", {"login": "X Y", "password": STRONG, "role": "boss"})
    assert {p["code"] for p in bad.json["problems"]} == {"bad_role", "bad_login"}
    assert zone("POST", "/api/v1/admin/staff", {"login": "c-2", "password": STRONG,
                                                "role": "cashier"}).json["problems"][0]["code"] \
        == "required"
    made = zone("POST", "/api/v1/admin/staff", {"login": "cashier-new", "password": STRONG,
                                                "role": "cashier", "institution": "H31011800001"})
    assert made.status_code == 201, made.json
    assert zone("POST", "/api/v1/admin/staff", {"login": "cashier-new", "password": STRONG,
                                                "role": "auditor"}).json["code"] == "login_taken"
    with seeded.app_context():
        account = db.session.scalars(select(Account).filter_by(login="cashier-new")).one()
        assert account.password_hash.startswith("scrypt:") and STRONG not in account.password_hash
    new_cashier = seeded.test_client()
    login(new_cashier, "cashier-new", STRONG)

    account_id = made.json["account"]["id"]
    disabled = zone("POST", f"/api/v1/admin/staff/{account_id}/disable")
    assert disabled.status_code == 200 and disabled.json["account"]["active"] is False
    assert new_cashier.get("/api/v1/auth/me").status_code == 401
    me_id = next(s["id"] for s in zone("GET", "/api/v1/admin/staff").json["staff"]
                 if s["login"] == "demo-admin")
    assert zone("POST", f"/api/v1/admin/staff/{me_id}/disable").json["code"] == "cannot_disable_self"
    with seeded.app_context():
        patient_id = db.session.scalars(select(Account.id).filter_by(role="patient")).first()
    assert zone("POST", f"/api/v1/admin/staff/{patient_id}/disable").json["code"] == "staff_not_found"

    assert [a[1] for a in audit_actions(seeded, "institution.evoucher")] == ["H31011800001"]
    assert audit_actions(seeded, "line.fare")[0][2] == {"fare_fen": [200, 300]}
    assert [a[2]["login"] for a in audit_actions(seeded, "staff.create")] == ["cashier-new"]
    assert [a[1] for a in audit_actions(seeded, "staff.disable")] == [str(account_id)]


def test_lists_for_validators_keys_and_revocations(seeded, zone):
    zone("POST", "/api/v1/admin/validators", {"line": "ZONE1", "label": "沪苏 bus 7"})
    [validator] = zone("GET", "/api/v1/admin/validators").json["validators"]
    assert (validator["line"], validator["status"]) == ("ZONE1", "pending")
    zone("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "HIS"})
    [key] = zone("GET", "/api/v1/admin/api-keys").json["keys"]
    assert key["institution"] == "H31011800001" and not key["revoked"] and "key" not in key
    assert zone("GET", "/api/v1/admin/revocations").json["revocations"] == []
    for query in ({"limit": "0"}, {"limit": "x"}, {"limit": "201"}, {"limit": "²"}):
        assert zone("GET", "/api/v1/admin/revocations", **query).status_code == 422
    assert zone("GET", "/api/v1/admin/audit-log", before="-1").status_code == 422


def test_audit_log_pages_newest_first(seeded, zone):
    for fare in range(301, 306):
        assert zone("PATCH", "/api/v1/admin/lines/ZONE2", {"fare_fen": fare}).status_code == 200
    first = zone("GET", "/api/v1/admin/audit-log", limit="3").json
    assert [e["detail"]["fare_fen"][1] for e in first["entries"]] == [305, 304, 303]
    assert first["entries"][0]["actor"] == "demo-admin" and first["entries"][0]["at"]
    second = zone("GET", "/api/v1/admin/audit-log", limit="3", before=str(first["next_before"])).json
    assert [e["detail"].get("fare_fen", [0, 0])[1] for e in second["entries"][:2]] == [302, 301]
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert ids == sorted(ids, reverse=True)


def test_rotation_publishes_the_new_key_and_keeps_the_old(seeded, zone):
    client = seeded.test_client()
    [old] = client.get("/.well-known/jwks.json").json["keys"]
    [listed] = zone("GET", "/api/v1/admin/signing-keys").json["keys"]
    assert listed["kid"] == old["kid"] and listed["state"] == "signing"
    assert zone("POST", "/api/v1/admin/signing-keys/rotate", {}).json["code"] == "invalid_rotation"
    assert zone("POST", "/api/v1/admin/signing-keys/rotate",
                {"confirm": "rotate", "overlap_seconds": -1}).status_code == 422
    rotated = zone("POST", "/api/v1/admin/signing-keys/rotate",
                   {"confirm": "rotate", "overlap_seconds": 3600})
    assert rotated.status_code == 201, rotated.json
    text = json.dumps(rotated.json)
    assert "PRIVATE" not in text and '"d"' not in text
    new_kid = rotated.json["kid"]
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert kids == {old["kid"], new_kid}
    states = {k["kid"]: k["state"] for k in zone("GET", "/api/v1/admin/signing-keys").json["keys"]}
    assert states == {old["kid"]: "signing", new_kid: "pending"}
    [(actor, target, detail, _)] = audit_actions(seeded, "keys.rotate")
    assert (actor, target, detail["overlap"]) == ("demo-admin", new_kid, 3600)

    from backend.admin import console as admin_console
    from backend.service.issuer import locked_ring

    with seeded.app_context(), locked_ring(seeded) as ring:  # an hour on: the new key signs
        later = {k["kid"]: k["state"]
                 for k in admin_console.describe_signing_keys(ring, rotated.json["signs_from"])}
    assert later == {old["kid"]: "retired", new_kid: "signing"}


@pytest.mark.parametrize("method,path,body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_a_cashier_gets_403_on_every_admin_endpoint(seeded, method, path, body):
    cashier = Admin(seeded, "demo-cashier")
    response = cashier(method, path, body)
    assert response.status_code == 403, response.json
    assert response.mimetype == "application/problem+json" and response.json["code"] == "forbidden"


def test_anonymous_gets_401(seeded):
    client = seeded.test_client()
    for method, path, body in ENDPOINTS:
        assert client.open(path, method=method, json=body).status_code == 401, path


def test_migration_0007_round_trips_and_the_log_stays_append_only(storage, tmp_path):
    """Down to 0006 and up again (SQLite batch mode copies the table when the column goes): the
    triggers that refuse UPDATE and DELETE are there at every step."""
    import psycopg
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DatabaseError

    from backend import create_app

    def recreate(url, create=True):  # its own database next to the test one, dropped at the end
        admin = make_url(url).set(database="postgres", drivername="postgresql")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "yima_test_admin_migrations" WITH (FORCE)')
            if create:
                conn.execute('CREATE DATABASE "yima_test_admin_migrations"')

    on_postgres = storage["settings"]["DATABASE_URL"].startswith("postgres")
    url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    if on_postgres:
        url = make_url(storage["settings"]["DATABASE_URL"]).set(
            database="yima_test_admin_migrations").render_as_string(hide_password=False)
        recreate(url)
    app = create_app({**storage["settings"], "DATABASE_URL": url})

    def refuses_changes():
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO audit_log (at, actor, action, target_type, "
                                    "target_id, detail) VALUES (CURRENT_TIMESTAMP, 'a', 'b', 'c', "
                                    "'d', '{}')"))
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))

    def columns():
        return {column["name"] for column in inspect(db.engine).get_columns("audit_log")}

    with app.app_context():
        upgrade()
        refuses_changes()
        assert "region_code" in columns()
        downgrade(revision="0006")
        assert "region_code" not in columns()
        refuses_changes()
        upgrade()
        assert "region_code" in columns()
        refuses_changes()
        db.engine.dispose()
    if on_postgres:
        recreate(url, create=False)


def test_institutions_are_searched_filtered_and_paged(seeded, zone, wujiang):
    first = zone("GET", "/api/v1/admin/institutions", per_page="10").json
    assert first["total"] >= 85 and len(first["institutions"]) == 10 and first["page"] == 1
    second = zone("GET", "/api/v1/admin/institutions", per_page="10", page="2").json
    assert not {i["code"] for i in first["institutions"]} & {i["code"] for i in second["institutions"]}
    found = zone("GET", "/api/v1/admin/institutions", q="中心医院").json
    assert [i["name_zh"] for i in found["institutions"]] == ["青浦区中心医院"] and found["total"] == 1
    assert zone("GET", "/api/v1/admin/institutions", q="central").json["institutions"][0]["code"] \
        == "H31011800001"
    assert zone("GET", "/api/v1/admin/institutions", q="h3205").json["total"] == \
        zone("GET", "/api/v1/admin/institutions", region=WUJIANG).json["total"]
    level3 = zone("GET", "/api/v1/admin/institutions", level="3", per_page="200").json["institutions"]
    assert {i["region"] for i in level3} == {QINGPU, WUJIANG, JIASHAN} and {i["level"] for i in level3} == {3}
    zone("POST", "/api/v1/admin/institutions/H31011800001/evoucher", {"accepts_evoucher": False})
    off = zone("GET", "/api/v1/admin/institutions", evoucher="no", region=QINGPU).json["institutions"]
    assert "H31011800001" in [i["code"] for i in off] and not any(i["accepts_evoucher"] for i in off)
    assert {i["region"] for i in wujiang("GET", "/api/v1/admin/institutions", q="医院",
                                         per_page="200").json["institutions"]} == {WUJIANG}
    for query, field in [({"level": "4"}, "level"), ({"page": "0"}, "page"), ({"per_page": "201"}, "per_page"),
                         ({"page": "²"}, "page"),
                         ({"evoucher": "maybe"}, "evoucher"), ({"region": "999999"}, "region"),
                         ({"q": "x" * 41}, "q")]:
        refused = zone("GET", "/api/v1/admin/institutions", **query)
        assert refused.status_code == 422 and refused.json["code"] == "bad_filter", query
        assert refused.json["problems"][0]["field"] == field


def test_a_disabled_staff_account_is_enabled_again(seeded, zone, wujiang):
    staff = zone("GET", "/api/v1/admin/staff").json
    cashier = next(s for s in staff["staff"] if s["login"] == "demo-cashier-wj")
    assert cashier["name"] == "张静" and staff["names"]["institutions"][cashier["institution"]]["zh"] \
        == "吴江区第一人民医院"
    assert zone("POST", f"/api/v1/admin/staff/{cashier['id']}/disable").json["account"]["active"] is False
    client = seeded.test_client()
    refused = client.post("/api/v1/auth/login", json={"login": "demo-cashier-wj",
                                                      "password": "yima-demo-2026"})
    assert refused.status_code == 401
    enabled = wujiang("POST", f"/api/v1/admin/staff/{cashier['id']}/enable")
    assert enabled.status_code == 200 and enabled.json["account"]["active"] is True
    login(client, "demo-cashier-wj")
    assert wujiang("POST", f"/api/v1/admin/staff/{cashier['id']}/enable").status_code == 200  # no change
    assert [a[1:] for a in audit_actions(seeded, "staff.enable")] == [
        (str(cashier["id"]), {"login": "demo-cashier-wj", "role": "cashier"}, WUJIANG)]
    qingpu_cashier = next(s for s in staff["staff"] if s["login"] == "demo-cashier")
    assert wujiang("POST", f"/api/v1/admin/staff/{qingpu_cashier['id']}/enable").json["code"] \
        == "outside_your_region"
    me = next(s for s in staff["staff"] if s["login"] == "demo-admin")
    assert zone("POST", f"/api/v1/admin/staff/{me['id']}/enable").json["code"] == "cannot_disable_self"
    assert zone("POST", "/api/v1/admin/staff/999999/enable").json["code"] == "staff_not_found"


def test_the_audit_log_names_who_and_what_and_is_filtered(seeded, zone):
    from phones import Phone

    from backend.accounts.hashing import hash_password
    from backend.models import Person

    with seeded.app_context():  # a patient who logs in with a phone number: the log says account:<id>
        person = db.session.scalars(select(Person).filter_by(name="吴国强")).one()
        db.session.add(Account(login="13962510441", password_hash=hash_password("phone-login-2026"),
                               role="patient", person_id=person.id))
        db.session.commit()
    patient = seeded.test_client()
    Phone().activate(patient, login(patient, "13962510441", "phone-login-2026"))
    zone("POST", "/api/v1/admin/institutions/H31011800001/evoucher", {"accepts_evoucher": False})
    zone("PATCH", f"/api/v1/admin/regions/{QINGPU}/policies/employee", {"deductible_fen": 160_000})
    zone("PATCH", "/api/v1/admin/lines/ZONE3", {"fare_fen": 250})
    page = zone("GET", "/api/v1/admin/audit-log").json
    by_action = {e["action"]: e for e in page["entries"]}
    evoucher = by_action["institution.evoucher"]
    assert evoucher["actor_info"] == {"kind": "staff", "login": "demo-admin", "name": "孙立新",
                                      "role": "admin", "region": None, "institution": None}
    assert evoucher["target_name"] == {"zh": "青浦区中心医院", "en": "Qingpu Central Hospital"}
    assert by_action["policy.update"]["target_name"]["zh"] == "青浦区 · 职工医保"
    assert by_action["line.fare"]["target_name"]["zh"].startswith("示范区3路")
    activated = by_action["device.activate"]
    assert activated["actor"].startswith("account:")
    assert activated["actor_info"] == {"kind": "patient", "name": "吴**", "region": WUJIANG}
    assert by_action["demo.seed"]["actor_info"] == {"kind": "cli", "name": "demo seed"}
    assert page["names"]["regions"][QINGPU]["zh"] == "青浦区"

    def actions(**query):
        return [e["action"] for e in zone("GET", "/api/v1/admin/audit-log", **query).json["entries"]]
    assert actions(actor="孙立新") == ["line.fare", "policy.update", "institution.evoucher"]
    assert actions(actor="demo-adm", action="line.fare") == ["line.fare"]
    assert actions(action="policy.") == ["policy.update"]
    assert actions(target_type="institution", target_id="H31011800001") == ["institution.evoucher"]
    assert actions(**{"from": "2020-01-01", "to": "2020-01-02"}) == []
    today = datetime.now(CHINA).date().isoformat()  # China days, whatever the server's zone
    assert actions(**{"from": today, "to": today})[0] == "line.fare"
    for query, field, code in [({"from": "2026-02-30"}, "from", "not_date"),
                               ({"action": "DROP TABLE"}, "action", "bad_action"),
                               ({"target_type": "a b"}, "target_type", "bad_target"),
                               ({"from": "2026-11-02", "to": "2026-11-01"}, "to", "period_backwards"),
                               ({"limit": "0"}, "limit", "limit_out_of_range"),
                               ({"limit": "²"}, "limit", "limit_out_of_range"),
                               ({"before": "٣"}, "before", "not_integer")]:
        refused = zone("GET", "/api/v1/admin/audit-log", **query)
        assert refused.status_code == 422 and refused.json["code"] == "bad_page", query
        assert (refused.json["problems"][0]["field"], refused.json["problems"][0]["code"]) == (field, code)
