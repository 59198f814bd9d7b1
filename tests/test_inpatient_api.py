"""Inpatient settlement through the API (docs/inpatient.md): admit with a scanned code, fee lines
on three days (one sent twice, one cancelled), preview, discharge settlement once, receipt, the
day, the patient's view, clearing, same-day reversal and settling again; the admin's policy
editor; the joint-audit rules; two concurrent discharges give one settlement."""
import threading
import uuid
from datetime import datetime, timedelta

from phones import Phone, login
from sqlalchemy import func, select

from backend.demo.seed import demo_national_id
from backend.models import (AuditFlag, BenefitCounter, InpatientCounter, InpatientPolicy, Person,
                            Settlement, Stay)
from backend.models.base import CHINA
from backend.service.extensions import db

STAYS = "/api/v1/inpatient/stays"


def _day(offset=0):
    return (datetime.now(CHINA).date() + timedelta(days=offset)).isoformat()


def _line(no, day, category="drug", klass="A", price=10_000, quantity=1, item=None):
    return {"line_no": no, "category": category, "coverage_class": klass,
            "item": item or f"项目{no}", "quantity": quantity, "unit_price_fen": price, "date": day}


class Desk:
    """A patient's phone and a cashier at Qingpu Central Hospital (level 3)."""

    def __init__(self, app, patient="demo-patient", cashier="demo-cashier"):
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
        self.app = app
        if patient:  # (a new phone replaces the patient's earlier one)
            self.patient = app.test_client()
            self.patient_csrf = login(self.patient, patient)
            self.phone = Phone()
            activated = self.phone.activate(self.patient, self.patient_csrf)
            assert activated.status_code == 201, activated.json
        self.cashier = app.test_client()
        self.csrf = login(self.cashier, cashier)

    def call(self, method, path, body=None, key=None):
        headers = {"X-CSRF-Token": self.csrf}
        if key:
            headers["Idempotency-Key"] = key
        return self.cashier.open(path, method=method, json=body, headers=headers)

    def scan(self):
        code = self.phone.fresh_code("med")  # a code is verified once: each scan its own step
        answer = self.call("POST", "/api/v1/verify", {"code": code, "context": "hospital"})
        assert answer.status_code == 200, answer.json
        return answer.json["scan_id"]

    def admit(self, number, admitted_on=None):
        answer = self.call("POST", STAYS, {
            "scan_id": self.scan(), "admission_no": number, "ward": "心内科一病区",
            "diagnosis_code": "I21.9", "diagnosis_text": "急性心肌梗死",
            **({"admitted_on": admitted_on} if admitted_on else {})})
        assert answer.status_code == 201, answer.json
        return answer.json["stay"]["id"]


