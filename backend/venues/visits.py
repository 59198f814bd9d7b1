"""What a venue gate decides and reports: the online check of one code (the Redis replay guard, a
revocation that bites at once), visit ingest exactly once (no charge), and visits per venue and
hour. A visit stores no person: the credential id and step make it exactly-once, the venue and the
hour make the counts. No Flask; time is a parameter."""
from datetime import datetime, timezone

from sqlalchemy import insert, select, tuple_

from ..models import Credential, Device, Region, Venue, Visit
from ..models.base import CHINA, at, unix
from ..patients import credentials
from ..service.errors import Forbidden, ValidationFailed
from ..tokens import errors as token_errors
from ..tokens.verify import verify

# The gate needs to know one thing: a zone resident, so the resident terms apply. What those are
# depends on the venue's kind (docs/venues.md): libraries and museums are free for residents,
# scenic spots sell the resident ticket.
ENTRY = {"library": "free", "museum": "free", "scenic": "discount"}
REPLAY_CONTEXT = "venue"  # the Redis key space of venue entries, apart from buses and counters


class MedCodeAtVenue(token_errors.WrongKind):
    """The only other kind of code is the medical e-voucher: say so in the gate's words."""
    code, title = "med_code_at_venue", "A medical e-voucher code does not open a venue"


class NotResident(token_errors.TokenError):
    code, title = "not_zone_resident", "The code's home region is not in the zone"


class _VenueGuard:
    """The online replay guard, in the venues' own key space: a code used at a gate is refused at
    every gate within its window, and a bus ride with the same code is no concern of the gate's."""

    def __init__(self, guard):
        self.guard = guard

    def first_use(self, context, jti, step, along=None):
        return self.guard.first_use(REPLAY_CONTEXT, jti, step, along)


def _zone(session):
    return set(session.scalars(select(Region.code)))


def check_online(session, guard, verifier, code, *, ring, now, window, verified_credentials=None):
    """One code at a gate, online: every offline check, the revocation list as of now, and the
    replay guard (first use wins). Returns what the gate may show: the entry terms, never a name."""
    if verifier.status != "active":
        raise Forbidden("This venue verifier is disabled.", code="venue_disabled")
    try:
        holder = credentials.verify_code(session, _VenueGuard(guard), code=code, context="bus",
                                         ring=ring, now=now, window=window,
                                         verified_credentials=verified_credentials)
    except token_errors.WrongKind:
        raise MedCodeAtVenue("This is a medical e-voucher code; the gate takes the social-security "
                             "code.") from None
    if holder.claims.reg not in _zone(session):
        raise NotResident("The code's home region is not one of the zone's.")
    venue = verifier.venue
    return {"admitted": True, "entry": ENTRY[venue.kind], "venue_kind": venue.kind,
            "home_region": holder.claims.reg, "step": holder.step}


def ingest(session, verifier, items, *, ring, now, max_age_seconds, verified_credentials=None):
    """Store each reported visit once. Returns one result per item, in order:
    ``{"id", "status": admitted|copy|revoked|duplicate|rejected, "reason"?}``. ``admitted``: the
    first report of this code anywhere; ``copy``: the same code (credential, step) was reported by
    another gate first; ``revoked``: the visit came at or after its credential's or phone's
    revocation. Every stored visit is counted (somebody came in); a retried batch is ``duplicate``.
    Nothing is charged. No lock is taken: the unique keys are the last word. A race between two
    uploads of the same batch, or between two gates admitting the same code (one admitted visit
    per code), rolls the later back (409 ``written_meanwhile``); the kiosk sends it again and gets
    ``duplicate`` or ``copy``."""
    if verifier.status != "active":
        raise Forbidden("This venue verifier is disabled; its visits are refused.",
                        code="venue_disabled")
    if not isinstance(items, list) or not 1 <= len(items) <= 500:
        raise ValidationFailed("Send 1 to 500 visits per batch.", code="bad_batch")
    keys = ring.public_keys(now)
    zone = _zone(session)
    results, fresh = [None] * len(items), {}
    for index, item in enumerate(items):
        checked = _check(item, verifier, keys, zone, now, max_age_seconds, verified_credentials)
        if "status" in checked:  # refused before the database is asked
            results[index] = checked
        elif checked["natural_id"] in fresh:
            results[index] = {"id": checked["natural_id"], "status": "duplicate"}
        else:
            fresh[checked["natural_id"]] = {**checked, "index": index}
    if fresh:
        _store(session, verifier, list(fresh.values()), results, now)
    return results


