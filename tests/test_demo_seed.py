"""The demo zone: what `flask demo seed` puts in place, and that running it twice changes nothing."""
from sqlalchemy import func, select

from backend.accounts.hashing import password_matches
from backend.demo.data import DEMO_PASSWORD
from backend.models import (Account, BusLine, Device, FamilyGrant, Institution, MedicalPolicy, Person,
                            Region)
from backend.service.extensions import db


def counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Region, MedicalPolicy, Institution, BusLine, Person, Account)}


def test_seed_builds_the_zone_and_is_idempotent(runner, app):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "demo-patient" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        after_first = counts()
        balance = db.session.scalars(select(Person.transit_wallet_fen).order_by(Person.id)).all()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        assert counts() == after_first
        assert db.session.scalars(select(Person.transit_wallet_fen).order_by(Person.id)).all() == balance
    assert after_first == {"Region": 3, "MedicalPolicy": 6, "Institution": 85, "BusLine": 6,
                           "Person": 12, "Account": 9}


def test_institutions_and_lines_are_spread_over_the_zone(seeded):
    with seeded.app_context():
        accepting = db.session.scalar(
            select(func.count()).select_from(Institution).filter_by(accepts_evoucher=True))
        assert accepting == 75
        per_region = dict(db.session.execute(
            select(Institution.region_code, func.count()).group_by(Institution.region_code)).all())
        assert set(per_region) == {"310118", "320509", "330421"} and min(per_region.values()) >= 25
        levels = set(db.session.scalars(select(Institution.level)))
        assert levels == {1, 2, 3}
        for line in db.session.scalars(select(BusLine)):
            provinces = {region.province_en for region in line.regions}
            assert len(provinces) >= 2, f"{line.code} does not cross a provincial line"
            assert line.fare_fen > 0


def test_policies_differ_by_region(seeded):
    with seeded.app_context():
        employee = {p.region_code: (p.deductible_fen, p.annual_cap_fen, p.ratio_l3_a_bp)
                    for p in db.session.scalars(select(MedicalPolicy).filter_by(
                        insurance_class="employee"))}
        assert len(set(employee.values())) == 3


def test_demo_logins_are_bound_as_documented(seeded):
    with seeded.app_context():
        accounts = {a.login: a for a in db.session.scalars(select(Account))}
        patient = accounts["demo-patient"]
        assert patient.role == "patient" and patient.person.home_region == "330421"
        assert patient.person.insurance_class == "employee"
        cashier = accounts["demo-cashier"]
        assert cashier.role == "cashier" and cashier.institution.region_code == "310118"
        assert accounts["demo-auditor"].role == "auditor"
        assert accounts["demo-auditor"].region_code == "330421"
        assert accounts["demo-admin"].role == "admin" and accounts["demo-admin"].region_code is None
        for account in accounts.values():
            assert account.password_hash.startswith("scrypt:")
            assert password_matches(account, DEMO_PASSWORD)
            assert not password_matches(account, "wrong-password")


def test_no_national_id_number_is_stored_in_clear(seeded):
    from backend.demo.data import PERSONS
    from backend.demo.seed import demo_national_id

    with seeded.app_context():
        stored = " ".join(str(value) for person in db.session.scalars(select(Person))
                          for value in vars(person).values())
    for _, region, born, seq, *_ in PERSONS:
        national_id = demo_national_id(region, born, seq)
        assert national_id not in stored
        assert born not in stored  # the birth date is masked too


def test_demo_family_holds_grants_from_both_parents(seeded, runner):
    from phones import login

    son = seeded.test_client()
    login(son, "demo-family")
    received = son.get("/api/v1/family").json["received"]
    assert sorted(g["holder_masked_name"] for g in received) == ["沈**", "陆**"]
    assert all(g["status"] == "active" for g in received)
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0  # again: no second pair of grants
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).select_from(FamilyGrant)) == 2


def test_demo_code_never_silently_replaces_the_phone_a_person_uses(seeded, runner):
    from phones import Phone, login

    seeded.config["DEMO_MODE"] = True
    mother = seeded.test_client()
    phone = Phone()
    assert phone.activate(mother, login(mother, "demo-patient")).status_code == 201
    refused = runner.invoke(args=["demo", "code"])
    assert refused.exit_code != 0 and "--replace" in refused.output and f"#{phone.device_id}" in refused.output
    with seeded.app_context():
        assert db.session.get(Device, phone.device_id).revoked_at is None  # her phone still works
    # Another login whose person shows no codes anywhere gets its own demo phone, and keeps it.
    first = runner.invoke(args=["demo", "code", "--login", "demo-family"])
    again = runner.invoke(args=["demo", "code", "--login", "demo-family"])
    assert first.exit_code == 0 and again.exit_code == 0 and "replaced" not in again.output
    # Asked explicitly, it replaces her phone and says so.
    replaced = runner.invoke(args=["demo", "code", "--replace"])
    assert replaced.exit_code == 0 and f"[{phone.device_id}]" in replaced.output
