"""Bus validators and fares: enrolment, the trust data a validator caches, ride ingest exactly
once, charging (flat fare, daily cap, wallet within the password-free limit, arrears, deny list),
copies, ridership. No Flask; time is a parameter."""
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, insert, select, tuple_, update

from . import family
from .benefits import CHINA
from .credentials import b64url, check_proof, device_key, at
from .errors import Forbidden, NotFound, ValidationFailed
from .models import (AuditFlag, BusLine, Credential, DenyEntry, Person, Ride, RideCharge,
                     Validator, WalletEntry)
from .tokens import errors as token_errors
from .tokens.verify import verify

ENROL_TTL = 86_400
TOKEN_PREFIX = "yv_"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


# -- enrolment --------------------------------------------------------------------------------

def _check_line_scope(line, scope):
    """A region's admin looks after the validators of lines that serve that region."""
    if scope is not None and scope not in [region.code for region in line.regions]:
        raise Forbidden("This line does not serve your region; you administer only your own.",
                        code="outside_your_region")


def register_validator(session, *, line_code, label, created_by, now, scope=None):
    line = session.get(BusLine, line_code)
    if line is None:
        raise NotFound("No such bus line.", code="line_not_found")
    _check_line_scope(line, scope)
    code = "".join(secrets.choice(family.ALPHABET) for _ in range(10))
    validator = Validator(line_code=line_code, label=label[:60], enrol_hash=_digest(code),
                          enrol_expires_at=at(now + ENROL_TTL), created_by=created_by,
                          created_at=at(now))
    session.add(validator)
    session.flush()
    return validator, code


def enrol(session, *, enrol_code, public_jwk, signature, now):
    """The validator proves its new key over the enrolment code; it gets its bearer token."""
    code = family.normalise_code(enrol_code)
    validator = session.scalars(select(Validator).filter_by(enrol_hash=_digest(code),
                                                            status="pending")).first()
    if validator is None or validator.enrol_expires_at.replace(tzinfo=at(now).tzinfo) < at(now):
        raise NotFound("This enrolment code is unknown, used or expired.", code="enrolment_invalid")
    key = device_key(public_jwk)
    check_proof(key, b64url(code.encode()), signature)  # signs "YIMA-ACTIVATE-1" || the code
    secret = secrets.token_urlsafe(32)
    validator.public_jwk = json.dumps(key.jwk(), separators=(",", ":"))
    validator.token_hash = _digest(secret)
    validator.status, validator.enrolled_at = "active", at(now)
    session.flush()
    return validator, f"{TOKEN_PREFIX}{validator.id}_{secret}"


def validator_for_token(session, presented):
    if not presented.startswith(TOKEN_PREFIX):
        return None
    ident, _, secret = presented[len(TOKEN_PREFIX):].partition("_")
    validator = session.get(Validator, int(ident)) if ident.isdigit() and len(ident) < 18 else None
    if validator is None or validator.token_hash is None:
        return None
    if not hmac.compare_digest(validator.token_hash, _digest(secret)):
        return None
    return validator


def disable(session, validator_id, now, scope=None):
    validator = session.get(Validator, validator_id) if isinstance(validator_id, int) else None
    if validator is None:
        raise NotFound("No such validator.", code="validator_not_found")
    _check_line_scope(validator.line, scope)
    validator.status, validator.disabled_at = "disabled", at(now)
    return validator


# -- deny list --------------------------------------------------------------------------------

def denied_holders(session):
    latest = select(DenyEntry.holder_id, func.max(DenyEntry.version).label("v")) \
        .group_by(DenyEntry.holder_id).subquery()
    rows = session.execute(select(DenyEntry.holder_id).join(
        latest, (DenyEntry.holder_id == latest.c.holder_id) & (DenyEntry.version == latest.c.v))
        .filter(DenyEntry.action == "add")).scalars().all()
    return sorted(rows)


def deny_list(session, now):
    version = session.scalar(select(func.max(DenyEntry.version))) or 0
    return {"iss": "yima", "typ": "deny", "version": version, "holders": denied_holders(session),
            "iat": now}


def review_arrears(session, person, threshold_fen, now):
    """Put a person past the arrears threshold on the deny list; lift it once they are clear."""
    _review_arrears_of(session, [person], {person.id: person.transit_wallet_fen}, threshold_fen, now)


# -- ride ingest --------------------------------------------------------------------------------
#
# A batch is checked in Python (every code verified again, at the time of its ride), then stored
# with a fixed handful of set-based statements in the caller's transaction, whatever its size:
#   persons       SELECT … FOR NO KEY UPDATE, in id order
#   rides         which natural ids are stored already        a retried batch: "duplicate"
#   ride_charges  which codes (credential, step) were paid    the same code elsewhere: "copy"
#   then bulk INSERTs of rides, charges, ledger rows and flags, one UPDATE per person.
# Every ride of a code belongs to one person, so the person lock orders everything concurrent
# batches could disagree on; the unique keys on rides and ride_charges stay the last word (a
# violation rolls the whole batch back and the validator sends it again).

