"""Who the messages are about: the pseudonymous person number, the visit a scanned code is bound
to, the short visit token, and 1101 人员信息获取. No Flask.

A code is spent once by 1101 (the counter's replay guard: the same Redis key as /api/v1/verify),
and the visit it opens at this institution remembers its digest. The same code in this visit's
later messages is that scan; at another institution, or for a later visit, it is refused."""
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import select

from ..models import Institution, NationalVisit, Person
from ..models.base import CHINA, at
from ..oversight import audit
from . import dictionaries as dicts
from .envelope import MessageRefused, choice, code_field, field, yuan

TOKEN_PREFIX = "YV"
TOKEN_LENGTH = 34  # the national mdtrt_cert_no is 50 characters; a Yima code is about 300
MAX_CODE_LENGTH = 1000
IDENTIFIED_FOR = timedelta(hours=12)  # a 1101 read not followed by 2201/2401 lapses
OPEN = ("identified", "registered")


@dataclass
class Context:
    """What a transaction may use: the session, Redis, the API key's service account and its
    institution, the time, the server's hash key, the online code check (``verify(code)``,
    spending the code), the envelope, and a request id for the audit log."""
    session: Any
    store: Any
    account: Any
    institution: Institution
    now: int
    hash_key: str
    verify: Callable
    envelope: Any
    request_id: str | None = None


