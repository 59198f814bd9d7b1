"""A cashier's day through the API and the domain: the header, receipts in China time, today's list
with its totals and CSV, the reconciliation against the clearing report, and settling with no
phone (found by national ID number)."""
import csv
import io
import uuid
from datetime import datetime, timezone

import pytest
from phones import Phone, login
from sqlalchemy import select

from backend.accounts.hashing import hash_password
from backend.counter import receipts, settlements, today
from backend.demo.seed import demo_national_id
from backend.models import Account, AuditEntry, AuditFlag, Person, Settlement
from backend.oversight import clearing
from backend.service.extensions import db, redis_client

SHEN_ID = demo_national_id("330421", "19480512", "002")  # 沈桂芳, insured in Jiashan
BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 2_000},
        {"category": "drug", "coverage_class": "B", "amount_fen": 120_000, "description": "阿莫西林"},
        {"category": "material", "coverage_class": "C", "amount_fen": 5_000}]


class Counter:
    """A logged-in cashier's test client."""

    def __init__(self, app, login_name):
        self.client = app.test_client()
        self.csrf = login(self.client, login_name)

    def call(self, method, path, body=None, key=None):
        headers = {"X-CSRF-Token": self.csrf}
        if key:
            headers["Idempotency-Key"] = key
        return self.client.open(path, method=method, json=body, headers=headers)

    def settle(self, scan_id, lines=BILL):
        answer = self.call("POST", "/api/v1/settlements", {"scan_id": scan_id, "lines": lines},
                           key=f"bill-{uuid.uuid4()}")
        assert answer.status_code == 201, answer.json
        return answer.json

    def identify(self, national_id=SHEN_ID, reason="phone_flat", **more):
        return self.call("POST", "/api/v1/counter/identify", {
            "national_id": national_id, "reason": reason, "person_present": True, **more})


