"""The national interface (issue 18): a HIS written from the public field lists runs a whole
outpatient visit against Yima, and every amount equals the counter API's settlement of the same
bill; the same msgid settles once; 3201 agrees with the day's answers; the code is bound to its
visit; every bad message is infcode -1 in Chinese."""
import json
import os
import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from his_client import CHINA, HisClient
from phones import Phone, login
from sqlalchemy import func, select

from backend.counter.apikeys import create_api_key
from backend.models import Account, AuditEntry, NationalMessage, Settlement
from backend.service.extensions import db

# (feedetl_sn, 医疗收费项目类别, 收费项目等级, fen, 医保目录编码)
BILL = [("F001", "13", "01", 2_000, "001102000010000"),   # 挂号费, 甲类
        ("F002", "03", "01", 18_000, "002203000010000"),  # 检查费, 甲类
        ("F003", "09", "02", 10_000, "XJ01CAA040A001"),   # 西药费, 乙类
        ("F004", "08", "03", 5_000, "C14020000000")]      # 卫生材料费, 丙类
NATIVE_BILL = [{"category": c, "coverage_class": k, "amount_fen": f} for c, k, f in
               [("registration", "A", 2_000), ("examination", "A", 18_000),
                ("drug", "B", 10_000), ("material", "C", 5_000)]]
TOTAL = sum(line[3] for line in BILL)
# setlinfo field ↔ the counter API's settlement field (fen)
SAME = {"medfee_sumamt": "total_fen", "hifp_pay": "fund_fen", "fund_pay_sumamt": "fund_fen",
        "acct_pay": "personal_account_fen", "psn_cash_pay": "cash_fen",
        "act_pay_dedc": "deductible_fen", "preselfpay_amt": "class_b_self_fen",
        "fulamt_ownpay_amt": "class_c_fen", "pool_prop_selfpay": "coinsurance_fen"}


def fen(value):
    return int(Decimal(str(value)) * 100)


class Zone(dict):
    """What a test may use, made on first use (logins and API keys cost a password hash each)."""

    def __init__(self, app):
        super().__init__(app=app)

    def __missing__(self, name):
        self[name] = value = getattr(self, f"_{name}")()
        return value

    def _phone(self):
        patient = self["app"].test_client()
        phone = Phone()
        assert phone.activate(patient, login(patient, "demo-patient")).status_code == 201
        return phone

    def _his_for(self, cashier, region):
        with self["app"].app_context():
            code = db.session.scalars(select(Account.institution_code).filter_by(
                login=cashier)).one()
            _, key = create_api_key(db.session, institution_code=code, label="HIS",
                                    created_by="test")
            db.session.commit()
        return HisClient(self["app"].test_client(), key, code, region=region)

    def _his(self):
        return self._his_for("demo-cashier", "310118")

    def _other(self):
        return self._his_for("demo-cashier-wj", "320509")

    def _native(self):
        """The counter's own API, as the demo cashier at the same hospital."""
        cashier = self["app"].test_client()
        csrf = login(cashier, "demo-cashier")

        def call(method, path, body=None, key=None):
            headers = {"X-CSRF-Token": csrf, **({"Idempotency-Key": key} if key else {})}
            return cashier.open(path, method=method, json=body, headers=headers)
        return call


@pytest.fixture
def zone(seeded):
    """The demo patient's phone, the demo cashier, and two hospitals' systems, on first use.
    With YIMA_NATIONAL_EXAMPLES=FILE, the first successful message of each transaction and its
    answer are added to FILE (JSON), for docs/national-interface.md."""
    made = Zone(seeded)
    yield made
    target = os.environ.get("YIMA_NATIONAL_EXAMPLES")
    if target and "his" in made:
        examples = {}
        if os.path.exists(target):
            with open(target, encoding="utf-8") as earlier:
                examples = json.load(earlier)
        for message, answer in made["his"].sent:
            if isinstance(message, dict) and json.loads(answer)["infcode"] == 0:
                examples.setdefault(message["infno"], [message, answer])  # the answer's text
        with open(target, "w", encoding="utf-8") as out:
            json.dump(examples, out, ensure_ascii=False, indent=1)


