"""Inpatient transactions, through the inpatient desk's domain (backend/inpatient/, issue 17):
2401 入院办理, 2402 出院办理, 2301/2302 住院费用明细 and its cancel, 2303 预结算, 2304 结算,
2305 结算撤销. The stay, its lines and its discharge settlement are the desk's own; the national
visit only remembers which stay a mdtrt_id is. No Flask."""
import hmac
from decimal import Decimal

from ..inpatient import discharge, stays
from ..inpatient import policy as policies
from ..models import Person, Settlement
from ..models.base import CHINA, at
from . import dictionaries as dicts
from . import settling
from .envelope import MessageRefused, choice, code_field, field, time_field, yuan_to_fen
from .settling import _data
from .visits import check_insured_region, new_mdtrt_id, open_visit_for_registration, \
    visit_of_message

INPATIENT = ("inpatient",)


def _stay_id(visit):
    return int(visit.stay_ref)


def _inpatient_share(session, person):
    policy = policies.policy_for(session, person.home_region, person.insurance_class)
    return policy.class_b_self_share_bp if policy is not None else 0


def admit(ctx):
    """2401 入院办理: the visit that 1101 opened becomes a stay at the inpatient desk."""
    info = ctx.envelope.input.get("mdtrtinfo")
    if not isinstance(info, dict):
        raise MessageRefused("字段 input.mdtrtinfo 应为 JSON 对象")
    visit = open_visit_for_registration(ctx, info, "mdtrtinfo.")
    insutype = choice(info, "insutype", "mdtrtinfo.", tuple(dicts.INSUTYPES))
    if insutype != visit.insutype:
        raise MessageRefused(f"字段 mdtrtinfo.insutype（{insutype}）与参保人的险种不符")
    med_type = choice(info, "med_type", "mdtrtinfo.", tuple(dicts.INPATIENT_MED_TYPES))
    begins = time_field(info, "begntime", "mdtrtinfo.")
    number = code_field(info, "ipt_no", "mdtrtinfo.")
    ward = field(info, "adm_dept_name", "mdtrtinfo.", max_length=40)
    code = field(info, "dise_codg", "mdtrtinfo.", max_length=10)
    text = field(info, "dise_name", "mdtrtinfo.", max_length=100)
    diagnoses = ctx.envelope.input.get("diseinfo", [])
    if not isinstance(diagnoses, list) or not all(isinstance(d, dict) for d in diagnoses):
        raise MessageRefused("字段 input.diseinfo 应为 JSON 对象的数组")
    scan_id = settling.scan(ctx, visit)
    stay, _ = stays.admit(ctx.session, ctx.store, scan_id=scan_id,
                          institution_code=ctx.institution.code, staff_id=ctx.account.id,
                          admission_no=number, ward=ward, diagnosis_code=code,
                          diagnosis_text=text, admitted_on=begins.date().isoformat(),
                          now=ctx.now)
    visit.kind, visit.med_type, visit.ipt_otp_no = "inpatient", med_type, number
    visit.stay_ref, visit.status, visit.registered_at = str(stay.id), "registered", at(ctx.now)
    visit.mdtrt_id = new_mdtrt_id(ctx)
    ctx.session.flush()
    return {"result": {"mdtrt_id": visit.mdtrt_id, "psn_no": visit.psn_no,
                       "ipt_otp_no": visit.ipt_otp_no}}


def cancel_admission(ctx):
    """2404 入院撤销: an admission with no live fee line and no settlement (cancel the lines with
    2302 first); the code is spent, a new admission needs a new code."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=INPATIENT)
    if visit.status != "registered":
        raise MessageRefused("字段 data.mdtrt_id：住院已结算或已撤销")
    stays.cancel_admission(ctx.session, stay_id=_stay_id(visit),
                           institution_code=ctx.institution.code)
    visit.status = "cancelled"
    ctx.session.flush()
    return {}


def upload_fees(ctx):
    """2301 住院费用明细上传: the lines go to the stay, numbered in the order they arrive; each
    line's ``cnt`` × ``pric`` is kept when both are exact (whole units, whole fen), else 1 × the
    amount."""
    visit, added, result = settling.upload_lines(
        ctx, kinds=INPATIENT, categories=dicts.INPATIENT_CATEGORIES, share=_inpatient_share)
    first = 1 + sum(1 for line in visit.lines if line not in added)
    for number, line in enumerate(added, start=first):
        line.line_no = number
    stays.add_lines(ctx.session, stay_id=_stay_id(visit), institution_code=ctx.institution.code,
                    staff_id=ctx.account.id, raw_lines=[_stay_line(line) for line in added],
                    now=ctx.now)
    return {"result": result}


def _stay_line(line):
    count, price_fen = Decimal(line.cnt), Decimal(line.pric) * 100
    exact = count == count.to_integral_value() and price_fen == price_fen.to_integral_value() \
        and count * price_fen == line.amount_fen
    quantity, unit = (int(count), int(price_fen)) if exact else (1, line.amount_fen)
    return {"line_no": line.line_no, "category": line.category,
            "coverage_class": line.coverage_class, "item": line.medins_list_codg[:80],
            "quantity": quantity, "unit_price_fen": unit,
            "date": line.fee_ocur_time.astimezone(CHINA).date().isoformat()}


def cancel_fees(ctx):
    """2302 住院费用明细撤销: one line (``feedetl_sn``) or every line (``0000``)."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=INPATIENT)
    serial = code_field(data, "feedetl_sn", "data.")
    chosen = [line for line in settling.active_lines(visit)
              if serial == "0000" or line.feedetl_sn == serial]
    if not chosen:
        raise MessageRefused("字段 data.feedetl_sn：没有可撤销的费用明细")
    for line in chosen:
        stays.cancel_line(ctx.session, stay_id=_stay_id(visit),
                          institution_code=ctx.institution.code, staff_id=ctx.account.id,
                          line_no=line.line_no, reason="2302 住院费用明细撤销", now=ctx.now)
        line.cancelled = True
    ctx.session.flush()
    return {"cancelled": [line.feedetl_sn for line in chosen]}


