"""Claiming an account: a person in the registry proves who they are with their national ID
number, their registered phone and a one-time code sent to it, and chooses a password."""
import hashlib
import hmac
import json
import secrets

from sqlalchemy import select

from ..accounts import passwords
from ..accounts.hashing import hash_password
from ..models import Account, Person
from ..registry import identity
from ..service.errors import Conflict, ValidationFailed, YimaError

OTP_TTL = 300
OTP_ATTEMPTS = 5


def _find_person(session, id_hash_key, national_id, phone):
    national_id = identity.normalise_national_id(national_id)
    problem = identity.national_id_problem(national_id) or identity.phone_problem(phone.strip())
    if problem:
        field, reason = problem.split(": ", 1)
        raise ValidationFailed(reason, code=f"bad_{field}", extra={"field": field})
    person = session.scalars(select(Person).filter_by(
        national_id_hash=identity.hash_national_id(id_hash_key, national_id))).first()
    if person is None or person.phone != phone.strip():
        raise YimaError("This ID number and phone number are not registered together. Check both, "
                        "or ask your insurance office to update your phone number.",
                        code="not_in_registry", status=404, title="Not found in the registry")
    if session.scalars(select(Account).filter_by(person_id=person.id, role="patient")).first():
        raise Conflict("This person already has an account: log in with the phone number.",
                       code="account_exists")
    return person


def _otp_key(person):
    return f"otp:signup:{person.id}"


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


def send_code(session, store, notifier, *, id_hash_key, national_id, phone):
    """Send a one-time code to the registered phone; return it too (shown only in demo mode)."""
    person = _find_person(session, id_hash_key, national_id, phone)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    store.set(_otp_key(person), json.dumps({"digest": _digest(code), "tries": 0}), ex=OTP_TTL)
    notifier.send_code(person.phone, code, "sign-up")
    return code, OTP_TTL


def create_account(session, store, *, id_hash_key, national_id, phone, code, password):
    person = _find_person(session, id_hash_key, national_id, phone)
    passwords.check(password, login=person.phone, phone=person.phone)
    key = _otp_key(person)
    stored = store.get(key)
    if stored is None:
        raise YimaError("The code has expired or was never sent. Ask for a new one.",
                        code="otp_expired", status=400, title="Code expired")
    state = json.loads(stored)
    if state["tries"] >= OTP_ATTEMPTS:
        store.delete(key)
        raise YimaError("Too many wrong codes. Ask for a new one.", code="otp_locked",
                        status=429, title="Too many attempts")
    if not hmac.compare_digest(state["digest"], _digest(str(code).strip())):
        state["tries"] += 1
        store.set(key, json.dumps(state), keepttl=True)
        raise YimaError("The code is wrong.", code="otp_wrong", status=400, title="Wrong code")
    store.delete(key)
    account = Account(login=person.phone, password_hash=hash_password(password), role="patient",
                      person_id=person.id)
    session.add(account)
    session.flush()
    return account
