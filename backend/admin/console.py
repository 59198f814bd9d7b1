"""The admin console's domain: regions and their policies, institutions, bus lines and fares, staff
accounts (disable and enable), validators, hospital-system keys, signing keys, insured persons'
suspension and revocations; the audit log is read in ``audit_log``. No Flask.

Every function takes a ``scope``: the acting admin's region code, or None for the zone admin. Reads
return only what lies in the scope; a change outside it is refused (``outside_your_region``). Every
change writes its audit entry in the caller's transaction (who, what, old and new values), so the
change and its record commit together or not at all. Time is a parameter."""
import re
from datetime import timezone

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..accounts.hashing import new_staff_account
from ..models import (Account, ApiKey, BusLine, Credential, Institution, Person, Region,
                      Revocation, Validator, bus_line_regions)
from ..oversight import audit
from ..patients import credentials
from ..service.errors import Conflict, Forbidden, NotFound, ValidationFailed

MAX_POLICY_FEN = 1_000_000_000  # ¥10,000,000: far above any real deductible or cap
MAX_FARE_FEN = 10_000  # ¥100 for one bus ride
MAX_OVERLAP = 30 * 86_400
STAFF_ROLES = ("cashier", "auditor", "admin")
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")

POLICY_FIELDS = {
    "deductible_fen": "fen", "annual_cap_fen": "fen",
    "ratio_l1_a_bp": "bp", "ratio_l2_a_bp": "bp", "ratio_l3_a_bp": "bp",
    "ratio_l1_b_bp": "bp", "ratio_l2_b_bp": "bp", "ratio_l3_b_bp": "bp",
    "class_b_self_share_bp": "bp",
    "has_personal_account": "bool", "personal_account_pays_deductible": "bool",
    "personal_account_pays_class_c": "bool",
}


class Actor:
    """Who acts: login, region scope (None = zone), account id, and the request id to record."""

    def __init__(self, login, scope, account_id=None, request_id=None):
        self.login, self.scope, self.account_id, self.request_id = login, scope, account_id, request_id


