"""Sessions that end (issue 14, item 1): the cookie names a session kept on the server, so logout,
"log out everywhere", a password change and a disabled staff account end every copy of it at
once; staff sessions end after a shift (idle and absolute limits), patients stay logged in.

A stolen copy of the cookie is played by a second test client (the thief) that is handed the
victim's cookie and CSRF token. Time moves by ageing the stored session, never by sleeping."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from phones import login
from sqlalchemy import select

from backend import create_app
from backend.accounts import sessions
from backend.demo.data import DEMO_PASSWORD
from backend.models import Account
from backend.models.base import at, utcnow
from backend.models.sessions import LoginSession
from backend.service.extensions import db

NEW_PASSWORD = "a-new-pass-for-2027"


def cookie_of(client):
    return client.get_cookie("session").value


def thief_of(app, victim, csrf):
    """Another client holding a copy of ``victim``'s cookie and its CSRF token."""
    thief = app.test_client()
    thief.set_cookie("session", cookie_of(victim))
    return thief, {"X-CSRF-Token": csrf}


def invite(client, headers):
    return client.post("/api/v1/family/invitations", headers=headers)


def sessions_of(app, name):
    with app.app_context():
        account_id = db.session.scalars(select(Account.id).filter_by(login=name)).one()
        return db.session.scalars(select(LoginSession).filter_by(account_id=account_id)).all()


def age_sessions(app, name, *, idle=0, since_login=0):
    """Make ``name``'s sessions look ``idle`` seconds unused and ``since_login`` seconds old."""
    with app.app_context():
        account_id = db.session.scalars(select(Account.id).filter_by(login=name)).one()
        for row in db.session.scalars(select(LoginSession).filter_by(account_id=account_id)):
            row.last_seen_at = utcnow() - timedelta(seconds=idle)
            row.created_at = utcnow() - timedelta(seconds=max(idle, since_login))
        db.session.commit()


def assert_logged_out(response):
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthenticated"


# -- the reproduction and its siblings ----------------------------------------------------------

def test_a_logged_out_cookie_replayed_is_401(seeded):
    """Issue 14 item 1: logout, then the old cookie and CSRF token on a write (was 201)."""
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    thief, headers = thief_of(seeded, patient, csrf)
    assert thief.get("/api/v1/auth/me").status_code == 200  # the copy works while logged in
    assert patient.post("/api/v1/auth/logout", headers=headers).json == {"status": "logged_out"}
    assert_logged_out(invite(thief, headers))
    assert_logged_out(thief.get("/api/v1/auth/me"))
    assert sessions_of(seeded, "demo-patient") == []