@pytest.fixture
def phone(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    return phone


def scan(counter, phone, now=None):
    answer = counter.call("POST", "/api/v1/verify", {"code": phone.code("med", now=now),
                                                     "context": "hospital"})
    assert answer.status_code == 200, answer.json
    return answer.json["scan_id"]


def second_cashier(app):
    with app.app_context():
        db.session.add(Account(login="qp-cashier-2", password_hash=hash_password("second-cashier-26"),
                               role="cashier", institution_code="H31011800001", display_name="周倩"))
        db.session.commit()
    counter = Counter.__new__(Counter)
    counter.client = app.test_client()
    counter.csrf = login(counter.client, "qp-cashier-2", "second-cashier-26")
    return counter


def test_the_header_names_the_cashier_the_institution_and_the_china_day(seeded):
    answer = Counter(seeded, "demo-cashier").call("GET", "/api/v1/counter/session").json
    assert answer["cashier"] == {"login": "demo-cashier", "name": "王晓燕"}
    assert answer["institution"]["zh"] == "青浦区中心医院" and answer["institution"]["region"]["zh"] == "青浦区"
    assert answer["now"].endswith("+08:00") and answer["today"] == answer["now"][:10]


def test_a_receipt_made_at_0752_china_time_says_so(seeded, phone):
    """23:52 UTC on 11-28 is 07:52 on 11-29 in China: the receipt, its number and the day's list
    all say 11-29 (time is a parameter of the domain: no clock is patched)."""
    counter = Counter(seeded, "demo-cashier")
    scan_id = scan(counter, phone)
    moment = int(datetime(2026, 11, 28, 23, 52, tzinfo=timezone.utc).timestamp())
    with seeded.app_context():
        cashier = db.session.scalars(select(Account).filter_by(login="demo-cashier")).one()
        settlement, created = settlements.settle(
            db.session, redis_client.client(), scan_id=scan_id, institution_code="H31011800001",
            cashier_id=cashier.id, raw_lines=BILL, idempotency_key="receipt-0752", now=moment)
        db.session.commit()
        receipt = receipts.receipt(db.session, settlement)
        assert receipt["created_at"] == "2026-11-29T07:52:00+08:00"
        assert receipt["number"] == f"20261129-{settlement.id:06d}"
        assert receipt["institution"]["zh"] == "青浦区中心医院" and receipt["cashier"] == "王晓燕"
        assert receipt["patient"] == {"masked_name": "沈**"}
        assert receipt["insured_region"]["zh"] == "嘉善县" and receipt["insurance_class"] == "employee"
        assert [line["coverage_class"] for line in receipt["lines"]] == ["A", "B", "C"]
        on_the_day = today.day_report(db.session, institution_code="H31011800001",
                                      day=today.parse_day("2026-11-29", moment), now=moment)
        assert [row["id"] for row in on_the_day["rows"]] == [settlement.id]
        assert on_the_day["rows"][0]["created_at"] == "2026-11-29T07:52:00+08:00"
        assert on_the_day["today"] and on_the_day["rows"][0]["refundable"]
        the_day_before = today.day_report(db.session, institution_code="H31011800001",
                                          day=today.parse_day("2026-11-28", moment), now=moment)
        assert the_day_before["rows"] == [] and not the_day_before["today"]


def test_receipt_shows_what_remains_of_the_year_and_stays_the_same_when_reprinted(seeded, phone):
    counter = Counter(seeded, "demo-cashier")
    first = counter.settle(scan(counter, phone))
    receipt = first["receipt"]
    # Jiashan employees: ¥800 deductible a year. This bill's A and B (after the 乙类 share) used
    # part of it; what is left is the rest.
    year = receipt["year"]
    assert receipt["deductible_fen"] > 0
    assert year["deductible_left_fen"] == year["deductible_fen"] - receipt["deductible_fen"]
    assert year["cap_left_fen"] == year["cap_fen"] - receipt["fund_fen"]
    with seeded.app_context():
        balance = db.session.scalars(select(Person.personal_account_fen).filter_by(name="沈桂芳")).one()
    assert first["personal_account_after_fen"] == balance  # the balance after, not before
    # A later bill of the same person moves the year on; the first receipt, reprinted, does not.
    second = counter.settle(scan(counter, phone, now=phone_time_next_step()))
    assert second["receipt"]["year"]["deductible_left_fen"] < year["deductible_left_fen"] \
        or second["receipt"]["year"]["cap_left_fen"] < year["cap_left_fen"]
    reprint = counter.call("GET", f"/api/v1/settlements/{receipt['id']}/receipt").json["receipt"]
    assert reprint["year"] == year and reprint["refund"] is None
    refunded = counter.call("POST", f"/api/v1/settlements/{receipt['id']}/refund",
                            {"reason": "开错药"}, key=f"refund-{uuid.uuid4()}")
    assert refunded.status_code == 201
    stamped = refunded.json["receipt"]
    assert stamped["id"] == receipt["id"] and stamped["refund"]["reason"] == "开错药"
    assert stamped["refund"]["total_fen"] == -receipt["total_fen"]
    assert stamped["year"] == year  # the receipt as issued, stamped refunded
    assert refunded.json["personal_account_after_fen"] == \
        first["personal_account_after_fen"] - second["settlement"]["personal_account_fen"] \
        + receipt["personal_account_fen"]
    # Another institution's cashier cannot read it.
    other = Counter(seeded, "demo-cashier-wj").call("GET", f"/api/v1/settlements/{receipt['id']}/receipt")
    assert other.status_code == 404 and other.json["code"] == "settlement_not_found"


def phone_time_next_step():
    import time
    return time.time() + 30


def test_the_days_totals_are_the_sum_of_its_rows_and_agree_with_clearing(seeded, phone):
    mine, colleague = Counter(seeded, "demo-cashier"), second_cashier(seeded)
    import time
    now = time.time()
    bills = [mine.settle(scan(mine, phone, now=now - 30)),  # three fresh codes in the window
             colleague.settle(scan(colleague, phone, now=now), BILL[:1]),
             mine.settle(scan(mine, phone, now=now + 30), BILL[1:])]
    refund = mine.call("POST", f"/api/v1/settlements/{bills[0]['settlement']['id']}/refund",
                       {"reason": "患者要求"}, key="refund-day-0001")
    assert refund.status_code == 201
    # The Wujiang counter's day is its own.
    assert Counter(seeded, "demo-cashier-wj").call("GET", "/api/v1/counter/day").json["rows"] == []

    day = mine.call("GET", "/api/v1/counter/day").json
    assert len(day["rows"]) == 4 and day["rows"][0]["kind"] == "refund"  # newest first
    assert all(row["created_at"].endswith("+08:00") for row in day["rows"])
    for part in ("total_fen", "fund_fen", "personal_account_fen", "cash_fen"):
        assert day["totals"][part] == sum(row[part] for row in day["rows"])
        assert day["totals"][part] == sum(b["settlement"][part] for b in bills[1:])  # refund nets out
    assert (day["totals"]["settlements"], day["totals"]["refunds"]) == (3, 1)
    refunded = next(row for row in day["rows"] if row["id"] == bills[0]["settlement"]["id"])
    assert refunded["refunded_by"] == refund.json["refund"]["id"] and not refunded["refundable"]
    assert {row["cashier"] for row in day["rows"]} == {"王晓燕", "周倩"}

    only_mine = mine.call("GET", "/api/v1/counter/day?mine=1").json
    assert only_mine["mine"] and {row["cashier"] for row in only_mine["rows"]} == {"王晓燕"}
    assert only_mine["totals"]["total_fen"] == bills[2]["settlement"]["total_fen"]

    reconciliation = day["reconciliation"]
    assert reconciliation["agrees_with_clearing"] and reconciliation["totals"] == day["totals"]
    (jiashan,) = reconciliation["by_region"]
    assert jiashan["fund_fen"] > 0  # past the deductible: the fund pays, and clearing says the same
    assert jiashan["cross_region"] and jiashan["clearing_fund_fen"] == jiashan["fund_fen"]
    assert {c["cashier"]: c["total_fen"] for c in reconciliation["by_cashier"]} == {
        "王晓燕": bills[2]["settlement"]["total_fen"], "周倩": bills[1]["settlement"]["total_fen"]}
    with seeded.app_context():  # the clearing report's own figures, for this institution and day
        start, end = today.bounds(datetime.fromisoformat(day["date"]).date())
        rows = [r for r in clearing.clearing(db.session, start=start, end=end)["rows"]
                if r["institution"] == "H31011800001"]
        assert sum(r["gross_fen"] for r in rows) == day["totals"]["fund_fen"]

    exported = mine.call("GET", "/api/v1/counter/day?format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0][:4] == ["单号", "时间（北京时间）", "类型", "患者"] and "现金（元）" in table[0]
    assert len(table) == 1 + 4 + 1 and table[1][2] == "退费" and table[1][3] == "沈**"
    total = table[-1][table[0].index("合计（元）")]
    assert total == f"{day['totals']['total_fen'] // 100}.{day['totals']['total_fen'] % 100:02d}"
    assert table[1][table[0].index("合计（元）")].startswith("-")  # the refund, in yuan

    for bad in ("2026-13-01", "tomorrow", "9999-12-31", "2019-12-31", "%ED%A0%80", "2026-1-1"):
        answer = mine.call("GET", f"/api/v1/counter/day?date={bad}")
        assert answer.status_code == 422 and answer.json["code"] == "bad_date"


def test_no_phone_the_person_is_found_by_national_id_and_the_bill_is_flagged(seeded):
    counter = Counter(seeded, "demo-cashier")
    for body, code, field in (
            ({"national_id": "330421194805120000"}, "bad_national_id", "national_id"),
            ({"reason": "because"}, "reason_required", "reason"),
            ({"reason": "other", "note": "  "}, "reason_required", "note"),
            ({"person_present": False}, "person_present_required", "person_present")):
        answer = counter.call("POST", "/api/v1/counter/identify", {
            "national_id": SHEN_ID, "reason": "phone_flat", "person_present": True, **body})
        assert answer.status_code == 422 and answer.json["code"] == code, answer.json
        assert answer.json["field"] == field
    unknown = counter.identify(demo_national_id("310118", "19900101", "001"))
    assert unknown.status_code == 404 and unknown.json["code"] == "person_not_found"

    found = counter.identify(reason="other", note="老人不会用手机")
    assert found.status_code == 200, found.json
    assert found.json["manual"] and found.json["masked_name"] == "沈**"
    assert found.json["national_id_masked"] == "330421" + "*" * 8 + SHEN_ID[14:]
    assert found.json["cross_region"] and found.json["rules_of"] == "330421"
    settled = counter.settle(found.json["scan_id"])
    receipt = settled["receipt"]
    assert receipt["identified_by"] == "national_id"
    again = counter.call("POST", "/api/v1/settlements", {"scan_id": found.json["scan_id"],
                                                         "lines": BILL}, key="bill-manual-again")
    assert again.status_code == 409 and again.json["code"] == "code_already_settled"
    with seeded.app_context():
        flag = db.session.scalars(select(AuditFlag).filter_by(
            settlement_id=receipt["id"], rule="manual_identification")).one()
        assert flag.detail == "other: 老人不会用手机" and flag.insured_region == "330421"
        entries = db.session.scalars(select(AuditEntry).filter_by(action="person.identify")
                                     .order_by(AuditEntry.id)).all()
        assert len(entries) == 2 and "person_not_found" in entries[0].detail
        assert SHEN_ID not in "".join(e.detail + e.target_id for e in entries)  # never the number
        assert db.session.get(Settlement, receipt["id"]).code_step == 0
    day = counter.call("GET", "/api/v1/counter/day").json
    assert day["rows"][0]["identified_by"] == "national_id"


def test_no_phone_lookups_are_rate_limited_per_cashier(seeded):
    seeded.config["MANUAL_ID_RATE_LIMIT"] = "3 per minute"
    counter, colleague = Counter(seeded, "demo-cashier"), second_cashier(seeded)
    answers = [counter.identify(demo_national_id("310118", "19900101", f"00{i}")).status_code
               for i in range(4)]
    assert answers == [404, 404, 404, 429]
    assert colleague.identify().status_code == 200  # another cashier's own bucket


def test_a_suspended_person_cannot_be_identified(seeded):
    with seeded.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        person.status = "suspended"
        db.session.commit()
    answer = Counter(seeded, "demo-cashier").identify()
    assert answer.status_code == 403 and answer.json["code"] == "person_suspended"
