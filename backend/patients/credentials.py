"""Activating phones, issuing and revoking credentials, and checking codes online.

Domain code: no Flask. Time (``now``, unix seconds) is always a parameter."""
import base64
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from ..models import Credential, Device, Person, Region, Revocation
from ..models.base import at
from ..models.fastsql import Hot
from ..models.people import mask_name
from ..oversight import rules
from ..service.errors import Forbidden, NotFound, ValidationFailed, YimaError
from ..tokens.credential import (Claims, DeviceKey, issue_credential, new_credential_id,
                                 new_pseudonym)
from ..tokens.verify import CONTEXT_KINDS, verify

ACTIVATION_LABEL = b"YIMA-ACTIVATE-1"
CLASS_CODES = {"employee": "emp", "resident": "res"}
CHALLENGE_TTL = 300


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    if not isinstance(text, str) or len(text) > 200:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- activation ------------------------------------------------------------------------------

def new_challenge(store, account_id):
    """A single-use nonce the phone signs to prove it holds its key."""
    nonce = b64url(secrets.token_bytes(32))
    store.set(f"challenge:{nonce}", str(account_id), ex=CHALLENGE_TTL)
    return nonce, CHALLENGE_TTL


def _take_challenge(store, nonce, account_id):
    owner = store.getdel(f"challenge:{nonce}") if isinstance(nonce, str) and len(nonce) < 100 else None
    if owner is None or owner.decode() != str(account_id):
        raise YimaError("Ask for a new challenge and sign it with the phone's key.",
                        code="challenge_invalid", status=400, title="Challenge unknown or used")


def device_key(public_jwk):
    try:
        return DeviceKey.from_jwk(public_jwk)
    except (ValueError, TypeError, KeyError) as error:
        raise ValidationFailed(f"public_jwk: {error}", code="bad_device_key") from None


def check_proof(key, nonce, proof):
    try:
        signature = b64url_decode(proof)
        ok = key.verify(signature, ACTIVATION_LABEL + b64url_decode(nonce))
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise YimaError("The signature over the challenge does not match the public key.",
                        code="bad_device_signature", status=400, title="Proof of possession failed")


@dataclass
class Issued:
    device: Device
    credentials: dict  # kind -> compact JWS
    expires_at: int
    revoked_devices: list


def activate_device(session, store, *, account, person, public_jwk, nonce, proof, ring, now,
                    lifetime, grant=None, label=""):
    """Bind a new phone to ``person`` and issue it a med and an ss credential.

    A new phone replaces the old one: the person's previous own phone, or with a family ``grant``
    the member's previous phone for that grant. The replaced phone's credentials are revoked."""
    holder_role = "self" if grant is None else "family"
    if person.status != "active":
        raise Forbidden("This person's insurance is suspended.", code="person_suspended")
    _take_challenge(store, nonce, account.id)
    key = device_key(public_jwk)
    check_proof(key, nonce, proof)
    replaced = []
    previous = select(Device).filter_by(person_id=person.id, holder_role="self", revoked_at=None) \
        if grant is None else select(Device).filter_by(grant_id=grant.id, revoked_at=None)
    for old in session.scalars(previous):
        revoke_device(session, old, "replaced", now)
        replaced.append(old.id)
    device = Device(person_id=person.id, account_id=account.id, holder_role=holder_role,
                    grant_id=grant.id if grant is not None else None,
                    alg=key.alg, public_jwk=json.dumps(key.jwk(), separators=(",", ":")),
                    label=label[:60], created_at=at(now))
    session.add(device)
    session.flush()
    issued = _issue(session, device, person, key, ring, now, lifetime)
    return Issued(device, issued, now + lifetime, replaced)


def refresh_device(session, store, *, account, device_id, nonce, proof, ring, now, lifetime):
    """New credentials for a phone that is still active and still holds its key."""
    device = session.get(Device, device_id) if isinstance(device_id, int) else None
    if device is None or device.account_id != account.id:
        raise NotFound("No such phone on this account.", code="device_not_found")
    if device.revoked_at is not None:
        raise YimaError("This phone was revoked; activate it again.", code="device_revoked",
                        status=409, title="Phone revoked")
    if device.person.status != "active":  # suspending revokes the phones; this is the backstop
        raise Forbidden("This person's insurance is suspended.", code="person_suspended")
    _take_challenge(store, nonce, account.id)
    key = device_key(json.loads(device.public_jwk))
    check_proof(key, nonce, proof)
    issued = _issue(session, device, device.person, key, ring, now, lifetime)
    return Issued(device, issued, now + lifetime, [])


def _issue(session, device, person, key, ring, now, lifetime):
    issued = {}
    signing_kid = ring.signing_key(now).kid
    for kind in ("med", "ss"):
        # A fresh pseudonym per credential: no two codes of a person share anything that links
        # them. The server finds the person by jti (the Credential row), never by sub.
        claims = Claims(sub=new_pseudonym(), jti=new_credential_id(), knd=kind,
                        reg=person.home_region, cls=CLASS_CODES[person.insurance_class],
                        fam=device.holder_role == "family", iat=now, exp=now + lifetime,
                        device_key=key)
        issued[kind] = issue_credential(ring, claims, now)
        session.add(Credential(jti=claims.jti, device_id=device.id, person_id=person.id,
                               kind=kind, kid=signing_kid, issued_at=at(now),
                               expires_at=at(now + lifetime)))
    return issued


# -- revocation ------------------------------------------------------------------------------