def test_a_password_change_ends_every_other_session_and_renews_this_one(seeded):
    phone, laptop = seeded.test_client(), seeded.test_client()
    csrf, laptop_csrf = login(phone, "demo-patient"), login(laptop, "demo-patient")
    thief, stolen = thief_of(seeded, phone, csrf)
    changed = phone.post("/api/v1/auth/password", headers={"X-CSRF-Token": csrf},
                         json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.json
    assert changed.json["status"] == "password_changed"
    assert changed.json["sessions_ended"] == 1  # the laptop; this phone's session was renewed
    assert changed.json["account"]["login"] == "demo-patient"
    new_csrf = changed.json["csrf_token"]
    assert new_csrf != csrf
    assert_logged_out(invite(thief, stolen))  # the copy of the phone's old cookie
    assert_logged_out(invite(laptop, {"X-CSRF-Token": laptop_csrf}))
    assert invite(phone, {"X-CSRF-Token": new_csrf}).status_code == 201  # the phone goes on
    assert len(sessions_of(seeded, "demo-patient")) == 1
    refused = seeded.test_client().post("/api/v1/auth/login",
                                        json={"login": "demo-patient", "password": DEMO_PASSWORD})
    assert refused.status_code == 401
    login(seeded.test_client(), "demo-patient", NEW_PASSWORD)


@pytest.mark.parametrize("body, code, field", [
    ({"current_password": "not-the-password", "new_password": NEW_PASSWORD}, "wrong_password",
     "current_password"),
    ({"current_password": DEMO_PASSWORD, "new_password": "short"}, "weak_password", "new_password"),
    ({"current_password": DEMO_PASSWORD, "new_password": "demo-patient-2027"}, "weak_password",
     "new_password"),
    ({"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}, "password_unchanged",
     "new_password"),
    ({"current_password": DEMO_PASSWORD}, "validation_failed", "new_password"),
])
def test_a_refused_password_change_changes_nothing(seeded, body, code, field):
    patient, other = seeded.test_client(), seeded.test_client()
    csrf, other_csrf = login(patient, "demo-patient"), login(other, "demo-patient")
    refused = patient.post("/api/v1/auth/password", json=body, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert refused.json["code"] == code and field in refused.json["fields"]
    assert invite(other, {"X-CSRF-Token": other_csrf}).status_code == 201  # still logged in
    assert len(sessions_of(seeded, "demo-patient")) == 2
    login(seeded.test_client(), "demo-patient")  # the password is what it was


def test_guessing_the_current_password_locks_like_a_login(seeded):
    seeded.config.update(LOCKOUT_THRESHOLD=3)
    patient = seeded.test_client()
    headers = {"X-CSRF-Token": login(patient, "demo-patient")}
    answers = [patient.post("/api/v1/auth/password", headers=headers, json={
        "current_password": f"guess-{n}", "new_password": NEW_PASSWORD}) for n in range(4)]
    assert [a.status_code for a in answers] == [422, 422, 429, 429]
    assert answers[-1].json["code"] == "account_locked"
    right = patient.post("/api/v1/auth/password", headers=headers, json={
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert right.status_code == 429  # locked is locked, whatever comes next


def test_a_password_change_needs_the_csrf_token_and_a_login(seeded):
    anonymous = seeded.test_client().post("/api/v1/auth/password", json={
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert anonymous.status_code == 401
    patient = seeded.test_client()
    login(patient, "demo-patient")
    forged = patient.post("/api/v1/auth/password", json={
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert forged.status_code == 403 and forged.json["code"] == "csrf_failed"


def test_logout_everywhere_from_another_session_ends_them_all(seeded):
    counter, office = seeded.test_client(), seeded.test_client()
    counter_csrf, office_csrf = login(counter, "demo-cashier"), login(office, "demo-cashier")
    thief, stolen = thief_of(seeded, counter, counter_csrf)
    ended = office.post("/api/v1/auth/logout-all", headers={"X-CSRF-Token": office_csrf})
    assert ended.status_code == 200
    assert ended.json == {"status": "logged_out", "sessions_ended": 2}
    for client, csrf in ((counter, counter_csrf), (office, office_csrf)):
        assert_logged_out(client.get("/api/v1/auth/me"))
    assert_logged_out(thief.post("/api/v1/verify", headers=stolen,
                                 json={"code": "YM1x", "context": "hospital"}))
    assert sessions_of(seeded, "demo-cashier") == []


def test_logout_everywhere_touches_no_other_account(seeded):
    cashier, patient = seeded.test_client(), seeded.test_client()
    cashier_csrf, _ = login(cashier, "demo-cashier"), login(patient, "demo-patient")
    cashier.post("/api/v1/auth/logout-all", headers={"X-CSRF-Token": cashier_csrf})
    assert patient.get("/api/v1/auth/me").status_code == 200


def test_a_disabled_cashier_is_out_at_once_and_stays_out_when_enabled_again(seeded):
    cashier, admin = seeded.test_client(), seeded.test_client()
    cashier_csrf, admin_csrf = login(cashier, "demo-cashier"), login(admin, "demo-admin")
    thief, stolen = thief_of(seeded, cashier, cashier_csrf)
    with seeded.app_context():
        cashier_id = db.session.scalars(select(Account.id).filter_by(login="demo-cashier")).one()
    disabled = admin.post(f"/api/v1/admin/staff/{cashier_id}/disable",
                          headers={"X-CSRF-Token": admin_csrf})
    assert disabled.status_code == 200 and disabled.json["account"]["active"] is False
    assert_logged_out(cashier.get("/api/v1/auth/me"))
    assert sessions_of(seeded, "demo-cashier") == []
    with seeded.app_context():  # enabled again (as the console's enable button does)
        db.session.get(Account, cashier_id).active = True
        db.session.commit()
    assert_logged_out(cashier.get("/api/v1/auth/me"))  # the old cookie did not come back
    assert_logged_out(thief.post("/api/v1/verify", headers=stolen,
                                 json={"code": "YM1x", "context": "hospital"}))
    login(seeded.test_client(), "demo-cashier")  # a fresh login works


def test_a_cookie_from_before_server_side_sessions_is_anonymous(seeded):
    """A signed cookie that names an account but no server-side session (what every cookie
    looked like before) gets nothing."""
    with seeded.app_context():
        account_id = db.session.scalars(select(Account.id).filter_by(login="demo-admin")).one()
    forged = seeded.session_interface.get_signing_serializer(seeded).dumps(
        {"_user_id": str(account_id), "_fresh": True, "csrf": "x" * 43})
    client = seeded.test_client()
    client.set_cookie("session", forged)
    assert_logged_out(client.get("/api/v1/auth/me"))
    assert_logged_out(client.get("/api/v1/admin/staff"))
    # ... nor does a real session token under another account's id.
    victim = seeded.test_client()
    login(victim, "demo-patient")
    stolen = seeded.session_interface.get_signing_serializer(seeded).loads(cookie_of(victim))
    client.set_cookie("session", seeded.session_interface.get_signing_serializer(seeded).dumps(
        {**stolen, "_user_id": str(account_id)}))
    assert_logged_out(client.get("/api/v1/admin/staff"))


def test_a_garbled_cookie_is_anonymous_not_an_error(seeded):
    client = seeded.test_client()
    for value in ("garbage", "eyJzaWQiOiJ4In0.xxx.yyy", "." * 500):
        client.set_cookie("session", value)
        assert_logged_out(client.get("/api/v1/auth/me"))


# -- shifts and phones ---------------------------------------------------------------------------

def test_a_staff_session_ends_after_the_idle_limit(seeded):
    cashier = seeded.test_client()
    login(cashier, "demo-cashier")
    age_sessions(seeded, "demo-cashier", idle=29 * 60)
    assert cashier.get("/api/v1/auth/me").status_code == 200  # and that use counts as activity
    (row,) = sessions_of(seeded, "demo-cashier")
    assert (utcnow() - row.last_seen_at).total_seconds() < 60
    age_sessions(seeded, "demo-cashier", idle=30 * 60 + 1)
    assert_logged_out(cashier.get("/api/v1/auth/me"))


def test_a_staff_session_ends_after_the_absolute_limit_even_when_busy(seeded):
    auditor = seeded.test_client()
    login(auditor, "demo-auditor")
    age_sessions(seeded, "demo-auditor", idle=0, since_login=12 * 3600 - 60)
    assert auditor.get("/api/v1/auth/me").status_code == 200
    age_sessions(seeded, "demo-auditor", idle=0, since_login=12 * 3600 + 1)
    assert_logged_out(auditor.get("/api/v1/auth/me"))


def test_the_staff_limits_are_configurable(seeded):
    seeded.config.update(STAFF_SESSION_IDLE=300, STAFF_SESSION_MAX=3600)
    admin = seeded.test_client()
    login(admin, "demo-admin")
    age_sessions(seeded, "demo-admin", idle=301)
    assert_logged_out(admin.get("/api/v1/auth/me"))
    login(admin, "demo-admin")
    age_sessions(seeded, "demo-admin", idle=0, since_login=3601)
    assert_logged_out(admin.get("/api/v1/auth/me"))


def test_a_patient_stays_logged_in_like_a_phone_app(seeded):
    patient = seeded.test_client()
    answer = patient.post("/api/v1/auth/login",
                          json={"login": "demo-patient", "password": DEMO_PASSWORD})
    cookie = answer.headers["Set-Cookie"]
    assert "Expires=" in cookie  # kept across browser restarts (staff cookies are not)
    age_sessions(seeded, "demo-patient", idle=89 * 86_400, since_login=400 * 86_400)
    assert patient.get("/api/v1/auth/me").status_code == 200  # no absolute limit
    age_sessions(seeded, "demo-patient", idle=90 * 86_400 + 1)
    assert_logged_out(patient.get("/api/v1/auth/me"))


def test_a_staff_cookie_ends_with_the_browser(seeded):
    answer = seeded.test_client().post("/api/v1/auth/login",
                                       json={"login": "demo-cashier", "password": DEMO_PASSWORD})
    cookie = answer.headers["Set-Cookie"]
    assert "Expires=" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_new_login_clears_the_accounts_ended_sessions(seeded):
    cashier = seeded.test_client()
    login(cashier, "demo-cashier")
    age_sessions(seeded, "demo-cashier", idle=3600)
    login(cashier, "demo-cashier")
    assert len(sessions_of(seeded, "demo-cashier")) == 1


def test_limits_take_time_as_a_parameter():
    staff = sessions.Limits(idle=1800, absolute=43_200)
    patient = sessions.Limits(idle=90 * 86_400, absolute=None)
    row = SimpleNamespace(created_at=at(1_000_000), last_seen_at=at(1_000_000))
    assert staff.ended(row, 1_000_000 + 1799) is None
    assert staff.ended(row, 1_000_000 + 1800) == "idle"
    row.last_seen_at = at(1_000_000 + 43_000)
    assert staff.ended(row, 1_000_000 + 43_199) is None
    assert staff.ended(row, 1_000_000 + 43_200) == "absolute"
    assert patient.ended(row, 1_000_000 + 43_000 + 90 * 86_400 - 1) is None
    assert patient.ended(row, 1_000_000 + 43_000 + 90 * 86_400) == "idle"


# -- what sessions do not touch ------------------------------------------------------------------

def test_bearer_tokens_are_not_sessions(seeded):
    """Validators and hospital systems authenticate per request: no session row, no cookie."""
    from test_transit_api import enrol_validator

    validator, auth, _, (admin, admin_csrf) = enrol_validator(seeded)
    admin.post("/api/v1/auth/logout-all", headers={"X-CSRF-Token": admin_csrf})
    assert validator.get("/api/v1/validators/trust", headers=auth).status_code == 200
    assert validator.get_cookie("session") is None


def test_sessions_need_no_redis_and_a_redis_outage_is_a_503_not_a_500(seeded):
    """Sessions live in the database: a server whose Redis is unreachable keeps a logged-in
    cashier logged in and lets them log out; what needs Redis (the lockout of login and password
    change) answers 503 problem documents."""
    cashier = seeded.test_client()
    headers = {"X-CSRF-Token": login(cashier, "demo-cashier")}
    cut_off = create_app({key: seeded.config[key] for key in (
        "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "ID_HASH_KEY", "TESTING")} |
        {"REDIS_URL": "redis://127.0.0.1:1/0"})
    stranded = cut_off.test_client()
    stranded.set_cookie("session", cookie_of(cashier))
    try:
        assert stranded.get("/api/v1/auth/me").status_code == 200
        for answer in (
                cut_off.test_client().post("/api/v1/auth/login", json={
                    "login": "demo-cashier", "password": DEMO_PASSWORD}),
                stranded.post("/api/v1/auth/password", headers=headers, json={
                    "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})):
            assert answer.status_code == 503, answer.get_json()
            assert answer.mimetype == "application/problem+json"
            assert answer.json["code"] == "service_unavailable"
        assert stranded.post("/api/v1/auth/logout", headers=headers).status_code == 200
        assert_logged_out(cashier.get("/api/v1/auth/me"))  # ended for the other server too
    finally:
        with cut_off.app_context():
            db.engine.dispose()


def test_the_new_routes_are_in_the_api_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/auth/logout-all"]
    password = paths["/api/v1/auth/password"]["post"]
    assert {"200", "401", "403", "422", "429", "503"} <= set(password["responses"])
