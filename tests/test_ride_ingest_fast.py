"""Ride ingest's two ways of storing a batch make the same decisions and write the same rows: the
PostgreSQL path (backend/transit/ingest_pg.py: COPY into a staging table, one set-based
statement) and the general one (backend/transit/rides.py, the path SQLite takes).

One scenario touches every rule a ride meets in storage: the daily cap across two China days and
over fares already paid, the wallet and the password-free limit (arrears), the deny list added and
lifted, a revoked phone before and after its revocation, a suspended person with and without a
revocation, an unknown credential, a ride repeated inside a batch, a batch sent again, a copy from
another validator. On every database its outcomes are checked; on PostgreSQL it is also run through
both paths in one transaction each (rolled back in between) and every row they wrote compared."""
import os
import threading
import time
from datetime import datetime, timedelta

import pytest
from phones import Phone
from sqlalchemy import insert, select, text

from backend.models import Account, Credential, Device, DenyEntry, Person, Validator
from backend.models.base import CHINA, at
from backend.patients.credentials import SUSPENDED, revoke_device, revoke_person
from backend.service.extensions import db
from backend.service.issuer import current_ring
from backend.tokens.code import make_code
from backend.tokens.credential import Claims, DeviceKey, issue_credential, new_credential_id, \
    new_pseudonym
from backend.transit import rides
from backend.transit import validators as registry

# Not `from conftest import ON_POSTGRES`: in a whole-suite run "conftest" may name tests/failover's.
ON_POSTGRES = os.environ.get("YIMA_TEST_DATABASE_URL", "").startswith("postgres")

CAP, THRESHOLD = 1_000, 800  # ZONE6's fare is 400


def _now_and_midnight():
    now = int(time.time())
    day = datetime.fromtimestamp(now - 3600, CHINA).replace(hour=0, minute=0, second=0,
                                                              microsecond=0)
    return now, int(day.timestamp())


def _rider(session, ring, now, n, wallet, free_limit, status="active"):
    account = session.scalars(select(Account).filter_by(login="demo-patient")).one()
    person_id = session.scalars(insert(Person).returning(Person.id), [{
        "holder_id": new_pseudonym(), "national_id_hash": f"fastride{n:024d}",
        "national_id_masked": "3101**********0000", "name": f"乘客{n}", "phone": "13900000000",
        "home_region": ("310118", "320509", "330421")[n % 3], "insurance_class": "employee",
        "personal_account_fen": 0, "transit_wallet_fen": wallet,
        "password_free_limit_fen": free_limit, "status": status}]).one()
    phone = Phone()
    device = Device(person_id=person_id, account_id=account.id, alg="Ed25519", public_jwk="{}",
                    label="ride test")
    session.add(device)
    session.flush()
    # Issued two days ago (the key ring of a test instance is younger: signed now, dated then).
    claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="ss", reg="310118",
                    cls="emp", fam=False, iat=now - 2 * 86_400, exp=now + 5 * 86_400,
                    device_key=DeviceKey.from_jwk(phone.jwk()))
    phone.credentials = {"ss": issue_credential(ring, claims, now)}
    session.add(Credential(jti=claims.jti, device_id=device.id, person_id=person_id, kind="ss",
                           kid=ring.signing_key(now).kid, issued_at=at(now - 2 * 86_400),
                           expires_at=at(now + 5 * 86_400)))
    session.flush()
    return person_id, device, phone


