"""Terminals enrolled with a one-time code: bus validators (backend/transit/validators.py) and venue
gate verifiers (backend/venues/verifiers.py). A region's admin registers one and reads its code to
the person setting it up; the device proves its new key over the code and gets a bearer token
``<prefix><id>_<secret>`` of which only a hash is kept. The row's model has ``enrol_hash``,
``enrol_expires_at``, ``public_jwk``, ``token_hash``, ``status`` and ``enrolled_at``. No Flask;
time is a parameter."""
import hashlib
import hmac
import json
import secrets

from sqlalchemy import select

from ..models.base import at
from ..models.fastsql import by_id
from ..patients import family
from ..patients.credentials import b64url, check_proof, device_key
from ..service.errors import NotFound

ENROL_TTL = 86_400  # an enrolment code is good for a day


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def register(session, model, *, now, created_by, **fields):
    """A pending terminal and its one-time code (shown once, only its hash kept)."""
    code = "".join(secrets.choice(family.ALPHABET) for _ in range(10))
    terminal = model(enrol_hash=digest(code), enrol_expires_at=at(now + ENROL_TTL),
                     created_by=created_by, created_at=at(now), **fields)
    session.add(terminal)
    session.flush()
    return terminal, code


def enrol(session, model, prefix, *, enrol_code, public_jwk, signature, now):
    """The device proves its new key over the enrolment code; it gets its bearer token."""
    code = family.normalise_code(enrol_code)
    terminal = session.scalars(select(model).filter_by(enrol_hash=digest(code),
                                                       status="pending")).first()
    if terminal is None or terminal.enrol_expires_at.replace(tzinfo=at(now).tzinfo) < at(now):
        raise NotFound("This enrolment code is unknown, used or expired.", code="enrolment_invalid")
    key = device_key(public_jwk)
    check_proof(key, b64url(code.encode()), signature)  # signs "YIMA-ACTIVATE-1" || the code
    secret = secrets.token_urlsafe(32)
    terminal.public_jwk = json.dumps(key.jwk(), separators=(",", ":"))
    terminal.token_hash = digest(secret)
    terminal.status, terminal.enrolled_at = "active", at(now)
    session.flush()
    return terminal, f"{prefix}{terminal.id}_{secret}"


def for_token(session, model, prefix, presented):
    """The terminal a bearer token names, or None; the secret compared in constant time."""
    if not presented.startswith(prefix):
        return None
    ident, _, secret = presented[len(prefix):].partition("_")
    # Every upload and bus verify asks: one read through the cursor (models/fastsql.py).
    terminal = by_id(session, model, int(ident)) if ident.isdigit() and len(ident) < 18 else None
    if terminal is None or terminal.token_hash is None:
        return None
    if not hmac.compare_digest(terminal.token_hash, digest(secret)):
        return None
    return terminal