def _count(app, model, **where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_admit_fees_preview_discharge_receipt_reverse_and_settle_again(seeded):
    desk = Desk(seeded)
    outpatient = desk.call("POST", "/api/v1/settlements", {"scan_id": desk.scan(), "lines": [
        {"category": "drug", "coverage_class": "A", "amount_fen": 100_000}]}, key="k-outpatient-1")
    assert outpatient.status_code == 201, outpatient.json
    # Jiashan's outpatient policy: ¥800 deductible, then 70 % at level 3: fund 14,000; her
    # account pays the other 86,000 (¥3,560 → ¥2,700). Jiashan's pot is shared with inpatient care.
    out_fund, account = 14_000, 270_000
    assert (outpatient.json["settlement"]["fund_fen"], outpatient.json["personal_account_after_fen"]) \
        == (out_fund, account)
    scan_id = desk.scan()
    admission = {"scan_id": scan_id, "admission_no": "ZY2026000001", "ward": "心内科一病区",
                 "diagnosis_code": "i21.9", "diagnosis_text": "急性心肌梗死", "admitted_on": _day(-2)}
    first = desk.call("POST", STAYS, admission)
    assert first.status_code == 201, first.json
    stay = first.json["stay"]
    assert stay["status"] == "open" and stay["diagnosis"]["code"] == "I21.9"
    assert stay["insured_region"]["code"] == "330421" and stay["treating_region"]["code"] == "310118"
    assert stay["cross_region"] and stay["patient"]["masked_name"] == "沈**"
    again = desk.call("POST", STAYS, admission)   # a retry: the same stay
    assert again.status_code == 200 and again.json["replayed"] and again.json["stay"]["id"] == stay["id"]
    other = desk.call("POST", STAYS, {**admission, "ward": "骨科"})
    assert other.status_code == 409 and other.json["code"] == "admission_no_taken"
    # no phone this time: found by national ID number; she is already in
    identified = desk.call("POST", "/api/v1/counter/identify", {
        "national_id": demo_national_id("330421", "19480512", "002"), "reason": "phone_forgotten",
        "person_present": True})
    assert identified.status_code == 200, identified.json
    twice = desk.call("POST", STAYS, {**admission, "scan_id": identified.json["scan_id"],
                                      "admission_no": "ZY2"})
    assert twice.status_code == 409 and twice.json["code"] == "already_admitted"
    lines_path = f"{STAYS}/{stay['id']}/lines"

    # three days of fees; line 2 is sent twice (stored once), line 5 cancelled
    day1 = [_line(1, _day(-2), "bed", "A", 8_000), _line(2, _day(-2), "drug", "B", 1_850, 4)]
    assert desk.call("POST", lines_path, {"lines": day1}).json["added"] == 2
    resent = desk.call("POST", lines_path, {"lines": [day1[1], _line(3, _day(-1), "surgery", "A", 500_000)]})
    assert resent.status_code == 200 and (resent.json["added"], resent.json["unchanged"]) == (1, 1)
    changed = desk.call("POST", lines_path, {"lines": [{**day1[1], "quantity": 5}]})
    assert changed.status_code == 409 and changed.json["code"] == "line_number_conflict"
    assert changed.json["line_no"] == 2
    day3 = [_line(4, _day(0), "material", "C", 30_000), _line(5, _day(0), "laboratory", "A", 9_900)]
    assert desk.call("POST", lines_path, {"lines": day3}).json["stay"]["lines_count"] == 5
    early = desk.call("POST", lines_path, {"lines": [_line(6, _day(-3))]})
    assert early.status_code == 422 and early.json["code"] == "bad_lines" and early.json["field"] == "date"
    cancel = desk.call("POST", f"{lines_path}/5/cancel", {"reason": "重复录入"})
    assert cancel.status_code == 200 and cancel.json["line"]["cancelled"]
    cancel_again = desk.call("POST", f"{lines_path}/5/cancel", {"reason": "重复录入"})
    assert cancel_again.status_code == 409 and cancel_again.json["code"] == "line_already_cancelled"
    assert desk.call("POST", f"{lines_path}/9/cancel", {"reason": "x"}).json["code"] == "line_not_found"

    # Jiashan employee at a level 3 hospital, first admission: deductible ¥800 from class A;
    # A 8,000 + 500,000 = 508,000, B 7,400 (self 15 % = 1,110), C 30,000; total 545,400.
    # Fund: (508,000 − 80,000) × 85 % = 363,800; (7,400 − 1,110) × 80 % = 5,032 → 368,832.
    preview = desk.call("POST", f"{STAYS}/{stay['id']}/preview", {})
    assert preview.status_code == 200, preview.json
    split = preview.json["split"]
    assert (split["total_fen"], split["deductible_fen"], split["class_b_self_fen"],
            split["class_c_fen"], split["fund_fen"]) == (545_400, 80_000, 1_110, 30_000, 368_832)
    assert preview.json["days"] == 2 and preview.json["admission_in_year"] == 1

    key = f"dis-{uuid.uuid4()}"
    settled = desk.call("POST", f"{STAYS}/{stay['id']}/discharge", {}, key=key)
    assert settled.status_code == 201, settled.json
    assert settled.json["settlement"]["fund_fen"] == 368_832
    assert settled.json["stay"]["status"] == "settled" and settled.json["stay"]["discharged_on"] == _day(0)
    receipt = settled.json["receipt"]
    assert receipt["stay"]["admission_no"] == "ZY2026000001" and receipt["stay"]["days"] == 2
    assert receipt["lines_count"] == 4 and receipt["total_fen"] == 545_400
    assert {c["category"]: c["total_fen"] for c in receipt["categories"]} == {
        "bed": 8_000, "surgery": 500_000, "drug": 7_400, "material": 30_000}
    patient_part = 545_400 - 368_832
    assert receipt["personal_account_fen"] + receipt["cash_fen"] == patient_part
    # her account (¥3,560) pays what the Jiashan employee policy lets it: all of her part here
    assert receipt["personal_account_fen"] == min(account, patient_part)
    assert settled.json["personal_account_after_fen"] == account - receipt["personal_account_fen"]
    replay = desk.call("POST", f"{STAYS}/{stay['id']}/discharge", {}, key=key)
    assert replay.status_code == 200 and replay.json["replayed"]
    assert replay.json["settlement"]["id"] == settled.json["settlement"]["id"]
    other_key = desk.call("POST", f"{STAYS}/{stay['id']}/discharge", {}, key=f"dis-{uuid.uuid4()}")
    assert other_key.status_code == 409 and other_key.json["code"] == "stay_already_settled"
    closed = desk.call("POST", lines_path, {"lines": [_line(7, _day(0))]})
    assert closed.status_code == 409 and closed.json["code"] == "stay_not_open"
    assert desk.call("POST", f"{STAYS}/{stay['id']}/preview", {}).json["code"] == "stay_not_open"
    # an earlier outpatient receipt reprints as it printed (the stay's deductible is its own)
    outpatient_again = desk.call("GET", f"/api/v1/settlements/{outpatient.json['settlement']['id']}/receipt")
    assert outpatient_again.json["receipt"]["year"] == outpatient.json["receipt"]["year"]
    reprint = desk.call("GET", f"{STAYS}/{stay['id']}/receipt")
    assert reprint.status_code == 200 and reprint.json["receipt"]["year"] == receipt["year"]
    assert receipt["year"]["cap_left_fen"] == 35_000_000 - out_fund - 368_832  # the shared pot

    # the desk's day, the counter's day, clearing, the patient's view
    today = desk.call("GET", "/api/v1/inpatient/day").json
    assert today["totals"]["discharges"] == 1 and today["totals"]["fund_fen"] == 368_832
    assert [d["stay"]["id"] for d in today["discharges"]] == [stay["id"]]
    counter_day = desk.call("GET", "/api/v1/counter/day").json
    assert counter_day["totals"]["total_fen"] == 100_000 + 545_400
    mine = desk.patient.get("/api/v1/me/stays").json["stays"]
    assert mine[0]["status"] == "settled" and mine[0]["settlement"]["fund_fen"] == 368_832
    with seeded.app_context():
        person = db.session.scalars(select(Person).filter_by(name="沈桂芳")).one()
        year = datetime.now(CHINA).year
        assert db.session.get(InpatientCounter, (person.id, year)).fund_paid_fen == 368_832
        assert db.session.get(BenefitCounter, (person.id, year)).fund_paid_fen == out_fund + 368_832

    # the counter's refund does not reverse a stay
    counter_refund = desk.call("POST", f"/api/v1/settlements/{settled.json['settlement']['id']}/refund",
                               {"reason": "x"})
    assert counter_refund.status_code == 409 and counter_refund.json["code"] == "inpatient_settlement"

    # same-day reversal opens the stay; a line is cancelled; settled again
    reversed_ = desk.call("POST", f"{STAYS}/{stay['id']}/reversal", {"reason": "费用有误"})
    assert reversed_.status_code == 201, reversed_.json
    assert reversed_.json["stay"]["status"] == "open" and reversed_.json["refund"]["fund_fen"] == -368_832
    assert reversed_.json["receipt"]["refund"]["reason"] == "费用有误"
    assert desk.call("POST", f"{STAYS}/{stay['id']}/reversal", {"reason": "x"}).json["code"] == \
        "stay_not_settled"
    with seeded.app_context():
        assert db.session.get(InpatientCounter, (person.id, year)).fund_paid_fen == 0
        assert db.session.get(BenefitCounter, (person.id, year)).fund_paid_fen == out_fund
        assert db.session.get(Person, person.id).personal_account_fen == account
    assert desk.call("POST", f"{lines_path}/4/cancel", {"reason": "未使用"}).status_code == 200
    again = desk.call("POST", f"{STAYS}/{stay['id']}/discharge", {}, key=f"dis-{uuid.uuid4()}")
    assert again.status_code == 201 and again.json["settlement"]["total_fen"] == 515_400
    assert again.json["receipt"]["stay"]["admission_in_year"] == 1
    detail = desk.call("GET", f"{STAYS}/{stay['id']}").json
    assert [s["kind"] for s in detail["settlements"]] == ["settlement", "refund", "settlement"]
    assert [line["cancelled"] for line in detail["lines"]] == [False, False, False, True, True]
    # clearing by fund pair: Jiashan's fund owes Qingpu the outpatient bill and the stay's second
    # settlement (the first is netted out by its reversal)
    auditor = seeded.test_client()
    login(auditor, "demo-auditor")
    pairs = auditor.get(f"/api/v1/clearing?from={_day(0)}&to={_day(0)}").json["pairs"]
    assert [(p["insured_region"], p["treating_region"], p["gross_fen"]) for p in pairs] == [
        ("330421", "310118", out_fund + again.json["settlement"]["fund_fen"])]


def test_the_hospital_system_sends_lines_another_institution_sees_nothing_bad_input_refused(seeded):
    desk = Desk(seeded)
    stay_id = desk.admit("ZY-A-1")
    admin = seeded.test_client()
    key = admin.post("/api/v1/admin/institutions/H31011800001/api-keys", json={"label": "HIS"},
                     headers={"X-CSRF-Token": login(admin, "demo-admin")}).json["key"]
    his = seeded.test_client()
    sent = {"lines": [_line(1, _day(0), "bed", "A", 8_000), _line(2, _day(0), "nursing", "A", 2_400)]}
    for expected in (2, 0):  # sent twice (a retry after a timeout): stored once
        answer = his.post(f"{STAYS}/{stay_id}/lines", json=sent,
                          headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200 and answer.json["added"] == expected, answer.json
    assert answer.json["stay"]["total_fen"] == 10_400 and answer.json["stay"]["lines_count"] == 2
    elsewhere = Desk(seeded, patient=None, cashier="demo-cashier-wj")
    assert elsewhere.call("GET", f"{STAYS}/{stay_id}").json["code"] == "stay_not_found"
    assert elsewhere.call("POST", f"{STAYS}/{stay_id}/lines",
                          {"lines": [_line(1, _day(0))]}).status_code == 404
    bad = desk.call("POST", STAYS, {"scan_id": desk.scan(), "admission_no": "ZY-A-2", "ward": "x",
                                    "diagnosis_code": "heart", "diagnosis_text": "x"})
    assert bad.status_code == 422 and bad.json["code"] == "bad_admission"
    assert bad.json["field"] == "diagnosis_code"
    for number in (1, 2):  # every line cancelled: nothing to settle
        desk.call("POST", f"{STAYS}/{stay_id}/lines/{number}/cancel", {"reason": "录错病人"})
    empty = desk.call("POST", f"{STAYS}/{stay_id}/discharge", {}, key="k-empty-stay")
    assert empty.status_code == 422 and empty.json["code"] == "no_fee_lines"
    assert desk.patient.get(f"{STAYS}").status_code == 403


def test_admin_reads_and_edits_inpatient_policies_with_every_problem_named(seeded):
    admin = seeded.test_client()
    csrf = login(admin, "demo-admin")
    listed = admin.get("/api/v1/admin/inpatient-policies").json["policies"]
    assert len(listed) == 6 and {p["deductible_mode"] for p in listed} == {"per_year", "per_admission"}
    path = "/api/v1/admin/regions/320509/inpatient-policies/employee"
    ok = admin.patch(path, json={"later_admission_deductible_bp": 6000}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json["policy"]["later_admission_deductible_bp"] == 6000
    bad = admin.patch(path, json={"ratio_l1_a_bp": 12000, "deductible_mode": "monthly", "x": 1},
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and bad.json["code"] == "invalid_policy"
    assert {p["code"] for p in bad.json["problems"]} == {"ratio_out_of_range", "not_a_mode",
                                                         "unknown_field"}
    order = admin.patch(path, json={"deductible_l1_fen": 95_000}, headers={"X-CSRF-Token": csrf})
    assert [p["code"] for p in order.json["problems"]] == ["deductible_levels_descending"]
    assert admin.patch("/api/v1/admin/regions/320509/inpatient-policies/x", json={"audit_max_stay_days": 9},
                       headers={"X-CSRF-Token": csrf}).json["code"] == "policy_not_found"


def test_readmission_long_stay_and_daily_cost_are_flagged(seeded):
    with seeded.app_context():  # Jiashan employee policy: tight audit figures for the test
        policy = db.session.scalars(select(InpatientPolicy).filter_by(
            region_code="330421", insurance_class="employee")).one()
        policy.audit_max_stay_days, policy.audit_daily_cost_fen = 3, 100_000
        db.session.commit()
    desk = Desk(seeded)
    first = desk.admit("ZY-R-1", admitted_on=_day(-7))
    desk.call("POST", f"{STAYS}/{first}/lines", {"lines": [_line(1, _day(-7), price=50_000)]})
    done = desk.call("POST", f"{STAYS}/{first}/discharge", {"discharged_on": _day(-6)}, key="k-first-stay")
    assert done.status_code == 201, done.json
    second = desk.admit("ZY-R-2", admitted_on=_day(-5))
    desk.call("POST", f"{STAYS}/{second}/lines", {"lines": [_line(1, _day(-5), price=600_000)]})
    settled = desk.call("POST", f"{STAYS}/{second}/discharge", {}, key="k-second-stay")
    assert settled.status_code == 201, settled.json
    assert settled.json["receipt"]["stay"]["admission_in_year"] == 2
    with seeded.app_context():
        rules = set(db.session.scalars(select(AuditFlag.rule).filter_by(
            settlement_id=settled.json["settlement"]["id"])))
        first_rules = set(db.session.scalars(select(AuditFlag.rule).filter_by(
            settlement_id=done.json["settlement"]["id"])))
    # admitted 1 day after the first discharge; 5 days > 3; ¥6,000 over 5 days = ¥1,200 > ¥1,000
    assert rules == {"readmission_15_days", "long_stay", "daily_cost_over_threshold"}
    assert first_rules == set()  # 1 day, ¥500 a day


def test_two_concurrent_discharges_of_one_stay_give_one_settlement(seeded):
    desk = Desk(seeded)
    stay_id = desk.admit("ZY-C-1")
    desk.call("POST", f"{STAYS}/{stay_id}/lines", {"lines": [_line(1, _day(0), price=200_000)]})
    clients = []
    for _ in range(2):
        client = seeded.test_client()
        clients.append((client, login(client, "demo-cashier")))
    barrier, statuses = threading.Barrier(2), [None, None]

    def fire(i):
        client, csrf = clients[i]
        barrier.wait()
        statuses[i] = client.post(f"{STAYS}/{stay_id}/discharge", json={}, headers={
            "X-CSRF-Token": csrf, "Idempotency-Key": f"race-{i}-{uuid.uuid4()}"}).status_code
    threads = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409], statuses
    assert _count(seeded, Settlement) == 1
    with seeded.app_context():
        assert db.session.get(Stay, stay_id).settled_count == 1