def _ride(phone, ridden, credential=None):
    return {"code": make_code(credential or phone.credentials["ss"], ridden // 30, phone.sign),
            "ridden_at": ridden}


@pytest.fixture
def scene(seeded):
    """Riders, two validators and a first batch already committed (fares paid earlier today)."""
    now, midnight = _now_and_midnight()
    with seeded.app_context():
        session, ring = db.session, current_ring(seeded)
        mother = _rider(session, ring, now, 1, wallet=500, free_limit=2_000)
        son = _rider(session, ring, now, 2, wallet=10_000, free_limit=300)
        stolen = _rider(session, ring, now, 3, wallet=10_000, free_limit=2_000)
        suspended = _rider(session, ring, now, 4, wallet=10_000, free_limit=2_000,
                           status="suspended")
        left = _rider(session, ring, now, 5, wallet=10_000, free_limit=2_000)
        ids = []
        for k in (1, 2):
            validator, _ = registry.register_validator(session, line_code="ZONE6", label=f"bus {k}",
                                                       created_by="test", now=now)
            validator.status = "active"
            session.flush()
            ids.append(validator.id)
        # The son is on the deny list already: a ride that leaves his wallet positive lifts it.
        revoke_device(session, stolen[1], "device_lost", midnight + 500)
        revoke_person(session, left[0], SUSPENDED, midnight + 500)
        session.get(Person, left[0]).status = "suspended"
        session.commit()
        first = rides.ingest(session, session.get(Validator, ids[0]), [_ride(son[2], midnight + 300)],
                             ring=ring, now=now, daily_cap_fen=CAP, arrears_threshold_fen=THRESHOLD,
                             max_age_seconds=3 * 86_400)
        assert [r["status"] for r in first] == ["arrears"]  # 400 > his 300 password-free limit
        # The son is put on the deny list: a ride that leaves his wallet positive lifts it.
        session.add(DenyEntry(holder_id=session.get(Person, son[0]).holder_id, action="add",
                              at=at(now - 60)))
        session.commit()
        # A credential the issuer signed that this server never recorded.
        stranger = Phone()
        claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd="ss", reg="310118",
                        cls="emp", fam=False, iat=now - 2 * 86_400, exp=now + 86_400,
                        device_key=DeviceKey.from_jwk(stranger.jwk()))
        unknown = issue_credential(ring, claims, now)
    m, s, st, su, lf = mother[2], son[2], stolen[2], suspended[2], left[2]
    batch = [_ride(m, midnight - 1200), _ride(m, midnight + 60), _ride(m, midnight + 120),
             _ride(m, midnight + 180), _ride(m, midnight + 240), _ride(m, midnight + 60),
             _ride(s, midnight + 600), _ride(s, midnight + 900),
             _ride(st, midnight + 400), _ride(st, midnight + 600),
             _ride(su, midnight + 60),
             _ride(lf, midnight + 400), _ride(lf, midnight + 700),
             _ride(stranger, midnight + 60, unknown),
             {"code": batch_code(m, now), "ridden_at": now - 10 * 86_400}, {"code": 7}]
    copies = [batch[2], batch[7]]
    return {"app": seeded, "now": now, "validators": ids, "batches": [
        (0, batch), (1, copies), (0, batch)]}