def _iso(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def _record(session, actor, action, target_type, target_id, detail, region):
    audit.record(session, actor=actor.login, action=action, target_type=target_type,
                 target_id=target_id, detail=detail, request_id=actor.request_id,
                 region_code=region)


def _check_region(actor, region_code):
    if actor.scope is not None and region_code != actor.scope:
        raise Forbidden("This belongs to another region; you administer only your own.",
                        code="outside_your_region")


def _invalid(code, detail, problems):
    return ValidationFailed(detail, code=code, extra={"problems": problems})


def _problem(field, code, detail):
    return {"field": field, "code": code, "detail": detail}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# -- regions and policies ---------------------------------------------------------------------

def _policy(policy):
    return {"insurance_class": policy.insurance_class,
            **{name: getattr(policy, name) for name in POLICY_FIELDS}}


def list_regions(session, actor):
    query = select(Region).order_by(Region.code)
    if actor.scope is not None:
        query = query.filter(Region.code == actor.scope)
    return [{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en,
             "province_zh": r.province_zh, "province_en": r.province_en,
             "audit_bill_threshold_fen": r.audit_bill_threshold_fen,
             "policies": [_policy(p) for p in sorted(r.policies, key=lambda p: p.insurance_class)]}
            for r in session.scalars(query)]


def check_policy_changes(current, changes):
    """The problems with applying ``changes`` (a dict from the request) to ``current`` (a dict of
    every policy field), as a list of {field, code, detail}; empty when the result is valid."""
    if not isinstance(changes, dict) or not changes:
        return [_problem(None, "nothing_to_change", "Send at least one policy field to change.")]
    problems = []
    for name, value in changes.items():
        kind = POLICY_FIELDS.get(name)
        if kind is None:
            problems.append(_problem(name, "unknown_field", "This is not a policy field."))
        elif kind == "bool" and not isinstance(value, bool):
            problems.append(_problem(name, "not_boolean", "Must be true or false."))
        elif kind != "bool" and not _is_int(value):
            problems.append(_problem(name, "not_integer", "Must be a whole number "
                                     + ("of fen." if kind == "fen" else "of basis points.")))
        elif kind == "bp" and not 0 <= value <= 10_000:
            problems.append(_problem(name, "ratio_out_of_range",
                                     "A ratio is 0 to 10000 basis points (0 to 100 %)."))
        elif kind == "fen" and not 0 <= value <= MAX_POLICY_FEN:
            problems.append(_problem(name, "amount_out_of_range",
                                     f"An amount is 0 to {MAX_POLICY_FEN} fen."))
    if problems:
        return problems
    merged = {**current, **changes}
    if merged["annual_cap_fen"] <= 0:
        problems.append(_problem("annual_cap_fen", "cap_not_positive",
                                 "The annual cap must be above zero."))
    if merged["annual_cap_fen"] < merged["deductible_fen"]:
        problems.append(_problem("annual_cap_fen", "cap_below_deductible",
                                 "The annual cap must not be below the deductible."))
    if not merged["has_personal_account"] and (merged["personal_account_pays_deductible"]
                                               or merged["personal_account_pays_class_c"]):
        problems.append(_problem("has_personal_account", "no_personal_account",
                                 "Without a personal account it cannot pay anything."))
    return problems


def update_policy(session, actor, region_code, insurance_class, changes):
    region = session.get(Region, region_code) if isinstance(region_code, str) else None
    if region is None:
        raise NotFound("No such region.", code="region_not_found")
    _check_region(actor, region.code)
    policy = region.policy_for(insurance_class)
    if policy is None:
        raise NotFound("This region has no policy for that insurance class.",
                       code="policy_not_found")
    current = {name: getattr(policy, name) for name in POLICY_FIELDS}
    problems = check_policy_changes(current, changes)
    if problems:
        raise _invalid("invalid_policy", "The policy was not changed: " + problems[0]["detail"],
                       problems)
    diff = {name: [current[name], value] for name, value in changes.items()
            if current[name] != value}
    for name, (_, value) in diff.items():
        setattr(policy, name, value)
    if diff:
        _record(session, actor, "policy.update", "policy", f"{region.code}/{insurance_class}",
                {"changes": diff}, region.code)
    session.flush()
    return _policy(policy)


# -- institutions -----------------------------------------------------------------------------

def _institution(i):
    return {"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "region": i.region_code,
            "level": i.level, "networked": i.networked, "accepts_evoucher": i.accepts_evoucher}


def list_institutions(session, actor, args=None):
    """One page of the institutions in scope, by region and name, filtered: ``q`` (part of the
    Chinese or English name, or of the code), ``region``, ``level`` (1–3), ``evoucher`` and
    ``networked`` (yes/no); ``page`` and ``per_page`` (1–200, default 25)."""
    args = args or {}
    problems = []
    query = select(Institution)
    if actor.scope is not None:
        query = query.filter(Institution.region_code == actor.scope)
    text = (args.get("q") or "").strip()
    if len(text) > 40:
        problems.append(_problem("q", "too_long", "At most 40 characters."))
    elif text:
        query = query.filter(or_(Institution.name_zh.contains(text, autoescape=True),
                                 Institution.name_en.icontains(text, autoescape=True),
                                 Institution.code.contains(text.upper(), autoescape=True)))
    region = args.get("region") or ""
    if region:
        if session.get(Region, region) is None:
            problems.append(_problem("region", "unknown_region", "No such region."))
        query = query.filter(Institution.region_code == region)
    level = args.get("level") or ""
    if level:
        if level not in ("1", "2", "3"):
            problems.append(_problem("level", "bad_level", "The level is 1, 2 or 3."))
        else:
            query = query.filter(Institution.level == int(level))
    for name, column in (("evoucher", Institution.accepts_evoucher),
                         ("networked", Institution.networked)):
        value = args.get(name) or ""
        if value not in ("", "yes", "no"):
            problems.append(_problem(name, "not_boolean", "yes or no."))
        elif value:
            query = query.filter(column.is_(value == "yes"))
    page = _page_number(args.get("page"), "page", 100_000, 1, problems)
    per_page = _page_number(args.get("per_page"), "per_page", 200, 25, problems)
    if problems:
        raise _invalid("bad_filter", "The institutions cannot be listed so: " + problems[0]["detail"],
                       problems)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Institution.region_code, Institution.level.desc(),
                                          Institution.code)
                           .offset((page - 1) * per_page).limit(per_page))
    return {"institutions": [_institution(i) for i in rows], "total": total, "page": page,
            "per_page": per_page}


def _page_number(value, field, most, default, problems):
    if value in (None, ""):
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 7 \
            and 1 <= int(value) <= most:
        return int(value)
    problems.append(_problem(field, "limit_out_of_range", f"1 to {most}."))
    return default


