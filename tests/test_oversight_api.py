"""Hospital-system keys, joint-audit flags and cases, and the clearing report (gross, refusals,
net) with its trend and CSV."""
import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from phones import Phone, login
from sqlalchemy import select
from test_admin_console_api import Admin
from test_counter_api import BILL

from backend.models import AuditEntry
from backend.models.base import CHINA
from backend.service.extensions import db

QINGPU, WUJIANG, JIASHAN = "310118", "320509", "330421"

BIG_BILL = [{"category": "treatment", "coverage_class": "A", "amount_fen": 1_200_000}]  # ¥12,000


@pytest.fixture
def world(seeded):
    patient = seeded.test_client()
    phone = Phone()
    phone.activate(patient, login(patient, "demo-patient"))
    clients = {}

    def as_(who):
        if who not in clients:
            client = seeded.test_client()
            clients[who] = (client, login(client, who))
        client, csrf = clients[who]

        def call(method, path, body=None, key=None, **query):
            headers = {"X-CSRF-Token": csrf, **({"Idempotency-Key": key} if key else {})}
            return client.open(path, method=method, json=body, headers=headers,
                               query_string=query or None)
        return call

    def settle(cashier, lines=BILL, key=None):
        call = as_(cashier)
        code = phone.fresh_code("med")  # three codes per test: the steps inside the ±1 window
        scan = call("POST", "/api/v1/verify", {"code": code, "context": "hospital"})
        assert scan.status_code == 200, scan.json
        answer = call("POST", "/api/v1/settlements", {"scan_id": scan.json["scan_id"], "lines": lines},
                      key=key)
        assert answer.status_code == 201, answer.json
        return answer.json["settlement"]
    return as_, settle, phone


