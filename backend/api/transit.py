"""Bus validators: enrolment (admin and device), trust data, ride batches; ridership."""
import io
import logging
import time
from datetime import date, datetime

from flask import current_app, jsonify, request
from flask_login import current_user

from ..models.base import CHINA
from ..models import BusLine
from ..oversight import audit
from ..patients import credentials
from ..service import metrics, qr
from ..service.errors import ValidationFailed
from ..service.extensions import db, limiter
from ..service.issuer import current_ring, verified_credentials
from ..service.limits import configured, failed
from ..service.read_replica import read_session
from ..service.security import requires_role
from ..tokens.documents import sign_document
from ..transit import enrolment, rides, trust, validators
from .blueprint import bp
from .schemas import (LOGGED_IN, EnrolIn, EnrolledOut, RidershipOut, RidershipQuery, RidesIn,
                      RidesOut, TrustOut, ValidatorCreatedOut, ValidatorIn, ValidatorStatusOut, api,
                      json_body, responses)

log = logging.getLogger("yima.rides")


@bp.post("/admin/validators")
@requires_role("admin")
@api.validate(json=ValidatorIn,
              resp=responses(HTTP_201=ValidatorCreatedOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["transit"])
def validator_register():
    body = json_body()
    validator, code = validators.register_validator(db.session, line_code=body["line"],
                                                 label=body["label"], created_by=current_user.login,
                                                 now=int(time.time()), scope=current_user.region_code)
    svg = io.BytesIO()
    qr.render_svg("YIMA-ENROL:" + code, svg, version=None, box_size=8)
    audit.record(db.session, actor=current_user.login, action="validator.register",
                 target_type="validator", target_id=validator.id, detail={"line": body["line"]})
    db.session.commit()
    return jsonify(id=validator.id, line=validator.line_code, enrol_code=code,
                   qr_svg=svg.getvalue().decode(), expires_in=enrolment.ENROL_TTL), 201


@bp.post("/admin/validators/<int:validator_id>/disable")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ValidatorStatusOut, errors=(*LOGGED_IN, 404)),
              tags=["transit"])
def validator_disable(validator_id):
    validator = validators.disable(db.session, validator_id, int(time.time()),
                                scope=current_user.region_code)
    audit.record(db.session, actor=current_user.login, action="validator.disable",
                 target_type="validator", target_id=validator.id)
    db.session.commit()
    return jsonify(id=validator.id, status=validator.status)


@bp.post("/validators/enrol")
@limiter.limit(configured("ENROL_RATE_LIMIT"), deduct_when=failed)  # wrong tries, per address
@api.validate(json=EnrolIn, resp=responses(HTTP_201=EnrolledOut, errors=(403, 404, 409, 422, 429)),
              tags=["transit"])
def validator_enrol():
    body = json_body()
    validator, token = validators.enrol(db.session, enrol_code=body["enrol_code"],
                                     public_jwk=body["public_jwk"], signature=body["signature"],
                                     now=int(time.time()))
    audit.record(db.session, actor=validator.login, action="validator.enrol",
                 target_type="validator", target_id=validator.id)
    db.session.commit()
    return jsonify(id=validator.id, label=validator.label, token=token, line=_line(validator.line)), 201


@bp.get("/validators/trust")
@requires_role("validator")
@api.validate(resp=responses(HTTP_200=TrustOut, errors=LOGGED_IN), tags=["transit"])
def validator_trust():
    """Everything a validator needs to decide offline, signed where it must be trusted."""
    now = int(time.time())
    ring = current_ring()
    config = current_app.config
    return jsonify(
        server_time=now, line=_line(current_user.line),
        fares={line.code: line.fare_fen for line in db.session.query(BusLine)},
        daily_cap_fen=config["DAILY_FARE_CAP_FEN"],
        jwks=ring.jwks(now),
        revocations=sign_document(ring, credentials.revocation_list(db.session, 0, now), now),
        deny=sign_document(ring, trust.deny_list(db.session, now), now),
        limits={"warn_age": config["TRUST_WARN_AGE"], "max_age": config["TRUST_MAX_AGE"]})


@bp.post("/rides/batch")
@requires_role("validator")
@api.validate(json=RidesIn, resp=responses(HTTP_200=RidesOut, errors=(*LOGGED_IN, 422)),
              tags=["transit"])
def rides_batch():
    body = json_body()
    config = current_app.config
    # The validator itself, not the proxy: ingest reads its id for every ride.
    results = rides.ingest(db.session, current_user._get_current_object(), body["rides"],
                           ring=current_ring(), now=int(time.time()),
                           daily_cap_fen=config["DAILY_FARE_CAP_FEN"],
                           arrears_threshold_fen=config["ARREARS_DENY_FEN"],
                           max_age_seconds=config["RIDE_MAX_AGE"],
                           verified_credentials=verified_credentials())
    db.session.commit()
    outcomes = metrics.record_rides(results)
    log.info("ride batch from validator %s: %s", current_user.id, outcomes,
             extra={"event": "ride_batch"})
    return jsonify(results=results)


@bp.get("/admin/ridership")
@requires_role("admin", "auditor")
@api.validate(query=RidershipQuery, resp=responses(HTTP_200=RidershipOut, errors=(*LOGGED_IN, 422)),
              tags=["transit"])
def ridership():
    text = request.args.get("date") or datetime.now(CHINA).date().isoformat()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("date must look like 2026-11-24", code="bad_date") from None
    # A regional auditor or admin sees the lines that serve their region; the zone sees all.
    return jsonify(date=day.isoformat(),
                   rows=rides.ridership(read_session(), day, region_code=current_user.region_code))


def _line(line):
    return {"code": line.code, "name_zh": line.name_zh, "name_en": line.name_en,
            "fare_fen": line.fare_fen}