@dataclass
class _Checked:
    index: int
    natural_id: str
    jti: str
    step: int
    ridden: int
    person_id: int = 0
    day: str = ""


def ingest(session, validator, items, *, ring, now, daily_cap_fen, arrears_threshold_fen,
           max_age_seconds, verified_credentials=None):
    """Charge each reported ride once. Returns one result per item, in order:
    ``{"id", "status": charged|capped|arrears|copy|duplicate|rejected, ...}``.

    ``verified_credentials`` (a ``tokens.verify.VerifiedCredentials``) spares re-checking the
    issuer signature of a credential seen in an earlier batch."""
    if validator.status != "active":
        raise Forbidden("This validator is disabled; its rides are refused.",
                        code="validator_disabled")
    if not isinstance(items, list) or not 1 <= len(items) <= 500:
        raise ValidationFailed("Send 1 to 500 rides per batch.", code="bad_batch")
    keys = ring.public_keys(now)
    results = [None] * len(items)
    fresh = {}
    for index, item in enumerate(items):
        checked = _check(index, item, validator, keys, now, max_age_seconds, verified_credentials)
        if isinstance(checked, dict):
            results[index] = checked
        elif checked.natural_id in fresh:  # the same ride twice in one batch
            results[index] = {"id": checked.natural_id, "status": "duplicate"}
        else:
            fresh[checked.natural_id] = checked
    if fresh:
        _store(session, validator, list(fresh.values()), results, now, daily_cap_fen,
               arrears_threshold_fen)
    return results


def _check(index, item, validator, keys, now, max_age, verified_credentials):
    if not isinstance(item, dict) or not isinstance(item.get("code"), str) \
            or not isinstance(item.get("ridden_at"), int) or isinstance(item.get("ridden_at"), bool):
        return {"id": None, "status": "rejected", "reason": "bad_item"}
    ridden = item["ridden_at"]
    if not now - max_age <= ridden <= now + 300:
        return {"id": item.get("id"), "status": "rejected", "reason": "ridden_at_out_of_range"}
    try:
        checked = verify(item["code"], issuer_keys=keys, expected_kind="ss", now=ridden,
                         verified_credentials=verified_credentials)
    except token_errors.TokenError as error:
        return {"id": item.get("id"), "status": "rejected", "reason": error.code}
    jti = checked.claims.jti
    return _Checked(index, f"{jti}:{checked.step}:{validator.id}", jti, checked.step, ridden)


def _store(session, validator, rides, results, now, daily_cap, threshold):
    owners = dict(session.execute(select(Credential.jti, Credential.person_id)
                                  .where(Credential.jti.in_({r.jti for r in rides}))).all())
    known = []
    for ride in rides:
        if ride.jti in owners:
            ride.person_id, ride.day = owners[ride.jti], _china_day(ride.ridden)
            known.append(ride)
        else:
            results[ride.index] = {"id": ride.natural_id, "status": "rejected",
                                   "reason": "credential_unknown"}
    if not known:
        return
    persons = _lock_persons(session, {r.person_id for r in known})
    stored = set(session.scalars(select(Ride.natural_id).where(
        Ride.natural_id.in_([r.natural_id for r in known]))))
    new = [r for r in known if r.natural_id not in stored]
    paid = set(session.execute(select(RideCharge.credential_jti, RideCharge.code_step).where(
        tuple_(RideCharge.credential_jti, RideCharge.code_step).in_({(r.jti, r.step) for r in new})
    )).all()) if new else set()
    decided, balances = _fares(session, [r for r in new if (r.jti, r.step) not in paid], persons,
                               validator.line.fare_fen, daily_cap)
    for ride in known:
        if ride.natural_id in stored:
            results[ride.index] = {"id": ride.natural_id, "status": "duplicate"}
        else:
            outcome, fare, _ = decided.get(ride.natural_id, ("copy", 0, None))
            results[ride.index] = {"id": ride.natural_id, "status": outcome, "fare_fen": fare}
    if new:
        _write(session, validator, new, decided, now)
        _update_wallets(session, persons, balances, threshold, now)


def _lock_persons(session, person_ids):
    # FOR NO KEY UPDATE, not FOR UPDATE: another batch's new rides hold KEY SHARE locks on the same
    # persons (their foreign key), which FOR UPDATE would wait on while that batch waits on ours.
    return {p.id: p for p in session.scalars(
        select(Person).where(Person.id.in_(sorted(person_ids))).order_by(Person.id)
        .with_for_update(key_share=True))}  # PostgreSQL: FOR NO KEY UPDATE; SQLite: one writer


