"""The national interface's front door: ``POST /his/v1/call`` takes a 两定机构 message (the
national request envelope) from a hospital system with its institution's API key, and answers the
national response envelope (backend/national/, docs/national-interface.md)."""
import json
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_login import current_user
from pydantic import Field

from ..national import envelope, gateway
from ..national.visits import Context
from ..patients import credentials
from ..service.errors import Forbidden
from ..service.extensions import db, limiter, redis_client
from ..service.issuer import current_ring, verified_credentials
from ..service.limits import configured, principal_key
from .schemas import Body, Out, _requires, api, responses

bp = Blueprint("his", __name__, url_prefix="/his/v1")


def _documented(kind, description, **schema):
    """A field the gateway checks itself (answering infcode -1 in Chinese), documented here."""
    def document(field):
        field.pop("default", None)
        field.pop("anyOf", None)
        field.update(type=kind, **schema)
    return Field(None, description=description, json_schema_extra=document)


def _object(required, optional=(), **nested):
    """A documented object: text fields (national codes, yuan as numbers or numeric text)."""
    properties = {name: {"type": ["string", "number"]} for name in (*required, *optional)}
    properties.update(nested)
    return {"type": "object", "required": [*required, *nested], "properties": properties}


_CERT = ("mdtrt_cert_type", "mdtrt_cert_no")
_FEE_LINE = _object(("feedetl_sn", "mdtrt_id", "psn_no", "chrg_bchno", "fee_ocur_time",
                     "med_list_codg", "medins_list_codg", "det_item_fee_sumamt", "cnt", "pric",
                     "med_chrgitm_type", "chrgitm_lv"))
_SETTLE = _object(("mdtrt_id", "psn_no", "medfee_sumamt"),
                  (*_CERT, "med_type", "insutype", "psn_setlway", "acct_used_flag", "chrg_bchno",
                   "mid_setl_flag"))
_FEES = {"type": "object", "required": ["feedetail"],
         "properties": {"feedetail": {"type": "array", "items": _FEE_LINE, "minItems": 1,
                                      "maxItems": 100}}}
_VISIT = _object(("mdtrt_id", "psn_no"), ("ipt_otp_no", "setl_id", "chrg_bchno", "feedetl_sn"))
# The ``input`` of each transaction (docs/national-interface.md has every field read and ignored).
INPUTS = {
    "1101 人员信息获取": {"data": _object(_CERT)},
    "2201 门诊挂号": {"data": _object(("psn_no", "insutype", "begntime", *_CERT, "ipt_otp_no"))},
    "2202 门诊挂号撤销 / 2205 门诊费用明细撤销 / 2208, 2305 结算撤销 / 2302 住院费用明细撤销 / "
    "2404 入院撤销 / 5203 结算信息查询": {"data": _VISIT},
    "2203 就诊信息上传": {"mdtrtinfo": _object(("mdtrt_id", "psn_no", "med_type"), ("begntime",)),
                    "diseinfo": {"type": "array", "items": {"type": "object"}}},
    "2204 门诊 / 2301 住院费用明细上传": None,
    "2206, 2303 预结算 / 2207, 2304 结算": {"data": _SETTLE},
    "2401 入院办理": {"mdtrtinfo": _object(("psn_no", "insutype", "begntime", *_CERT, "med_type",
                                          "ipt_no", "adm_dept_name", "dise_codg", "dise_name")),
                  "diseinfo": {"type": "array", "items": {"type": "object"}}},
    "2402 出院办理": {"dscginfo": _object(("mdtrt_id", "psn_no", "endtime"))},
    "3201 对总账": {"data": _object(("insutype", "clr_type", "stmt_begndate", "stmt_enddate",
                                    "medfee_sumamt", "fund_pay_sumamt", "acct_pay",
                                    "fixmedins_setl_cnt"), ("setl_optins",))},
}
INPUT_SCHEMAS = [
    {"title": title, **(_FEES if parts is None else
                        {"type": "object", "required": list(parts), "properties": parts})}
    for title, parts in INPUTS.items()]


class MessageIn(Body):
    """The national request envelope. Yima checks every field itself and answers a bad one with
    ``infcode -1`` and a Chinese ``err_msg`` naming it."""
    model_config = _requires("infno", "msgid", "fixmedins_code", "opter", "inf_time", "input")

    infno: Any = _documented("string", "交易编号: 1101, 2201–2208, 2301–2305, 2401–2404, 3201, 5203",
                             maxLength=4)
    msgid: Any = _documented("string", "发送方报文ID, unique per institution (institution code + "
                             "yyyyMMddHHmmss + sequence); the same msgid again answers the first "
                             "answer", maxLength=40)
    mdtrtarea_admvs: Any = _documented("string", "就医地医保区划 (checked if sent)", maxLength=6)
    insuplc_admdvs: Any = _documented("string", "参保地医保区划 (checked if sent)", maxLength=6)
    recer_sys_code: Any = _documented("string", "接收方系统代码 (ignored)")
    dev_no: Any = _documented("string", "设备编号 (ignored)")
    dev_safe_info: Any = _documented("string", "设备安全信息 (ignored)")
    cainfo: Any = _documented("string", "数字签名信息 (ignored: the API key authenticates)")
    signtype: Any = _documented("string", "签名类型 (ignored)")
    infver: Any = _documented("string", "接口版本号 (ignored)")
    opter_type: Any = _documented("string", "经办人类别: 1 经办人, 2 自助终端, 3 移动终端")
    opter: Any = _documented("string", "经办人 (the HIS operator's number)", maxLength=30)
    opter_name: Any = _documented("string", "经办人姓名 (ignored: not kept)")
    inf_time: Any = _documented("string", "交易时间, yyyy-MM-dd HH:mm:ss China time")
    fixmedins_code: Any = _documented("string", "定点医药机构编号: the API key's institution")
    fixmedins_name: Any = _documented("string", "定点医药机构名称 (ignored)")
    sign_no: Any = _documented("string", "交易签到流水号 (ignored: no 9001 sign-in)")
    input: Any = _documented("object", "交易输入: `data`, `feedetail`, `mdtrtinfo`, … as the "
                             "transaction has it (docs/national-interface.md)",
                             anyOf=INPUT_SCHEMAS)


