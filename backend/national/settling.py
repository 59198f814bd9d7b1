"""Fee lines and settlements of a visit, through the counter's one settlement engine
(backend/counter/settlements.py: ``preview``, ``settle``, ``refund``), and the national
``setlinfo`` / ``setldetail`` written from a Yima settlement. No Flask."""
from decimal import Decimal

from sqlalchemy import select

from ..counter import settlements
from ..models import NationalFeeLine, Person, Settlement
from ..models.base import CHINA, at
from . import dictionaries as dicts
from .envelope import (MessageRefused, choice, code_field, decimal_field, field, time_field,
                       yuan, yuan_to_fen)
from .visits import check_insured_region, visit_of_message

MAX_LINES_PER_MESSAGE = 100


def active_lines(visit):
    return [line for line in visit.lines if not line.cancelled]


def outpatient_share(session, person):
    """乙类先自付 of the outpatient policy of the person's home region (basis points)."""
    return person.region.policy_for(person.insurance_class).class_b_self_share_bp


def upload_lines(ctx, *, kinds, categories, share=outpatient_share):
    """2204 / 2301: ``feedetail`` lines of one visit; ``categories`` maps 医疗收费项目类别 to a
    Yima category. Returns (visit, the new lines, the ``result`` list)."""
    raw = ctx.envelope.input.get("feedetail")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LINES_PER_MESSAGE:
        raise MessageRefused(f"字段 input.feedetail 应为 1 至 {MAX_LINES_PER_MESSAGE} 条费用明细")
    visit = None
    result, added = [], []
    seen = set()
    for number, item in enumerate(raw, start=1):
        where = f"feedetail[{number}]."
        if not isinstance(item, dict):
            raise MessageRefused(f"字段 input.feedetail 第 {number} 条应为 JSON 对象")
        this = visit_of_message(ctx, item, where, kinds=kinds)
        if visit is not None and this.id != visit.id:
            raise MessageRefused(f"字段 {where}mdtrt_id：一条报文只能上传同一次就诊的费用明细")
        visit = this
        if visit.status != "registered":
            raise MessageRefused(f"字段 {where}mdtrt_id：就诊已{_status_words(visit)}，不能上传费用")
        serial = code_field(item, "feedetl_sn", where)
        if serial in seen or any(line.feedetl_sn == serial for line in visit.lines):
            raise MessageRefused(f"字段 {where}feedetl_sn {serial} 在本次就诊中已上传")
        seen.add(serial)
        item_type = choice(item, "med_chrgitm_type", where, tuple(dicts.CHARGE_ITEM_TYPES))
        category = categories.get(item_type)
        if category is None:
            raise MessageRefused(f"字段 {where}med_chrgitm_type：{dicts.CHARGE_ITEM_TYPES[item_type]}"
                                 f"不能出现在{'门诊' if 'outpatient' in kinds else '住院'}费用中")
        level = choice(item, "chrgitm_lv", where, tuple(dicts.CHARGE_ITEM_LEVELS))
        amount = yuan_to_fen(item, "det_item_fee_sumamt", where)
        count = decimal_field(item, "cnt", where, places=4)
        price = decimal_field(item, "pric", where, places=6)
        if abs(count * price - Decimal(amount) / 100) > Decimal("0.01"):
            raise MessageRefused(f"字段 {where}det_item_fee_sumamt 与 cnt × pric 不符")
        line = NationalFeeLine(
            feedetl_sn=serial, chrg_bchno=code_field(item, "chrg_bchno", where),
            med_chrgitm_type=item_type, chrgitm_lv=level, category=category,
            coverage_class=dicts.CHARGE_ITEM_LEVELS[level], amount_fen=amount,
            cnt=str(count), pric=str(price),
            med_list_codg=field(item, "med_list_codg", where, max_length=50),
            medins_list_codg=field(item, "medins_list_codg", where, max_length=150),
            fee_ocur_time=time_field(item, "fee_ocur_time", where), cancelled=False)
        visit.lines.append(line)
        added.append(line)
        result.append(_line_result(ctx, visit, line, share))
    ctx.session.flush()
    return visit, added, result