def _fares(session, rides, persons, fare, daily_cap):
    """Fares within the day's cap, in ride order per person; the wallet pays what it can within
    the password-free limit, the rest is arrears. Returns (natural id -> (outcome, fare, balance
    after), person id -> new balance for the persons charged)."""
    if not rides:
        return {}, {}
    paid = {(person_id, day): int(total) for person_id, day, total in session.execute(
        select(Ride.person_id, Ride.day, func.sum(Ride.fare_fen))
        .where(Ride.person_id.in_({r.person_id for r in rides}),
               Ride.day.in_({r.day for r in rides}))
        .group_by(Ride.person_id, Ride.day))}
    decided, balances = {}, {}
    for ride in sorted(rides, key=lambda r: (r.person_id, r.ridden, r.natural_id)):
        person, key = persons[ride.person_id], (ride.person_id, ride.day)
        balance = balances.get(person.id, person.transit_wallet_fen)
        due = max(0, min(fare, daily_cap - paid.get(key, 0)))
        if due == 0:
            decided[ride.natural_id] = ("capped", 0, balance)
            continue
        covered = due <= person.password_free_limit_fen and balance >= due
        paid[key] = paid.get(key, 0) + due
        balances[person.id] = balance - due
        decided[ride.natural_id] = ("charged" if covered else "arrears", due, balance - due)
    return decided, balances


def _write(session, validator, new, decided, now):
    """The new rides (a ride that does not pay is a copy), the charges of the paying ones, their
    ledger rows, and a joint-audit flag on each copy."""
    uploaded = at(now)
    new.sort(key=lambda r: r.natural_id)
    session.execute(insert(Ride), [
        {"natural_id": r.natural_id, "validator_id": validator.id, "line_code": validator.line_code,
         "person_id": r.person_id, "credential_jti": r.jti, "code_step": r.step,
         "ridden_at": at(r.ridden), "day": r.day, "uploaded_at": uploaded,
         "outcome": decided.get(r.natural_id, ("copy",))[0],
         "fare_fen": decided.get(r.natural_id, ("", 0))[1]} for r in new])
    ids = dict(session.execute(select(Ride.natural_id, Ride.id)
                               .where(Ride.natural_id.in_([r.natural_id for r in new]))).all())
    paying = sorted((r for r in new if r.natural_id in decided), key=lambda r: (r.jti, r.step))
    if paying:
        session.execute(insert(RideCharge), [{"credential_jti": r.jti, "code_step": r.step,
                                              "ride_id": ids[r.natural_id]} for r in paying])
    entries = [{"person_id": r.person_id, "kind": "ride", "amount_fen": -fare,
                "balance_after_fen": balance, "idempotency_key": f"ride:{r.natural_id}",
                "created_at": uploaded}
               for r in paying for _, fare, balance in [decided[r.natural_id]] if fare]
    if entries:
        session.execute(insert(WalletEntry), entries)
    copies = [r for r in new if r.natural_id not in decided]
    if copies:
        regions = dict(session.execute(select(Person.id, Person.home_region).where(
            Person.id.in_({r.person_id for r in copies}))).all())
        session.execute(insert(AuditFlag), [
            {"ride_id": ids[r.natural_id], "rule": "copied_code",
             "insured_region": regions[r.person_id], "treating_region": regions[r.person_id],
             "detail": "same code as another validator's ride", "created_at": uploaded}
            for r in copies])


def _update_wallets(session, persons, balances, threshold, now):
    if balances:
        session.execute(update(Person), [{"id": pid, "transit_wallet_fen": balances[pid]}
                                         for pid in sorted(balances)])
        _review_arrears_of(session, [persons[pid] for pid in sorted(balances)], balances,
                           threshold, now)


def _review_arrears_of(session, persons, balances, threshold, now):
    """``review_arrears`` for many persons (one query for their deny-list state)."""
    latest = select(DenyEntry.holder_id, func.max(DenyEntry.version).label("v")) \
        .where(DenyEntry.holder_id.in_({p.holder_id for p in persons})) \
        .group_by(DenyEntry.holder_id).subquery()
    denied = set(session.scalars(select(DenyEntry.holder_id).join(
        latest, (DenyEntry.holder_id == latest.c.holder_id) & (DenyEntry.version == latest.c.v))
        .where(DenyEntry.action == "add")))
    for person in sorted(persons, key=lambda p: p.id):
        balance = balances[person.id]
        if balance <= -threshold and person.holder_id not in denied:
            session.add(DenyEntry(holder_id=person.holder_id, action="add", at=at(now)))
        elif balance >= 0 and person.holder_id in denied:
            session.add(DenyEntry(holder_id=person.holder_id, action="lift", at=at(now)))
    session.flush()


def _china_day(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, CHINA).date().isoformat()


# -- ridership ---------------------------------------------------------------------------------

def ridership(session, day):
    """Rides per line and hour (China time) for ``day`` (a date)."""
    counts = {}
    for line, ridden in session.execute(select(Ride.line_code, Ride.ridden_at)
                                        .filter(Ride.day == day.isoformat())):
        if ridden.tzinfo is None:  # SQLite hands back naive UTC
            ridden = ridden.replace(tzinfo=timezone.utc)
        key = (line, ridden.astimezone(CHINA).hour)
        counts[key] = counts.get(key, 0) + 1
    return [{"line": line, "hour": hour, "rides": n} for (line, hour), n in sorted(counts.items())]