def test_a_hospital_system_settles_with_its_key_until_revoked(seeded, world):
    as_, _, phone = world
    admin = as_("demo-admin")
    created = admin("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "HIS"})
    assert created.status_code == 201 and created.json["key"].startswith("yk_")
    his = seeded.test_client()
    bearer = {"Authorization": "Bearer " + created.json["key"]}
    scan = his.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"}, headers=bearer)
    assert scan.status_code == 200, scan.json
    settled = his.post("/api/v1/settlements", json={"scan_id": scan.json["scan_id"], "lines": BILL},
                       headers={**bearer, "Idempotency-Key": "his-bill-0001"})
    assert settled.status_code == 201
    listed = admin("GET", "/api/v1/admin/institutions/H31011800001/api-keys").json["keys"]
    assert listed[0]["label"] == "HIS" and "secret" not in str(listed)
    assert admin("POST", f"/api/v1/admin/api-keys/{created.json['id']}/revoke").status_code == 200
    refused = his.post("/api/v1/verify", json={"code": phone.code("med"), "context": "hospital"}, headers=bearer)
    assert refused.status_code == 401
    wrong = his.post("/api/v1/verify", json={"code": "x", "context": "hospital"},
                     headers={"Authorization": "Bearer yk_nothing_here"})
    assert wrong.status_code == 401
    cashier = as_("demo-cashier")
    assert cashier("POST", "/api/v1/admin/institutions/H31011800001/api-keys", {"label": "x"}).status_code == 403


def test_rules_flag_and_auditors_of_the_regions_involved_decide(seeded, world):
    as_, settle, phone = world
    big = settle("demo-cashier", BIG_BILL, key="big-bill-0001")  # Jiashan threshold is ¥10,000
    settle("demo-cashier-wj", key="wujiang-0001")  # another institution within 30 minutes
    jiashan = as_("demo-auditor")
    flags = jiashan("GET", "/api/v1/audit/flags").json["flags"]
    rules = {f["rule"] for f in flags}
    assert {"bill_over_threshold", "two_places_30_min"} <= rules
    qingpu = as_("demo-auditor-qp")
    seen_by_qingpu = {f["rule"] for f in qingpu("GET", "/api/v1/audit/flags").json["flags"]}
    assert "bill_over_threshold" in seen_by_qingpu  # treated in Qingpu
    assert "two_places_30_min" not in seen_by_qingpu  # Jiashan person treated in Wujiang
    flag = next(f for f in flags if f["rule"] == "bill_over_threshold")
    assert flag["settlement"] == big["id"]
    no_note = jiashan("POST", f"/api/v1/audit/flags/{flag['id']}", {"decision": "confirm", "note": " "})
    assert no_note.json["code"] == "note_required"
    done = jiashan("POST", f"/api/v1/audit/flags/{flag['id']}", {"decision": "dismiss", "note": "surgery, documented"})
    assert done.json["status"] == "dismissed"
    assert as_("demo-cashier")("GET", "/api/v1/audit/flags").status_code == 403


def test_a_credential_revoked_the_same_day_flags_what_it_paid(seeded, world):
    as_, settle, phone = world
    s = settle("demo-cashier", key="before-revoke-1")
    patient = seeded.test_client()
    csrf = login(patient, "demo-patient")
    patient.post(f"/api/v1/devices/{phone.device_id}/revoke", headers={"X-CSRF-Token": csrf})
    flags = as_("demo-auditor")("GET", "/api/v1/audit/flags").json["flags"]
    assert any(f["rule"] == "revoked_same_day" and f["settlement"] == s["id"] for f in flags)


def test_clearing_shows_who_owes_whom_net_of_refunds(seeded, world):
    as_, settle, _ = world
    first = settle("demo-cashier", [{"category": "examination", "coverage_class": "A",
                                     "amount_fen": 200_000}], key="clearing-0001")
    second = settle("demo-cashier", [{"category": "examination", "coverage_class": "A",
                                      "amount_fen": 100_000}], key="clearing-0002")
    as_("demo-cashier")("POST", f"/api/v1/settlements/{second['id']}/refund", {"reason": "duplicate"})
    report = as_("demo-auditor")("GET", "/api/v1/clearing").json
    assert report["rows"] == [{"insured_region": JIASHAN, "treating_region": QINGPU,
                               "institution": "H31011800001", "settlements": 1,
                               "gross_fen": first["fund_fen"], "deducted": 0, "deductions_fen": 0,
                               "net_fen": first["fund_fen"]}]
    assert report["totals"]["net_fen"] == first["fund_fen"] and report["basis"] == "settlement"
    assert report["names"]["institutions"]["H31011800001"]["zh"] == "青浦区中心医院"
    assert report["names"]["regions"][JIASHAN]["zh"] == "嘉善县"
    answer = as_("demo-admin")("GET", "/api/v1/clearing?format=csv")
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["参保地（付款方）", "就医地（收款方）", "定点医疗机构", "机构编码", "结算笔数",
                       "统筹基金应付（元）", "拒付笔数", "拒付金额（元）", "净额（元）"]
    assert rows[1] == ["嘉善县", "青浦区", "青浦区中心医院", "H31011800001", "1", yuan(first["fund_fen"]),
                       "0", "0.00", yuan(first["fund_fen"])]
    assert rows[2][0].startswith("合计") and rows[2][-1] == yuan(first["fund_fen"])
    for query in ("from=2026-13-01", "from=2026-11-02&to=2026-11-01", "from=2025-01-01&to=2026-11-01"):
        assert as_("demo-auditor")("GET", f"/api/v1/clearing?{query}").json["code"] == "bad_period"


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def clearing_row(report, institution):
    return next(r for r in report["rows"] if r["institution"] == institution)


def test_an_auditor_opens_a_case_and_a_confirmed_flag_refuses_the_bills_fund_share(seeded, world):
    as_, settle, _ = world
    big = settle("demo-cashier", BIG_BILL, key="case-big-0001")  # Jiashan person in Qingpu
    settle("demo-cashier-wj", key="case-wj-0001")  # Wujiang within 30 minutes: two_places_30_min
    jiashan, qingpu = as_("demo-auditor"), as_("demo-auditor-qp")
    listed = jiashan("GET", "/api/v1/audit/flags", status="open").json
    flag = next(f for f in listed["flags"] if f["rule"] == "bill_over_threshold")
    assert (flag["settlement"], flag["institution"], flag["person"]) == (big["id"], "H31011800001", "沈**")
    assert (flag["amount_fen"], flag["fund_fen"]) == (big["total_fen"], big["fund_fen"])
    assert flag["at"].endswith("+00:00") and listed["names"]["institutions"]["H31011800001"]["zh"]
    assert {r["rule"]: r["open"] for r in listed["by_rule"]}["bill_over_threshold"] == 1
    before = jiashan("GET", "/api/v1/clearing").json
    assert clearing_row(before, "H31011800001")["deductions_fen"] == 0

    case = jiashan("GET", f"/api/v1/audit/flags/{flag['id']}").json
    assert [line["amount_fen"] for line in case["settlement"]["lines"]] == [1_200_000]
    assert case["settlement"]["split"]["fund_fen"] == big["fund_fen"]
    assert case["settlement"]["person"]["masked_name"] == "沈**"
    assert case["effect"] == {"clears": True, "kind": "settlement", "payer": JIASHAN, "payee": QINGPU,
                              "period": case["effect"]["period"], "deduction_fen": big["fund_fen"],
                              "already_deducted": False, "applied": False}
    reads = audit_entries(seeded, "settlement.read")
    assert reads == [("demo-auditor", str(big["id"]), {"via": "audit_flag", "flag": flag["id"]}, JIASHAN)]

    noted = qingpu("POST", f"/api/v1/audit/flags/{flag['id']}/notes", {"note": "请提供手术记录"})
    assert noted.status_code == 201 and noted.json["history"][0]["kind"] == "note"
    confirmed = jiashan("POST", f"/api/v1/audit/flags/{flag['id']}",
                        {"decision": "confirm", "note": "无手术指征，拒付"})
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["deduction_fen"] == big["fund_fen"]
    assert [(h["author"], h["kind"]) for h in confirmed.json["history"]] == [
        ("demo-auditor-qp", "note"), ("demo-auditor", "confirm")]
    assert confirmed.json["history"][1]["author_name"] == "陈建国"
    again = qingpu("POST", f"/api/v1/audit/flags/{flag['id']}", {"decision": "dismiss", "note": "x"})
    assert again.status_code == 409 and again.json["code"] == "flag_already_decided"

    after = jiashan("GET", "/api/v1/clearing").json
    row, was = clearing_row(after, "H31011800001"), clearing_row(before, "H31011800001")
    assert row["gross_fen"] == was["gross_fen"]
    assert row["deductions_fen"] == big["fund_fen"] and row["deducted"] == 1
    assert row["net_fen"] == was["net_fen"] - big["fund_fen"]
    assert after["totals"]["net_fen"] == before["totals"]["net_fen"] - big["fund_fen"]
    trend = jiashan("GET", "/api/v1/clearing/trend", months="2").json
    pair = next(s for s in trend["series"] if (s["insured_region"], s["treating_region"]) == (JIASHAN, QINGPU))
    assert pair["deductions_fen"][-1] == big["fund_fen"] and len(trend["months"]) == 2
    assert pair["net_fen"][-1] == pair["gross_fen"][-1] - big["fund_fen"]
    [(_, target, detail, region)] = audit_entries(seeded, "audit_flag.confirmed")
    assert (target, detail, region) == (str(flag["id"]), {"rule": "bill_over_threshold",
                                                          "deduction_fen": big["fund_fen"]}, JIASHAN)

    other = next(f for f in listed["flags"] if f["rule"] == "two_places_30_min")
    wujiang = clearing_row(after, "H32050900001")
    dismissed = jiashan("POST", f"/api/v1/audit/flags/{other['id']}", {"decision": "dismiss", "note": "急诊转院"})
    assert dismissed.json["deduction_fen"] == 0
    assert clearing_row(jiashan("GET", "/api/v1/clearing").json, "H32050900001") == wujiang

    # Scope: the Qingpu fund does not see a Jiashan person treated in Wujiang; an admin reads a
    # case but does not decide; a cashier is refused.
    assert qingpu("GET", f"/api/v1/audit/flags/{other['id']}").json["code"] == "flag_not_found"
    assert qingpu("POST", f"/api/v1/audit/flags/{other['id']}/notes", {"note": "x"}).status_code == 404
    assert as_("demo-admin")("GET", f"/api/v1/audit/flags/{other['id']}").status_code == 200
    assert as_("demo-admin")("POST", f"/api/v1/audit/flags/{other['id']}/notes", {"note": "x"}).status_code == 403
    assert as_("demo-cashier")("GET", f"/api/v1/audit/flags/{flag['id']}").status_code == 403


def test_flag_and_clearing_queries_refuse_bad_input_with_stable_codes(seeded, world):
    as_, settle, _ = world
    settle("demo-cashier", BIG_BILL, key="bad-input-0001")
    auditor = as_("demo-auditor")
    [flag] = auditor("GET", "/api/v1/audit/flags").json["flags"]
    for query, code in [({"status": "maybe"}, "bad_status"), ({"rule": "nope"}, "bad_rule"),
                        ({"page": "0"}, "bad_page"), ({"per_page": "101"}, "bad_page"), ({"page": "²"}, "bad_page"),
                        ({"from": "yesterday"}, "bad_period")]:
        answer = auditor("GET", "/api/v1/audit/flags", **query)
        assert answer.status_code == 422 and answer.json["code"] == code, (query, answer.json)
    for query in ({"to": "2026-13"}, {"to": "2026-1"}, {"months": "25"}, {"months": "0"}, {"months": "٣"}):
        assert auditor("GET", "/api/v1/clearing/trend", **query).status_code == 422, query
    path = f"/api/v1/audit/flags/{flag['id']}"
    assert auditor("POST", path, {"decision": "maybe", "note": "x"}).json["code"] == "bad_decision"
    assert auditor("POST", path, {"decision": "confirm", "note": "x" * 501}).json["code"] == "note_too_long"
    assert auditor("POST", path + "/notes", {"note": "  "}).json["code"] == "note_required"
    assert auditor("GET", "/api/v1/audit/flags/999999").json["code"] == "flag_not_found"
    assert auditor("GET", "/api/v1/audit/flags", page="9").json["flags"] == []
    assert auditor("GET", "/api/v1/audit/flags", **{"from": "2020-01-01", "to": "2020-01-31"}).json["total"] == 0


def audit_entries(app, action):
    with app.app_context():
        return [(e.actor, e.target_id, json.loads(e.detail), e.region_code)
                for e in db.session.scalars(select(AuditEntry).filter_by(action=action))]


# -- clearing adds up: gross − deductions = net, against the settlements it covers --------------

MARCH = (datetime(2025, 3, 1, tzinfo=CHINA), datetime(2025, 4, 1, tzinfo=CHINA))


def _bill(session, person, institution, when, fund, rest=5_000, refunded=False):
    """A settlement as the counter writes it (and its same-day refund)."""
    from backend.models import Account, Institution, Settlement

    cashier = session.scalars(select(Account.id).filter_by(role="cashier")).first()
    place = session.get(Institution, institution)
    common = dict(institution_code=institution, person_id=person.id, insured_region=person.home_region,
                  treating_region=place.region_code, cashier_account_id=cashier, year=when.year,
                  deductible_fen=0, class_b_self_fen=0, class_c_fen=0, coinsurance_fen=0)
    bill = Settlement(kind="settlement", idempotency_key=f"sum-{when.timestamp()}-{fund}",
                      total_fen=fund + rest, fund_fen=fund, personal_account_fen=0, cash_fen=rest,
                      created_at=when, **common)
    session.add(bill)
    session.flush()
    if refunded:
        session.add(Settlement(kind="refund", idempotency_key=f"refund-{bill.id}", reverses_id=bill.id,
                               total_fen=-(fund + rest), fund_fen=-fund, personal_account_fen=0,
                               cash_fen=-rest, reason="test", created_at=when + timedelta(minutes=5),
                               **common))
    return bill


def test_clearing_adds_up_against_the_settlements_it_covers(seeded):
    """Bills in and around March 2025 (China days), local and cross-region, refunded or not, with
    confirmed, dismissed and open flags (two confirmed on one bill), and a confirmed flag on a ride:
    every row and total of the report is gross − deductions = net, and equals the sums taken
    straight from the settlements; the Jiashan fund sees only its pairs. Runs on SQLite and, with
    YIMA_TEST_DATABASE_URL, on PostgreSQL."""
    from backend.models import AuditFlag, Person, Ride, Settlement, Validator

    day = lambda d, h=10, m=0: datetime(2025, 3, d, h, m, tzinfo=CHINA)  # noqa: E731
    with seeded.app_context():
        session = db.session
        people = {p.home_region: p for p in session.scalars(select(Person).where(
            Person.name.in_(["沈桂芳", "陆建华", "吴国强"])))}
        js, qp, wj = people[JIASHAN], people[QINGPU], people[WUJIANG]
        bills = {
            "js@qp": _bill(session, js, "H31011800001", day(3), 120_000),
            "js@qp-2": _bill(session, js, "H31011800001", day(4), 80_000),
            "js@qp-refunded": _bill(session, js, "H31011800001", day(5), 60_000, refunded=True),
            "js@wj": _bill(session, js, "H32050900001", day(6), 45_000),
            "qp@js": _bill(session, qp, "H33042100001", day(7), 33_300),
            "qp@wj": _bill(session, qp, "H32050900001", day(8), 21_000),
            "wj@qp": _bill(session, wj, "H31011800001", day(31, 23, 30), 99_900),  # last evening
            "wj@js": _bill(session, wj, "H33042100001", day(1, 0, 5), 15_500),  # first morning
            "js@js-local": _bill(session, js, "H33042100001", day(9), 70_000),
            "before": _bill(session, js, "H31011800001", datetime(2025, 2, 28, 23, 59, tzinfo=CHINA), 11_100),
            "after": _bill(session, js, "H31011800001", datetime(2025, 4, 1, 0, 0, tzinfo=CHINA), 22_200),
        }
        flags = {}
        for name, rule in [("js@qp", "bill_over_threshold"), ("js@qp", "two_places_30_min"),
                           ("js@qp-2", "over_3_a_day"), ("js@qp-refunded", "bill_over_threshold"),
                           ("js@wj", "two_places_30_min"), ("qp@js", "bill_over_threshold"),
                           ("wj@qp", "revoked_same_day"), ("js@js-local", "bill_over_threshold"),
                           ("before", "bill_over_threshold"), ("after", "bill_over_threshold")]:
            bill = bills[name]
            flag = AuditFlag(settlement_id=bill.id, rule=rule, insured_region=bill.insured_region,
                             treating_region=bill.treating_region, created_at=bill.created_at)
            session.add(flag)
            session.flush()
            flags[(name, rule)] = flag.id
        validator = Validator(line_code="ZONE2", label="bus", enrol_hash="h" * 64, created_by="t",
                              enrol_expires_at=day(1), status="active")
        session.add(validator)
        session.flush()
        ride = Ride(natural_id="n" * 40, validator_id=validator.id, line_code="ZONE2", person_id=js.id,
                    credential_jti="AAAAAAAAAAA", code_step=1, ridden_at=day(10), day="2025-03-10",
                    fare_fen=300, outcome="copy")
        session.add(ride)
        session.flush()
        ride_flag = AuditFlag(ride_id=ride.id, rule="copied_code", insured_region=JIASHAN,
                              treating_region=JIASHAN, created_at=day(10))
        session.add(ride_flag)
        session.commit()
        flags[("ride", "copied_code")] = ride_flag.id

    jiashan, qingpu, zone = Admin(seeded, "demo-auditor"), Admin(seeded, "demo-auditor-qp"), \
        Admin(seeded, "demo-admin")
    decisions = [(jiashan, ("js@qp", "bill_over_threshold"), "confirm"),
                 (qingpu, ("js@qp", "two_places_30_min"), "confirm"),  # the same bill: deducted once
                 (jiashan, ("js@qp-2", "over_3_a_day"), "dismiss"),
                 (jiashan, ("js@qp-refunded", "bill_over_threshold"), "confirm"),  # nothing left
                 (jiashan, ("js@wj", "two_places_30_min"), "confirm"),
                 (qingpu, ("wj@qp", "revoked_same_day"), "confirm"),
                 (jiashan, ("js@js-local", "bill_over_threshold"), "confirm"),  # local: no clearing
                 (jiashan, ("before", "bill_over_threshold"), "confirm"),  # another period
                 (jiashan, ("ride", "copied_code"), "confirm")]  # rides are not fund money
    for auditor, key, decision in decisions:
        answer = auditor("POST", f"/api/v1/audit/flags/{flags[key]}", {"decision": decision, "note": "审"})
        assert answer.status_code == 200, (key, answer.json)
    # qp@js stays open: changes nothing.

    with seeded.app_context():  # the expected report, straight from the settlements
        start, end = MARCH
        covered = [s for s in db.session.scalars(select(Settlement))
                   if start <= s.created_at < end and s.insured_region != s.treating_region]
        refunded = {s.reverses_id for s in covered if s.kind == "refund"}
        confirmed = {f.settlement_id for f in db.session.scalars(select(AuditFlag).filter_by(status="confirmed"))}
        expected = {}
        for s in covered:
            row = expected.setdefault((s.insured_region, s.treating_region, s.institution_code),
                                      {"settlements": 0, "gross_fen": 0, "deducted": 0, "deductions_fen": 0})
            row["settlements"] += 1 if s.kind == "settlement" else -1
            row["gross_fen"] += s.fund_fen
            if s.kind == "settlement" and s.id in confirmed and s.id not in refunded:
                row["deducted"] += 1
                row["deductions_fen"] += s.fund_fen
    period = {"from": "2025-03-01", "to": "2025-03-31"}
    report = zone("GET", "/api/v1/clearing", **period).json
    got = {(r["insured_region"], r["treating_region"], r["institution"]): r for r in report["rows"]}
    assert set(got) == set(expected)
    for key, row in expected.items():
        assert {name: got[key][name] for name in row} == row, key
        assert got[key]["net_fen"] == row["gross_fen"] - row["deductions_fen"], key
    assert got[(JIASHAN, QINGPU, "H31011800001")]["deductions_fen"] == 120_000  # once, not twice
    assert got[(JIASHAN, QINGPU, "H31011800001")]["settlements"] == 2  # the refunded one nets out
    for pair in report["pairs"]:
        rows = [r for r in report["rows"] if (r["insured_region"], r["treating_region"])
                == (pair["insured_region"], pair["treating_region"])]
        for name in ("settlements", "gross_fen", "deducted", "deductions_fen", "net_fen"):
            assert pair[name] == sum(r[name] for r in rows)
        assert pair["net_fen"] == pair["gross_fen"] - pair["deductions_fen"]
    totals = report["totals"]
    assert totals["gross_fen"] == sum(r["gross_fen"] for r in expected.values())
    assert totals["deductions_fen"] == 120_000 + 45_000 + 99_900
    assert totals["net_fen"] == totals["gross_fen"] - totals["deductions_fen"]

    csv_rows = list(csv.reader(io.StringIO(zone("GET", "/api/v1/clearing", format="csv", **period)
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert csv_rows[-1][5:] == [yuan(totals["gross_fen"]), str(totals["deducted"]),
                                yuan(totals["deductions_fen"]), yuan(totals["net_fen"])]
    assert len(csv_rows) == len(report["rows"]) + 2
    mine = jiashan("GET", "/api/v1/clearing", **period).json
    assert mine["rows"] and all(JIASHAN in (r["insured_region"], r["treating_region"]) for r in mine["rows"])
    assert {(r["insured_region"], r["treating_region"]) for r in mine["rows"]} == \
        {k[:2] for k in expected if JIASHAN in k[:2]}
    trend = zone("GET", "/api/v1/clearing/trend", to="2025-04", months="3").json
    assert trend["months"] == ["2025-02", "2025-03", "2025-04"]
    march = {(s["insured_region"], s["treating_region"]): s["net_fen"][1] for s in trend["series"]}
    assert march == {(p["insured_region"], p["treating_region"]): p["net_fen"] for p in report["pairs"]}
    february = next(s for s in trend["series"] if (s["insured_region"], s["treating_region"]) == (JIASHAN, QINGPU))
    assert (february["gross_fen"][0], february["deductions_fen"][0]) == (11_100, 11_100)