def revoke_credentials(session, credentials, reason, now):
    revoked = []
    for credential in credentials:
        if credential.revoked_at is None:
            credential.revoked_at = at(now)
            session.add(Revocation(jti=credential.jti, reason=reason, revoked_at=at(now),
                                   expires_at=credential.expires_at))
            revoked.append(credential.jti)
    session.flush()
    if revoked:
        rules.check_revoked_credentials(session, revoked, now)  # paid earlier today: flagged
    return len(revoked)


def revoke_device(session, device, reason, now):
    if device.revoked_at is None:
        device.revoked_at, device.revoke_reason = at(now), reason
    live = session.scalars(select(Credential).filter_by(device_id=device.id, revoked_at=None))
    return revoke_credentials(session, list(live), reason, now)


def revoke_person(session, person_id, reason, now):
    """Every phone and credential of a person (lost phone, death, fraud, suspension)."""
    count = 0
    for device in session.scalars(select(Device).filter_by(person_id=person_id, revoked_at=None)):
        count += revoke_device(session, device, reason, now)
    return count


SUSPENDED = "person_suspended"  # the revocation reason when a registry entry stops being active


def revoke_suspended(session, now):
    """Every live phone of a person whose registry entry is not active (after a registry import
    that suspended some): their codes go on the revocation list, so offline validators refuse
    them too. A person reinstated later activates a phone again. Returns the credentials revoked."""
    live = select(Device).join(Person, Person.id == Device.person_id).where(
        Device.revoked_at.is_(None), Person.status != "active").order_by(Device.id)
    return sum(revoke_device(session, device, SUSPENDED, now)
               for device in session.scalars(live).all())


def revocation_list(session, since, now):
    """Revocations with version > ``since`` whose credentials have not expired yet."""
    rows = session.execute(
        select(Revocation.version, Revocation.jti).where(
            Revocation.version > since, Revocation.expires_at > at(now)
        ).order_by(Revocation.version)).all()
    latest = session.scalar(select(Revocation.version).order_by(Revocation.version.desc()))
    return {"iss": "yima", "typ": "revocations", "since": since, "version": latest or 0,
            "jti": [jti for _, jti in rows], "iat": now}


# -- online verification ---------------------------------------------------------------------

class RedisReplayGuard:
    """First use of (context, jti, step) wins; the key outlives the time window."""

    def __init__(self, client, window):
        self.client = client
        self.ttl = (2 * window + 1) * 30 + 30

    def first_use(self, context, jti, step, along=None):
        """``along`` (key, value, seconds) is stored in the same round trip (a counter's scan) and
        deleted again when this was not the first use; nobody has been told its key by then."""
        seen = f"seen:{context}:{jti}:{step}"
        if along is None:
            return bool(self.client.set(seen, 1, nx=True, ex=self.ttl))
        key, value, seconds = along
        pipe = self.client.pipeline(transaction=False)
        pipe.set(seen, 1, nx=True, ex=self.ttl)
        pipe.set(key, value, ex=seconds)
        first, _ = pipe.execute()
        if not first:
            self.client.delete(key)
        return bool(first)


# What an online verifier needs about a code's holder, in one statement: whether the credential is
# revoked (unknown counts as revoked), whether the person's registry entry is active, the person
# behind its phone and the home region's names.
_HOLDER = Hot(select(Credential.revoked_at, Person.status,
                     Person.id, Person.holder_id, Person.name, Person.insurance_class,
                     Person.personal_account_fen, Person.home_region,
                     Region.name_zh, Region.name_en)
              .join(Device, Device.id == Credential.device_id)
              .join(Person, Person.id == Device.person_id)
              .join(Region, Region.code == Person.home_region)
              .where(Credential.jti == bindparam("jti")))


@dataclass(frozen=True)
class Holder:
    """The person behind a verified code, as read at the revocation check (no ORM object)."""
    id: int
    holder_id: str
    name: str
    insurance_class: str
    personal_account_fen: int
    home_region: str
    region_name_zh: str
    region_name_en: str

    def masked_name(self):
        return mask_name(self.name)


@dataclass
class VerifiedHolder:
    claims: Claims
    step: int
    person: Holder


def verify_code(session, guard, *, code, context, ring, now, window, verified_credentials=None,
                remember=None):
    """Check a code online (tokens.verify, spec §4) and return its holder.

    The revocation check is one query per code (a revocation bites at once), and it also reads the
    holder, so a valid code costs one SQL statement. ``verified_credentials`` (a per-worker
    ``tokens.verify.VerifiedCredentials``) spares the issuer signature of a credential already seen;
    every other check runs for every code. ``remember(jti, step, holder)`` may give a Redis
    (key, value, seconds) to store with the replay guard's first use, in the same round trip."""
    if context not in CONTEXT_KINDS:
        raise ValidationFailed("context must be hospital or bus", code="bad_context")
    found = {}

    def is_revoked(jti):
        row = _HOLDER.first(session, {"jti": jti})  # (revoked_at, status, *the holder)
        if row is not None and row[1] != "active":  # before the replay key is spent
            raise Forbidden("This person's insurance is suspended.", code=SUSPENDED)
        if row is None or row[0] is not None:
            return True
        found["holder"] = Holder(*row[2:])
        return False

    verified = verify(code, issuer_keys=ring.public_keys(now), expected_kind=CONTEXT_KINDS[context],
                      now=now, window=window, is_revoked=is_revoked,
                      replay_guard=lambda jti, step: guard.first_use(
                          context, jti, step, remember and remember(jti, step, found["holder"])),
                      verified_credentials=verified_credentials)
    return VerifiedHolder(verified.claims, verified.step, found["holder"])
