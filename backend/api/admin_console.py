"""The admin console (docs/admin-console.md): regions and policies, institutions, lines and fares,
staff, validators, hospital-system keys, signing keys, revocations and the audit log. Admins only;
a region's admin sees and changes only that region (the zone admin, region None, everything).
Thin views over ``backend.admin_console``; every change commits with its audit entry."""
import time

from flask import current_app, g, jsonify, request
from flask_login import current_user

from ..admin import audit_log, console
from ..certificates.issuing import signed_lifetime
from ..oversight.names import names_for
from ..service.errors import Conflict
from ..service.extensions import db
from ..service.read_replica import read_session
from ..service.issuer import current_ring, locked_ring
from ..service.security import end_every_session, requires_role
from .blueprint import bp, read_json
from .schemas import (LOGGED_IN, AuditPageOut, AuditPageQuery, ConsoleOut, EvoucherIn, FareIn,
                      InstitutionOut, InstitutionsOut, InstitutionsQuery, KeysOut, LineAnswerOut, LinesOut, PageQuery,
                      PersonStatusOut, PolicyIn, PolicyOut, ReasonIn, RecentRevocationsOut,
                      RegionsOut, RotatedOut, RotateIn,
                      SigningKeysOut, StaffIn, StaffListOut, StaffOut, ValidatorsOut, api,
                      json_body, responses)


def _actor():
    return console.Actor(current_user.login, current_user.region_code,
                         account_id=getattr(current_user, "id", None),
                         request_id=getattr(g, "request_id", None))


@bp.get("/admin/console")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ConsoleOut, errors=LOGGED_IN), tags=["admin console"])
def console_scope():
    """Who is acting and over what: the console shows or hides zone-only sections from this."""
    return jsonify(login=current_user.login, region=current_user.region_code,
                   zone=current_user.region_code is None)


@bp.get("/admin/regions")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=RegionsOut, errors=LOGGED_IN), tags=["admin console"])
def regions_list():
    return jsonify(regions=console.list_regions(db.session, _actor()))


@bp.patch("/admin/regions/<code>/policies/<insurance_class>")
@requires_role("admin")
@api.validate(json=PolicyIn, resp=responses(HTTP_200=PolicyOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["admin console"])
def policy_update(code, insurance_class):
    body = read_json()
    policy = console.update_policy(db.session, _actor(), code, insurance_class, body)
    db.session.commit()
    return jsonify(region=code, policy=policy)


@bp.get("/admin/institutions")
@requires_role("admin")
@api.validate(query=InstitutionsQuery,
              resp=responses(HTTP_200=InstitutionsOut, errors=(*LOGGED_IN, 422)),
              tags=["admin console"])
def institutions_list():
    return jsonify(console.list_institutions(db.session, _actor(), request.args))


@bp.post("/admin/institutions/<code>/evoucher")
@requires_role("admin")
@api.validate(json=EvoucherIn, resp=responses(HTTP_200=InstitutionOut, errors=(*LOGGED_IN, 404)),
              tags=["admin console"])
def institution_evoucher(code):
    body = json_body()  # EvoucherIn has checked the type
    institution = console.set_evoucher(db.session, _actor(), code, body["accepts_evoucher"])
    db.session.commit()
    return jsonify(institution=institution)


@bp.get("/admin/lines")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=LinesOut, errors=LOGGED_IN), tags=["admin console"])
def lines_list():
    return jsonify(lines=console.list_lines(db.session, _actor()))


@bp.patch("/admin/lines/<code>")
@requires_role("admin")
@api.validate(json=FareIn, resp=responses(HTTP_200=LineAnswerOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["admin console"])
def line_update(code):
    body = json_body()  # FareIn has checked the type
    line = console.set_fare(db.session, _actor(), code, body["fare_fen"])
    db.session.commit()
    return jsonify(line=line)


@bp.get("/admin/staff")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=StaffListOut, errors=LOGGED_IN), tags=["admin console"])
def staff_list():
    staff = console.list_staff(db.session, _actor())
    return jsonify(staff=staff, names=names_for(db.session, regions={s["region"] for s in staff},
                                                institutions={s["institution"] for s in staff}))


@bp.post("/admin/staff")
@requires_role("admin")
@api.validate(json=StaffIn, resp=responses(HTTP_201=StaffOut, errors=(*LOGGED_IN, 404, 409, 422)),
              tags=["admin console"])
def staff_create():
    body = read_json()
    account = console.create_staff(db.session, _actor(), body)
    db.session.commit()
    return jsonify(account=account), 201


