"""Revocation by an administrator: one credential, or every phone and credential of a person
(lost phone reported at the counter, death, fraud). An admin bound to a region acts only on
persons insured there; the zone admin on everyone."""
import time

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from ..models import Credential, Person
from ..oversight import audit
from ..patients import credentials
from ..service.errors import NotFound
from ..service.extensions import db
from ..service.security import requires_role
from .blueprint import bp
from .schemas import LOGGED_IN, ReasonIn, RevokedOut, api, json_body, responses


def _in_scope(person):
    return person is not None and current_user.region_code in (None, person.home_region)


@bp.post("/admin/credentials/<jti>/revoke")
@requires_role("admin")
@api.validate(json=ReasonIn, resp=responses(HTTP_200=RevokedOut, errors=(*LOGGED_IN, 404)),
              tags=["admin"])
def admin_revoke_credential(jti):
    body = json_body()
    credential = db.session.get(Credential, jti) if len(jti) == 11 else None
    if credential is None or not _in_scope(db.session.get(Person, credential.person_id)):
        raise NotFound("No such credential in your region.", code="credential_not_found")
    count = credentials.revoke_credentials(db.session, [credential], body["reason"][:30],
                                           int(time.time()))
    audit.record(db.session, actor=current_user.login, action="credential.revoke",
                 target_type="credential", target_id=jti, detail={"reason": body["reason"][:30]})
    db.session.commit()
    return jsonify(revoked_credentials=count)


@bp.post("/admin/persons/<holder>/revoke")
@requires_role("admin")
@api.validate(json=ReasonIn, resp=responses(HTTP_200=RevokedOut, errors=(*LOGGED_IN, 404)),
              tags=["admin"])
def admin_revoke_person(holder):
    body = json_body()
    person = db.session.scalars(select(Person).filter_by(holder_id=holder)).first()
    if not _in_scope(person):
        raise NotFound("No such person in your region.", code="person_not_found")
    count = credentials.revoke_person(db.session, person.id, body["reason"][:30], int(time.time()))
    audit.record(db.session, actor=current_user.login, action="person.revoke_all",
                 target_type="person", target_id=holder, detail={"reason": body["reason"][:30]})
    db.session.commit()
    return jsonify(revoked_credentials=count)