def institution_in_scope(session, actor, code):
    institution = session.get(Institution, code) if isinstance(code, str) else None
    if institution is None:
        raise NotFound("No such institution.", code="institution_not_found")
    _check_region(actor, institution.region_code)
    return institution


def set_evoucher(session, actor, code, accepts):
    institution = institution_in_scope(session, actor, code)
    if not isinstance(accepts, bool):
        raise _invalid("invalid_institution", "accepts_evoucher must be true or false.",
                       [_problem("accepts_evoucher", "not_boolean", "Must be true or false.")])
    if accepts and not institution.networked:
        raise _invalid("invalid_institution", "An institution must be networked to take e-vouchers.",
                       [_problem("accepts_evoucher", "not_networked",
                                 "The institution is not networked yet.")])
    if institution.accepts_evoucher != accepts:
        _record(session, actor, "institution.evoucher", "institution", institution.code,
                {"accepts_evoucher": [institution.accepts_evoucher, accepts]},
                institution.region_code)
        institution.accepts_evoucher = accepts
        session.flush()
    return _institution(institution)


# -- bus lines and fares ------------------------------------------------------------------------

def _line_editable(actor, line):
    return actor.scope is None or all(r.code == actor.scope for r in line.regions)


def _line(actor, line):
    return {"code": line.code, "name_zh": line.name_zh, "name_en": line.name_en,
            "fare_fen": line.fare_fen, "regions": [r.code for r in line.regions],
            "editable": _line_editable(actor, line)}


def _lines_in_scope(actor):
    query = select(BusLine).order_by(BusLine.code)
    if actor.scope is not None:
        query = query.filter(BusLine.code.in_(
            select(bus_line_regions.c.line_code).filter(bus_line_regions.c.region_code == actor.scope)))
    return query


def list_lines(session, actor):
    return [_line(actor, line) for line in session.scalars(_lines_in_scope(actor))]


def set_fare(session, actor, code, fare_fen):
    line = session.get(BusLine, code) if isinstance(code, str) else None
    if line is None:
        raise NotFound("No such bus line.", code="line_not_found")
    if actor.scope is not None and actor.scope not in [r.code for r in line.regions]:
        _check_region(actor, None)
    if not _line_editable(actor, line):
        raise Forbidden("This line crosses regions: its fare is set by the zone administrator.",
                        code="line_spans_regions")
    if not _is_int(fare_fen) or not 1 <= fare_fen <= MAX_FARE_FEN:
        raise _invalid("invalid_fare", f"A fare is a whole number of fen, 1 to {MAX_FARE_FEN}.",
                       [_problem("fare_fen", "fare_out_of_range" if _is_int(fare_fen)
                                 else "not_integer",
                                 f"A fare is a whole number of fen, 1 to {MAX_FARE_FEN}.")])
    if line.fare_fen != fare_fen:
        regions = [r.code for r in line.regions]
        _record(session, actor, "line.fare", "bus_line", line.code,
                {"fare_fen": [line.fare_fen, fare_fen]}, regions[0] if len(regions) == 1 else None)
        line.fare_fen = fare_fen
        session.flush()
    return _line(actor, line)


# -- staff accounts ---------------------------------------------------------------------------

def _staff_region(account):
    if account.region_code is not None:
        return account.region_code
    return account.institution.region_code if account.institution is not None else None


def _staff(account):
    return {"id": account.id, "login": account.login, "name": account.display_name,
            "role": account.role, "region": _staff_region(account), "institution": account.institution_code,
            "active": account.active, "service": account.login.startswith("his:"),
            "created_at": _iso(account.created_at)}


def list_staff(session, actor):
    query = select(Account).filter(Account.role != "patient").order_by(Account.id)
    if actor.scope is not None:
        query = query.outerjoin(Institution, Account.institution_code == Institution.code).filter(
            or_(Account.region_code == actor.scope, Institution.region_code == actor.scope))
    return [_staff(a) for a in session.scalars(query)]


