"""No phone: the cashier finds the insured person, who stands at the counter, by national ID number
(人工识别), and the bill is settled the same way as after a scan. No Flask.

Such an identification is an exception, and it is treated as one: a reason is required, and the
cashier confirms the person is present (their ID card in hand); the view rate-limits it per cashier
and writes every attempt (found or not) to the audit log; the settlement it leads to is flagged for
the joint audit (rule ``manual_identification``), with the reason.

The identification becomes a scan like any other (settlements.new_scan: good for 15 minutes, at
this institution), so preview, settle, receipt and refund need nothing new. In place of a code's
credential id it carries an identification id of the same length that no credential id can equal
("~" is outside base64url), with time step 0: the settlements' unique key on (credential, step)
then lets one identification pay one bill, as a code does."""
import json
import secrets

from sqlalchemy import select

from ..models import Institution, Person
from ..registry import identity
from ..service.errors import Forbidden, NotFound, ValidationFailed
from . import settlements

MARK = "~"
REASONS = ("phone_forgotten", "phone_flat", "no_smartphone", "phone_broken", "no_network", "other")
NOTE_MAX = 100


def is_manual(settlement):
    return bool(settlement.credential_jti) and settlement.credential_jti.startswith(MARK)


def check_request(*, national_id, reason, note, person_present):
    """The identification's own fields, each refused with the field it concerns."""
    if not isinstance(national_id, str) or identity.national_id_problem(
            identity.normalise_national_id(national_id)):
        raise ValidationFailed("The national ID number is not valid (18 characters, checksum).",
                               code="bad_national_id", extra={"field": "national_id"})
    if reason not in REASONS:
        raise ValidationFailed(f"Choose why there is no code: one of {', '.join(REASONS)}.",
                               code="reason_required", extra={"field": "reason"})
    note = note.strip()[:NOTE_MAX] if isinstance(note, str) else ""
    if reason == "other" and not note:
        raise ValidationFailed("Say why there is no code.", code="reason_required",
                               extra={"field": "note"})
    if person_present is not True:
        raise ValidationFailed("The insured person must be at the counter, ID card in hand.",
                               code="person_present_required", extra={"field": "person_present"})
    return identity.normalise_national_id(national_id), note


def find(session, *, id_hash_key, national_id, institution_code):
    """The person with this (checked) national ID number, who may settle here now."""
    institution = session.get(Institution, institution_code)
    if institution is None or not institution.accepts_evoucher:
        raise Forbidden("This institution does not accept the medical e-voucher.",
                        code="evoucher_not_accepted")
    person = session.scalars(select(Person).filter_by(
        national_id_hash=identity.hash_national_id(id_hash_key, national_id))).first()
    if person is None:
        raise NotFound("No insured person has this national ID number in the zone's registry.",
                       code="person_not_found", extra={"field": "national_id"})
    if person.status != "active":
        raise Forbidden("This person's insurance is suspended: the fund cannot pay.",
                        code="person_suspended")
    return person, institution


def new_scan(*, person, institution_code, cashier_id, reason, note):
    """The scan an identification stands for: its id and the Redis (key, value, seconds)."""
    manual_id = MARK + secrets.token_urlsafe(8)[:10]
    scan_id, (key, value, seconds) = settlements.new_scan(
        jti=manual_id, step=0, person_id=person.id, institution_code=institution_code,
        cashier_id=cashier_id)
    entry = json.loads(value)
    entry["manual"] = f"{reason}: {note}" if note else reason
    return scan_id, (key, json.dumps(entry), seconds)
