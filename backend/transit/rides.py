"""Ride ingest exactly once: every code of a batch verified again at the time of its ride, then
charged (flat fare, daily cap, wallet within the password-free limit, arrears, deny list), marked a
copy, or refused because it was ridden after its credential, phone or person was revoked or
suspended, in a fixed handful of set-based statements; ridership by line and hour. No Flask; time is
a parameter."""
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, insert, select, tuple_, update

from ..models import (AuditFlag, Credential, Device, Person, Revocation, Ride, RideCharge,
                      WalletEntry, bus_line_regions)
from ..models.base import CHINA, at, unix
from ..oversight import rules
from ..service.errors import Forbidden, ValidationFailed
from ..tokens import errors as token_errors
from ..tokens.verify import verify
from . import ingest_pg
from .trust import review_arrears_of

# -- ride ingest --------------------------------------------------------------------------------
#
# A batch is checked in Python (every code verified again, at the time of its ride), then stored
# with a fixed handful of set-based statements in the caller's transaction, whatever its size:
#   credentials   each code's owner and revocation time (credential, phone), joined in one query
#   persons       SELECT … FOR NO KEY UPDATE, in id order (and their registry status)
#   rides         which natural ids are stored already        a retried batch: "duplicate"
#   ride_charges  which codes (credential, step) were paid    the same code elsewhere: "copy"
#   then bulk INSERTs of rides, charges, ledger rows and flags, one UPDATE per person.
# Every ride of a code belongs to one person, so the person lock orders everything concurrent
# batches could disagree on; the unique keys on rides and ride_charges stay the last word (a
# violation rolls the whole batch back and the validator sends it again).
#
# Revocation is decided by the time of the ride, not of the upload: a validator may be offline for
# days. A ride at or after the revocation of its credential or phone (a person's revocation revokes
# every phone) is "revoked": stored, so a retry is a duplicate, but not charged to the owner (a
# stolen phone), with a joint-audit flag. A ride of a person whose registry entry is not active is
# "revoked" too (reason person_suspended) unless it was ridden before the suspension revoked the
# phone; earlier rides still charge.

@dataclass
class _Checked:
    index: int
    natural_id: str
    jti: str
    step: int
    ridden: int
    person_id: int = 0
    day: str = ""
    revoked_at: int | None = None  # the earlier of the credential's and the phone's revocation
    revoke_reason: str | None = None


def ingest(session, validator, items, *, ring, now, daily_cap_fen, arrears_threshold_fen,
           max_age_seconds, verified_credentials=None, fast=True):
    """Charge each reported ride once. Returns one result per item, in order:
    ``{"id", "status": charged|capped|arrears|copy|revoked|duplicate|rejected, ...}`` (``revoked``
    and ``rejected`` with a ``reason``).

    ``verified_credentials`` (a ``tokens.verify.VerifiedCredentials``) spares re-checking the
    issuer signature of a credential seen in an earlier batch. On PostgreSQL the batch is stored by
    ``ingest_pg`` (COPY and one set-based statement) unless ``fast`` is false; both paths make the
    same decisions and write the same rows (tests/test_ride_ingest_fast.py)."""
    if validator.status != "active":
        raise Forbidden("This validator is disabled; its rides are refused.",
                        code="validator_disabled")
    if not isinstance(items, list) or not 1 <= len(items) <= 500:
        raise ValidationFailed("Send 1 to 500 rides per batch.", code="bad_batch")
    keys = ring.public_keys(now)
    results = [None] * len(items)
    fresh = {}
    suffix = f":{validator.id}"  # a ride's natural id: credential, step, validator
    for index, item in enumerate(items):
        checked = _check(index, item, suffix, keys, now, max_age_seconds, verified_credentials)
        if isinstance(checked, dict):
            results[index] = checked
        elif checked.natural_id in fresh:  # the same ride twice in one batch
            results[index] = {"id": checked.natural_id, "status": "duplicate"}
        else:
            fresh[checked.natural_id] = checked
    if fresh:
        _store(session, validator, list(fresh.values()), results, now, daily_cap_fen,
               arrears_threshold_fen, fast)
    return results


def _check(index, item, suffix, keys, now, max_age, verified_credentials):
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
    return _Checked(index, f"{jti}:{checked.step}{suffix}", jti, checked.step, ridden)


# Each code's owner and when its credential or phone was revoked (with the reason), in one query.
_OWNERS = (select(Credential.jti, Credential.person_id, Credential.revoked_at, Device.revoked_at,
                  Revocation.reason)
           .join(Device, Device.id == Credential.device_id)
           .outerjoin(Revocation, Revocation.jti == Credential.jti))


