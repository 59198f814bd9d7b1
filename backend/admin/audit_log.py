"""Reading the audit log in the admin console: filters (actor, action, target, China days), pages
newest first, and for each entry who acted and on what in names a person reads (王晓燕 ·
demo-cashier, 青浦区中心医院, 参保人 沈*芳), never only codes. No Flask.

The log itself keeps what it was given (logins, ``account:<id>`` for patients, codes and ids): names
are looked up when it is read, so a renamed institution reads with its current name."""
import json
import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..models import (Account, ApiKey, AuditEntry, AuditFlag, Institution, Person, Ride, Settlement,
                      Validator)
from ..models.base import CHINA
from ..models.venues import Venue, VenueVerifier
from ..oversight.names import names_for
from ..service.errors import ValidationFailed

ACTION = re.compile(r"^[a-z_]{1,20}(\.[a-z_]{0,20})?$")
TARGET_TYPE = re.compile(r"^[a-z_]{1,30}$")
CLASSES = {"employee": ("职工医保", "employee scheme"), "resident": ("城乡居民医保", "resident scheme")}


def _problem(field, code, detail):
    return {"field": field, "code": code, "detail": detail}


def _day(text, field, problems):
    """A day of the years 2000 to 2999 (9999-12-31 and the next day would overflow: a 500)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        problems.append(_problem(field, "not_date", "A day like 2026-11-29 (years 2000 to 2999)."))
        return None
    return day


def _number(text, field, most, problems, default):
    if text in (None, ""):
        return default
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) < 19 and 1 <= int(text) <= most:
        return int(text)
    problems.append(_problem(field, "limit_out_of_range" if field == "limit" else "not_integer",
                             f"A whole number, 1 to {most}."))
    return default


def _filters(session, args):
    """The WHERE clauses for the filters in ``args`` (a dict of strings), checked."""
    problems, clauses = [], []
    actor = (args.get("actor") or "").strip()
    if actor:
        if len(actor) > 64:
            problems.append(_problem("actor", "too_long", "At most 64 characters."))
        else:  # a login, part of one, or a staff member's name
            logins = session.scalars(select(Account.login).where(
                Account.display_name.contains(actor, autoescape=True))).all()
            clauses.append(AuditEntry.actor.contains(actor, autoescape=True)
                           | AuditEntry.actor.in_(logins))
    action = args.get("action") or ""
    if action:
        if not ACTION.match(action):
            problems.append(_problem("action", "bad_action", "An action like settlement.refund, "
                                     "or an area like settlement."))
        elif action.endswith("."):
            clauses.append(AuditEntry.action.startswith(action, autoescape=True))
        else:
            clauses.append(AuditEntry.action == action)
    target_type = args.get("target_type") or ""
    if target_type:
        if not TARGET_TYPE.match(target_type):
            problems.append(_problem("target_type", "bad_target", "A kind of object, like settlement."))
        else:
            clauses.append(AuditEntry.target_type == target_type)
    target_id = (args.get("target_id") or "").strip()
    if target_id:
        if len(target_id) > 64:
            problems.append(_problem("target_id", "too_long", "At most 64 characters."))
        else:
            clauses.append(AuditEntry.target_id == target_id)
    first = _day(args["from"], "from", problems) if args.get("from") else None
    last = _day(args["to"], "to", problems) if args.get("to") else None
    if first and last and last < first:
        problems.append(_problem("to", "period_backwards", "The last day is before the first."))
    if first:
        clauses.append(AuditEntry.at >= datetime.combine(first, datetime.min.time(), CHINA))
    if last:
        clauses.append(AuditEntry.at < datetime.combine(last + timedelta(days=1),
                                                        datetime.min.time(), CHINA))
    return clauses, problems


def page(session, scope, args):
    """Newest first, ``limit`` entries (1–200, default 50) with an id below ``before``, filtered;
    ``next_before`` continues (None at the end). Each entry has ``actor_info`` and ``target_name``
    ({zh, en}), and ``names`` holds the regions, institutions and lines the page names."""
    clauses, problems = _filters(session, args)
    size = _number(args.get("limit"), "limit", 200, problems, 50)
    before = _number(args.get("before"), "before", 2**63 - 1, problems, None)
    if problems:
        raise ValidationFailed("The audit log cannot be read with these filters: "
                               + problems[0]["detail"], code="bad_page",
                               extra={"problems": problems})
    query = select(AuditEntry).where(*clauses).order_by(AuditEntry.id.desc()).limit(size)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if scope is not None:
        query = query.where(AuditEntry.region_code == scope)
    rows = session.scalars(query).all()
    entries = [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                "target_type": e.target_type, "target_id": e.target_id,
                "detail": json.loads(e.detail or "{}"), "region": e.region_code,
                "request_id": e.request_id} for e in rows]
    actors = _actors(session, {e["actor"] for e in entries})
    targets = _targets(session, entries)
    for entry in entries:
        entry["actor_info"] = actors.get(entry["actor"], {"kind": "other"})
        entry["target_name"] = targets.get((entry["target_type"], entry["target_id"]))
    return {"entries": entries, "next_before": entries[-1]["id"] if len(entries) == size else None,
            "names": _names(session, entries, actors)}


def _ids(values, prefix=""):
    out = set()
    for value in values:
        text = value[len(prefix):] if value.startswith(prefix) else None
        if text is not None and text.isascii() and text.isdigit() and len(text) < 19:
            out.add(int(text))
    return out


def _actors(session, names):
    """Who each actor string is: a staff member (name, role, region, institution), a patient
    (masked name, home region), a validator (label, line), or a command line."""
    found = {}
    logins = [n for n in names if ":" not in n]
    for account, person in session.execute(
            select(Account, Person).outerjoin(Person, Account.person_id == Person.id)
            .where(Account.login.in_(logins) | Account.id.in_(_ids(names, "account:")))):
        if account.role == "patient" and person is not None:
            about = {"kind": "patient", "name": person.masked_name(), "region": person.home_region}
        else:
            about = {"kind": "staff", "login": account.login, "name": account.display_name,
                     "role": account.role, "region": account.region_code,
                     "institution": account.institution_code}
        found[account.login] = found[f"account:{account.id}"] = about
    for validator in session.scalars(select(Validator).where(
            Validator.id.in_(_ids(names, "validator:")))):
        found[f"validator:{validator.id}"] = {"kind": "validator", "id": validator.id,
                                              "name": validator.label, "line": validator.line_code}
    for gate, venue in session.execute(select(VenueVerifier, Venue).join(Venue).where(
            VenueVerifier.id.in_(_ids(names, "venue:")))):
        found[f"venue:{gate.id}"] = {"kind": "venue", "id": gate.id, "name": gate.label,
                                     "venue": _label(venue.name_zh, venue.name_en or venue.name_zh)}
    for name in names:
        if name.startswith("cli:"):
            found[name] = {"kind": "cli", "name": name[4:]}
    return found


def _label(zh, en=None):
    return {"zh": zh, "en": en if en is not None else zh}


def _targets(session, entries):
    """(type, id) -> {zh, en}: the object of each entry, named."""
    wanted = {}
    for entry in entries:
        wanted.setdefault(entry["target_type"], set()).add(entry["target_id"])
    out = {}

    def each(kind, rows):
        for key, label in rows:
            out[(kind, str(key))] = label

    if "institution" in wanted:
        each("institution", ((i.code, _label(i.name_zh, i.name_en)) for i in session.scalars(
            select(Institution).where(Institution.code.in_(wanted["institution"])))))
    if "bus_line" in wanted:
        names = names_for(session, lines=wanted["bus_line"])["lines"]
        each("bus_line", ((code, _label(n["zh"], n["en"])) for code, n in names.items()))
    if "policy" in wanted:
        regions = names_for(session, regions={t.split("/")[0] for t in wanted["policy"]})["regions"]
        for target in wanted["policy"]:
            region, _, cls = target.partition("/")
            if region in regions and cls in CLASSES:
                out[("policy", target)] = _label(f"{regions[region]['zh']} · {CLASSES[cls][0]}",
                                                 f"{regions[region]['en']} · {CLASSES[cls][1]}")
    if "account" in wanted:
        for account in session.scalars(select(Account).where(Account.id.in_(_ids(wanted["account"])))):
            if account.role == "patient":
                person = session.get(Person, account.person_id)
                out[("account", str(account.id))] = _label(f"参保人 {person.masked_name()}",
                                                           f"insured {person.masked_name()}")
            else:
                name = f"{account.display_name} · {account.login}" if account.display_name \
                    else account.login
                out[("account", str(account.id))] = _label(name)
    if "person" in wanted:
        each("person", ((p.holder_id, _label(p.masked_name()))
                        for p in session.scalars(select(Person).where(
                            Person.holder_id.in_(wanted["person"])))))
    if "settlement" in wanted:
        rows = session.execute(select(Settlement.id, Institution.name_zh, Institution.name_en)
                               .join(Institution, Settlement.institution_code == Institution.code)
                               .where(Settlement.id.in_(_ids(wanted["settlement"])))).all()
        each("settlement", ((sid, _label(f"#{sid} · {zh}", f"#{sid} · {en}")) for sid, zh, en in rows))
    if "ride" in wanted:
        rides = session.scalars(select(Ride).where(Ride.id.in_(_ids(wanted["ride"])))).all()
        lines = names_for(session, lines={r.line_code for r in rides})["lines"]
        each("ride", ((r.id, _label(f"#{r.id} · {lines.get(r.line_code, {}).get('zh', r.line_code)}",
                                    f"#{r.id} · {lines.get(r.line_code, {}).get('en', r.line_code)}"))
                      for r in rides))
    if "validator" in wanted:
        validators = session.scalars(select(Validator).where(
            Validator.id.in_(_ids(wanted["validator"])))).all()
        lines = names_for(session, lines={v.line_code for v in validators})["lines"]
        each("validator", ((v.id, _label(
            " · ".join(filter(None, [f"#{v.id}", v.label, lines.get(v.line_code, {}).get("zh")])),
            " · ".join(filter(None, [f"#{v.id}", v.label, lines.get(v.line_code, {}).get("en")]))))
            for v in validators))
    if "venue" in wanted:
        each("venue", ((v.id, _label(v.name_zh, v.name_en or v.name_zh)) for v in session.scalars(
            select(Venue).where(Venue.id.in_(_ids(wanted["venue"]))))))
    if "venue_verifier" in wanted:
        each("venue_verifier", ((g.id, _label(
            " · ".join(filter(None, [f"#{g.id}", g.label, v.name_zh])),
            " · ".join(filter(None, [f"#{g.id}", g.label, v.name_en or v.name_zh]))))
            for g, v in session.execute(select(VenueVerifier, Venue).join(Venue).where(
                VenueVerifier.id.in_(_ids(wanted["venue_verifier"]))))))
    if "api_key" in wanted:
        rows = session.execute(select(ApiKey.id, ApiKey.prefix, Institution.name_zh,
                                      Institution.name_en)
                               .join(Institution, ApiKey.institution_code == Institution.code)
                               .where(ApiKey.id.in_(_ids(wanted["api_key"])))).all()
        each("api_key", ((kid, _label(f"{prefix} · {zh}", f"{prefix} · {en}"))
                         for kid, prefix, zh, en in rows))
    if "audit_flag" in wanted:
        each("audit_flag", ((f.id, _label(f"#{f.id}")) for f in session.scalars(
            select(AuditFlag).where(AuditFlag.id.in_(_ids(wanted["audit_flag"]))))))
    for target in wanted.get("zone", ()):
        out[("zone", target)] = _label("全示范区", "whole zone")
    return out


def _names(session, entries, actors):
    """The regions, institutions and lines an entry's detail, region or actor names."""
    regions, institutions, lines = set(), set(), set()
    for entry in entries:
        regions.add(entry["region"])
        detail = entry["detail"] if isinstance(entry["detail"], dict) else {}
        institutions.add(detail.get("institution"))
        lines.add(detail.get("line"))
        regions.add(detail.get("region"))
    for actor in actors.values():
        regions.add(actor.get("region"))
        institutions.add(actor.get("institution"))
        lines.add(actor.get("line"))
    return names_for(session, regions=regions, institutions=institutions, lines=lines)
