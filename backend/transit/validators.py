"""Bus validators: registration by a region's admin, enrolment of the device (it proves its new
key over a one-time code and gets a bearer token), the token check, disabling. No Flask; time is a
parameter."""
from ..models import BusLine, Validator
from ..models.base import at
from ..service.errors import Forbidden, NotFound
from . import enrolment

TOKEN_PREFIX = "yv_"


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
    return enrolment.register(session, Validator, now=now, created_by=created_by,
                              line_code=line_code, label=label[:60])


def enrol(session, *, enrol_code, public_jwk, signature, now):
    """The validator proves its new key over the enrolment code; it gets its bearer token."""
    return enrolment.enrol(session, Validator, TOKEN_PREFIX, enrol_code=enrol_code,
                           public_jwk=public_jwk, signature=signature, now=now)


def validator_for_token(session, presented):
    return enrolment.for_token(session, Validator, TOKEN_PREFIX, presented)


def disable(session, validator_id, now, scope=None):
    validator = session.get(Validator, validator_id) if isinstance(validator_id, int) else None
    if validator is None:
        raise NotFound("No such validator.", code="validator_not_found")
    _check_line_scope(validator.line, scope)
    validator.status, validator.disabled_at = "disabled", at(now)
    return validator