def _line_result(ctx, visit, line, share_of):
    """A line as the national 2204/2301 answer has it: the class and what of it the patient
    pays first (class C in full; the class B share, rounded down per line as the engine does)."""
    share = share_of(ctx.session, ctx.session.get(Person, visit.person_id))
    own = line.amount_fen if line.coverage_class == "C" else 0
    first = line.amount_fen * share // 10_000 if line.coverage_class == "B" else 0
    return {
        "feedetl_sn": line.feedetl_sn, "det_item_fee_sumamt": yuan(line.amount_fen),
        "cnt": float(line.cnt), "pric": float(line.pric), "pric_uplmt_amt": None,
        "selfpay_prop": {"A": 0, "B": share / 10_000, "C": 1}[line.coverage_class],
        "fulamt_ownpay_amt": yuan(own), "overlmt_amt": yuan(0), "preselfpay_amt": yuan(first),
        "inscp_scp_amt": yuan(line.amount_fen - own - first),
        "chrgitm_lv": line.chrgitm_lv, "med_chrgitm_type": line.med_chrgitm_type,
        "bas_medn_flag": None, "hi_nego_drug_flag": None, "chld_medc_flag": None,
        "list_sp_item_flag": None, "lmt_used_flag": None, "drt_reim_flag": "0", "memo": None,
    }


def cancel_lines(ctx, *, kinds):
    """2205 / 2302: the lines of a batch (``chrg_bchno``; ``0000`` or absent: every line), or the
    line ``feedetl_sn``, of a visit not yet settled."""
    data = _data(ctx)
    visit = visit_of_message(ctx, data, "data.", kinds=kinds)
    if visit.status != "registered":
        raise MessageRefused(f"字段 data.mdtrt_id：就诊已{_status_words(visit)}，不能撤销费用")
    batch = code_field(data, "chrg_bchno", "data.", required=False)
    serial = code_field(data, "feedetl_sn", "data.", required=False)
    chosen = [line for line in active_lines(visit)
              if (batch in (None, "0000") or line.chrg_bchno == batch)
              and (serial is None or line.feedetl_sn == serial)]
    if not chosen:
        raise MessageRefused("字段 data.chrg_bchno / feedetl_sn：没有可撤销的费用明细")
    for line in chosen:
        line.cancelled = True
    ctx.session.flush()
    return {"cancelled": [line.feedetl_sn for line in chosen]}


def _status_words(visit):
    return {"identified": "未登记", "registered": "登记", "cancelled": "撤销",
            "settled": "结算", "reversed": "撤销结算"}[visit.status]


def _data(ctx):
    data = ctx.envelope.input.get("data")
    if not isinstance(data, dict):
        raise MessageRefused("字段 input.data 应为 JSON 对象")
    return data


def bill_of(ctx, visit, data, *, med_types):
    """The visit's lines as a Yima bill, checked against the message's own totals and codes."""
    person = ctx.session.get(Person, visit.person_id)
    check_insured_region(ctx, person)
    med_type = choice(data, "med_type", "data.", tuple(med_types), required=False)
    if med_type is not None and visit.med_type is not None and med_type != visit.med_type:
        raise MessageRefused(f"字段 data.med_type（{med_type}）与就诊登记的医疗类别不符")
    insutype = choice(data, "insutype", "data.", tuple(dicts.INSUTYPES), required=False)
    if insutype is not None and insutype != visit.insutype:
        raise MessageRefused(f"字段 data.insutype（{insutype}）与参保人的险种不符")
    choice(data, "psn_setlway", "data.", tuple(dicts.PSN_SETLWAYS), required=False)
    use_account = dicts.ACCT_USED_FLAGS[choice(data, "acct_used_flag", "data.",
                                               tuple(dicts.ACCT_USED_FLAGS), required=False,
                                               default="1")]
    lines = active_lines(visit)
    if not lines:
        raise MessageRefused("字段 data.mdtrt_id：本次就诊没有费用明细，请先上传")
    batch = code_field(data, "chrg_bchno", "data.", required=False)
    if batch not in (None, "0000") and all(line.chrg_bchno != batch for line in lines):
        raise MessageRefused(f"字段 data.chrg_bchno：本次就诊无收费批次 {batch}")
    total = yuan_to_fen(data, "medfee_sumamt", "data.")
    if total != sum(line.amount_fen for line in lines):
        raise MessageRefused("字段 data.medfee_sumamt 与已上传费用明细的合计不符")
    return [native_line(line) for line in lines], use_account


def native_line(line):
    """A fee line as the counter API's bill line (the same dict a cashier's console sends)."""
    return {"category": line.category, "coverage_class": line.coverage_class,
            "amount_fen": line.amount_fen,
            "description": f"{line.medins_list_codg}"[:80]}


def scan(ctx, visit):
    """A counter scan of the visit's code, for the settlement engine (which takes scans)."""
    scan_id, (key, value, seconds) = settlements.new_scan(
        jti=visit.credential_jti, step=visit.code_step, person_id=visit.person_id,
        institution_code=ctx.institution.code, cashier_id=ctx.account.id)
    ctx.store.set(key, value, ex=seconds)
    return scan_id


