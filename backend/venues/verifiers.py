"""Venues and their gate verifiers: a region's admin registers a venue of a kind in their region and
a verifier for it (a one-time enrolment code); the kiosk proves its new key over the code and gets a
bearer token (``yg_<id>_<secret>``, only a hash kept), exactly as a bus validator does
(backend/transit/validators.py). No Flask; time is a parameter."""
from sqlalchemy import select

from ..models import Region, Venue, VenueVerifier
from ..models.base import at, china_iso
from ..models.venues import VENUE_KINDS
from ..service.errors import Forbidden, NotFound, ValidationFailed
from ..transit import enrolment

TOKEN_PREFIX = "yg_"  # g for gate: told apart from a bus validator's yv_ at a glance


def _check_scope(region_code, scope):
    """A region's admin looks after the venues of their own region only."""
    if scope is not None and region_code != scope:
        raise Forbidden("This venue is not in your region; you administer only your own.",
                        code="outside_your_region")


def _text(value, field, limit, required=True):
    if not isinstance(value, str) or (required and not value.strip()) or len(value.strip()) > limit:
        raise ValidationFailed(f"{field}: 1 to {limit} characters" if required
                               else f"{field}: at most {limit} characters",
                               code="invalid_venue", extra={"fields": {field: "invalid"}})
    return value.strip()


def register_venue(session, *, name_zh, name_en, kind, region_code, created_by, now, scope=None):
    """A new venue. A region's admin registers in their own region (``region_code`` may be left
    out); the zone's admin names the region."""
    name_zh = _text(name_zh, "name_zh", 60)
    name_en = _text(name_en or "", "name_en", 80, required=False)
    if kind not in VENUE_KINDS:
        raise ValidationFailed("kind must be museum, library or scenic.", code="invalid_venue",
                               extra={"fields": {"kind": "invalid"}})
    region_code = region_code or scope
    if not isinstance(region_code, str) or session.get(Region, region_code) is None:
        raise ValidationFailed("Name one of the zone's regions.", code="invalid_venue",
                               extra={"fields": {"region": "invalid"}})
    _check_scope(region_code, scope)
    venue = Venue(name_zh=name_zh, name_en=name_en, kind=kind, region_code=region_code,
                  created_by=created_by, created_at=at(now))
    session.add(venue)
    session.flush()
    return venue


def venue_in_scope(session, venue_id, scope):
    venue = session.get(Venue, venue_id) if isinstance(venue_id, int) else None
    if venue is None:
        raise NotFound("No such venue.", code="venue_not_found")
    _check_scope(venue.region_code, scope)
    return venue


def describe(venue):
    return {"id": venue.id, "name_zh": venue.name_zh, "name_en": venue.name_en,
            "kind": venue.kind, "region": venue.region_code}


def list_venues(session, scope=None):
    """The venues in scope with their verifiers, newest first."""
    query = select(Venue).order_by(Venue.id.desc())
    if scope is not None:
        query = query.filter(Venue.region_code == scope)
    venues = session.scalars(query).all()
    gates = {}
    for verifier in session.scalars(select(VenueVerifier).where(
            VenueVerifier.venue_id.in_([v.id for v in venues])).order_by(VenueVerifier.id)):
        gates.setdefault(verifier.venue_id, []).append({
            "id": verifier.id, "label": verifier.label, "status": verifier.status,
            "created_at": china_iso(verifier.created_at), "enrolled_at": china_iso(verifier.enrolled_at)})
    return [{**describe(v), "created_at": china_iso(v.created_at), "verifiers": gates.get(v.id, [])}
            for v in venues]


def register_verifier(session, *, venue_id, label, created_by, now, scope=None):
    venue = venue_in_scope(session, venue_id, scope)
    label = _text(label or "", "label", 60, required=False)
    return enrolment.register(session, VenueVerifier, now=now, created_by=created_by,
                              venue_id=venue.id, label=label)


def enrol(session, *, enrol_code, public_jwk, signature, now):
    """The kiosk proves its new key over the enrolment code; it gets its bearer token."""
    return enrolment.enrol(session, VenueVerifier, TOKEN_PREFIX, enrol_code=enrol_code,
                           public_jwk=public_jwk, signature=signature, now=now)


def verifier_for_token(session, presented):
    return enrolment.for_token(session, VenueVerifier, TOKEN_PREFIX, presented)


def disable(session, verifier_id, now, scope=None):
    verifier = session.get(VenueVerifier, verifier_id) if isinstance(verifier_id, int) else None
    if verifier is None:
        raise NotFound("No such venue verifier.", code="verifier_not_found")
    _check_scope(verifier.venue.region_code, scope)
    verifier.status, verifier.disabled_at = "disabled", at(now)
    return verifier
