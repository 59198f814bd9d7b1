"""Venues: registration and gate-verifier enrolment by a region's admin, the kiosk's trust data,
the online check of one code, visit batches; visits per venue and hour."""
import io
import logging
import time
from datetime import date, datetime
from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import Field
from sqlalchemy import select

from ..models.base import CHINA
from ..models import Region
from ..oversight import audit
from ..patients import credentials
from ..service import metrics, qr
from ..service.errors import ValidationFailed
from ..service.extensions import db, limiter, redis_client
from ..service.issuer import current_ring, verified_credentials
from ..service.limits import configured, failed, principal_key
from ..service.read_replica import read_session
from ..service.security import requires_role
from ..tokens.documents import sign_document
from ..transit import enrolment
from ..venues import verifiers, visits
from .blueprint import bp
from .schemas import (LOGGED_IN, Body, EnrolIn, Out, Query, ValidatorStatusOut, _array_of, api,
                      json_body, responses)

log = logging.getLogger("yima.visits")


class VenueIn(Body):
    name_zh: str = Field(description="The venue's name as its visitors know it")
    name_en: str | None = None
    kind: str = Field(description="`museum` (博物馆), `library` (图书馆) or `scenic` (景区)")
    region: str | None = Field(None, description="Region code; a region's admin may leave it out")


class VenueOut(Out):
    id: int
    name_zh: str
    name_en: str
    kind: str
    region: str


class VenuesOut(Out):
    venues: list[dict[str, Any]]


class VerifierIn(Body):
    label: str = Field(description="Which gate (e.g. 东门 1 号机)")


class VerifierCreatedOut(Out):
    id: int
    venue: VenueOut
    enrol_code: str
    qr_svg: str
    expires_in: int


class VerifierEnrolledOut(Out):
    id: int
    label: str
    token: str = Field(description="Bearer token (`yg_…`), shown once")
    venue: VenueOut


class VenueTrustOut(Out):
    server_time: int
    venue: VenueOut
    entry: str = Field(description="`free` or `discount`: what a zone resident gets here")
    zone_regions: list[str]
    jwks: dict[str, Any]
    revocations: str
    limits: dict[str, int]


class CheckIn(Body):
    code: str = Field(description="The code as scanned (base45 text)")


class CheckOut(Out):
    admitted: bool
    entry: str
    venue_kind: str
    home_region: str
    step: int


VISIT = {"type": "object", "required": ["code", "visited_at"],
         "properties": {"code": {"type": "string"},
                        "visited_at": {"type": "integer", "description": "Unix time"}}}


class VisitsIn(Body):
    visits: list[Any] = _array_of(VISIT, minItems=1, maxItems=500)


class VisitsOut(Out):
    results: list[dict[str, Any]]


class VisitCountsQuery(Query):
    date: str | None = Field(None, description="A day like 2026-11-29 (default: today, China time)")


class VisitCountsOut(Out):
    date: str
    rows: list[dict[str, Any]]
    venues: dict[str, Any]


@bp.get("/admin/venues")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=VenuesOut, errors=LOGGED_IN), tags=["venues"])
def venues_list():
    return jsonify(venues=verifiers.list_venues(db.session, scope=current_user.region_code))


@bp.post("/admin/venues")
@requires_role("admin")
@api.validate(json=VenueIn, resp=responses(HTTP_201=VenueOut, errors=(*LOGGED_IN, 422)),
              tags=["venues"])
def venue_register():
    body = json_body()
    venue = verifiers.register_venue(db.session, name_zh=body["name_zh"], name_en=body.get("name_en"),
                                     kind=body["kind"], region_code=body.get("region"),
                                     created_by=current_user.login, now=int(time.time()),
                                     scope=current_user.region_code)
    audit.record(db.session, actor=current_user.login, action="venue.register", target_type="venue",
                 target_id=venue.id, detail={"kind": venue.kind}, region_code=venue.region_code)
    db.session.commit()
    return jsonify(verifiers.describe(venue)), 201