def discharge_info(ctx):
    """2402 出院办理: the discharge time, which the settlement takes as the discharge day."""
    info = ctx.envelope.input.get("dscginfo")
    if not isinstance(info, dict):
        raise MessageRefused("字段 input.dscginfo 应为 JSON 对象")
    visit = visit_of_message(ctx, info, "dscginfo.", kinds=INPATIENT)
    if visit.status != "registered":
        raise MessageRefused("字段 dscginfo.mdtrt_id：住院已结算，请先撤销结算")
    ends = time_field(info, "endtime", "dscginfo.")
    stay = stays.own_stay(ctx.session, _stay_id(visit), ctx.institution.code)
    if not stay.admitted_on <= ends.date() <= at(ctx.now).astimezone(CHINA).date():
        raise MessageRefused("字段 dscginfo.endtime 应在入院日与今天之间")
    visit.ended_at = ends
    ctx.session.flush()
    return {}


def _discharge_day(visit):
    return visit.ended_at.astimezone(CHINA).date().isoformat() if visit.ended_at else None


def _bill(ctx, visit, data):
    person = ctx.session.get(Person, visit.person_id)
    check_insured_region(ctx, person)
    insutype = choice(data, "insutype", "data.", tuple(dicts.INSUTYPES), required=False)
    if insutype is not None and insutype != visit.insutype:
        raise MessageRefused(f"字段 data.insutype（{insutype}）与参保人的险种不符")
    choice(data, "psn_setlway", "data.", tuple(dicts.PSN_SETLWAYS), required=False)
    choice(data, "mid_setl_flag", "data.", ("0",), required=False)  # no 中途结算
    total = yuan_to_fen(data, "medfee_sumamt", "data.")
    if total != sum(line.amount_fen for line in stays.live_lines(ctx.session, _stay_id(visit))):
        raise MessageRefused("字段 data.medfee_sumamt 与已上传住院费用明细的合计不符")
    return dicts.ACCT_USED_FLAGS[choice(data, "acct_used_flag", "data.",
                                        tuple(dicts.ACCT_USED_FLAGS), required=False,
                                        default="1")]


def pre_settle(ctx):
    """2303 住院预结算: the desk's preview of the stay; nothing moves."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=INPATIENT)
    if visit.status != "registered":
        raise MessageRefused("字段 data.mdtrt_id：住院已结算，请先撤销结算")
    use_account = _bill(ctx, visit, data)
    _, computed = discharge.preview(ctx.session, stay_id=_stay_id(visit),
                                    institution_code=ctx.institution.code,
                                    discharged_on=_discharge_day(visit), use_account=use_account,
                                    now=ctx.now)
    split = computed.split
    balc = computed.person.personal_account_fen - split.personal_account_fen
    return {"setlinfo": settling.setlinfo(ctx, visit, split, balc_fen=balc),
            "setldetail": settling.setldetail(visit, split)}


def settle(ctx):
    """2304 住院结算: the desk's discharge settlement of the stay, once per attempt (a reversed
    stay may be settled again, as at the desk)."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=INPATIENT)
    if visit.status == "settled":
        return settling.settlement_answer(ctx, visit, ctx.session.get(
            Settlement, visit.settlement_id))
    use_account = _bill(ctx, visit, data)
    stay = stays.own_stay(ctx.session, _stay_id(visit), ctx.institution.code)
    settlement, _ = discharge.settle(
        ctx.session, stay_id=stay.id, institution_code=ctx.institution.code,
        cashier_id=ctx.account.id, now=ctx.now, discharged_on=_discharge_day(visit),
        idempotency_key=f"his:{visit.id}:setl:{stay.settled_count + 1}", use_account=use_account)
    visit.status, visit.settlement_id = "settled", settlement.id
    ctx.session.flush()
    return settling.settlement_answer(ctx, visit, settlement)


def reverse(ctx):
    """2305 住院结算撤销: the desk's same-day reversal; the stay is open again."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=INPATIENT)
    setl_id = code_field(data, "setl_id", "data.")
    if visit.settlement_id is None or not hmac.compare_digest(setl_id, str(visit.settlement_id)):
        raise MessageRefused(f"字段 data.setl_id：住院就诊 {visit.mdtrt_id} 无此结算")
    if visit.status != "settled":
        raise MessageRefused("字段 data.setl_id：该结算已撤销")
    reversal, _ = discharge.reverse(
        ctx.session, stay_id=_stay_id(visit), institution_code=ctx.institution.code,
        cashier_id=ctx.account.id, reason="2305 住院结算撤销", now=ctx.now,
        idempotency_key=f"his:{visit.id}:revs:{setl_id}")
    visit.status, visit.reversal_id = "registered", reversal.id
    ctx.session.flush()
    return settling.settlement_answer(ctx, visit, reversal)
