"""Issue 21's cuts to verify and settle keep every check: the per-worker regions and policies follow
an admin's edit (in another app instance too), Flask-Limiter is skipped only where its default
limit would exempt the request anyway, and a memoised session cookie still expires."""
from datetime import timedelta

from phones import demo_phone_for_many_scans, login
from sqlalchemy import select, text, update

from backend import create_app
from backend.counter import benefits
from backend.counter.registry_cache import RegistryCache
from backend.models import MedicalPolicy
from backend.service.extensions import db, limiter

JIASHAN = "330421"  # the demo patient's home region: its employee policy applies
BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_000},
        {"category": "examination", "coverage_class": "A", "amount_fen": 18_000},
        {"category": "drug", "coverage_class": "B", "amount_fen": 10_000}]
SETTINGS = ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "SECRET_KEY", "ID_HASH_KEY", "LOG_LEVEL",
            "TESTING")


class Counter:
    """A cashier at the counter of ``app``, scanning ``phone``'s codes."""

    def __init__(self, app, phone):
        self.client, self.phone = app.test_client(), phone
        self.csrf = login(self.client, "demo-cashier")
        self.bills = 0

    def settle(self):
        headers = {"X-CSRF-Token": self.csrf}
        # Each bill a code of its own step (a code is single-use online), inside a wider window.
        code = self.phone.past_code("med")
        scan = self.client.post("/api/v1/verify", headers=headers,
                                json={"code": code, "context": "hospital"})
        assert scan.status_code == 200, scan.json
        self.bills += 1
        answer = self.client.post("/api/v1/settlements", json={
            "scan_id": scan.json["scan_id"], "lines": BILL, "use_personal_account": False},
            headers={**headers, "Idempotency-Key": f"lean-{id(self)}-{self.bills}"})
        assert answer.status_code == 201, answer.json
        return answer.json


def second_instance(app):
    """Another app on the same database and Redis: another worker."""
    return create_app({name: app.config[name] for name in SETTINGS})


def jiashan_policy(app):
    with app.app_context():
        return db.session.scalars(select(MedicalPolicy).filter_by(
            region_code=JIASHAN, insurance_class="employee")).one()


def test_a_policy_edit_reaches_the_next_settlement_in_every_app_instance(seeded):
    phone = demo_phone_for_many_scans(seeded)
    other = second_instance(seeded)
    other.config["CODE_WINDOW_STEPS"] = 6
    here, there = Counter(seeded, phone), Counter(other, phone)
    # Both workers hold the policy as it was: the bill falls inside the ¥800 deductible.
    assert here.settle()["settlement"]["fund_fen"] == 0
    assert there.settle()["settlement"]["fund_fen"] == 0

    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    edited = admin.patch(f"/api/v1/admin/regions/{JIASHAN}/policies/employee",
                         json={"deductible_fen": 0}, headers={"X-CSRF-Token": csrf})
    assert edited.status_code == 200, edited.json

    policy = jiashan_policy(seeded)
    assert policy.deductible_fen == 0
    for counter in (there, here):  # the other instance first: it was not the one edited through
        answer = counter.settle()
        wanted = benefits.settle(policy, 3, [benefits.Line(**line) for line in BILL],
                                 benefits.YearSoFar(answer["receipt"]["year"]["deductible_fen"]
                                                    - answer["receipt"]["year"]["deductible_left_fen"]
                                                    - answer["settlement"]["deductible_fen"],
                                                    0), 0, False)
        assert answer["settlement"]["fund_fen"] > 0
        assert answer["settlement"]["fund_fen"] == wanted.fund_fen
        assert answer["receipt"]["year"]["deductible_fen"] == 0
    with other.app_context():
        db.engine.dispose()


def test_any_write_to_regions_or_policies_changes_the_version(seeded):
    """The database's triggers change it, whoever writes (an import, a script, the console)."""
    cache = RegistryCache()
    with seeded.app_context():
        def version():
            return db.session.execute(text(
                "SELECT version FROM cache_versions WHERE name = 'registry'")).scalar()
        first = version()
        regions = cache.regions(db.session.connection(), first)
        assert regions[JIASHAN].policy_for("employee").deductible_fen == 80_000
        db.session.execute(update(MedicalPolicy).filter_by(
            region_code=JIASHAN, insurance_class="employee").values(deductible_fen=70_000))
        second = version()
        assert second != first
        assert cache.regions(db.session.connection(), second)[JIASHAN] \
            .policy_for("employee").deductible_fen == 70_000
        db.session.execute(text(f"UPDATE regions SET name_en = 'Jiashan County' WHERE code = '{JIASHAN}'"))
        assert version() != second
        db.session.rollback()
        assert version() == first  # the change and its version are one transaction


def test_every_route_limit_is_on_a_view(app):
    """The limiter's request filter (service/limits.py) skips a request only when the route has
    no limit of its own; it knows a route's limits by the view's name, so a limit on an inner
    callable would be skipped silently."""
    from flask_limiter.util import get_qualified_name

    views = {get_qualified_name(view) for view in app.view_functions.values()}
    assert limiter._marked_for_limiting and limiter._marked_for_limiting <= views
    assert not limiter.limit_manager._blueprint_limits


def test_a_signed_in_callers_own_route_limit_still_counts(seeded):
    seeded.config["MANUAL_ID_RATE_LIMIT"] = "2 per minute"
    cashier = seeded.test_client()
    csrf = login(cashier, "demo-cashier")
    body = {"national_id": "110101199003074518", "reason": "phone_lost", "person_present": True}
    codes = [cashier.post("/api/v1/counter/identify", json=body, headers={"X-CSRF-Token": csrf})
             .status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]


def test_a_remembered_session_cookie_still_expires(seeded):
    cashier = seeded.test_client()
    login(cashier, "demo-cashier")
    assert cashier.get("/api/v1/counter/session").status_code == 200
    assert cashier.get("/api/v1/counter/session").status_code == 200  # from the memo
    seeded.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-1)  # every cookie too old
    assert cashier.get("/api/v1/counter/session").status_code == 401


def test_a_changed_cookie_is_not_remembered_as_the_real_one(seeded):
    cashier = seeded.test_client()
    login(cashier, "demo-cashier")
    assert cashier.get("/api/v1/counter/session").status_code == 200
    cookie = cashier.get_cookie("session")
    forged = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    cashier.set_cookie("session", forged)
    assert cashier.get("/api/v1/counter/session").status_code == 401