def open_visit(his, code, number="MZ0001"):
    info = his.ok("1101", his.person_info(code))
    psn_no, token = info["baseinfo"]["psn_no"], info["baseinfo"]["ectoken"]
    visit = his.ok("2201", his.register(psn_no, token, number))["data"]
    return info, psn_no, token, visit["mdtrt_id"]


def codes_of(zone):
    """Codes of the demo phone at distinct time steps around one moment, all within the window
    however long the test takes (a step boundary crossed between two codes made them equal)."""
    zone["app"].config["CODE_WINDOW_STEPS"] = 3
    start = datetime.now().timestamp()
    return lambda step: zone["phone"].code("med", now=start + 30 * step)


def native_scan(zone, code):
    answer = zone["native"]("POST", "/api/v1/verify", {
        "code": code,
        "context": "hospital"})
    assert answer.status_code == 200, answer.json
    return answer.json["scan_id"]


def test_a_whole_outpatient_visit_equals_the_counter_settlement(zone):
    his, code_at = zone["his"], codes_of(zone)
    code = code_at(0)
    info, psn_no, token, mdtrt_id = open_visit(his, code)
    base = info["baseinfo"]
    assert base["certno"].count("*") == 8 and base["psn_name"] == "沈桂芳"
    assert len(psn_no) <= 30 and len(token) <= 50 and info["insuinfo"][0]["insutype"] == "310"
    assert info["insuinfo"][0]["insuplc_admdvs"] == "330421"
    balance_before = fen(info["insuinfo"][0]["balc"])

    his.ok("2203", his.visit_info(mdtrt_id, psn_no))
    result = his.ok("2204", his.fee_lines(mdtrt_id, psn_no, BILL))["result"]
    assert [line["chrgitm_lv"] for line in result] == ["01", "01", "02", "03"]
    assert fen(result[3]["fulamt_ownpay_amt"]) == 5_000

    # 2206 and the counter's preview of the same bill, for the same person at the same moment.
    preview = his.ok("2206", his.settle_input(mdtrt_id, psn_no, token, TOTAL))["setlinfo"]
    native_preview = zone["native"]("POST", "/api/v1/settlements/preview", {
        "scan_id": native_scan(zone, code_at(1)), "lines": NATIVE_BILL}).json["split"]
    for national, native in SAME.items():
        assert fen(preview[national]) == native_preview[native], national

    # 2207 with the full code (the same scan, not a replay), twice with one msgid: settles once.
    message = his.envelope("2207", his.settle_input(mdtrt_id, psn_no, code, TOTAL))
    first = his.call("2207", None, message=message)
    assert first["infcode"] == 0, first["err_msg"]
    raw_first = his.sent[-1][1]
    again = his.call("2207", None, message=message)
    assert his.sent[-1][1] == raw_first  # the stored answer, byte for byte
    settled = first["output"]["setlinfo"]
    setl_id = settled["setl_id"]
    with zone["app"].app_context():
        assert db.session.scalar(select(func.count(Settlement.id))) == 1
    assert '"medfee_sumamt":350.00' in raw_first  # yuan with two places, as a JSON number
    assert again["output"] == first["output"] and settled["mdtrt_id"] == mdtrt_id
    assert fen(settled["balc"]) == balance_before - fen(settled["acct_pay"])
    assert fen(settled["psn_part_amt"]) == TOTAL - fen(settled["hifp_pay"])
    for name in SAME:
        assert settled[name] == preview[name], name
    assert datetime.strptime(settled["setl_time"], "%Y-%m-%d %H:%M:%S")

    queried = his.ok("5203", his.query_input(mdtrt_id, psn_no, setl_id))
    assert queried["setlinfo"] == settled and queried["setldetail"] == first["output"]["setldetail"]

    reversed_ = his.ok("2208", his.reverse_input(mdtrt_id, psn_no, setl_id))["setlinfo"]
    assert fen(reversed_["medfee_sumamt"]) == -TOTAL and reversed_["setl_id"] != setl_id
    assert fen(reversed_["balc"]) == balance_before
    # Nothing left used: the counter's settlement of the same bill gives every amount again.
    native = zone["native"]("POST", "/api/v1/settlements", {
        "scan_id": native_scan(zone, code_at(-1)), "lines": NATIVE_BILL}, key="native-bill-1")
    assert native.status_code == 201, native.json
    for national, field in SAME.items():
        assert fen(settled[national]) == native.json["settlement"][field], national
    assert fen(settled["balc"]) == native.json["personal_account_after_fen"]

    # 3201 for the day: the 2207 answer, minus the 2208 answer, plus the counter's settlement.
    day = datetime.now(CHINA).date().isoformat()
    n = native.json["settlement"]
    sums = [TOTAL - TOTAL + n["total_fen"], n["fund_fen"], n["personal_account_fen"]]
    agreed = his.ok("3201", his.reconcile_input(day, *sums, count=1))["stmtinfo"]
    assert agreed["stmt_rslt"] == "0" and fen(agreed["medfee_sumamt"]) == n["total_fen"]
    off = his.ok("3201", his.reconcile_input(day, sums[0] + 1, *sums[1:], count=2))["stmtinfo"]
    assert off["stmt_rslt"] == "1" and "medfee_sumamt" in off["stmt_rslt_dscr"]

    with zone["app"].app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("his.%"))).all()
        details = " ".join(db.session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action.like("his.%"))))
    assert {"his.1101", "his.2207", "his.2208", "his.3201"} <= set(actions)
    assert "沈" not in details and "330421" not in details and code[:40] not in details