def _store(session, validator, rides, results, now, daily_cap, threshold, fast=True):
    if fast and session.get_bind().dialect.name == "postgresql":
        for ride in rides:
            ride.day = _china_day(ride.ridden)
        ingest_pg.store(session, validator, rides, results, now, daily_cap, threshold)
        return
    owners = {jti: (person_id, _earliest(credential_revoked, phone_revoked), reason)
              for jti, person_id, credential_revoked, phone_revoked, reason in session.execute(
                  _OWNERS.where(Credential.jti.in_({r.jti for r in rides})))}
    known = []
    for ride in rides:
        if ride.jti in owners:
            ride.person_id, ride.revoked_at, ride.revoke_reason = owners[ride.jti]
            ride.day = _china_day(ride.ridden)
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
    refused = {r.natural_id: reason for r in new
               if (reason := _refusal(r, persons[r.person_id])) is not None}
    payable = [r for r in new if r.natural_id not in refused]
    paid = set(session.execute(select(RideCharge.credential_jti, RideCharge.code_step).where(
        tuple_(RideCharge.credential_jti, RideCharge.code_step).in_(
            {(r.jti, r.step) for r in payable}))).all()) if payable else set()
    decided, balances = _fares(session, [r for r in payable if (r.jti, r.step) not in paid],
                               persons, validator.line.fare_fen, daily_cap)
    for ride in known:
        if ride.natural_id in stored:
            results[ride.index] = {"id": ride.natural_id, "status": "duplicate"}
        elif ride.natural_id in refused:
            results[ride.index] = {"id": ride.natural_id, "status": "revoked", "fare_fen": 0,
                                   "reason": refused[ride.natural_id]}
        else:
            outcome, fare, _ = decided.get(ride.natural_id, ("copy", 0, None))
            results[ride.index] = {"id": ride.natural_id, "status": outcome, "fare_fen": fare}
    if new:
        _write(session, validator, new, decided, refused, persons, now)
        _update_wallets(session, persons, balances, threshold, now)


def _earliest(*moments):
    times = [unix(m) for m in moments if m is not None]
    return min(times) if times else None


def _refusal(ride, person):
    """Why this ride is not charged to its owner (None: it may be). The ride's own time decides:
    what was ridden before the revocation or suspension is owed."""
    if ride.revoked_at is not None and ride.ridden >= ride.revoked_at:
        # patients.credentials revokes a suspended person's phones with this reason
        suspended = person.status != "active" or ride.revoke_reason == "person_suspended"
        return "person_suspended" if suspended else "credential_revoked"
    if person.status != "active" and ride.revoked_at is None:
        return "person_suspended"  # suspended without a revocation time: nothing after is owed
    return None


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


def _write(session, validator, new, decided, refused, persons, now):
    """The new rides (a refused ride is ``revoked``; any other that does not pay is a copy), the
    charges of the paying ones, their ledger rows, and a joint-audit flag on each copy and each
    refused ride."""
    uploaded = at(now)
    new.sort(key=lambda r: r.natural_id)
    session.execute(insert(Ride), [
        {"natural_id": r.natural_id, "validator_id": validator.id, "line_code": validator.line_code,
         "person_id": r.person_id, "credential_jti": r.jti, "code_step": r.step,
         "ridden_at": at(r.ridden), "day": r.day, "uploaded_at": uploaded,
         "outcome": "revoked" if r.natural_id in refused
         else decided.get(r.natural_id, ("copy",))[0],
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
    flags = [rules.ride_flag(
        ids[r.natural_id], persons[r.person_id].home_region,
        "ridden_after_revocation" if r.natural_id in refused else "copied_code",
        _flag_detail(r, refused.get(r.natural_id), validator), uploaded)
        for r in new if r.natural_id not in decided]
    if flags:
        session.execute(insert(AuditFlag), flags)


def _flag_detail(ride, refusal, validator):
    if refusal is None:
        return "same code as another validator's ride"
    if ride.revoked_at is None:
        return f"ridden on {validator.line_code} while the person is suspended"
    return (f"ridden on {validator.line_code} {ride.ridden - ride.revoked_at} s after revocation "
            f"({ride.revoke_reason or refusal})")


def _update_wallets(session, persons, balances, threshold, now):
    if balances:
        session.execute(update(Person), [{"id": pid, "transit_wallet_fen": balances[pid]}
                                         for pid in sorted(balances)])
        review_arrears_of(session, [persons[pid] for pid in sorted(balances)], balances,
                           threshold, now)


def _china_day(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, CHINA).date().isoformat()


# -- ridership ---------------------------------------------------------------------------------

def ridership(session, day, region_code=None):
    """Rides per line and hour (China time) for ``day`` (a date): every boarding a validator
    reported, whatever it was charged (copies and revoked rides carried a passenger too). With a
    ``region_code``, only the lines that serve that region (as the clearing report shows a region
    only its own rows); None for the whole zone."""
    query = select(Ride.line_code, Ride.ridden_at).filter(Ride.day == day.isoformat())
    if region_code is not None:
        query = query.filter(Ride.line_code.in_(select(bus_line_regions.c.line_code).filter(
            bus_line_regions.c.region_code == region_code)))
    counts = {}
    for line, ridden in session.execute(query):
        if ridden.tzinfo is None:  # SQLite hands back naive UTC
            ridden = ridden.replace(tzinfo=timezone.utc)
        key = (line, ridden.astimezone(CHINA).hour)
        counts[key] = counts.get(key, 0) + 1
    return [{"line": line, "hour": hour, "rides": n} for (line, hour), n in sorted(counts.items())]