class AnswerOut(Out):
    """The national response envelope (also for a refused key: 401/403 with infcode -1 and the
    API's stable ``code``, `unauthenticated` or `forbidden`)."""
    infcode: int = Field(description="0 success, -1 failure")
    inf_refmsgid: str = Field(description="接收方报文ID (Yima's id of this answer)")
    refmsg_time: str = Field(description="接收报文时间, yyyyMMddHHmmssSSS China time")
    respond_time: str = Field(description="响应报文时间, yyyyMMddHHmmssSSS China time")
    err_msg: str | None = Field(description="错误信息 (Chinese, naming the field)")
    output: dict[str, Any] | None = Field(description="交易输出; money in yuan with two decimals")


def _is_1101():
    message = request.get_json(silent=True)
    return isinstance(message, dict) and message.get("infno") == "1101"


@bp.post("/call")
@limiter.limit(configured("VERIFY_RATE_LIMIT"), key_func=principal_key,
               exempt_when=lambda: not _is_1101(), override_defaults=False)  # + anonymous writes
@api.validate(json=MessageIn,
              resp=responses(HTTP_200=AnswerOut,
                             HTTP_401=(AnswerOut, "No institution API key (`Bearer yk_…`): the "
                                                  "national envelope with infcode -1"),
                             HTTP_403=(AnswerOut, "Not an institution API key (a login, a "
                                                  "validator): the national envelope with "
                                                  "infcode -1"),
                             errors=(429,)),
              tags=["national interface"])
def his_call():
    """One national message (两定机构接口), answered with the national envelope."""
    received = time.time()
    refused = _refusal()
    if refused is not None:  # with the stable code every refusal of the API carries
        status, code, err_msg = refused
        return _send(envelope.dumps({**envelope.answer(
            infcode=-1, output=None, err_msg=err_msg, received=received,
            responded=time.time()), "code": code}), status)
    institution = current_user.institution
    now = int(received)

    def verify(code):  # 1101: the counter's online check, spending the code
        if not institution.accepts_evoucher:
            raise Forbidden("This institution does not accept the medical e-voucher yet.",
                            code="evoucher_not_accepted")
        window = current_app.config["CODE_WINDOW_STEPS"]
        return credentials.verify_code(
            db.session, credentials.RedisReplayGuard(redis_client.client(), window), code=code,
            context="hospital", ring=current_ring(), now=now, window=window,
            verified_credentials=verified_credentials())

    def context(env):
        return Context(session=db.session, store=redis_client.client(), account=current_user,
                       institution=institution, now=now,
                       hash_key=current_app.config["ID_HASH_KEY"], verify=verify, envelope=env,
                       request_id=g.get("request_id"))

    call = gateway.handle(db.session, context, request.get_json(silent=True),
                          institution=institution, account=current_user, received=received,
                          responded_at=time.time, request_id=g.get("request_id"))
    g.his_infcode = call.infcode
    return _send(call.text, 200)


def _refusal():
    if not current_user.is_authenticated:
        return 401, "unauthenticated", "缺少或无效的接口密钥（Authorization: Bearer yk_…）"
    if not g.get("api_key_client") or current_user.role != "cashier" \
            or current_user.institution_code is None:
        return 403, "forbidden", "本接口只受理定点医药机构的接口密钥"
    return None


def _send(text, status):
    return Response(text, status=status, mimetype="application/json")


# A refusal before the message is read (not JSON, too large, too frequent, the service down) is
# the API's problem document; a HIS reads ``infcode`` and ``err_msg``, so it carries them too.
TRANSPORT_REFUSALS = {
    "invalid_json": "报文不是合法的 JSON 对象",
    "json_too_deep": "报文嵌套层数过多",
    "invalid_text": "报文含有无法识别的字符（如孤立的代理字符）",
    "payload_too_large": "报文过大（不得超过 1 MB）",
    "validation_failed": "报文格式不符合接口规范",
    "method_not_allowed": "请用 POST 发送报文",
    "unsupported_media_type": "报文须为 application/json",
    "rate_limited": "请求过于频繁，请稍后重发",
    "service_unavailable": "医保服务暂时不可用，请稍后重发",
    "written_meanwhile": "同一报文正被另一请求处理，本次未保存任何内容，请稍后重发",
}


@bp.after_request
def _national_fields(response):
    if response.mimetype != "application/problem+json":
        return response
    problem = json.loads(response.get_data(as_text=True))
    now = time.time()
    problem.update(envelope.answer(
        infcode=-1, output=None, received=now, responded=now,
        err_msg=TRANSPORT_REFUSALS.get(problem.get("code"), "报文无法受理") +
        f"（{problem.get('code')}）"))
    response.set_data(json.dumps(problem, ensure_ascii=False))
    return response
