"""One message in, one answer out: the envelope checked, the institution's own msgid looked up
(the same msgid again gets the first answer, byte for byte), the transaction run in one database
transaction, every call in the audit log (transaction number, msgid, infcode; no personal data).
No Flask: the view (backend/api/his.py) gives a ``Context`` and sends the text back.

Every refusal is ``infcode -1`` with a Chinese ``err_msg``; the domain's own refusals (the
counter's, the code checks') are put into Chinese here by their stable code."""
import logging

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from ..models import NationalMessage
from ..oversight import audit
from ..service.errors import YimaError
from ..service.idempotency import fingerprint
from ..tokens.errors import TokenError
from . import envelope, inpatient, outpatient, reconcile, visits
from .envelope import MessageRefused

log = logging.getLogger(__name__)

TRANSACTIONS = {
    "1101": visits.person_info,
    "2201": outpatient.register,
    "2202": outpatient.cancel_registration,
    "2203": outpatient.visit_info,
    "2204": outpatient.upload_fees,
    "2205": outpatient.cancel_fees,
    "2206": outpatient.pre_settle,
    "2207": outpatient.settle,
    "2208": outpatient.reverse,
    "2301": inpatient.upload_fees,
    "2302": inpatient.cancel_fees,
    "2303": inpatient.pre_settle,
    "2304": inpatient.settle,
    "2305": inpatient.reverse,
    "2401": inpatient.admit,
    "2402": inpatient.discharge_info,
    "2404": inpatient.cancel_admission,
    "3201": reconcile.reconcile,
    "5203": outpatient.settlement_query,
}

# The domain's stable codes, in words a hospital's operator reads.
REFUSALS = {
    "code_malformed": "字段 mdtrt_cert_no 不是可识别的医保电子凭证码",
    "unknown_kid": "医保电子凭证的签发密钥未知，请患者刷新电子凭证",
    "bad_signature": "医保电子凭证签名无效",
    "credential_expired": "医保电子凭证已过期，请患者在手机上重新激活",
    "credential_not_yet_valid": "医保电子凭证尚未生效",
    "wrong_kind": "字段 mdtrt_cert_no 不是医保电子凭证码（是乘车码？）",
    "bad_device_signature": "医保电子凭证的手机签名无效",
    "code_expired": "医保电子凭证码已过期，请患者刷新后重新扫码",
    "code_not_yet_valid": "医保电子凭证码的时间超前，请患者校准手机时间",
    "credential_revoked": "医保电子凭证已停用（挂失或注销）",
    "code_replayed": "该医保电子凭证码已被使用，请患者刷新后重新扫码",
    "person_suspended": "参保人参保状态暂停，不能结算",
    "evoucher_not_accepted": "本机构尚未开通医保电子凭证结算",
    "code_already_settled": "该医保电子凭证码已结算过一笔费用，请患者出示新的码",
    "account_changed": "个人账户余额已变化，请重新预结算",
    "already_refunded": "该结算已撤销",
    "refund_not_same_day": "只能撤销当天的结算",
    "settlement_not_found": "字段 setl_id：本机构无此结算",
    "scan_expired": "请重新扫码（扫码信息已失效）",
    "bad_lines": "费用明细有误（条数、数量、单价或费用日期）",
    "idempotency_key_reused": "本次就诊正在结算或已结算，请以 5203 查询结算结果",
    "stay_not_open": "住院已结算，请先撤销结算",
    "stay_already_settled": "住院已结算，请以 5203 查询结算结果",
    "stay_not_settled": "住院尚未结算",
    "already_admitted": "参保人在本机构已有未出院的住院",
    "admission_no_taken": "字段 mdtrtinfo.ipt_no 已用于另一次住院",
    "code_already_used": "该医保电子凭证码已办理过入院，请患者出示新的码",
    "no_fee_lines": "本次住院没有费用明细，请先上传",
    "no_inpatient_policy": "参保地没有该险种的住院待遇政策",
    "bad_admission": "入院信息有误（ipt_no、adm_dept_name、dise_codg（ICD-10）或 dise_name）",
    "bad_date": "日期有误（入院日最多追溯 7 天，费用日期须在住院期间）",
    "line_number_conflict": "费用明细序号冲突",
    "line_already_cancelled": "该费用明细已撤销",
    "line_not_found": "字段 feedetl_sn：本次住院无此费用明细",
    "inpatient_settlement": "住院结算请以 2305 撤销",
    "stay_not_empty": "住院还有费用明细或结算，请先以 2302 撤销费用明细",
}


class Call:
    """The outcome of one message: the answer text and what the audit log says of it."""

    def __init__(self, text, infcode, replayed=False):
        self.text, self.infcode, self.replayed = text, infcode, replayed


