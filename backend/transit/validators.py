"""Bus validators: registration by a region's admin, enrolment of the device (it proves its new
key over a one-time code and gets a bearer token), the token check, disabling. No Flask; time is a
parameter."""
import hashlib
import hmac
import json
import secrets

from sqlalchemy import select

from ..models import BusLine, Validator
from ..models.base import at
from ..patients import family
from ..patients.credentials import b64url, check_proof, device_key
from ..service.errors import Forbidden, NotFound

ENROL_TTL = 86_400
TOKEN_PREFIX = "yv_"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _check_line_scope(line, scope):
    """A region's admin looks after the validators of lines that serve that region."""
    if scope is not None and scope not in [region.code for region in line.regions]:
        raise Forbidden("This line does not serve your region; you administer only your own.",
                        code="outside_your_region")


def register_validator(session, *, line_code, label, created_by, now, scope=None):
    line = session.get(BusLine, line_code)
    if line is None:
        raise NotFound("No such bus line.", code="line_not_found")
    _check_line_scope(line, scope)
    code = "".join(secrets.choice(family.ALPHABET) for _ in range(10))
    validator = Validator(line_code=line_code, label=label[:60], enrol_hash=_digest(code),
                          enrol_expires_at=at(now + ENROL_TTL), created_by=created_by,
                          created_at=at(now))
    session.add(validator)
    session.flush()
    return validator, code


def enrol(session, *, enrol_code, public_jwk, signature, now):
    """The validator proves its new key over the enrolment code; it gets its bearer token."""
    code = family.normalise_code(enrol_code)
    validator = session.scalars(select(Validator).filter_by(enrol_hash=_digest(code),
                                                            status="pending")).first()
    if validator is None or validator.enrol_expires_at.replace(tzinfo=at(now).tzinfo) < at(now):
        raise NotFound("This enrolment code is unknown, used or expired.", code="enrolment_invalid")
    key = device_key(public_jwk)
    check_proof(key, b64url(code.encode()), signature)  # signs "YIMA-ACTIVATE-1" || the code
    secret = secrets.token_urlsafe(32)
    validator.public_jwk = json.dumps(key.jwk(), separators=(",", ":"))
    validator.token_hash = _digest(secret)
    validator.status, validator.enrolled_at = "active", at(now)
    session.flush()
    return validator, f"{TOKEN_PREFIX}{validator.id}_{secret}"


def validator_for_token(session, presented):
    if not presented.startswith(TOKEN_PREFIX):
        return None
    ident, _, secret = presented[len(TOKEN_PREFIX):].partition("_")
    validator = session.get(Validator, int(ident)) if ident.isdigit() and len(ident) < 18 else None
    if validator is None or validator.token_hash is None:
        return None
    if not hmac.compare_digest(validator.token_hash, _digest(secret)):
        return None
    return validator


def disable(session, validator_id, now, scope=None):
    validator = session.get(Validator, validator_id) if isinstance(validator_id, int) else None
    if validator is None:
        raise NotFound("No such validator.", code="validator_not_found")
    _check_line_scope(validator.line, scope)
    validator.status, validator.disabled_at = "disabled", at(now)
    return validator
