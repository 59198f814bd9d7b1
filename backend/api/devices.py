"""Phone activation: challenge, activate (revoking the previous phone), refresh, revoke."""
import time

from flask import current_app, jsonify
from flask_login import current_user

from ..models import Device
from ..models.base import unix
from ..oversight import audit
from ..patients import credentials, family, history
from ..service.errors import NotFound
from ..service.extensions import db, limiter, redis_client
from ..service.issuer import current_ring
from ..service.limits import configured, principal_key
from ..service.security import requires_role
from .blueprint import bp
from .schemas import (LOGGED_IN, ActivateIn, ChallengeOut, DeviceRevokedOut, DevicesOut, IssuedOut,
                      RefreshIn, api, json_body, responses)


def _now():
    return int(time.time())


@bp.post("/devices/challenge")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=ChallengeOut, errors=LOGGED_IN), tags=["devices"])
def device_challenge():
    nonce, ttl = credentials.new_challenge(redis_client.client(), current_user.id)
    return jsonify(nonce=nonce, expires_in=ttl, server_time=_now())


@bp.post("/devices")
@limiter.shared_limit(configured("DEVICE_RATE_LIMIT"), "devices", key_func=principal_key)
@requires_role("patient")
@api.validate(json=ActivateIn,
              resp=responses(HTTP_201=IssuedOut, errors=(*LOGGED_IN, 404, 409, 422, 429)),
              tags=["devices"])
def activate_device():
    body = json_body()
    now = _now()
    grant = None
    if body.get("grant_id") is not None:
        grant = family.active_grant_for(db.session, current_user, body["grant_id"])
    issued = credentials.activate_device(
        db.session, redis_client.client(), account=current_user,
        person=grant.person if grant else current_user.person, grant=grant,
        public_jwk=body["public_jwk"], nonce=body["nonce"], proof=body["signature"],
        ring=current_ring(), now=now, lifetime=current_app.config["CREDENTIAL_LIFETIME"],
        label=str(body.get("label", "")))
    audit.record(db.session, actor=current_user.login, action="device.activate",
                 target_type="device", target_id=issued.device.id,
                 detail={"replaced": issued.revoked_devices})
    db.session.commit()
    return jsonify(_issued(issued, now)), 201


@bp.post("/devices/refresh")
@limiter.shared_limit(configured("DEVICE_RATE_LIMIT"), "devices", key_func=principal_key)
@requires_role("patient")
@api.validate(json=RefreshIn,
              resp=responses(HTTP_200=IssuedOut, errors=(*LOGGED_IN, 404, 409, 422, 429)),
              tags=["devices"])
def refresh_device():
    body = json_body()
    now = _now()
    issued = credentials.refresh_device(
        db.session, redis_client.client(), account=current_user, device_id=body["device_id"],
        nonce=body["nonce"], proof=body["signature"], ring=current_ring(), now=now,
        lifetime=current_app.config["CREDENTIAL_LIFETIME"])
    db.session.commit()
    return jsonify(_issued(issued, now))


@bp.get("/devices")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=DevicesOut, errors=LOGGED_IN), tags=["devices"])
def list_devices():
    """The account's phones (its own and family ones) with their state: when activated, when and
    why revoked, whether the person whose codes it shows is suspended, when its credentials
    expire, and when it was last used (the code screen checks its state here when it opens)."""
    return jsonify(devices=[{**_describe(state.pop("device")), **state}
                            for state in history.devices_with_state(db.session, current_user.id)])


@bp.post("/devices/<int:device_id>/revoke")
@requires_role("patient")
@api.validate(resp=responses(HTTP_200=DeviceRevokedOut, errors=(*LOGGED_IN, 404)), tags=["devices"])
def revoke_device(device_id):
    """Lost phone: from any browser, the account holder revokes a phone of theirs."""
    device = db.session.get(Device, device_id)
    if device is None or device.account_id != current_user.id:
        raise NotFound("No such phone on this account.", code="device_not_found")
    count = credentials.revoke_device(db.session, device, "lost_or_replaced", _now())
    audit.record(db.session, actor=current_user.login, action="device.revoke",
                 target_type="device", target_id=device.id, detail={"credentials": count})
    db.session.commit()
    return jsonify(device=_describe(device), revoked_credentials=count)


def _issued(issued, now):
    body = {
        "device": _describe(issued.device),
        "credentials": issued.credentials,
        "expires_at": issued.expires_at,
        "server_time": now,
        "revoked_devices": issued.revoked_devices,
    }
    if issued.revoked_devices:
        body["notice"] = ("Your codes on the previous phone no longer work: this phone replaces it.")
    return body


def _describe(device):
    return {"id": device.id, "alg": device.alg, "holder_role": device.holder_role,
            "grant_id": device.grant_id,
            "label": device.label, "created_at": unix(device.created_at),
            "revoked": device.revoked_at is not None}
