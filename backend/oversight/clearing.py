"""The cross-region clearing report (清算): what each insured region's fund owes each treating
region. No Flask."""
from sqlalchemy import case, func, select

from ..models import Settlement


def clearing(session, *, start, end, region_code=None):
    """What each insured region's fund owes each treating region, by institution, for cross-region
    settlements made in [start, end) (refunds net out). Rows: payer, payee, institution, count, fen."""
    query = (select(Settlement.insured_region, Settlement.treating_region,
                    Settlement.institution_code,
                    func.sum(case((Settlement.kind == "settlement", 1), else_=-1)),
                    func.sum(Settlement.fund_fen))
             .filter(Settlement.insured_region != Settlement.treating_region,
                     Settlement.created_at >= start, Settlement.created_at < end)
             .group_by(Settlement.insured_region, Settlement.treating_region,
                       Settlement.institution_code)
             .order_by(Settlement.insured_region, Settlement.treating_region,
                       Settlement.institution_code))
    if region_code is not None:
        query = query.filter((Settlement.insured_region == region_code)
                             | (Settlement.treating_region == region_code))
    return [{"insured_region": payer, "treating_region": payee, "institution": institution,
             "settlements": int(count or 0), "fund_fen": int(fund or 0)}
            for payer, payee, institution, count, fund in session.execute(query)]
