"""Where the codes work: the institutions that accept the medical e-voucher and the zone's bus lines
with their fares. Public (no login: a person checks before going), searchable, and cacheable — the
service worker keeps the last copy for offline use."""
from flask import jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..models import BusLine, Institution, Region
from ..service.errors import ValidationFailed
from ..service.extensions import db
from .blueprint import bp
from .schemas import DirectoryQuery, InstitutionDirectoryOut, LineDirectoryOut, api, responses

MAX_AGE = 3600  # an hour: an institution starting or stopping the e-voucher shows within that


def _names(zh, en):
    return {"zh": zh, "en": en}


def _search():
    """The ``q`` and ``region`` filters, checked: no input is an error page."""
    q = (request.args.get("q") or "").strip()
    region = (request.args.get("region") or "").strip()
    problems = {}
    if len(q) > 40:
        problems["q"] = "at most 40 characters"
    if region and not (region.isascii() and region.isdigit() and len(region) == 6):
        problems["region"] = "a six-digit region code"
    if problems:
        raise ValidationFailed("Search with q (up to 40 characters) and region (a six-digit code).",
                               code="bad_search", extra={"fields": problems})
    return q, region


def _like(text):
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _cacheable(response):
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


@bp.get("/directory/institutions")
@api.validate(query=DirectoryQuery,
              resp=responses(HTTP_200=InstitutionDirectoryOut,
                             errors={422: "`bad_search`: q too long or region not a code"}),
              tags=["directory"])
def directory_institutions():
    """Institutions that accept the e-voucher QR, by region, level (3 first) and name. ``q``
    matches the Chinese or English name, ``region`` the region code."""
    q, region = _search()
    query = (select(Institution, Region).join(Region, Region.code == Institution.region_code)
             .where(Institution.accepts_evoucher.is_(True))
             .order_by(Institution.region_code, Institution.level.desc(), Institution.code))
    if q:
        query = query.where(or_(Institution.name_zh.like(_like(q), escape="\\"),
                                Institution.name_en.ilike(_like(q), escape="\\")))
    if region:
        query = query.where(Institution.region_code == region)
    institutions = [{"code": i.code, "name": _names(i.name_zh, i.name_en), "level": i.level,
                     "region": {"code": r.code, "name": _names(r.name_zh, r.name_en)}}
                    for i, r in db.session.execute(query)]
    return _cacheable(jsonify(institutions=institutions, total=len(institutions)))


@bp.get("/directory/lines")
@api.validate(query=DirectoryQuery,
              resp=responses(HTTP_200=LineDirectoryOut,
                             errors={422: "`bad_search`: q too long or region not a code"}),
              tags=["directory"])
def directory_lines():
    """The zone's bus lines that take the ride code, with their fares (fen) and the regions they
    serve. ``q`` matches the name, ``region`` a region served."""
    q, region = _search()
    query = select(BusLine).options(selectinload(BusLine.regions)).order_by(BusLine.code)
    if q:
        query = query.where(or_(BusLine.name_zh.like(_like(q), escape="\\"),
                                BusLine.name_en.ilike(_like(q), escape="\\"),
                                BusLine.code.ilike(_like(q), escape="\\")))
    lines = [{"code": line.code, "name": _names(line.name_zh, line.name_en), "fare_fen": line.fare_fen,
              "regions": [{"code": r.code, "name": _names(r.name_zh, r.name_en)} for r in line.regions]}
             for line in db.session.scalars(query)
             if not region or any(r.code == region for r in line.regions)]
    return _cacheable(jsonify(lines=lines, total=len(lines)))