def batch_code(phone, now):
    return make_code(phone.credentials["ss"], now // 30, phone.sign)


EXPECTED = [
    # the first batch: the mother's day (cap 1,000; wallet 500), the son (300 password-free),
    # the stolen phone (revoked at +500), the suspended persons, the stranger, two bad items
    [("charged", 400), ("arrears", 400), ("arrears", 400), ("arrears", 200), ("capped", 0),
     ("duplicate", None),
     ("arrears", 400), ("charged", 200),  # the cap leaves 200: within his limit
     ("charged", 400), ("revoked", "credential_revoked"),
     ("revoked", "person_suspended"),
     ("charged", 400), ("revoked", "person_suspended"),
     ("rejected", "credential_unknown"), ("rejected", "ridden_at_out_of_range"),
     ("rejected", "bad_item")],
    [("copy", 0), ("copy", 0)],  # the same codes from the other bus
    [("duplicate", None)] * 13 + [("rejected", "credential_unknown"),
                                  ("rejected", "ridden_at_out_of_range"), ("rejected", "bad_item")],
]


def _run(scene, fast):
    app = scene["app"]
    session, ring = db.session, current_ring(app)
    answers = []
    for k, batch in scene["batches"]:
        answers.append(rides.ingest(
            session, session.get(Validator, scene["validators"][k]), batch, ring=ring,
            now=scene["now"], daily_cap_fen=CAP, arrears_threshold_fen=THRESHOLD,
            max_age_seconds=3 * 86_400, fast=fast))
    session.flush()
    return answers


def _summary(answers):
    return [[(r["status"], r.get("reason") if r["status"] in ("revoked", "rejected")
              else r.get("fare_fen")) for r in batch] for batch in answers]


def _rows(session):
    """Every row ride ingest writes, surrogate ids replaced by what they point at, in id order."""
    q = lambda sql: [tuple(row) for row in session.execute(text(sql))]  # noqa: E731
    return {
        "rides": q("SELECT natural_id, validator_id, line_code, person_id, credential_jti,"
                   " code_step, ridden_at, day, uploaded_at, outcome, fare_fen FROM rides"
                   " ORDER BY id"),
        "charges": q("SELECT c.credential_jti, c.code_step, r.natural_id FROM ride_charges c"
                     " JOIN rides r ON r.id = c.ride_id ORDER BY c.credential_jti, c.code_step"),
        "ledger": q("SELECT person_id, kind, amount_fen, balance_after_fen, idempotency_key,"
                    " created_at FROM wallet_entries ORDER BY id"),
        "flags": q("SELECT r.natural_id, f.rule, f.insured_region, f.treating_region, f.detail,"
                   " f.status, f.created_at FROM audit_flags f LEFT JOIN rides r ON r.id = f.ride_id"
                   " ORDER BY f.id"),
        "deny": q("SELECT holder_id, action, at FROM deny_entries ORDER BY version"),
        "wallets": q("SELECT id, transit_wallet_fen FROM persons ORDER BY id"),
    }


@pytest.mark.parametrize("fast", [True, False])
def test_every_rule_of_storage(scene, fast):
    app = scene["app"]
    with app.app_context():
        answers = _run(scene, fast)
        db.session.commit()
        assert _summary(answers) == EXPECTED
        rows = _rows(db.session)
    flags = [(rule, detail) for _, rule, _, _, detail, _, _ in rows["flags"]]
    assert ("ridden_after_revocation", "ridden on ZONE6 100 s after revocation (device_lost)") \
        in flags
    assert ("ridden_after_revocation", "ridden on ZONE6 while the person is suspended") in flags
    assert ("ridden_after_revocation",
            "ridden on ZONE6 200 s after revocation (person_suspended)") in flags
    assert flags.count(("copied_code", "same code as another validator's ride")) == 2
    # the mother is past the threshold (-900): added; the son stays positive: lifted
    assert [action for _, action, _ in rows["deny"]] == ["add", "add", "lift"]
    assert len(rows["rides"]) == 15 and len(rows["charges"]) == 10  # with the first batch's
    assert sum(fare for *_, fare in rows["rides"]) == \
        -sum(e[2] for e in rows["ledger"] if e[1] == "ride") == 3_200


@pytest.mark.skipif(not ON_POSTGRES, reason="the COPY path is PostgreSQL's")
def test_both_paths_write_the_same_rows(scene):
    app = scene["app"]
    with app.app_context():
        fast = _summary(_run(scene, True)), _rows(db.session)
        db.session.rollback()
        general = _summary(_run(scene, False)), _rows(db.session)
        db.session.rollback()
    assert fast[0] == general[0] == EXPECTED
    for table in fast[1]:
        assert fast[1][table] == general[1][table], table


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent writers need PostgreSQL")
def test_two_buses_uploading_the_same_codes_at_once_charge_each_once(scene):
    """The person lock orders two batches of the same codes: one pays, the other is a copy."""
    app = scene["app"]
    batch = scene["batches"][0][1][:13]
    answers, barrier = [None, None], threading.Barrier(2)

    def upload(k):
        with app.app_context():
            validator = db.session.get(Validator, scene["validators"][k])
            barrier.wait()
            answers[k] = rides.ingest(db.session, validator, batch, ring=current_ring(app),
                                      now=scene["now"], daily_cap_fen=CAP,
                                      arrears_threshold_fen=THRESHOLD, max_age_seconds=3 * 86_400)
            db.session.commit()

    threads = [threading.Thread(target=upload, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    paying = [sum(r["status"] in ("charged", "arrears", "capped") for r in a) for a in answers]
    assert sorted(paying) == [0, 9]
    with app.app_context():
        rows = _rows(db.session)
    assert len(rows["charges"]) == 10  # the nine and the son's first ride
    assert sum(fare for *_, fare in rows["rides"]) == \
        -sum(e[2] for e in rows["ledger"] if e[1] == "ride")


def test_the_daily_cap_sum_has_an_index(app):
    with app.app_context():
        from sqlalchemy import inspect
        indexes = {i["name"]: i["column_names"] for i in inspect(db.engine).get_indexes("rides")}
    assert indexes["ix_rides_person_day"] == ["person_id", "day"]


def test_midnight_is_a_china_midnight():
    _, midnight = _now_and_midnight()
    assert datetime.fromtimestamp(midnight, CHINA).time() == datetime.min.time()
    assert timedelta(seconds=int(time.time()) - midnight) >= timedelta(hours=1)
