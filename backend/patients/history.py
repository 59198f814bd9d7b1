"""A patient's own history: settlements (with their lines and whether they were refunded), rides
and wallet entries, newest first, a page at a time; and when each of their phones was last used.

Every time is given in China time with its offset (``china_iso``). Pages continue below an id
(``before``); ``next_before`` is None on the last page. No Flask."""
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..models import (BusLine, Credential, Device, Institution, Region, Ride, Settlement,
                      WalletEntry)
from ..models.base import china_iso
from ..service.errors import ValidationFailed

DEFAULT_PAGE, MOST = 20, 100


def page_args(before, limit):
    """``before`` and ``limit`` as query strings (or None) → ints, or a readable 422."""
    problems = {}
    if before in (None, ""):
        before = None
    elif isinstance(before, str) and before.isascii() and before.isdigit() and len(before) < 19:
        before = int(before)
    else:
        problems["before"] = "an id from next_before"
    if limit in (None, ""):
        limit = DEFAULT_PAGE
    elif isinstance(limit, str) and limit.isascii() and limit.isdigit() and len(limit) < 4 \
            and 1 <= int(limit) <= MOST:
        limit = int(limit)
    else:
        problems["limit"] = f"1 to {MOST}"
    if problems:
        raise ValidationFailed("The page is given by before (an id) and limit (1 to 100).",
                               code="bad_page", extra={"fields": problems})
    return before, limit


def _page(items, limit):
    return {"items": items[:limit], "next_before": items[limit - 1]["id"] if len(items) > limit else None}


def _names(zh, en):
    return {"zh": zh, "en": en}


def settlements(session, person_id, *, before=None, limit=DEFAULT_PAGE):
    """The person's settlements (refunds are shown on the settlement they reverse)."""
    refund = aliased(Settlement)
    query = (select(Settlement, Institution, Region, refund.created_at)
             .join(Institution, Institution.code == Settlement.institution_code)
             .join(Region, Region.code == Settlement.treating_region)
             .outerjoin(refund, refund.reverses_id == Settlement.id)
             .where(Settlement.person_id == person_id, Settlement.kind == "settlement")
             .options(selectinload(Settlement.lines))
             .order_by(Settlement.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(Settlement.id < before)
    items = [{
        "id": s.id, "at": china_iso(s.created_at),
        "institution": {"code": institution.code, "name": _names(institution.name_zh, institution.name_en),
                        "level": institution.level},
        "treating_region": {"code": region.code, "name": _names(region.name_zh, region.name_en)},
        "cross_region": s.insured_region != s.treating_region,
        "total_fen": s.total_fen, "fund_fen": s.fund_fen,
        "personal_account_fen": s.personal_account_fen, "cash_fen": s.cash_fen,
        "refunded": refunded_at is not None, "refunded_at": china_iso(refunded_at),
        "lines": [{"category": line.category, "coverage_class": line.coverage_class,
                   "description": line.description, "amount_fen": line.amount_fen}
                  for line in s.lines],
    } for s, institution, region, refunded_at in session.execute(query)]
    return _page(items, limit)


def rides(session, person_id, *, before=None, limit=DEFAULT_PAGE):
    """The person's rides, latest ride first (a ride uploaded late still sorts by when it was)."""
    query = (select(Ride, BusLine).join(BusLine, BusLine.code == Ride.line_code)
             .where(Ride.person_id == person_id)
             .order_by(Ride.ridden_at.desc(), Ride.id.desc()).limit(limit + 1))
    if before is not None:
        cursor = session.execute(select(Ride.ridden_at, Ride.id).where(
            Ride.id == before, Ride.person_id == person_id)).first()
        if cursor is None:
            return {"items": [], "next_before": None}
        query = query.where(or_(Ride.ridden_at < cursor.ridden_at,
                                and_(Ride.ridden_at == cursor.ridden_at, Ride.id < cursor.id)))
    items = [{"id": ride.id, "at": china_iso(ride.ridden_at),
              "line": {"code": line.code, "name": _names(line.name_zh, line.name_en)},
              "fare_fen": ride.fare_fen, "outcome": ride.outcome}
             for ride, line in session.execute(query)]
    return _page(items, limit)


def wallet(session, person_id, *, before=None, limit=DEFAULT_PAGE):
    query = (select(WalletEntry).where(WalletEntry.person_id == person_id)
             .order_by(WalletEntry.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(WalletEntry.id < before)
    items = [{"id": e.id, "kind": e.kind, "amount_fen": e.amount_fen,
              "balance_after_fen": e.balance_after_fen, "at": china_iso(e.created_at)}
             for e in session.scalars(query)]
    return _page(items, limit)


def last_use(session, device_ids):
    """device id → (the latest moment a phone was used, what for): a settlement or a ride paid
    with one of its codes, or the phone fetching credentials (activation or renewal)."""
    if not device_ids:
        return {}
    found = {}

    def consider(rows, what):
        for device_id, moment in rows:  # a use in the same second as a renewal is the news
            if moment is not None and (device_id not in found or moment > found[device_id][0]
                                       or moment == found[device_id][0] and what != "renewed"):
                found[device_id] = (moment, what)

    ids = list(device_ids)
    consider(session.execute(select(Credential.device_id, func.max(Credential.issued_at))
                             .where(Credential.device_id.in_(ids)).group_by(Credential.device_id)),
             "renewed")
    consider(session.execute(select(Credential.device_id, func.max(Settlement.created_at))
                             .join(Settlement, Settlement.credential_jti == Credential.jti)
                             .where(Credential.device_id.in_(ids)).group_by(Credential.device_id)),
             "settlement")
    consider(session.execute(select(Credential.device_id, func.max(Ride.ridden_at))
                             .join(Ride, Ride.credential_jti == Credential.jti)
                             .where(Credential.device_id.in_(ids)).group_by(Credential.device_id)),
             "ride")
    return found


def devices_with_state(session, account_id):
    """The account's phones with what the app shows of each: when it was activated, revoked and
    why, whose codes it holds and whether that person is suspended, when its credentials expire,
    and its last use."""
    devices = session.scalars(select(Device).filter_by(account_id=account_id)
                              .options(selectinload(Device.person)).order_by(Device.id)).all()
    uses = last_use(session, [d.id for d in devices])
    expiry = dict(session.execute(select(Credential.device_id, func.max(Credential.expires_at))
                                  .where(Credential.device_id.in_([d.id for d in devices]))
                                  .group_by(Credential.device_id)).all()) if devices else {}
    described = []
    for device in devices:
        moment, what = uses.get(device.id, (None, None))
        described.append({
            "device": device,
            "activated_at": china_iso(device.created_at),
            "revoked_at": china_iso(device.revoked_at), "revoke_reason": device.revoke_reason,
            "holder_status": device.person.status,
            "holder_masked_name": device.person.masked_name(),
            "expires_at": china_iso(expiry.get(device.id)),
            "last_used_at": china_iso(moment), "last_used_for": what,
        })
    return described
