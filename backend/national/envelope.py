"""The national message envelope: reading its fields, the national formats (decimal yuan with two
places, ``yyyy-MM-dd HH:mm:ss`` China time), and writing the answer. No Flask.

Every refusal is a ``MessageRefused`` with a Chinese ``err_msg`` that names the field; the gateway
answers it as ``infcode -1``."""
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ..models.base import CHINA

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
MAX_YUAN = Decimal("99999999.99")
FIRST_YEAR, LAST_YEAR = 2000, 2099
_MSGID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
_NUMBER = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,8})?$")  # numeric text: no exponent, no "_"
_CODE_TEXT = re.compile(r"^[0-9A-Za-z_.:-]{1,30}$")  # national ids: mdtrt_id, feedetl_sn, …


class MessageRefused(Exception):
    """A message Yima will not run: answered ``infcode -1`` with ``err_msg``."""

    def __init__(self, err_msg):
        super().__init__(err_msg)
        self.err_msg = err_msg


@dataclass(frozen=True)
class Envelope:
    infno: str
    msgid: str
    fixmedins_code: str
    opter: str
    opter_type: str
    inf_time: datetime
    mdtrtarea_admvs: str | None
    insuplc_admdvs: str | None
    input: dict


def field(container, name, where, *, required=True, max_length=50, pattern=None):
    """A text field of ``container`` (a dict), trimmed; None when optional and absent or empty."""
    value = container.get(name) if isinstance(container, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # HIS code often sends numeric codes as numbers
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise MessageRefused(f"缺少必填字段 {where}{name}")
        return None
    if not isinstance(value, str):
        raise MessageRefused(f"字段 {where}{name} 应为字符串")
    value = value.strip()
    if any(ord(char) < 32 or char == "\x7f" for char in value):  # NUL cannot be stored at all
        raise MessageRefused(f"字段 {where}{name} 含有控制字符")
    if len(value) > max_length:
        raise MessageRefused(f"字段 {where}{name} 超过 {max_length} 个字符")
    if pattern is not None and not pattern.match(value):
        raise MessageRefused(f"字段 {where}{name} 格式不正确")
    return value


def code_field(container, name, where, *, required=True):
    """An identifier Yima issued or the HIS numbers with (mdtrt_id, setl_id, feedetl_sn, …)."""
    return field(container, name, where, required=required, max_length=30, pattern=_CODE_TEXT)


def choice(container, name, where, allowed, *, required=True, default=None):
    value = field(container, name, where, required=required, max_length=10)
    if value is None:
        return default
    if value not in allowed:
        raise MessageRefused(f"字段 {where}{name} 的值 {value} 不在 Yima 受理的字典值内"
                             f"（{'、'.join(allowed)}）")
    return value


def yuan_to_fen(container, name, where, *, required=True, allow_zero=False):
    """Decimal yuan (a JSON number or a numeric string, at most two places) to integer fen."""
    value = container.get(name) if isinstance(container, dict) else None
    if value is None or value == "":
        if required:
            raise MessageRefused(f"缺少必填字段 {where}{name}")
        return None
    amount = _decimal(value, f"{where}{name}")
    if amount < 0 or amount > MAX_YUAN or (amount == 0 and not allow_zero):
        raise MessageRefused(f"字段 {where}{name} 金额超出范围")
    if amount != amount.quantize(Decimal("0.01")):  # after the range: 1E+100 cannot be quantized
        raise MessageRefused(f"字段 {where}{name} 最多两位小数（元）")
    return int(amount * 100)


def decimal_field(container, name, where, *, places):
    value = container.get(name) if isinstance(container, dict) else None
    if value is None or value == "":
        raise MessageRefused(f"缺少必填字段 {where}{name}")
    amount = _decimal(value, f"{where}{name}")
    if amount <= 0 or amount > MAX_YUAN or amount != round(amount, places):
        raise MessageRefused(f"字段 {where}{name} 数值超出范围或小数位过多")
    return amount


def _decimal(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) \
            or (isinstance(value, str) and len(value) > 24):
        raise MessageRefused(f"字段 {name} 应为数值")
    if isinstance(value, str) and not _NUMBER.match(value.strip()):
        raise MessageRefused(f"字段 {name} 应为数值")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MessageRefused(f"字段 {name} 应为数值") from None
    if not amount.is_finite():
        raise MessageRefused(f"字段 {name} 应为数值")
    return amount


def time_field(container, name, where, *, required=True):
    """``yyyy-MM-dd HH:mm:ss`` China time, as an aware datetime."""
    text = field(container, name, where, required=required, max_length=19)
    if text is None:
        return None
    try:
        moment = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=CHINA)
    except ValueError:
        raise MessageRefused(f"字段 {where}{name} 应为 yyyy-MM-dd HH:mm:ss") from None
    return _plausible(moment, f"{where}{name}")