def _staff_fields(session, actor, body):
    """role, region_code and institution_code for a new staff account, checked."""
    role, region, institution_code = body.get("role"), body.get("region"), body.get("institution")
    problems = []
    if role not in STAFF_ROLES:
        problems.append(_problem("role", "bad_role", "The role is cashier, auditor or admin."))
    login = body.get("login")
    if not isinstance(login, str) or not LOGIN_PATTERN.match(login):
        problems.append(_problem("login", "bad_login", "A login is 3 to 40 lower-case letters, "
                                 "digits, dots, dashes or underscores."))
    if not isinstance(body.get("password"), str):
        problems.append(_problem("password", "required", "Choose a password."))
    if role == "cashier":
        if not isinstance(institution_code, str) or not institution_code:
            problems.append(_problem("institution", "required", "A cashier works at an institution."))
        if region is not None:
            problems.append(_problem("region", "not_for_cashier",
                                     "A cashier's region is the institution's."))
    elif role in ("auditor", "admin"):
        if institution_code is not None:
            problems.append(_problem("institution", "not_for_role",
                                     "Only a cashier is bound to an institution."))
        if region is None and actor.scope is not None:
            region = actor.scope
        if region is not None and (not isinstance(region, str) or session.get(Region, region) is None):
            problems.append(_problem("region", "unknown_region", "No such region."))
    if problems:
        raise _invalid("invalid_staff", "The account was not created: " + problems[0]["detail"],
                       problems)
    if role == "cashier":
        institution = institution_in_scope(session, actor, institution_code)
        return role, None, institution.code, institution.region_code
    _check_region(actor, region)
    return role, region, None, region


def create_staff(session, actor, body):
    if not isinstance(body, dict):
        raise _invalid("invalid_staff", "Send the account as a JSON object.", [])
    role, region, institution_code, audit_region = _staff_fields(session, actor, body)
    login = body["login"]
    if session.scalars(select(Account.id).filter_by(login=login)).first() is not None:
        raise Conflict("This login is taken.", code="login_taken")
    account = new_staff_account(login, body["password"], role=role, region_code=region,
                                institution_code=institution_code)
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:  # the same login raced in
        raise Conflict("This login is taken.", code="login_taken") from None
    _record(session, actor, "staff.create", "account", account.id,
            {"login": login, "role": role, "region": region, "institution": institution_code},
            audit_region)
    session.flush()
    return _staff(account)


def set_staff_active(session, actor, account_id, active):
    """Disable or enable a staff account: the one place both go through (so whatever must also
    happen when an account is disabled, ending its sessions say, happens for either button)."""
    account = session.get(Account, account_id) if _is_int(account_id) else None
    if account is None or account.role == "patient":
        raise NotFound("No such staff account.", code="staff_not_found")
    region = _staff_region(account)
    _check_region(actor, region)
    if account.id == actor.account_id:
        raise Conflict("You cannot disable or enable your own account.",
                       code="cannot_disable_self")
    if account.active != active:
        account.active = active
        _record(session, actor, "staff.enable" if active else "staff.disable", "account",
                account.id, {"login": account.login, "role": account.role}, region)
        session.flush()
    return _staff(account)


def disable_staff(session, actor, account_id):
    return set_staff_active(session, actor, account_id, False)


def enable_staff(session, actor, account_id):
    return set_staff_active(session, actor, account_id, True)


# -- validators and hospital-system keys -------------------------------------------------------

def list_validators(session, actor):
    query = select(Validator).order_by(Validator.id.desc())
    if actor.scope is not None:
        query = query.filter(Validator.line_code.in_(
            select(bus_line_regions.c.line_code).filter(bus_line_regions.c.region_code == actor.scope)))
    return [{"id": v.id, "line": v.line_code, "label": v.label, "status": v.status,
             "created_by": v.created_by, "created_at": _iso(v.created_at),
             "enrolled_at": _iso(v.enrolled_at), "disabled_at": _iso(v.disabled_at)}
            for v in session.scalars(query)]


def list_api_keys(session, actor):
    query = select(ApiKey, Institution.region_code).join(
        Institution, ApiKey.institution_code == Institution.code).order_by(ApiKey.id.desc())
    if actor.scope is not None:
        query = query.filter(Institution.region_code == actor.scope)
    return [{"id": k.id, "prefix": k.prefix, "label": k.label, "institution": k.institution_code,
             "region": region, "created_by": k.created_by, "created_at": _iso(k.created_at),
             "revoked": k.revoked_at is not None, "revoked_at": _iso(k.revoked_at)}
            for k, region in session.execute(query)]


# -- signing keys -----------------------------------------------------------------------------

def describe_signing_keys(ring, now):
    """Every kid with its state (``pending``: published, signs later; ``signing``; ``retired``:
    published for the credentials it signed) and schedule. Never private material."""
    try:
        signing = ring.signing_key(now).kid
    except LookupError:
        signing = None
    keys = []
    for entry in ring.describe():
        if entry["kid"] == signing:
            state = "signing"
        elif entry["signs_from"] > now:
            state = "pending"
        else:
            state = "retired"
        keys.append({"kid": entry["kid"], "state": state,
                     **{name: entry[name] for name in ("created_at", "signs_from", "retired_at",
                                                       "drop_after")}})
    return keys