def test_the_code_belongs_to_its_visit_and_a_visit_can_be_cancelled(zone):
    his, other, code_at = zone["his"], zone["other"], codes_of(zone)
    code = code_at(0)
    info, psn_no, token, mdtrt_id = open_visit(his, code)
    # The same code read again in this visit: the same person number and token, not a replay.
    again = his.ok("1101", his.person_info(code))["baseinfo"]
    assert (again["psn_no"], again["ectoken"]) == (psn_no, token)
    # Another institution: the code is spent.
    refused = other.call("1101", other.person_info(code))
    assert refused["infcode"] == -1 and "已被使用" in refused["err_msg"]
    # Its token means nothing elsewhere; the same person has another number there.
    assert other.call("1101", other.person_info(token))["infcode"] == -1
    # A later visit with the same code is refused: a fresh code is needed.
    later = his.call("2201", his.register(psn_no, code, "MZ0002"))
    assert later["infcode"] == -1 and "新的码" in later["err_msg"]
    fresh = code_at(1)
    _, psn_no_2, _, mdtrt_2 = open_visit(his, fresh, "MZ0002")
    assert psn_no_2 == psn_no and mdtrt_2 != mdtrt_id
    there = other.ok("1101", other.person_info(code_at(-1)))["baseinfo"]["psn_no"]
    assert there != psn_no
    # A code of this visit in another visit's message is refused.
    wrong = his.call("2207", his.settle_input(mdtrt_2, psn_no, code, 100))
    assert wrong["infcode"] == -1 and "mdtrt_cert_no" in wrong["err_msg"]
    # Cancel the second registration; its lines go with it, and it cannot be settled.
    his.ok("2204", his.fee_lines(mdtrt_2, psn_no, BILL[:1]))
    his.ok("2205", {"data": {"mdtrt_id": mdtrt_2, "chrg_bchno": "0000", "psn_no": psn_no}})
    his.ok("2202", {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_2, "ipt_otp_no": "MZ0002"}})
    assert his.call("2206", his.settle_input(mdtrt_2, psn_no, fresh, 2_000))["infcode"] == -1
    # 2404: an admission by mistake, with its lines cancelled first, goes away.
    info = his.ok("1101", his.person_info(code_at(-2)))
    token = info["baseinfo"]["ectoken"]
    mdtrt_id = his.ok("2401", his.admit_input(psn_no, token, "ZY0009", stay_day(0)))[
        "result"]["mdtrt_id"]
    his.ok("2301", his.inpatient_fee_lines(mdtrt_id, psn_no, STAY_DAYS[2][:1], stay_day(0)))
    busy = his.call("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}})
    assert busy["infcode"] == -1 and "2302" in busy["err_msg"]
    his.ok("2302", {"data": {"feedetl_sn": "0000", "mdtrt_id": mdtrt_id, "psn_no": psn_no}})
    his.ok("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}})
    assert zone["native"]("GET", "/api/v1/inpatient/stays?status=all").json["stays"] == []
    assert his.call("2303", his.inpatient_settle_input(mdtrt_id, psn_no, token, 6_000))[
        "infcode"] == -1
    # The same code cannot admit again: the next admission needs a fresh code.
    again = his.call("2401", his.admit_input(psn_no, token, "ZY0010", stay_day(0)))
    assert again["infcode"] == -1 and "新的码" in again["err_msg"]


BAD_ENVELOPES = [
    ({"infno": "9999"}, "infno"),
    ({"msgid": None}, "msgid"),
    ({"msgid": "含中文"}, "msgid"),
    ({"fixmedins_code": "H00000000000"}, "fixmedins_code"),
    ({"inf_time": "2026/11/29"}, "inf_time"),
    ({"opter": 12.5}, "opter"),
    ({"input": []}, "input"),
    ({"mdtrtarea_admvs": "330421"}, "mdtrtarea_admvs"),
    ({"input": {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "330421194805120023"}}},
     "mdtrt_cert_type"),
    ({"input": {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": "not-a-code"}}},
     "mdtrt_cert_no"),
    ({"input": {"data": {"mdtrt_cert_type": "01"}}}, "mdtrt_cert_no"),
]


def test_bad_messages_are_refused_in_chinese_naming_the_field(zone):
    his, app = zone["his"], zone["app"]
    for change, named in BAD_ENVELOPES:
        message = {**his.envelope("1101", his.person_info("x")), **change}
        answer = his.call("1101", None, message=message)
        assert answer["infcode"] == -1 and answer["output"] is None, change
        assert named in answer["err_msg"], (change, answer["err_msg"])
    # Only an institution's API key may call; a body that is not JSON is the contract's 400.
    message = his.envelope("1101", his.person_info("x"))
    anonymous = app.test_client().post("/his/v1/call", json=message)
    assert anonymous.status_code == 401 and anonymous.json["infcode"] == -1
    wrong = app.test_client().post("/his/v1/call", json=message,
                                   headers={"Authorization": "Bearer yk_abc_def"})
    assert wrong.status_code == 401
    cookie = zone["native"]("POST", "/his/v1/call", message)
    assert cookie.status_code == 403 and "接口密钥" in cookie.json["err_msg"]
    not_json = app.test_client().post("/his/v1/call", data="{", content_type="application/json",
                                      headers={"Authorization": f"Bearer {his.api_key}"})
    assert not_json.status_code == 400

    # Fee lines and amounts: each refusal names its field.
    _, psn_no, token, mdtrt_id = open_visit(his, zone["phone"].code("med"))
    cases = [
        ({"det_item_fee_sumamt": "1.234"}, "det_item_fee_sumamt"),
        ({"det_item_fee_sumamt": "-1"}, "det_item_fee_sumamt"),
        ({"det_item_fee_sumamt": "NaN"}, "det_item_fee_sumamt"),
        ({"cnt": 2}, "det_item_fee_sumamt"),
        ({"chrgitm_lv": "09"}, "chrgitm_lv"),
        ({"medins_list_codg": "H-\u0000"}, "medins_list_codg"),  # PostgreSQL holds no NUL
        ({"det_item_fee_sumamt": "1e100"}, "det_item_fee_sumamt"),  # quantize would raise
        ({"med_chrgitm_type": "01"}, "med_chrgitm_type"),
        ({"fee_ocur_time": "yesterday"}, "fee_ocur_time"),
        ({"fee_ocur_time": "0001-01-01 00:00:00"}, "fee_ocur_time"),  # overflowed to UTC: a 500
        ({"psn_no": "P0"}, "psn_no"),
        ({"mdtrt_id": "nope"}, "mdtrt_id"),
    ]
    for change, named in cases:
        body = his.fee_lines(mdtrt_id, psn_no, BILL[:1])
        body["feedetail"][0].update(change)
        answer = his.call("2204", body)
        assert answer["infcode"] == -1 and named in answer["err_msg"], (change, answer)
    his.ok("2204", his.fee_lines(mdtrt_id, psn_no, BILL))
    twice = his.call("2204", his.fee_lines(mdtrt_id, psn_no, BILL[:1]))
    assert twice["infcode"] == -1 and "feedetl_sn" in twice["err_msg"]
    wrong_total = his.call("2207", his.settle_input(mdtrt_id, psn_no, token, TOTAL - 1))
    assert wrong_total["infcode"] == -1 and "medfee_sumamt" in wrong_total["err_msg"]
    float_noise = his.call("2206", {"data": {**his.settle_input(mdtrt_id, psn_no, token, TOTAL)[
        "data"], "medfee_sumamt": 0.1 + 0.2}})
    assert float_noise["infcode"] == -1
    far = his.call("3201", his.reconcile_input("0001-01-01", 0, 0, 0, 0))
    assert far["infcode"] == -1 and "stmt_begndate" in far["err_msg"]
    reused = his.envelope("2206", his.settle_input(mdtrt_id, psn_no, token, TOTAL))
    assert his.call("2206", None, message=reused)["infcode"] == 0
    reused["input"]["data"]["acct_used_flag"] = "0"
    other = his.call("2206", None, message=reused)
    assert other["infcode"] == -1 and "msgid" in other["err_msg"]
    with zone["app"].app_context():
        assert db.session.scalar(select(func.count(Settlement.id))) == 0
        assert db.session.scalar(select(func.count(NationalMessage.id))) >= 4


def stay_day(days_ago):
    return (datetime.now(CHINA) - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S")


# Three days of a stay: (feedetl_sn, 医疗收费项目类别, 收费项目等级, fen, 医保目录编码)
STAY_DAYS = [
    [("D1-01", "01", "01", 6_000, "BED-01"), ("D1-02", "04", "01", 48_000, "LAB-01"),
     ("D1-03", "09", "02", 32_000, "XJ01DD04")],
    [("D2-01", "01", "01", 6_000, "BED-01"), ("D2-02", "05", "01", 25_000, "TRT-01"),
     ("D2-03", "09", "02", 32_000, "XJ01DD04"), ("D2-04", "08", "03", 9_000, "MAT-09")],
    [("D3-01", "01", "01", 6_000, "BED-01"), ("D3-02", "03", "01", 60_000, "CT-01")],
]
STAY_TOTAL = sum(line[3] for day in STAY_DAYS for line in day)


def test_a_whole_inpatient_stay_equals_the_desk_settlement(zone):
    his = zone["his"]
    code = zone["phone"].code("med")
    info = his.ok("1101", his.person_info(code))
    psn_no, token = info["baseinfo"]["psn_no"], info["baseinfo"]["ectoken"]
    admitted = his.ok("2401", his.admit_input(psn_no, token, "ZY0001", stay_day(2)))["result"]
    mdtrt_id = admitted["mdtrt_id"]
    for days_ago, lines in zip((2, 1, 0), STAY_DAYS):
        his.ok("2301", his.inpatient_fee_lines(mdtrt_id, psn_no, lines, stay_day(days_ago)))
    cancelled = his.ok("2302", {"data": {"feedetl_sn": "D2-04", "mdtrt_id": mdtrt_id,
                                         "psn_no": psn_no}})
    assert cancelled["cancelled"] == ["D2-04"]
    his.ok("2301", his.inpatient_fee_lines(mdtrt_id, psn_no, [("D2-05", "08", "03", 9_000,
                                                               "MAT-09")], stay_day(1)))
    with zone["app"].app_context():
        from backend.models import NationalVisit
        stay_id = int(db.session.scalars(select(NationalVisit.stay_ref).filter_by(
            mdtrt_id=mdtrt_id)).one())
    desk = zone["native"]("GET", f"/api/v1/inpatient/stays/{stay_id}").json
    assert desk["stay"]["total_fen"] == STAY_TOTAL and desk["stay"]["admission_no"] == "ZY0001"

    preview = his.ok("2303", his.inpatient_settle_input(mdtrt_id, psn_no, token,
                                                        STAY_TOTAL))["setlinfo"]
    native_preview = zone["native"]("POST", f"/api/v1/inpatient/stays/{stay_id}/preview",
                                    {}).json["split"]
    for national, native in SAME.items():
        assert fen(preview[national]) == native_preview[native], national
    his.ok("2402", his.discharge_input(mdtrt_id, psn_no, stay_day(0)))
    message = his.envelope("2304", his.inpatient_settle_input(mdtrt_id, psn_no, code,
                                                              STAY_TOTAL))
    settled = his.call("2304", None, message=message)
    assert settled["infcode"] == 0, settled["err_msg"]
    assert his.call("2304", None, message=message) == settled  # the same msgid: once
    setlinfo = settled["output"]["setlinfo"]
    assert setlinfo["clr_type"] == "21" and setlinfo["med_type"] == "21"
    for name in SAME:
        assert setlinfo[name] == preview[name], name
    assert his.ok("5203", his.query_input(mdtrt_id, psn_no, setlinfo["setl_id"]))[
        "setlinfo"] == setlinfo
    reversal = his.ok("2305", his.reverse_input(mdtrt_id, psn_no, setlinfo["setl_id"]))
    assert fen(reversal["setlinfo"]["medfee_sumamt"]) == -STAY_TOTAL
    # The stay is open again: the desk's own discharge of the same stay gives every amount.
    native = zone["native"]("POST", f"/api/v1/inpatient/stays/{stay_id}/discharge", {},
                            key="desk-discharge-1")
    assert native.status_code == 201, native.json
    for national, field in SAME.items():
        assert fen(setlinfo[national]) == native.json["settlement"][field], national

    day = datetime.now(CHINA).date().isoformat()
    n = native.json["settlement"]
    agreed = his.ok("3201", his.reconcile_input(
        day, n["total_fen"], n["fund_fen"], n["personal_account_fen"], 1, clr_type="21"))
    assert agreed["stmtinfo"]["stmt_rslt"] == "0", agreed
    outpatient_day = his.ok("3201", his.reconcile_input(day, 0, 0, 0, 0))["stmtinfo"]
    assert outpatient_day["stmt_rslt"] == "0"



def test_the_envelope_answers_as_documented_to_a_key_holder(zone):
    """schemathesis over POST /his/v1/call with an institution's key (tests/test_openapi.py
    calls it without one): data that fits the schema, data that does not, and hostile bodies."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.generation import GenerationMode
    from test_openapi import CHECKS, hostile

    app, his = zone["app"], zone["his"]
    spec = app.test_client().get("/openapi.json").json
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operation = next(result.ok() for result in schema.get_all_operations()
                     if result.ok().path == "/his/v1/call")
    headers = {"Authorization": f"Bearer {his.api_key}"}
    answered = []
    for strategy in (operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                     operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
                     hostile(operation, spec)):
        @given(case=strategy)
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def call(case):
            answer = case.call_and_validate(headers=headers, checks=CHECKS)
            answered.append(answer.status_code)
        call()
    assert 200 in answered and max(answered) < 500


def test_two_hises_settling_one_visit_at_once_both_get_its_settlement(zone):
    """A HIS that timed out on 2207 and sent it again under a new msgid while the first was still
    running (or two terminals of one hospital) gets the visit's one settlement twice, as a 2207
    after the first had finished would: never a second settlement, never a refusal to look up."""
    his, code_at = zone["his"], codes_of(zone)
    code = code_at(0)
    _, psn_no, token, mdtrt_id = open_visit(his, code, number="MZ-RACE")
    his.ok("2204", his.fee_lines(mdtrt_id, psn_no, BILL))
    twins = [HisClient(zone["app"].test_client(), his.api_key, his.fixmedins_code) for _ in range(2)]
    messages = [twin.envelope("2207", twin.settle_input(mdtrt_id, psn_no, token, TOTAL))
                for twin in twins]
    barrier, answers = threading.Barrier(2), [None, None]

    def fire(i):
        barrier.wait()
        answers[i] = twins[i].call("2207", None, message=messages[i])
    threads = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer["infcode"] for answer in answers] == [0, 0], [a["err_msg"] for a in answers]
    assert answers[0]["output"]["setlinfo"]["setl_id"] == answers[1]["output"]["setlinfo"]["setl_id"]
    with zone["app"].app_context():
        assert db.session.scalar(select(func.count(Settlement.id))) == 1
