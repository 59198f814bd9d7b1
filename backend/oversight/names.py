"""The names people read for the codes that reports carry: regions, institutions, bus lines (zh and
en), so a screen or a CSV says 青浦区中心医院, not H31011800001. No Flask."""
from sqlalchemy import select

from ..models import BusLine, Institution, Region


def names_for(session, *, regions=(), institutions=(), lines=()):
    """{"regions": {code: {"zh", "en"}}, "institutions": {...}, "lines": {...}} for the codes given
    (unknown codes are left out; the reader falls back to the code)."""
    def lookup(model, key, codes):
        codes = sorted({c for c in codes if isinstance(c, str) and c})
        if not codes:
            return {}
        return {code: {"zh": zh, "en": en} for code, zh, en in session.execute(
            select(key, model.name_zh, model.name_en).where(key.in_(codes)))}
    return {"regions": lookup(Region, Region.code, regions),
            "institutions": lookup(Institution, Institution.code, institutions),
            "lines": lookup(BusLine, BusLine.code, lines)}


def zh(names, kind, code):
    """The Chinese name of a code (the code itself when unknown): for CSV files."""
    return names.get(kind, {}).get(code, {}).get("zh", code or "")