def _mac(key, label, text, length):
    digest = hmac.new(key.encode(), f"{label}|{text}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:length]


def psn_no(hash_key, institution_code, person):
    """A stable person number for one institution: a keyed hash of the registry's own keyed ID
    hash, so it is never the ID number, and two institutions cannot join their lists by it."""
    return "P" + _mac(hash_key, f"psn_no|{institution_code}", person.national_id_hash, 29)


def _digest(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def visit_token(hash_key, code_digest):
    """The short token a HIS may send as ``mdtrt_cert_no`` instead of the whole code."""
    return TOKEN_PREFIX + _mac(hash_key, "visit_token", code_digest, TOKEN_LENGTH - 2)


def insutype_of(person):
    return dicts.INSUTYPE_OF_CLASS[person.insurance_class]


def certificate(data, where):
    """``mdtrt_cert_type`` and ``mdtrt_cert_no`` of a message: (kind, text) or (None, None)."""
    text = field(data, "mdtrt_cert_no", where, required=False, max_length=MAX_CODE_LENGTH)
    if text is None:
        return None
    choice(data, "mdtrt_cert_type", where, tuple(dicts.MDTRT_CERT_TYPES))
    return text


def visit_of_certificate(ctx, text):
    """The visit at this institution that the code (or its visit token) belongs to, or None."""
    digest = _digest(text)
    column = NationalVisit.token_digest if text.startswith(TOKEN_PREFIX) \
        and len(text) == TOKEN_LENGTH else NationalVisit.code_digest
    return ctx.session.scalars(select(NationalVisit).where(
        column == digest, NationalVisit.institution_code == ctx.institution.code)).first()


def visit_of_message(ctx, data, where, *, kinds=None):
    """The visit named by ``mdtrt_id`` (and ``psn_no``) at this institution; a certificate in the
    message must be this visit's code or token."""
    mdtrt_id = code_field(data, "mdtrt_id", where)
    visit = ctx.session.scalars(select(NationalVisit).filter_by(
        mdtrt_id=mdtrt_id, institution_code=ctx.institution.code)).first()
    if visit is None:
        raise MessageRefused(f"字段 {where}mdtrt_id：本机构无此就诊")
    given = field(data, "psn_no", where, required=False, max_length=30)
    if given is not None and not hmac.compare_digest(given, visit.psn_no):
        raise MessageRefused(f"字段 {where}psn_no 与就诊 {mdtrt_id} 的人员编号不符")
    text = certificate(data, where)
    if text is not None and not _is_this_visits(ctx, visit, text):
        raise MessageRefused(f"字段 {where}mdtrt_cert_no 不是本次就诊扫描的医保电子凭证")
    if kinds is not None and visit.kind not in kinds:
        raise MessageRefused(f"字段 {where}mdtrt_id：就诊 {mdtrt_id} 不是"
                             f"{'住院' if 'inpatient' in kinds else '门诊'}就诊")
    return visit


def _is_this_visits(ctx, visit, text):
    found = visit_of_certificate(ctx, text)
    return found is not None and found.id == visit.id


def open_visit_for_registration(ctx, data, where):
    """2201 / 2401: the visit that 1101 opened with this certificate, not yet registered."""
    text = certificate(data, where)
    if text is None:
        raise MessageRefused(f"缺少必填字段 {where}mdtrt_cert_no")
    visit = visit_of_certificate(ctx, text)
    if visit is None:
        raise MessageRefused(f"字段 {where}mdtrt_cert_no：请先以 1101 读取该医保电子凭证")
    if visit.status != "identified":
        raise MessageRefused(f"字段 {where}mdtrt_cert_no：该医保电子凭证已用于就诊 "
                             f"{visit.mdtrt_id or ''}，新的就诊请患者出示新的码")
    if at(ctx.now) - visit.identified_at > IDENTIFIED_FOR:
        raise MessageRefused(f"字段 {where}mdtrt_cert_no：读卡已超过 12 小时，请重新扫码")
    given = field(data, "psn_no", where, max_length=30)
    if not hmac.compare_digest(given, visit.psn_no):
        raise MessageRefused(f"字段 {where}psn_no 与该医保电子凭证的人员编号不符")
    return visit


def new_mdtrt_id(ctx):
    day = at(ctx.now).astimezone(CHINA).strftime("%Y%m%d")
    return f"{ctx.institution.region_code}{day}{secrets.randbelow(10**10):010d}"


def person_info(ctx):
    """1101 人员信息获取, with an e-voucher code (or the visit token of an open visit)."""
    data = ctx.envelope.input.get("data")
    if not isinstance(data, dict):
        raise MessageRefused("字段 input.data 应为 JSON 对象")
    choice(data, "mdtrt_cert_type", "data.", tuple(dicts.MDTRT_CERT_TYPES))
    text = field(data, "mdtrt_cert_no", "data.", max_length=MAX_CODE_LENGTH)
    visit = visit_of_certificate(ctx, text)
    if visit is not None:  # this visit's code again: the same scan, not a replay
        if visit.status not in OPEN:
            raise MessageRefused("字段 data.mdtrt_cert_no：该医保电子凭证已完成一次就诊，"
                                 "请患者出示新的码")
        person = ctx.session.get(Person, visit.person_id)
    elif text.startswith(TOKEN_PREFIX) and len(text) == TOKEN_LENGTH:
        raise MessageRefused("字段 data.mdtrt_cert_no：本机构无此就诊凭证令牌")
    else:
        holder = ctx.verify(text)  # spends the code; refusals are TokenError / Forbidden
        person = ctx.session.get(Person, holder.person.id)
        digest = _digest(text)
        visit = NationalVisit(
            institution_code=ctx.institution.code, person_id=person.id,
            psn_no=psn_no(ctx.hash_key, ctx.institution.code, person), code_digest=digest,
            token_digest=_digest(visit_token(ctx.hash_key, digest)),
            credential_jti=holder.claims.jti, code_step=holder.step,
            insutype=insutype_of(person), status="identified", identified_at=at(ctx.now))
        ctx.session.add(visit)
        ctx.session.flush()
        audit.record(ctx.session, actor=ctx.account.login, action="person.read",
                     target_type="person", target_id=person.holder_id,
                     detail={"via": "his_1101", "institution": ctx.institution.code},
                     request_id=ctx.request_id)
    check_insured_region(ctx, person)
    return {
        "baseinfo": {
            "psn_no": visit.psn_no, "psn_cert_type": dicts.PSN_CERT_TYPE_ID_CARD,
            "certno": person.national_id_masked, "psn_name": person.name,
            "gend": None, "naty": None, "brdy": None, "age": None,
            "ectoken": visit_token(ctx.hash_key, visit.code_digest),
        },
        "insuinfo": [{
            "balc": yuan(person.personal_account_fen), "insutype": visit.insutype,
            "psn_type": None, "psn_insu_stas": "1", "psn_insu_date": None,
            "paus_insu_date": None, "cvlserv_flag": "0",
            "insuplc_admdvs": person.home_region, "emp_name": None,
        }],
        "idetinfo": [],
    }


def check_insured_region(ctx, person):
    region = ctx.envelope.insuplc_admdvs
    if region is not None and region != person.home_region:
        raise MessageRefused(f"字段 insuplc_admdvs（{region}）与参保人的参保地不符")