def date_field(container, name, where):
    text = field(container, name, where, max_length=10)
    try:
        day = datetime.strptime(text, DATE_FORMAT)
    except ValueError:
        raise MessageRefused(f"字段 {where}{name} 应为 yyyy-MM-dd") from None
    return _plausible(day, f"{where}{name}").date()


def _plausible(moment, name):
    """Years a medical-insurance message can mean (year 1 or 9999 would overflow on the way to
    UTC and the database)."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise MessageRefused(f"字段 {name} 的年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间")
    return moment


def read_envelope(message, *, infnos):
    """The envelope of a request, checked; its ``input`` stays a dict for the transaction."""
    if not isinstance(message, dict):
        raise MessageRefused("报文应为 JSON 对象")
    infno = field(message, "infno", "", max_length=4)
    if infno not in infnos:
        raise MessageRefused(f"字段 infno 的交易编号 {infno} Yima 不受理")
    msgid = field(message, "msgid", "", max_length=40, pattern=_MSGID)
    body = message.get("input")
    if not isinstance(body, dict):
        raise MessageRefused("字段 input 应为 JSON 对象")
    return Envelope(
        infno=infno, msgid=msgid,
        fixmedins_code=field(message, "fixmedins_code", "", max_length=30),
        opter=field(message, "opter", "", max_length=30),
        opter_type=choice(message, "opter_type", "", ("1", "2", "3"), required=False,
                          default="1"),
        inf_time=time_field(message, "inf_time", ""),
        mdtrtarea_admvs=field(message, "mdtrtarea_admvs", "", required=False, max_length=6),
        insuplc_admdvs=field(message, "insuplc_admdvs", "", required=False, max_length=6),
        input=body)


def yuan(fen):
    """Integer fen as the answer's decimal yuan (two places, written as a JSON number)."""
    return Yuan(fen)


class Yuan(int):
    """Fen, written into the answer as yuan with two places (``dumps``)."""


def china_time(moment):
    return moment.astimezone(CHINA).strftime(TIME_FORMAT)


def envelope_time(unix_seconds):
    """``refmsg_time`` / ``respond_time``: yyyyMMddHHmmssSSS, China time (the national form)."""
    moment = datetime.fromtimestamp(unix_seconds, CHINA)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def answer(*, infcode, output, err_msg, received, responded, region_code="000000"):
    return {
        "infcode": infcode,
        "inf_refmsgid": region_code + datetime.fromtimestamp(responded, CHINA)
        .strftime("%Y%m%d%H%M%S") + secrets.token_hex(5),
        "refmsg_time": envelope_time(received),
        "respond_time": envelope_time(responded),
        "err_msg": err_msg,
        "warn_msg": None,
        "cainfo": None,
        "signtype": None,
        "output": output,
    }


def dumps(document):
    """JSON text of an answer, with every ``Yuan`` as a number with two decimals (350.00)."""
    marker = secrets.token_hex(8)

    def encode(value):
        if isinstance(value, Yuan):
            return f"{marker}{int(value)}"
        raise TypeError(type(value).__name__)

    def walk(value):
        if isinstance(value, Yuan):
            return encode(value)
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    text = json.dumps(walk(document), ensure_ascii=False, separators=(",", ":"))
    return re.sub(f'"{marker}(-?[0-9]+)"', lambda found: _two_places(int(found.group(1))), text)


def _two_places(fen):
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