def preview(ctx, visit, raw_lines, use_account):
    person, split = settlements.preview(
        ctx.session, ctx.store, scan_id=scan(ctx, visit), institution_code=ctx.institution.code,
        raw_lines=raw_lines, now=ctx.now, use_account=use_account)
    return split, person.personal_account_fen - split.personal_account_fen


def settle(ctx, visit, raw_lines, use_account):
    settlement, _ = settlements.settle(
        ctx.session, ctx.store, scan_id=scan(ctx, visit), institution_code=ctx.institution.code,
        cashier_id=ctx.account.id, raw_lines=raw_lines, idempotency_key=f"his:{visit.id}:setl",
        now=ctx.now, use_account=use_account)
    visit.status, visit.settlement_id = "settled", settlement.id
    ctx.session.flush()
    return settlement


def reverse(ctx, visit, reason):
    reversal, _ = settlements.refund(
        ctx.session, settlement_id=visit.settlement_id, institution_code=ctx.institution.code,
        cashier_id=ctx.account.id, reason=reason, now=ctx.now,
        idempotency_key=f"his:{visit.id}:revs")
    visit.status, visit.reversal_id = "reversed", reversal.id
    ctx.session.flush()
    return reversal


def balance(ctx, visit):
    return ctx.session.scalar(select(Person.personal_account_fen).filter_by(id=visit.person_id))


def setlinfo(ctx, visit, amounts, *, setl_id=None, balc_fen, setl_time=None):
    """The national ``setlinfo`` of a split or a settlement row (same field names either way).

    Yima's split has no civil-servant, serious-illness or assistance funds: their fields are 0.
    ``pool_prop_selfpay`` is Yima's co-insurance (the eligible amount the fund did not pay)."""
    total = amounts.total_fen
    inscp = total - amounts.class_c_fen - amounts.class_b_self_fen
    return {
        "mdtrt_id": visit.mdtrt_id, "setl_id": setl_id, "psn_no": visit.psn_no,
        "insutype": visit.insutype, "med_type": visit.med_type,
        "mdtrt_cert_type": "01", "setl_time": setl_time,
        "clr_optins": ctx.session.get(Person, visit.person_id).home_region,
        "clr_type": "21" if visit.kind == "inpatient" else "11", "clr_way": "1",
        "medfee_sumamt": yuan(total), "fulamt_ownpay_amt": yuan(amounts.class_c_fen),
        "overlmt_selfpay": yuan(0), "preselfpay_amt": yuan(amounts.class_b_self_fen),
        "inscp_scp_amt": yuan(inscp), "act_pay_dedc": yuan(amounts.deductible_fen),
        "hifp_pay": yuan(amounts.fund_fen), "pool_prop_selfpay": yuan(amounts.coinsurance_fen),
        "cvlserv_pay": yuan(0), "hifes_pay": yuan(0), "hifmi_pay": yuan(0), "hifob_pay": yuan(0),
        "maf_pay": yuan(0), "oth_pay": yuan(0), "fund_pay_sumamt": yuan(amounts.fund_fen),
        "psn_part_amt": yuan(total - amounts.fund_fen), "acct_pay": yuan(amounts.personal_account_fen),
        "psn_cash_pay": yuan(amounts.cash_fen), "hosp_part_amt": yuan(0),
        "acct_mulaid_pay": yuan(0), "balc": yuan(balc_fen), "medins_setl_id": None,
    }


def setldetail(visit, amounts):
    fund_type, name = dicts.FUND_PAY_TYPES[visit.insutype]
    total = amounts.total_fen
    return [{"fund_pay_type": fund_type, "fund_pay_type_name": name,
             "inscp_scp_amt": yuan(total - amounts.class_c_fen - amounts.class_b_self_fen),
             "crt_payb_lmt_amt": None, "fund_payamt": yuan(amounts.fund_fen),
             "setl_proc_info": None}]


def settlement_answer(ctx, visit, settlement, *, balc_fen=None):
    balc = balance(ctx, visit) if balc_fen is None else balc_fen
    created = settlement.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return {"setlinfo": setlinfo(ctx, visit, settlement, setl_id=str(settlement.id),
                                 balc_fen=balc, setl_time=created),
            "setldetail": setldetail(visit, settlement)}


def settlement_of_visit(ctx, visit, setl_id, where):
    """The settlement (or its reversal) ``setl_id`` of this visit."""
    if setl_id not in {str(visit.settlement_id), str(visit.reversal_id)} - {"None"}:
        raise MessageRefused(f"字段 {where}setl_id：就诊 {visit.mdtrt_id} 无此结算")
    return ctx.session.get(Settlement, int(setl_id))


def registration_time(data, where):
    moment = time_field(data, "begntime", where, required=False)
    return moment or None


def now_china(ctx):
    return at(ctx.now).astimezone(CHINA)
