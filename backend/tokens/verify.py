"""Checking a code, in the order of spec §4. Time is a parameter."""
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from .code import device_message, decode_code, step_at
from .credential import Claims
from .errors import (BadDeviceSignature, BadSignature, CodeExpired, CodeNotYetValid,
                     CredentialExpired, CredentialNotYetValid, Malformed, Replayed, Revoked,
                     UnknownKey, WrongKind)

CONTEXT_KINDS = {"hospital": "med", "bus": "ss"}


@dataclass(frozen=True)
class VerifiedCode:
    claims: Claims
    step: int


class VerifiedCredentials:
    """Credentials whose issuer signature has been checked, most recently used last, at most
    ``size``. A server that checks many codes of the same phones (a day's rides) pays for the
    issuer signature once per credential instead of once per code.

    An entry is the exact signed bytes and the signature, so only that very credential matches; its
    kid must still be in the key set and every other check (expiry, kind, device signature, window,
    revocation, replay) still runs for every code."""

    def __init__(self, size=20_000):
        self.size = size
        self._entries = OrderedDict()
        self._lock = threading.Lock()  # a threaded server shares one

    def __contains__(self, entry):
        with self._lock:
            if entry in self._entries:
                self._entries.move_to_end(entry)
                return True
            return False

    def add(self, entry):
        with self._lock:
            self._entries[entry] = True
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self):
        return len(self._entries)


def verify(code, *, issuer_keys, expected_kind, now, window=1, is_revoked=lambda jti: False,
           replay_guard=None, verified_credentials=None):
    """Return the verified claims, or raise the ``TokenError`` of the first failing check.

    ``issuer_keys``: kid -> Ed25519 public key; ``is_revoked(jti)``; ``replay_guard(jti, step)``
    returns True on first use (online verifiers), or None to skip the replay check;
    ``verified_credentials``: an optional ``VerifiedCredentials`` remembered across calls."""
    decoded = decode_code(code)  # 1: malformed
    key = issuer_keys.get(decoded.kid)
    if key is None:  # 2
        raise UnknownKey(f"kid {decoded.kid} is not in the key set")
    signed = decoded.signing_input + decoded.issuer_signature
    if verified_credentials is None or signed not in verified_credentials:
        _check_issuer_signature(decoded, key)  # 3
        if verified_credentials is not None:
            verified_credentials.add(signed)
    claims = decoded.unverified_claims  # verified from here on
    if now >= claims.exp:  # 4
        raise CredentialExpired()
    if now < claims.iat - window * 30:
        raise CredentialNotYetValid()
    if claims.knd != expected_kind:  # 5
        raise WrongKind(f"a {claims.knd} code where a {expected_kind} code is expected")
    message = device_message(decoded.jti_raw, claims.knd, decoded.step)
    if not claims.device_key.verify(decoded.device_signature, message):  # 6
        raise BadDeviceSignature()
    offset = decoded.step - step_at(now)  # 7
    if offset < -window:
        raise CodeExpired()
    if offset > window:
        raise CodeNotYetValid()
    if is_revoked(claims.jti):  # 8
        raise Revoked()
    if replay_guard is not None and not replay_guard(claims.jti, decoded.step):  # 9
        raise Replayed()
    return VerifiedCode(claims, decoded.step)


@functools.lru_cache(maxsize=64)
def _sodium_key(raw):
    return VerifyKey(raw)


def _check_issuer_signature(decoded, key):
    """Spec §4 step 3: the issuer's Ed25519 signature over the JWS signing input. The code expands
    to a standard compact JWS (``decoded.jws()``) whose header and payload are rebuilt canonically
    from the code's fields, so the signature is the whole check, made with libsodium as the
    phone's is; any JOSE library checks the same JWS alike (tests/tokens: PyJWT and jwcrypto)."""
    try:
        _sodium_key(key.public_bytes_raw()).verify(decoded.signing_input, decoded.issuer_signature)
    except (BadSignatureError, ValueError):
        raise BadSignature() from None
