"""Family codes: invite, accept, list and revoke grants."""
import io
import time

from flask import jsonify
from flask_login import current_user

from ..oversight import audit
from ..patients import family
from ..service import qr
from ..service.extensions import db, limiter, redis_client
from ..service.limits import configured, failed, principal_key
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (LOGGED_IN, CodeIn, GrantAnswerOut, GrantsOut, InvitationOut, api, json_body,
                      responses)


def _now():
    return int(time.time())


@bp.post("/family/invitations")
@requires_role("patient")
@api.validate(resp=responses(HTTP_201=InvitationOut, errors=(*LOGGED_IN, 409)), tags=["family"])
def family_invite():
    grant, code = family.invite(db.session, grantor=current_user, now=_now())
    svg = io.BytesIO()
    qr.render_svg("YIMA-FAMILY:" + code.replace("-", ""), svg, version=None, box_size=8)
    audit.record(db.session, actor=current_user.login, action="family.invite",
                 target_type="family_grant", target_id=grant.id)
    db.session.commit()
    return jsonify(grant=_grant(grant), code=code, qr_svg=svg.getvalue().decode(),
                   expires_in=family.INVITATION_TTL), 201


@bp.post("/family/accept")
@limiter.limit(configured("FAMILY_ACCEPT_RATE_LIMIT"), key_func=principal_key, deduct_when=failed)
@requires_role("patient")
@api.validate(json=CodeIn,
              resp=responses(HTTP_200=GrantAnswerOut, errors=(*LOGGED_IN, 404, 409, 422, 429)),
              tags=["family"])
def family_accept():
    """Accept a family invitation.

    Wrong codes are limited per account (10 an hour, 30 a day by default), and the fifth wrong
    code aimed at an invitation (its first three characters) ends it: backend/patients/family.py."""
    body = json_body()
    try:
        grant = family.accept(db.session, redis_client.client(), member=current_user,
                              code=body["code"], now=_now())
    except family.InvitationInvalid as wrong:
        for ended in wrong.ended:
            audit.record(db.session, actor=current_user.login, action="family.invitation_ended",
                         target_type="family_grant", target_id=ended.id,
                         detail={"wrong_tries": family.MAX_WRONG_TRIES})
        db.session.commit()  # the invitations these wrong tries ended stay ended
        raise
    audit.record(db.session, actor=current_user.login, action="family.accept",
                 target_type="family_grant", target_id=grant.id)
    db.session.commit()
    return jsonify(grant=_grant(grant))


@bp.get("/family")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=GrantsOut, errors=LOGGED_IN), tags=["family"])
def family_list():
    given, received = family.grants_of(db.session, current_user)
    return jsonify(given=[_grant(g) for g in given], received=[_grant(g) for g in received])


@bp.post("/family/grants/<int:grant_id>/revoke")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=GrantAnswerOut, errors=(*LOGGED_IN, 404, 409)),
              tags=["family"])
def family_revoke(grant_id):
    grant, count = family.revoke(db.session, account=current_user, grant_id=grant_id, now=_now())
    audit.record(db.session, actor=current_user.login, action="family.revoke",
                 target_type="family_grant", target_id=grant.id, detail={"credentials": count})
    db.session.commit()
    return jsonify(grant=_grant(grant), revoked_credentials=count)


def _grant(grant):
    """What either side may see: the parent's masked name, the member's masked login."""
    member = grant.member.login if grant.member else None
    return {"id": grant.id, "status": grant.status,
            "holder_masked_name": grant.person.masked_name(),
            "member": member[:3] + "****" + member[-4:] if member and len(member) == 11 else member}