def _check(item, verifier, keys, zone, now, max_age, verified_credentials):
    if not isinstance(item, dict) or not isinstance(item.get("code"), str) \
            or not isinstance(item.get("visited_at"), int) or isinstance(item.get("visited_at"), bool):
        return {"id": None, "status": "rejected", "reason": "bad_item"}
    visited = item["visited_at"]
    if not now - max_age <= visited <= now + 300:
        return {"id": None, "status": "rejected", "reason": "visited_at_out_of_range"}
    try:
        checked = verify(item["code"], issuer_keys=keys, expected_kind="ss", now=visited,
                         verified_credentials=verified_credentials)
    except token_errors.WrongKind:
        return {"id": None, "status": "rejected", "reason": MedCodeAtVenue.code}
    except token_errors.TokenError as error:
        return {"id": None, "status": "rejected", "reason": error.code}
    if checked.claims.reg not in zone:
        return {"id": None, "status": "rejected", "reason": NotResident.code}
    jti = checked.claims.jti
    return {"natural_id": f"{jti}:{checked.step}:{verifier.id}", "jti": jti, "step": checked.step,
            "visited": visited}


def _store(session, verifier, visits, results, now):
    revoked = {jti: min((unix(m) for m in moments if m is not None), default=None)
               for jti, *moments in session.execute(
                   select(Credential.jti, Credential.revoked_at, Device.revoked_at)
                   .join(Device, Device.id == Credential.device_id)
                   .where(Credential.jti.in_({v["jti"] for v in visits})))}
    stored = set(session.scalars(select(Visit.natural_id).where(
        Visit.natural_id.in_([v["natural_id"] for v in visits]))))
    seen_elsewhere = set(session.execute(select(Visit.credential_jti, Visit.code_step).where(
        tuple_(Visit.credential_jti, Visit.code_step).in_({(v["jti"], v["step"]) for v in visits})
    )).all())
    rows = []
    for visit in sorted(visits, key=lambda v: (v["visited"], v["natural_id"])):
        index, natural_id = visit["index"], visit["natural_id"]
        if visit["jti"] not in revoked:
            results[index] = {"id": natural_id, "status": "rejected", "reason": "credential_unknown"}
            continue
        if natural_id in stored:
            results[index] = {"id": natural_id, "status": "duplicate"}
            continue
        revoked_at = revoked[visit["jti"]]
        key = (visit["jti"], visit["step"])
        outcome = "revoked" if revoked_at is not None and visit["visited"] >= revoked_at \
            else "copy" if key in seen_elsewhere else "admitted"
        seen_elsewhere.add(key)
        results[index] = {"id": natural_id, "status": outcome}
        rows.append({"natural_id": natural_id, "verifier_id": verifier.id,
                     "venue_id": verifier.venue_id, "credential_jti": visit["jti"],
                     "code_step": visit["step"], "visited_at": at(visit["visited"]),
                     "day": _china_day(visit["visited"]), "outcome": outcome,
                     "uploaded_at": at(now)})
    if rows:
        session.execute(insert(Visit), rows)


def _china_day(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, CHINA).date().isoformat()


def counts(session, day, region_code=None):
    """Visits per venue and hour (China time) on ``day`` (a date), with the venues' names; with a
    ``region_code``, only that region's venues (None: the zone)."""
    query = select(Visit.venue_id, Visit.visited_at).filter(Visit.day == day.isoformat())
    venues_query = select(Venue)
    if region_code is not None:
        query = query.join(Venue, Venue.id == Visit.venue_id).filter(Venue.region_code == region_code)
        venues_query = venues_query.filter(Venue.region_code == region_code)
    tally = {}
    for venue_id, visited in session.execute(query):
        if visited.tzinfo is None:  # SQLite hands back naive UTC
            visited = visited.replace(tzinfo=timezone.utc)
        key = (venue_id, visited.astimezone(CHINA).hour)
        tally[key] = tally.get(key, 0) + 1
    named = {v.id: v for v in session.scalars(venues_query.filter(
        Venue.id.in_({venue_id for venue_id, _ in tally})))}
    rows = [{"venue": venue_id, "hour": hour, "visits": n} for (venue_id, hour), n in sorted(tally.items())]
    venues = {str(v.id): {"zh": v.name_zh, "en": v.name_en or v.name_zh, "kind": v.kind,
                          "region": v.region_code} for v in named.values()}
    return rows, venues
