"""Bus validators and fares: enrolment, the trust data a validator caches, ride ingest exactly
once, charging (flat fare, daily cap, wallet within the password-free limit, arrears, deny list),
copies, ridership. No Flask; time is a parameter."""
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

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

def register_validator(session, *, line_code, label, created_by, now):
    if session.get(BusLine, line_code) is None:
        raise NotFound("No such bus line.", code="line_not_found")
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


def disable(session, validator_id, now):
    validator = session.get(Validator, validator_id) if isinstance(validator_id, int) else None
    if validator is None:
        raise NotFound("No such validator.", code="validator_not_found")
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


def _is_denied(session, holder_id):
    last = session.scalars(select(DenyEntry).filter_by(holder_id=holder_id)
                           .order_by(DenyEntry.version.desc())).first()
    return last is not None and last.action == "add"


def review_arrears(session, person, threshold_fen, now):
    """Put a person past the arrears threshold on the deny list; lift it once they are clear."""
    denied = _is_denied(session, person.holder_id)
    if person.transit_wallet_fen <= -threshold_fen and not denied:
        session.add(DenyEntry(holder_id=person.holder_id, action="add", at=at(now)))
    elif person.transit_wallet_fen >= 0 and denied:
        session.add(DenyEntry(holder_id=person.holder_id, action="lift", at=at(now)))


# -- ride ingest --------------------------------------------------------------------------------

def ingest(session, validator, items, *, ring, now, daily_cap_fen, arrears_threshold_fen,
           max_age_seconds):
    """Charge each reported ride once. Returns one result per item, in order:
    ``{"id", "status": charged|capped|arrears|copy|duplicate|rejected, ...}``."""
    if validator.status != "active":
        raise Forbidden("This validator is disabled; its rides are refused.",
                        code="validator_disabled")
    if not isinstance(items, list) or not 1 <= len(items) <= 500:
        raise ValidationFailed("Send 1 to 500 rides per batch.", code="bad_batch")
    keys = ring.public_keys(now)
    return [_one(session, validator, item, keys, now, daily_cap_fen, arrears_threshold_fen,
                 max_age_seconds) for item in items]


def _one(session, validator, item, keys, now, daily_cap, threshold, max_age):
    if not isinstance(item, dict) or not isinstance(item.get("code"), str) \
            or not isinstance(item.get("ridden_at"), int) or isinstance(item.get("ridden_at"), bool):
        return {"id": None, "status": "rejected", "reason": "bad_item"}
    ridden = item["ridden_at"]
    if not now - max_age <= ridden <= now + 300:
        return {"id": item.get("id"), "status": "rejected", "reason": "ridden_at_out_of_range"}
    try:
        checked = verify(item["code"], issuer_keys=keys, expected_kind="ss", now=ridden)
    except token_errors.TokenError as error:
        return {"id": item.get("id"), "status": "rejected", "reason": error.code}
    claims = checked.claims
    natural_id = f"{claims.jti}:{checked.step}:{validator.id}"
    if session.scalars(select(Ride.id).filter_by(natural_id=natural_id)).first() is not None:
        return {"id": natural_id, "status": "duplicate"}
    credential = session.get(Credential, claims.jti)
    if credential is None:
        return {"id": natural_id, "status": "rejected", "reason": "credential_unknown"}
    person = session.get(Person, credential.person_id)
    day = datetime.fromtimestamp(ridden, CHINA).date().isoformat()
    ride = Ride(natural_id=natural_id, validator_id=validator.id, line_code=validator.line_code,
                person_id=person.id, credential_jti=claims.jti, code_step=checked.step,
                ridden_at=at(ridden), day=day, fare_fen=0, outcome="copy", uploaded_at=at(now))
    try:
        with session.begin_nested():
            session.add(ride)
            session.flush()
    except IntegrityError:  # the same ride raced in from a retry: it is there now
        return {"id": natural_id, "status": "duplicate"}
    try:
        with session.begin_nested():
            session.add(RideCharge(credential_jti=claims.jti, code_step=checked.step, ride_id=ride.id))
            session.flush()
    except IntegrityError:  # another validator reported this very code: a copy
        session.add(AuditFlag(ride_id=ride.id, rule="copied_code", insured_region=person.home_region,
                              treating_region=person.home_region,
                              detail="same code as another validator's ride", created_at=at(now)))
        return {"id": natural_id, "status": "copy", "fare_fen": 0}
    _charge(session, ride, person, validator.line.fare_fen, daily_cap, threshold, now)
    return {"id": natural_id, "status": ride.outcome, "fare_fen": ride.fare_fen}


def _charge(session, ride, person, fare, daily_cap, threshold, now):
    paid_today = int(session.scalar(select(func.coalesce(func.sum(Ride.fare_fen), 0)).filter(
        Ride.person_id == person.id, Ride.day == ride.day, Ride.id != ride.id)))  # PG: Decimal
    due = max(0, min(fare, daily_cap - paid_today))
    if due == 0:
        ride.outcome = "capped"
        return
    covered = due <= person.password_free_limit_fen and person.transit_wallet_fen >= due
    balance = session.execute(
        update(Person).where(Person.id == person.id)
        .values(transit_wallet_fen=Person.transit_wallet_fen - due)
        .returning(Person.transit_wallet_fen)).scalar_one()
    ride.fare_fen, ride.outcome = due, "charged" if covered else "arrears"
    session.add(WalletEntry(person_id=person.id, kind="ride", amount_fen=-due,
                            balance_after_fen=balance, idempotency_key=f"ride:{ride.natural_id}"))
    session.flush()
    session.refresh(person)
    review_arrears(session, person, threshold, now)


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
