"""Outpatient transactions: 2201/2202 挂号 and its cancel, 2203 就诊信息上传, 2204/2205 费用明细
and its cancel, 2206 预结算, 2207 结算, 2208 结算撤销, 5203 结算信息查询. No Flask."""
from ..models.base import at
from . import dictionaries as dicts
from . import settling
from .envelope import MessageRefused, choice, code_field, field, time_field
from .settling import _data
from .visits import new_mdtrt_id, open_visit_for_registration, visit_of_message

OUTPATIENT = ("outpatient",)


def register(ctx):
    """2201 门诊挂号: the visit that 1101 opened becomes an outpatient visit with a mdtrt_id."""
    data = _data(ctx)
    visit = open_visit_for_registration(ctx, data, "data.")
    insutype = choice(data, "insutype", "data.", tuple(dicts.INSUTYPES))
    if insutype != visit.insutype:
        raise MessageRefused(f"字段 data.insutype（{insutype}）与参保人的险种不符")
    time_field(data, "begntime", "data.")
    number = code_field(data, "ipt_otp_no", "data.")
    _unique_number(ctx, number)
    field(data, "dept_code", "data.", required=False, max_length=30)
    visit.kind, visit.med_type, visit.ipt_otp_no = "outpatient", "11", number
    visit.mdtrt_id, visit.status, visit.registered_at = new_mdtrt_id(ctx), "registered", at(ctx.now)
    ctx.session.flush()
    return {"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": visit.psn_no,
                     "ipt_otp_no": visit.ipt_otp_no, "exp_content": None}}


def _unique_number(ctx, number):
    from sqlalchemy import select

    from ..models import NationalVisit
    if ctx.session.scalars(select(NationalVisit.id).filter_by(
            institution_code=ctx.institution.code, ipt_otp_no=number)).first() is not None:
        raise MessageRefused(f"字段 data.ipt_otp_no {number} 已登记过")


def cancel_registration(ctx):
    """2202 门诊挂号撤销: only before the visit is settled; its fee lines go with it."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=OUTPATIENT)
    number = code_field(data, "ipt_otp_no", "data.", required=False)
    if number is not None and number != visit.ipt_otp_no:
        raise MessageRefused("字段 data.ipt_otp_no 与就诊登记的门诊号不符")
    if visit.status != "registered":
        raise MessageRefused("字段 data.mdtrt_id：就诊已结算或已撤销，不能撤销挂号")
    visit.status = "cancelled"
    for line in settling.active_lines(visit):
        line.cancelled = True
    ctx.session.flush()
    return {}


def visit_info(ctx):
    """2203 就诊信息上传: the medical type. Diagnoses are checked for shape and not kept."""
    info = ctx.envelope.input.get("mdtrtinfo")
    if not isinstance(info, dict):
        raise MessageRefused("字段 input.mdtrtinfo 应为 JSON 对象")
    visit = visit_of_message(ctx, info, "mdtrtinfo.", kinds=OUTPATIENT)
    if visit.status != "registered":
        raise MessageRefused("字段 mdtrtinfo.mdtrt_id：就诊已结算或已撤销")
    visit.med_type = choice(info, "med_type", "mdtrtinfo.", tuple(dicts.OUTPATIENT_MED_TYPES))
    time_field(info, "begntime", "mdtrtinfo.", required=False)
    diagnoses = ctx.envelope.input.get("diseinfo", [])
    if not isinstance(diagnoses, list) or not all(isinstance(d, dict) for d in diagnoses):
        raise MessageRefused("字段 input.diseinfo 应为 JSON 对象的数组")
    ctx.session.flush()
    return {}


def upload_fees(ctx):
    """2204 门诊费用明细信息上传."""
    _, _, result = settling.upload_lines(ctx, kinds=OUTPATIENT,
                                         categories=dicts.OUTPATIENT_CATEGORIES)
    return {"result": result}


def cancel_fees(ctx):
    """2205 门诊费用明细信息撤销."""
    return settling.cancel_lines(ctx, kinds=OUTPATIENT)


def pre_settle(ctx):
    """2206 门诊预结算: the counter's preview of the visit's bill; nothing moves."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=OUTPATIENT)
    if visit.status != "registered":
        raise MessageRefused("字段 data.mdtrt_id：就诊已结算或已撤销")
    lines, use_account = settling.bill_of(ctx, visit, data, med_types=dicts.OUTPATIENT_MED_TYPES)
    split, balc_after = settling.preview(ctx, visit, lines, use_account)
    return {"setlinfo": settling.setlinfo(ctx, visit, split, balc_fen=balc_after),
            "setldetail": settling.setldetail(visit, split)}


def settle(ctx):
    """2207 门诊结算: the counter's settlement of the visit's bill, once. The same visit settled
    again (another msgid, the same bill) answers the settlement it already has."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=OUTPATIENT)
    lines, use_account = settling.bill_of(ctx, visit, data, med_types=dicts.OUTPATIENT_MED_TYPES)
    if visit.status == "settled":
        return settling.settlement_answer(ctx, visit, ctx.session.get(
            settling.Settlement, visit.settlement_id))
    if visit.status != "registered":
        raise MessageRefused("字段 data.mdtrt_id：就诊已撤销（已撤销的结算不能再次结算，"
                             "请患者出示新的码重新就诊）")
    return settling.settlement_answer(ctx, visit, settling.settle(ctx, visit, lines, use_account))


def reverse(ctx):
    """2208 门诊结算撤销: the counter's same-day refund of the visit's settlement."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=OUTPATIENT)
    return reverse_visit(ctx, visit, data, "2208 门诊结算撤销")


def reverse_visit(ctx, visit, data, reason):
    setl_id = code_field(data, "setl_id", "data.")
    if visit.settlement_id is None or setl_id != str(visit.settlement_id):
        raise MessageRefused(f"字段 data.setl_id：就诊 {visit.mdtrt_id} 无此结算")
    return settling.settlement_answer(ctx, visit, settling.reverse(ctx, visit, reason))


def settlement_query(ctx):
    """5203 结算信息查询: a settlement (or its reversal) of a visit, as 2207 (2208) answered it;
    ``balc`` is the personal account now."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.")
    setl_id = code_field(data, "setl_id", "data.")
    settlement = settling.settlement_of_visit(ctx, visit, setl_id, "data.")
    return settling.settlement_answer(ctx, visit, settlement)