@bp.post("/admin/staff/<int:account_id>/disable")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=StaffOut, errors=(*LOGGED_IN, 404, 409)),
              tags=["admin console"])
def staff_disable(account_id):
    account = console.disable_staff(db.session, _actor(), account_id)
    end_every_session(account["id"])  # every copy of its cookies dies with this commit
    db.session.commit()
    return jsonify(account=account)


@bp.post("/admin/staff/<int:account_id>/enable")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=StaffOut, errors=(*LOGGED_IN, 404, 409)),
              tags=["admin console"])
def staff_enable(account_id):
    """A disabled account may log in again (with its old password)."""
    account = console.enable_staff(db.session, _actor(), account_id)
    db.session.commit()
    return jsonify(account=account)


@bp.get("/admin/validators")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=ValidatorsOut, errors=LOGGED_IN), tags=["admin console"])
def validators_list():
    validators = console.list_validators(db.session, _actor())
    return jsonify(validators=validators,
                   names=names_for(db.session, lines={v["line"] for v in validators}))


@bp.get("/admin/api-keys")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=KeysOut, errors=LOGGED_IN), tags=["admin console"])
def api_keys_list():
    keys = console.list_api_keys(db.session, _actor())
    return jsonify(keys=keys, names=names_for(db.session, institutions={k["institution"] for k in keys}))


@bp.get("/admin/signing-keys")
@requires_role("admin")
@api.validate(resp=responses(HTTP_200=SigningKeysOut, errors=LOGGED_IN), tags=["admin console"])
def signing_keys_list():
    now = int(time.time())
    return jsonify(keys=console.describe_signing_keys(current_ring(), now), now=now)


@bp.post("/admin/signing-keys/rotate")
@requires_role("admin")
@api.validate(json=RotateIn, resp=responses(HTTP_201=RotatedOut, errors=(*LOGGED_IN, 409, 422)),
              tags=["admin console"])
def signing_keys_rotate():
    body = read_json()
    config = current_app.config
    actor = _actor()
    overlap = console.check_rotation(actor, body, config["KEY_ROTATION_OVERLAP"])
    if config.get("SIGNING_KEY_FILE"):
        raise Conflict("The signing key comes from a configured file; rotate it there.",
                       code="keys_managed_externally")
    now = int(time.time())
    with locked_ring(current_app, now) as ring:  # one schedule for every worker
        result = console.rotate_signing_key(db.session, actor, ring, now=now, overlap=overlap,
                                            lifetime=signed_lifetime(config["CREDENTIAL_LIFETIME"]))
    db.session.commit()
    return jsonify(result), 201


@bp.post("/admin/persons/<holder>/suspend")
@requires_role("admin")
@api.validate(json=ReasonIn,
              resp=responses(HTTP_200=PersonStatusOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["admin console"])
def person_suspend(holder):
    """The registry entry stops: every phone and credential of the person is revoked, and verify,
    settle and ride ingest refuse the person's codes (``person_suspended``)."""
    return _set_person_status(holder, "suspended")


@bp.post("/admin/persons/<holder>/reinstate")
@requires_role("admin")
@api.validate(json=ReasonIn,
              resp=responses(HTTP_200=PersonStatusOut, errors=(*LOGGED_IN, 404, 422)),
              tags=["admin console"])
def person_reinstate(holder):
    """Active again; the revoked phones stay revoked: the person activates a phone again."""
    return _set_person_status(holder, "active")


def _set_person_status(holder, status):
    person, revoked = console.set_person_status(db.session, _actor(), holder, status,
                                                json_body()["reason"], int(time.time()))
    db.session.commit()
    return jsonify(person=person, revoked_credentials=revoked)


@bp.get("/admin/revocations")
@requires_role("admin")
@api.validate(query=PageQuery, resp=responses(HTTP_200=RecentRevocationsOut, errors=LOGGED_IN),
              tags=["admin console"])
def revocations_recent():
    return jsonify(revocations=console.recent_revocations(db.session, _actor(),
                                                          request.args.get("limit")))


@bp.get("/admin/audit-log")
@requires_role("admin")
@api.validate(query=AuditPageQuery, resp=responses(HTTP_200=AuditPageOut, errors=(*LOGGED_IN, 422)),
              tags=["admin console"])
def audit_log_page():
    """Newest first, filtered by actor (login or name), action (or area), target and China days."""
    return jsonify(audit_log.page(read_session(), current_user.region_code, request.args))