@bp.post("/admin/venues/<int:venue_id>/verifiers")
@requires_role("admin")
@api.validate(json=VerifierIn, resp=responses(HTTP_201=VerifierCreatedOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["venues"])
def venue_verifier_register(venue_id):
    body = json_body()
    verifier, code = verifiers.register_verifier(db.session, venue_id=venue_id, label=body["label"],
                                                 created_by=current_user.login, now=int(time.time()),
                                                 scope=current_user.region_code)
    svg = io.BytesIO()
    qr.render_svg("YIMA-ENROL:" + code, svg, version=None, box_size=8)
    audit.record(db.session, actor=current_user.login, action="venue_verifier.register",
                 target_type="venue_verifier", target_id=verifier.id, detail={"venue": venue_id},
                 region_code=verifier.venue.region_code)
    db.session.commit()
    return jsonify(id=verifier.id, venue=verifiers.describe(verifier.venue), enrol_code=code,
                   qr_svg=svg.getvalue().decode(), expires_in=enrolment.ENROL_TTL), 201


@bp.post("/admin/venue-verifiers/<int:verifier_id>/disable")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ValidatorStatusOut, errors=(*LOGGED_IN, 404)), tags=["venues"])
def venue_verifier_disable(verifier_id):
    verifier = verifiers.disable(db.session, verifier_id, int(time.time()),
                                 scope=current_user.region_code)
    audit.record(db.session, actor=current_user.login, action="venue_verifier.disable",
                 target_type="venue_verifier", target_id=verifier.id,
                 region_code=verifier.venue.region_code)
    db.session.commit()
    return jsonify(id=verifier.id, status=verifier.status)


@bp.post("/venue-verifiers/enrol")
@limiter.limit(configured("ENROL_RATE_LIMIT"), deduct_when=failed)  # wrong tries, per address
@api.validate(json=EnrolIn, resp=responses(HTTP_201=VerifierEnrolledOut, errors=(403, 404, 409, 422, 429)),
              tags=["venues"])
def venue_verifier_enrol():
    body = json_body()
    verifier, token = verifiers.enrol(db.session, enrol_code=body["enrol_code"],
                                      public_jwk=body["public_jwk"], signature=body["signature"],
                                      now=int(time.time()))
    audit.record(db.session, actor=verifier.login, action="venue_verifier.enrol",
                 target_type="venue_verifier", target_id=verifier.id,
                 region_code=verifier.venue.region_code)
    db.session.commit()
    return jsonify(id=verifier.id, label=verifier.label, token=token,
                   venue=verifiers.describe(verifier.venue)), 201


@bp.get("/venue-verifiers/trust")
@requires_role("venue")
@api.validate(resp=responses(HTTP_200=VenueTrustOut, errors=LOGGED_IN), tags=["venues"])
def venue_trust():
    """What a gate needs to decide offline: keys, the signed revocation list, the zone's regions."""
    now = int(time.time())
    ring = current_ring()
    config = current_app.config
    venue = current_user.venue
    return jsonify(
        server_time=now, venue=verifiers.describe(venue), entry=visits.ENTRY[venue.kind],
        zone_regions=sorted(db.session.scalars(select(Region.code))),
        jwks=ring.jwks(now),
        revocations=sign_document(ring, credentials.revocation_list(db.session, 0, now), now),
        limits={"warn_age": config["TRUST_WARN_AGE"], "max_age": config["TRUST_MAX_AGE"]})


@bp.post("/venue-verifiers/check")
@limiter.limit(configured("VERIFY_RATE_LIMIT"), key_func=principal_key)
@requires_role("venue")
@api.validate(json=CheckIn, resp=responses(HTTP_200=CheckOut, errors=(*LOGGED_IN, 409, 422, 429)),
              tags=["venues"])
def venue_check():
    """Online: the code's revocation as of now and the replay guard (first use wins)."""
    guard = credentials.RedisReplayGuard(redis_client.client(),
                                         current_app.config["CODE_WINDOW_STEPS"])
    answer = visits.check_online(db.session, guard, current_user, json_body()["code"],
                                 ring=current_ring(), now=int(time.time()),
                                 window=current_app.config["CODE_WINDOW_STEPS"],
                                 verified_credentials=verified_credentials())
    return jsonify(answer)


@bp.post("/visits/batch")
@requires_role("venue")
@api.validate(json=VisitsIn, resp=responses(HTTP_200=VisitsOut, errors=(*LOGGED_IN, 409, 422)),
              tags=["venues"])
def visits_batch():
    results = visits.ingest(db.session, current_user, json_body()["visits"], ring=current_ring(),
                            now=int(time.time()), max_age_seconds=current_app.config["RIDE_MAX_AGE"],
                            verified_credentials=verified_credentials())
    db.session.commit()
    outcomes = metrics.record_visits(results)
    log.info("visit batch from venue verifier %s: %s", current_user.id, outcomes,
             extra={"event": "visit_batch"})
    return jsonify(results=results)


@bp.get("/admin/venue-visits")
@requires_role("admin", "auditor")
@api.validate(query=VisitCountsQuery, resp=responses(HTTP_200=VisitCountsOut, errors=(*LOGGED_IN, 422)),
              tags=["venues"])
def venue_visits():
    text = request.args.get("date") or datetime.now(CHINA).date().isoformat()
    try:
        day = date.fromisoformat(text) if text.isascii() and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed("date must look like 2026-11-29", code="bad_date")
    rows, venues = visits.counts(read_session(), day, region_code=current_user.region_code)
    return jsonify(date=day.isoformat(), rows=rows, venues=venues)