def handle(session, ctx_for, message, *, institution, account, received, responded_at,
           request_id=None):
    """Answer ``message`` (a parsed JSON body). ``ctx_for(envelope)`` makes the ``Context`` (on
    ``session``); ``responded_at()`` is the clock read when the answer is written."""
    infno = msgid = None
    try:
        env = envelope.read_envelope(message, infnos=TRANSACTIONS)
        infno, msgid = env.infno, env.msgid
        ctx = ctx_for(env)
        if env.fixmedins_code != institution.code:
            raise MessageRefused("字段 fixmedins_code 与接口密钥所属的定点医药机构不符")
        if env.mdtrtarea_admvs is not None and env.mdtrtarea_admvs != institution.region_code:
            raise MessageRefused("字段 mdtrtarea_admvs 与本机构所在的医保区划不符")
        digest = fingerprint("his", infno=infno, input=env.input)
        earlier = session.scalars(select(NationalMessage).filter_by(
            institution_code=institution.code, msgid=msgid)).first()
        if earlier is not None:
            return _replay(session, earlier, digest, account, request_id)
        try:
            output = _run(session, infno, ctx)
        except IntegrityError:  # another message of this visit (a number, a line) got there first
            raise MessageRefused("报文与同时到达的另一笔报文冲突（如相同的门诊号或费用明细流水号），"
                                 "请查询后重试") from None
        except DataError:  # a value the database cannot hold, past the field checks
            raise MessageRefused("报文中有无法保存的值，请检查各字段") from None
        text = envelope.dumps(envelope.answer(
            infcode=0, output=output, err_msg=None, received=received,
            responded=responded_at(), region_code=institution.region_code))
        session.add(NationalMessage(institution_code=institution.code, msgid=msgid, infno=infno,
                                    request_hash=digest, answer=text))
        _audit(session, account, infno, msgid, 0, request_id, output)
        try:
            session.commit()
        except IntegrityError:  # the same msgid raced in: the first one's answer stands
            session.rollback()
            earlier = session.scalars(select(NationalMessage).filter_by(
                institution_code=institution.code, msgid=msgid)).first()
            if earlier is None:
                raise
            return _replay(session, earlier, digest, account, request_id)
        return Call(text, 0)
    except MessageRefused as refused:
        err_msg = refused.err_msg
    except TokenError as refused:
        err_msg = REFUSALS.get(refused.code, "医保电子凭证码无效")
    except YimaError as refused:
        err_msg = REFUSALS.get(refused.code) or f"交易被拒绝（{refused.code}）"
    session.rollback()
    _audit(session, account, infno, msgid, -1, request_id, None)
    session.commit()
    text = envelope.dumps(envelope.answer(
        infcode=-1, output=None, err_msg=err_msg, received=received, responded=responded_at(),
        region_code=institution.region_code))
    return Call(text, -1)


def _run(session, infno, ctx):
    """The transaction. A settlement (2207, 2304) or reversal of a visit that another message
    (another msgid: a HIS that timed out and sent again, a second terminal) settled while this one
    ran loses the race on the visit's Idempotency-Key: run again, it finds the visit settled and
    answers that settlement, as it would have a moment later."""
    for attempt in range(3):
        try:
            return TRANSACTIONS[infno](ctx)
        except YimaError as refused:
            if refused.code != "idempotency_key_reused" or attempt == 2:
                raise
            session.rollback()  # the winner has committed: its unique key made this one wait


def _replay(session, earlier, digest, account, request_id):
    if earlier.request_hash != digest:
        raise MessageRefused(f"字段 msgid {earlier.msgid} 已用于另一笔报文，请使用新的 msgid")
    _audit(session, account, earlier.infno, earlier.msgid, 0, request_id, None, replayed=True)
    session.commit()
    return Call(earlier.answer, 0, replayed=True)


def _audit(session, account, infno, msgid, infcode, request_id, output, replayed=False):
    """The call, without personal data: transaction, msgid, result, and the visit's or the
    settlement's own numbers where the answer has them."""
    detail = {"infno": infno, "infcode": infcode}
    if replayed:
        detail["replayed"] = True
    for part in ("data", "setlinfo"):
        found = output.get(part) if isinstance(output, dict) else None
        if isinstance(found, dict):
            detail.update({name: found[name] for name in ("mdtrt_id", "setl_id")
                           if found.get(name)})
    audit.record(session, actor=account.login, action=f"his.{infno or 'unknown'}",
                 target_type="his_message", target_id=(msgid or "-")[:64], detail=detail,
                 region_code=None, request_id=request_id)