def check_rotation(actor, body, default_overlap):
    if actor.scope is not None:
        raise Forbidden("Signing keys serve the whole zone: the zone administrator rotates them.",
                        code="zone_admin_only")
    if not isinstance(body, dict) or body.get("confirm") != "rotate":
        raise _invalid("invalid_rotation", 'Send {"confirm": "rotate"} to rotate the signing key.',
                       [_problem("confirm", "confirm_required", 'Must be "rotate".')])
    overlap = body.get("overlap_seconds", default_overlap)
    if not _is_int(overlap) or not 0 <= overlap <= MAX_OVERLAP:
        raise _invalid("invalid_rotation", f"overlap_seconds is 0 to {MAX_OVERLAP}.",
                       [_problem("overlap_seconds", "overlap_out_of_range",
                                 f"0 to {MAX_OVERLAP} seconds.")])
    return overlap


def rotate_signing_key(session, actor, ring, *, now, overlap, lifetime):
    """Publish a new key now that signs after ``overlap``; drop keys whose credentials have all
    expired. The caller holds the ring's lock, so every worker sees one schedule."""
    new = ring.rotate(now, overlap, lifetime)
    dropped = ring.prune(now)
    _record(session, actor, "keys.rotate", "key", new.kid,
            {"overlap": overlap, "signs_from": new.signs_from, "dropped": dropped}, None)
    session.flush()
    return {"kid": new.kid, "signs_from": new.signs_from, "dropped": dropped,
            "keys": describe_signing_keys(ring, now)}


# -- insured persons: suspension ----------------------------------------------------------------

def _person_in_scope(session, actor, holder):
    """A person insured in the actor's region; any other is "not found" (an admin of another
    region does not learn who is insured elsewhere)."""
    person = session.scalars(select(Person).filter_by(holder_id=holder)).first() \
        if isinstance(holder, str) and 0 < len(holder) <= 22 else None
    if person is None or actor.scope not in (None, person.home_region):
        raise NotFound("No such person in your region.", code="person_not_found")
    return person


def set_person_status(session, actor, holder, status, reason, now):
    """Suspend a registry entry (``suspended``) or reinstate it (``active``). Returns the person
    ({holder, region, status}) and how many credentials were revoked.

    Suspending revokes every phone and credential of the person (reason ``person_suspended``): the
    codes go on the revocation list, so offline validators refuse them after their next sync, and
    every online door (verify, settle, ride ingest) refuses the person's codes at once. Reinstating
    revokes nothing and issues nothing: the person activates a phone again. Each is idempotent."""
    person = _person_in_scope(session, actor, holder)
    if not isinstance(reason, str) or not reason.strip():
        raise _invalid("reason_required", "Say why.", [_problem("reason", "required", "Say why.")])
    reason = reason.strip()[:30]
    before, revoked = person.status, 0
    if status == "suspended":
        person.status = "suspended"
        session.flush()
        revoked = credentials.revoke_person(session, person.id, credentials.SUSPENDED, now)
    else:
        person.status = "active"
    if person.status != before:
        _record(session, actor, "person.suspend" if status == "suspended" else "person.reinstate",
                "person", person.holder_id,
                {"status": [before, person.status], "reason": reason,
                 "revoked_credentials": revoked}, person.home_region)
    session.flush()
    return {"holder": person.holder_id, "region": person.home_region,
            "status": person.status}, revoked


# -- revocations and the audit log --------------------------------------------------------------

def _limit(value, default=50, most=200):
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 6 \
            and 1 <= int(value) <= most:
        return int(value)
    raise _invalid("bad_page", f"limit is 1 to {most}.",
                   [_problem("limit", "limit_out_of_range", f"1 to {most}.")])


def recent_revocations(session, actor, limit=None):
    query = select(Revocation, Credential.kind, Person.home_region).join(
        Credential, Revocation.jti == Credential.jti).join(
        Person, Credential.person_id == Person.id).order_by(Revocation.version.desc()) \
        .limit(_limit(limit))
    if actor.scope is not None:
        query = query.filter(Person.home_region == actor.scope)
    return [{"version": r.version, "jti": r.jti, "kind": kind, "region": region,
             "reason": r.reason, "revoked_at": _iso(r.revoked_at), "expires_at": _iso(r.expires_at)}
            for r, kind, region in session.execute(query)]
