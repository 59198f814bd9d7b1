"""3201 对总账: the hospital's totals of a period against Yima's ledger at this institution, by
险种 and 清算类别. No Flask.

Yima's totals are every settlement at this institution (through the national interface or the
counter's own API: one ledger) whose China date falls in the period, minus the reversals of the
period: the sum of the 2207/2304 answers minus the 2208/2305 answers."""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from ..models import InpatientSettlement, Person, Settlement
from ..models.base import CHINA
from . import dictionaries as dicts
from .envelope import MessageRefused, choice, date_field, field, yuan, yuan_to_fen
from .settling import _data

MAX_DAYS = 31


def _is_inpatient():
    """Discharge settlements (the inpatient desk's, through either door) and their reversals."""
    discharges = select(InpatientSettlement.settlement_id)
    return Settlement.id.in_(discharges) | Settlement.reverses_id.in_(discharges)


def totals(session, *, institution_code, insutype, clr_type, first_day, last_day,
           setl_optins=None):
    start = datetime.combine(first_day, time(), CHINA)
    end = datetime.combine(last_day + timedelta(days=1), time(), CHINA)
    query = (select(func.coalesce(func.sum(Settlement.total_fen), 0),
                    func.coalesce(func.sum(Settlement.fund_fen), 0),
                    func.coalesce(func.sum(Settlement.personal_account_fen), 0),
                    func.coalesce(func.sum(Settlement.cash_fen), 0),
                    func.count(Settlement.id).filter(Settlement.kind == "settlement"),
                    func.count(Settlement.id).filter(Settlement.kind == "refund"))
             .join(Person, Person.id == Settlement.person_id)
             .where(Settlement.institution_code == institution_code,
                    Settlement.created_at >= start, Settlement.created_at < end,
                    Person.insurance_class == dicts.INSUTYPES[insutype]))
    inpatient = _is_inpatient()
    query = query.where(inpatient if clr_type == "21" else ~inpatient)
    if setl_optins is not None:
        query = query.where(Settlement.insured_region == setl_optins)
    total, fund, account, cash, settled, reversed_ = session.execute(query).one()
    return {"medfee_sumamt": total, "fund_pay_sumamt": fund, "acct_pay": account,
            "psn_cash_pay": cash, "fixmedins_setl_cnt": settled - reversed_}


def reconcile(ctx):
    data = _data(ctx)
    insutype = choice(data, "insutype", "data.", tuple(dicts.INSUTYPES))
    clr_type = choice(data, "clr_type", "data.", tuple(dicts.CLR_TYPES))
    setl_optins = field(data, "setl_optins", "data.", required=False, max_length=6)
    first_day = date_field(data, "stmt_begndate", "data.")
    last_day = date_field(data, "stmt_enddate", "data.")
    if not timedelta(0) <= last_day - first_day < timedelta(days=MAX_DAYS):
        raise MessageRefused(f"字段 data.stmt_enddate 应不早于 stmt_begndate，且对账期不超过 "
                             f"{MAX_DAYS} 天")
    theirs = {
        "medfee_sumamt": yuan_to_fen(data, "medfee_sumamt", "data.", allow_zero=True),
        "fund_pay_sumamt": yuan_to_fen(data, "fund_pay_sumamt", "data.", allow_zero=True),
        "acct_pay": yuan_to_fen(data, "acct_pay", "data.", allow_zero=True),
        "fixmedins_setl_cnt": _count(data),
    }
    ours = totals(ctx.session, institution_code=ctx.institution.code, insutype=insutype,
                  clr_type=clr_type, first_day=first_day, last_day=last_day,
                  setl_optins=setl_optins)
    differ = [name for name, value in theirs.items() if value != ours[name]]
    return {"stmtinfo": {
        "setl_optins": setl_optins, "stmt_rslt": "1" if differ else "0",
        "stmt_rslt_dscr": ("不平：" + "、".join(differ)) if differ else "平",
        "medfee_sumamt": yuan(ours["medfee_sumamt"]),
        "fund_pay_sumamt": yuan(ours["fund_pay_sumamt"]), "acct_pay": yuan(ours["acct_pay"]),
        "psn_cash_pay": yuan(ours["psn_cash_pay"]),
        "fixmedins_setl_cnt": ours["fixmedins_setl_cnt"],
    }}


def _count(data):
    value = data.get("fixmedins_setl_cnt")
    if isinstance(value, str) and value.strip().lstrip("-").isascii() \
            and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not -10**9 < value < 10**9:
        raise MessageRefused("字段 data.fixmedins_setl_cnt 应为整数")
    return value
