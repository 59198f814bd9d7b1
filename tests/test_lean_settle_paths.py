"""Issue 21's third cut to settle: the Idempotency-Key, the credential and the person in one read,
the bill written with Core (on PostgreSQL in one statement), the receipt of a new bill without
the later-bills read. What a cashier gets stays what the database holds."""
import time

import pytest
from phones import demo_phone_for_many_scans, login
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from backend.counter import settlements
from backend.models import BenefitCounter, Person, Settlement, SettlementLine
from backend.service.extensions import db

CATEGORIES = ("registration", "drug", "examination", "treatment", "material")
# Twelve lines in no sorted order: the stored lines must keep the bill's order.
BILL = [{"category": CATEGORIES[(7 * n) % 5], "coverage_class": "ABC"[(5 * n) % 3],
         "amount_fen": 1_000 + 337 * ((11 * n) % 12), "description": f"line {12 - n}"}
        for n in range(12)]


@pytest.fixture
def counter(seeded):
    phone = demo_phone_for_many_scans(seeded)
    cashier = seeded.test_client()
    return seeded, phone, cashier, {"X-CSRF-Token": login(cashier, "demo-cashier")}


def scan(phone, cashier, headers):
    code = phone.past_code("med")
    answer = cashier.post("/api/v1/verify", headers=headers, json={"code": code, "context": "hospital"})
    assert answer.status_code == 200, answer.json
    return answer.json["scan_id"]


def test_a_long_bill_is_stored_in_its_order_and_reprints_as_first_printed(counter):
    app, phone, cashier, headers = counter
    answers = [cashier.post("/api/v1/settlements", headers={**headers, "Idempotency-Key": f"long-bill-{n}"},
                            json={"scan_id": scan(phone, cashier, headers), "lines": BILL})
               for n in range(2)]
    for answer in answers:
        assert answer.status_code == 201, answer.json
        assert answer.json["settlement"]["personal_account_fen"] > 0  # the account paid
        assert answer.json["receipt"]["lines"] == answer.json["settlement"]["lines"] == BILL
    first, second = (answer.json for answer in answers)
    assert second["receipt"]["year"]["deductible_left_fen"] <= first["receipt"]["year"]["deductible_left_fen"]
    for settled in (first, second):  # a reprint says what the first print said
        reprint = cashier.get(f"/api/v1/settlements/{settled['settlement']['id']}/receipt")
        assert reprint.status_code == 200, reprint.json
        assert reprint.json["receipt"] == settled["receipt"]
        shown = cashier.get(f"/api/v1/settlements/{settled['settlement']['id']}")
        assert shown.json["settlement"] == settled["settlement"]
    with app.app_context():
        ids = [answer["settlement"]["id"] for answer in (first, second)]
        stored = db.session.scalars(select(SettlementLine).filter(
            SettlementLine.settlement_id == ids[0]).order_by(SettlementLine.id)).all()
        assert [(line.category, line.coverage_class, line.amount_fen, line.description)
                for line in stored] == [(line["category"], line["coverage_class"],
                                         line["amount_fen"], line["description"]) for line in BILL]
        person_id = db.session.get(Settlement, ids[0]).person_id
        assert db.session.get(Person, person_id).personal_account_fen \
            == second["personal_account_after_fen"]
        year = db.session.get(Settlement, ids[1]).year
        counters = db.session.get(BenefitCounter, (person_id, year))
        assert counters.deductible_used_fen == sum(
            db.session.scalars(select(Settlement.deductible_fen).filter_by(
                person_id=person_id, year=year)).all())
        assert counters.fund_paid_fen == sum(db.session.scalars(select(Settlement.fund_fen).filter_by(
            person_id=person_id, year=year)).all())


class UnreachableRedis:
    def get(self, _key):
        raise RedisConnectionError("Redis is down")


def test_a_retry_is_answered_while_redis_is_unreachable_and_a_new_bill_is_not(counter):
    """The scan is read before the Idempotency-Key now; Redis down must not stop a retry of a
    bill already made from getting it back, as before."""
    app, phone, cashier, headers = counter
    scan_id = scan(phone, cashier, headers)
    made = cashier.post("/api/v1/settlements", headers={**headers, "Idempotency-Key": "redis-down-1"},
                        json={"scan_id": scan_id, "lines": BILL})
    assert made.status_code == 201, made.json
    with app.app_context():
        arguments = dict(scan_id=scan_id, institution_code=made.json["settlement"]["institution"],
                         cashier_id=db.session.get(Settlement, made.json["settlement"]["id"])
                         .cashier_account_id, raw_lines=BILL, now=int(time.time()))
        again = settlements.settle_at_counter(db.session, UnreachableRedis(),
                                              idempotency_key="redis-down-1", **arguments)
        assert (again.settlement.id, again.created) == (made.json["settlement"]["id"], False)
        with pytest.raises(RedisConnectionError):
            settlements.settle_at_counter(db.session, UnreachableRedis(),
                                          idempotency_key="redis-down-2", **arguments)
        db.session.rollback()
